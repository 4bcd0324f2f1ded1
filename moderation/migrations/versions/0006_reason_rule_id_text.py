"""screening_reason.rule_id as text: a long blocked domain must never make a comment unstorable

Revision ID: 2e6a1d4f9c37
Revises: 7f3b2c9e8a51
Create Date: 2026-11-25 16:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '2e6a1d4f9c37'
down_revision = '7f3b2c9e8a51'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('screening_reason', schema=None) as batch_op:
        batch_op.alter_column('rule_id', existing_type=sa.String(length=220), type_=sa.Text(),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('screening_reason', schema=None) as batch_op:
        batch_op.alter_column('rule_id', existing_type=sa.Text(), type_=sa.String(length=220),
                              existing_nullable=False)
