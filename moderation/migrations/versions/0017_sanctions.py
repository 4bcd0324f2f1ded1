"""author_restriction, address_hold and article.protected_names: suspensions and bans, address-range
holds, the doxxing shield's protected names

Revision ID: 7d41c0e9a2b6
Revises: 7d41c2b9e6a0
Create Date: 2026-12-04 03:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '7d41c0e9a2b6'
down_revision = '7d41c2b9e6a0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'author_restriction',
        sa.Column('author_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.Enum('premoderate', 'suspension', 'ban', name='restrictionkind',
                                  native_enum=False, length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('until', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('author_hash'),
    )
    op.create_table(
        'address_hold',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('range_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.Integer(), nullable=False),
        sa.Column('family', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('until', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=40), nullable=False),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_address_hold_range_until', 'address_hold', ['range_hash', 'until'])
    with op.batch_alter_table('article') as batch:
        batch.add_column(sa.Column('protected_names', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('article') as batch:
        batch.drop_column('protected_names')
    op.drop_index('ix_address_hold_range_until', table_name='address_hold')
    op.drop_table('address_hold')
    op.drop_table('author_restriction')
