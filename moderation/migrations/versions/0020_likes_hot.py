"""likes (讚) and 最熱: comment_like, comment.like_count and comment.hot_key with its index

Revision ID: 2b7e9c4d1f58
Revises: 8d1f4b6a2c37
Create Date: 2026-12-04 04:00:00

"""
import math
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

revision = '2b7e9c4d1f58'
down_revision = '8d1f4b6a2c37'
branch_labels = None
depends_on = None

HOT_SECONDS_PER_DECADE = 45000


def upgrade():
    op.create_table(
        'comment_like',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('reader_hash', sa.String(length=64), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=False),
        sa.Column('counted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('comment_id', 'reader_hash', name='uq_comment_like_reader'),
    )
    op.create_index('ix_comment_like_comment_ip', 'comment_like', ['comment_id', 'ip_hash'])
    op.create_index('ix_comment_like_reader_article', 'comment_like', ['reader_hash', 'article_id'])
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('like_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('hot_key', sa.Float(), server_default='0', nullable=False))
        batch_op.create_index('ix_comment_article_listed_hot', ['article_id', 'listed', 'hot_key', 'id'])
    # The stored comments' keys, from their reply counts (no likes yet): services.listing's formula.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, reply_count, created_at FROM comment")).all()
    for comment_id, replies, created_at in rows:
        if isinstance(created_at, str):  # SQLite answers a plain query with text
            created_at = datetime.fromisoformat(created_at)
        key = math.log10(2 * replies + 1) + created_at.replace(tzinfo=UTC).timestamp() / HOT_SECONDS_PER_DECADE
        connection.execute(sa.text("UPDATE comment SET hot_key = :key WHERE id = :id"), {"key": key, "id": comment_id})


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_article_listed_hot')
        batch_op.drop_column('hot_key')
        batch_op.drop_column('like_count')
    op.drop_index('ix_comment_like_reader_article', table_name='comment_like')
    op.drop_index('ix_comment_like_comment_ip', table_name='comment_like')
    op.drop_table('comment_like')
