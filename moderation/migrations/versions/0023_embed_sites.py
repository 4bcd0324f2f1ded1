"""embed_sites: the origins each site lets frame the embedded comment section, and an article's site

Revision ID: 3a9c1e7f5b20
Revises: 4b8d2f6a0c31
Create Date: 2026-12-04 10:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = '3a9c1e7f5b20'
down_revision = '4b8d2f6a0c31'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'embed_site',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site', sa.String(length=32), nullable=False),
        sa.Column('origins', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('site', name='uq_embed_site_site'),
    )
    with op.batch_alter_table('article') as batch:
        batch.add_column(sa.Column('site', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('article') as batch:
        batch.drop_column('site')
    op.drop_table('embed_site')
