"""external_check: an admin's HTTP check asked about each new comment

Revision ID: 2e6b9d4f8a13
Revises: 2b7e9c4d1f58
Create Date: 2026-12-04 04:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = '2e6b9d4f8a13'
down_revision = '2b7e9c4d1f58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'external_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('allow_private', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_answer_at', sa.DateTime(), nullable=True),
        sa.Column('last_problem', sa.String(length=32), nullable=True),
        sa.Column('last_problem_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('external_check')
