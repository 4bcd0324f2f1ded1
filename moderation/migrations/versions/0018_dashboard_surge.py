"""the dashboard's rollups (comment_hour, rule_hour, decision_time_hour, queue_sample); surge mode
(surge, comment_cluster, comment.reading_fingerprint and cluster_id); indexes for both

Revision ID: 7b505c991548
Revises: 7d41c0e9a2b6
Create Date: 2026-12-04 03:04:11

The rollups start empty: `flask dashboard rebuild` fills them from the stored comments.

"""
from alembic import op
import sqlalchemy as sa

revision = '7b505c991548'
down_revision = '7d41c0e9a2b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('queue_sample',
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('oldest_wait_seconds', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour')
    )
    op.create_table('rule_hour',
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('rule_id', sa.String(length=300), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'rule_id')
    )
    op.create_table('comment_hour',
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('spam', sa.Integer(), nullable=False),
    sa.Column('held_on_arrival', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hour', 'article_id')
    )
    op.create_table('decision_time_hour',
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderator.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hour', 'moderator_id', 'bucket')
    )
    op.create_table('surge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('cause', sa.Enum('rate', 'median', 'cluster', name='surgecause', native_enum=False, length=16), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('previous_mode', sa.Enum('pre', 'post', 'closed', name='commentmode', native_enum=False, length=16), nullable=True),
    sa.Column('person_chose', sa.Boolean(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('surge', schema=None) as batch_op:
        batch_op.create_index('ix_surge_article_ended', ['article_id', 'ended_at'], unique=False)

    op.create_table('comment_cluster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('surge_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['surge_id'], ['surge.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comment_cluster', schema=None) as batch_op:
        batch_op.create_index('ix_comment_cluster_article_key', ['article_id', 'key'], unique=False)

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading_fingerprint', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cluster_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_comment_article_created', ['article_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_foreign_key('fk_comment_cluster_id', 'comment_cluster', ['cluster_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.create_index('ix_comment_report_created', ['created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('comment_report', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_report_created')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_comment_cluster_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_comment_cluster_id'))
        batch_op.drop_index('ix_comment_article_created')
        batch_op.drop_column('cluster_id')
        batch_op.drop_column('reading_fingerprint')

    with op.batch_alter_table('comment_cluster', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_cluster_article_key')

    op.drop_table('comment_cluster')
    with op.batch_alter_table('surge', schema=None) as batch_op:
        batch_op.drop_index('ix_surge_article_ended')

    op.drop_table('surge')
    op.drop_table('decision_time_hour')
    op.drop_table('comment_hour')
    op.drop_table('rule_hour')
    op.drop_table('queue_sample')
