"""comment_report: the reporter's address hash, so hiding counts distinct addresses

Revision ID: 9b4e7a2c1d60
Revises: 2e6a1d4f9c37
Create Date: 2026-11-25 16:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '9b4e7a2c1d60'
down_revision = '2e6a1d4f9c37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_ip_hash', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index('ix_comment_report_address_at', ['reporter_ip_hash', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_report_address_at')
        batch_op.drop_column('reporter_ip_hash')
