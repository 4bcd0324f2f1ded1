"""moderator: name_key, the NFKC case-folded name, unique

Revision ID: 3c8f5e1a7b92
Revises: 9b4e7a2c1d60
Create Date: 2026-11-25 16:50:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa

revision = '3c8f5e1a7b92'
down_revision = '9b4e7a2c1d60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('moderator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=64), nullable=True))
    moderator = sa.table('moderator', sa.column('id', sa.Integer), sa.column('name', sa.String),
                         sa.column('name_key', sa.String))
    connection = op.get_bind()
    for row in connection.execute(sa.select(moderator.c.id, moderator.c.name)).all():
        key = unicodedata.normalize("NFKC", row.name.strip()).casefold()
        connection.execute(moderator.update().where(moderator.c.id == row.id).values(name_key=key))
    with op.batch_alter_table('moderator', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_moderator_name_key', ['name_key'])


def downgrade():
    with op.batch_alter_table('moderator', schema=None) as batch_op:
        batch_op.drop_constraint('uq_moderator_name_key', type_='unique')
        batch_op.drop_column('name_key')
