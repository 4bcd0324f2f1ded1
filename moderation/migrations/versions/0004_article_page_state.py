"""article: rendered body, approved count and revision for cacheable pages

Revision ID: 4d1e9a7c2b10
Revises: 0cb4c8d2a263
Create Date: 2026-11-25 15:40:00

"""
from alembic import op
import sqlalchemy as sa

from moderation.article_text import render_body_html

revision = '4d1e9a7c2b10'
down_revision = '0cb4c8d2a263'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('approved_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='1'))

    connection = op.get_bind()
    article = sa.table('article', sa.column('id', sa.Integer), sa.column('body', sa.Text),
                       sa.column('body_html', sa.Text), sa.column('approved_count', sa.Integer))
    comment = sa.table('comment', sa.column('article_id', sa.Integer), sa.column('status', sa.String))
    for row in connection.execute(sa.select(article.c.id, article.c.body)).all():
        approved = connection.scalar(
            sa.select(sa.func.count()).select_from(comment)
            .where(comment.c.article_id == row.id, comment.c.status == 'approved')
        )
        connection.execute(
            article.update().where(article.c.id == row.id)
            .values(body_html=render_body_html(row.body), approved_count=approved)
        )


def downgrade():
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('approved_count')
        batch_op.drop_column('body_html')
