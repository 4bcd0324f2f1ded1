"""The site's answers (本站編輯) under each thread of the article page: a partial index of the
answers alone, so that finding them costs what the thread's answers cost, not its length.

Revision ID: 9e3b7c1d5a28
Revises: 7c2e9a4d1b63
Create Date: 2026-12-06 00:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '9e3b7c1d5a28'
down_revision = '7c2e9a4d1b63'
branch_labels = None
depends_on = None

STAFF_ANSWER = sa.text("staff_account_id IS NOT NULL")


def upgrade():
    op.create_index('ix_comment_thread_staff_created', 'comment', ['thread_id', 'created_at', 'id'], unique=False,
                    sqlite_where=STAFF_ANSWER, postgresql_where=STAFF_ANSWER)


def downgrade():
    op.drop_index('ix_comment_thread_staff_created', table_name='comment')
