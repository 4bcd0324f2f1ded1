"""comment.search_text: nickname and body folded as screening folds them, for the queue's search

Revision ID: 9e3a6c2d5b18
Revises: 3f8a6c2e9d14
Create Date: 2026-12-03 21:10:00

"""
from alembic import op
import sqlalchemy as sa

from moderation.models import searchable_text

revision = '9e3a6c2d5b18'
down_revision = '3f8a6c2e9d14'
branch_labels = None
depends_on = None

comment = sa.table('comment', sa.column('id', sa.Integer), sa.column('nickname', sa.String),
                   sa.column('body', sa.Text), sa.column('search_text', sa.Text))
BATCH = 1000


def upgrade():
    with op.batch_alter_table('comment') as batch:
        batch.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    connection = op.get_bind()
    last = 0
    while True:  # in batches by id: a large table is never held in memory at once
        rows = connection.execute(
            sa.select(comment.c.id, comment.c.nickname, comment.c.body)
            .where(comment.c.id > last).order_by(comment.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            comment.update().where(comment.c.id == sa.bindparam('row_id')).values(search_text=sa.bindparam('folded')),
            [{'row_id': row.id, 'folded': searchable_text(row.nickname, row.body)} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('comment') as batch:
        batch.drop_column('search_text')
