"""comment: indexes finding one text's copies on an article (surge mode's clusters)

Revision ID: 4b8d2f6a0c31
Revises: 2e6b9d4f8a13
Create Date: 2026-12-04 11:10:00

"""
from alembic import op

revision = '4b8d2f6a0c31'
down_revision = '2e6b9d4f8a13'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_comment_article_fingerprint', 'comment', ['article_id', 'fingerprint', 'created_at'])
    op.create_index('ix_comment_article_reading', 'comment', ['article_id', 'reading_fingerprint', 'created_at'])


def downgrade():
    op.drop_index('ix_comment_article_reading', table_name='comment')
    op.drop_index('ix_comment_article_fingerprint', table_name='comment')
