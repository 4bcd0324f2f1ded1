"""comment_report: the reader's note beside the reason (其他), shown on the moderator's card

Revision ID: 3f8a6c2e9d14
Revises: 7b41d0c9e2a6
Create Date: 2026-12-03 21:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '3f8a6c2e9d14'
down_revision = '7b41d0c9e2a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.drop_column('note')
