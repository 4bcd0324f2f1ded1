"""comment: submission key (the captcha challenge id) for idempotent posting

Revision ID: 7f3b2c9e8a51
Revises: 4d1e9a7c2b10
Create Date: 2026-11-25 16:05:00

"""
from alembic import op
import sqlalchemy as sa

revision = '7f3b2c9e8a51'
down_revision = '4d1e9a7c2b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_comment_submission_key', ['submission_key'])


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comment_submission_key', type_='unique')
        batch_op.drop_column('submission_key')
