"""Articles from the newsroom: the CMS's key, publication time and automatic closing; API keys

article.key is filled with the slug for every existing article (the seed's key is its slug), then
made NOT NULL and unique. api_key holds each key's SHA-256, never the key.

Revision ID: 3c8a5e1f0b11
Revises: 4f7b2e9c1d60
Create Date: 2026-12-03 21:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = '3c8a5e1f0b11'
down_revision = '4f7b2e9c1d60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('close_after_days', sa.Integer(), nullable=True))
    article = sa.table('article', sa.column('key', sa.String), sa.column('slug', sa.String))
    op.get_bind().execute(article.update().values(key=article.c.slug))
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint('uq_article_key', ['key'])

    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site', sa.String(length=32), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('scopes', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_site'), ['site'], unique=False)


def downgrade():
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_site'))
    op.drop_table('api_key')
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_constraint('uq_article_key', type_='unique')
        batch_op.drop_column('close_after_days')
        batch_op.drop_column('published_at')
        batch_op.drop_column('key')
