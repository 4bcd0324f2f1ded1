"""comment: replies (thread, answered comment, published reply count), thread heads, editors' picks, staff answers

Revision ID: 7d41c2b9e6a0
Revises: 5c2e8a71d3f0
Create Date: 2026-12-04 03:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = '7d41c2b9e6a0'
down_revision = '5c2e8a71d3f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reply_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('listed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('pinned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('staff_account_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_comment_staff_account_id_moderator', 'moderator', ['staff_account_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_comment_article_listed_created', ['article_id', 'listed', 'created_at', 'id'])
        batch_op.create_index('ix_comment_thread_status_created', ['thread_id', 'status', 'created_at', 'id'])
        batch_op.create_index('ix_comment_article_pinned', ['article_id', 'pinned_at'])
    # Every comment so far is a top comment: the published ones head their threads.
    op.execute(sa.text("UPDATE comment SET listed = (status = 'approved')"))


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_article_pinned')
        batch_op.drop_index('ix_comment_thread_status_created')
        batch_op.drop_index('ix_comment_article_listed_created')
        batch_op.drop_constraint('fk_comment_staff_account_id_moderator', type_='foreignkey')
        for column in ('staff_account_id', 'pinned_at', 'listed', 'reply_count', 'reply_to_id', 'thread_id'):
            batch_op.drop_column(column)
