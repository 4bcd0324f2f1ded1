"""webhook_endpoint, outbox and webhook_delivery: signed webhooks delivered through the job queue

Revision ID: 5c2e8a71d3f0
Revises: 3c8a5e1f0b11
Create Date: 2026-12-03 22:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = '5c2e8a71d3f0'
down_revision = '3c8a5e1f0b11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.String(length=200), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('allow_private', sa.Boolean(), nullable=False),
        sa.Column('format', sa.String(length=16), server_default='json', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_success_at', sa.DateTime(), nullable=True),
        sa.Column('last_problem', sa.String(length=32), nullable=True),
        sa.Column('last_problem_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=36), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_outbox_created', 'outbox', ['created_at'], unique=False)
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('pending', 'delivered', 'failed', name='deliverystate', native_enum=False,
                                   length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('retry_since', sa.DateTime(), nullable=False),
        sa.Column('handed_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_problem', sa.String(length=32), nullable=True),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('outbox_id', 'endpoint_id', name='uq_webhook_delivery_event_endpoint'),
    )
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['state', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_delivery_endpoint', 'webhook_delivery', ['endpoint_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_webhook_delivery_endpoint', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index('ix_outbox_created', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('webhook_endpoint')
