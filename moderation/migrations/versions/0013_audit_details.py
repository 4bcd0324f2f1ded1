"""audit_entry.details: what the system records about an action as codes and numbers (worded in the UI)

Revision ID: 4f7b2e9c1d60
Revises: 9e3a6c2d5b18
Create Date: 2026-12-03 21:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '4f7b2e9c1d60'
down_revision = '9e3a6c2d5b18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entry') as batch:
        batch.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_entry') as batch:
        batch.drop_column('details')
