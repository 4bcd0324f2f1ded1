"""long_job: re-screening and erasing an author as jobs with progress

Revision ID: 8d1f4b6a2c37
Revises: 7b505c991548
Create Date: 2026-12-04 03:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '8d1f4b6a2c37'
down_revision = '7b505c991548'
branch_labels = None
depends_on = None

ACTIVE = sa.text("state IN ('queued', 'running')")


def upgrade():
    op.create_table(
        'long_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', 'cancelled', name='longjobstate',
                                   native_enum=False, length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('started_by', sa.String(length=40), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderator.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_long_job_one_active', 'long_job', ['kind', 'subject'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('ix_long_job_created', 'long_job', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_long_job_created', table_name='long_job')
    op.drop_index('ix_long_job_one_active', table_name='long_job')
    op.drop_table('long_job')
