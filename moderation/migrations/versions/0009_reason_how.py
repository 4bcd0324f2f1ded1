"""Fuzzy matching: screening_reason.how (how a word rule matched: exact, reading, reversed, filler,
look-alike, split…) and word_rule.fuzzy (what a rule does with a fuzzy match: hold, action, off)

Revision ID: 5d2c8e1f7a93
Revises: 3c8f5e1a7b92
Create Date: 2026-11-25 19:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = '5d2c8e1f7a93'
down_revision = '3c8f5e1a7b92'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('screening_reason', schema=None) as batch_op:
        batch_op.add_column(sa.Column('how', sa.String(length=16), nullable=False, server_default='exact'))
    with op.batch_alter_table('word_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fuzzy', sa.String(length=8), nullable=False, server_default='hold'))


def downgrade():
    with op.batch_alter_table('word_rule', schema=None) as batch_op:
        batch_op.drop_column('fuzzy')
    with op.batch_alter_table('screening_reason', schema=None) as batch_op:
        batch_op.drop_column('how')
