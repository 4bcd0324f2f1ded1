"""Article HTML re-rendered: each pinyin gloss carries its language, <rt lang="zh-Latn-pinyin">

Revision ID: 7b41d0c9e2a6
Revises: 5d2c8e1f7a93
Create Date: 2026-12-01 09:40:00

"""
from alembic import op
import sqlalchemy as sa

from moderation.article_text import render_body_html

revision = '7b41d0c9e2a6'
down_revision = '5d2c8e1f7a93'
branch_labels = None
depends_on = None

article = sa.table('article', sa.column('id', sa.Integer), sa.column('body', sa.Text),
                   sa.column('body_html', sa.Text))


def upgrade():
    connection = op.get_bind()
    for article_id, body in connection.execute(sa.select(article.c.id, article.c.body)).all():
        connection.execute(article.update().where(article.c.id == article_id)
                           .values(body_html=render_body_html(body)))


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(article.c.id, article.c.body_html)).all()
    for article_id, html in rows:
        connection.execute(article.update().where(article.c.id == article_id)
                           .values(body_html=html.replace(' lang="zh-Latn-pinyin"', '')))
