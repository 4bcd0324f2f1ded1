"""The like (讚) on PostgreSQL as one call: the function `set_comment_like`
(moderation/database_functions.py). SQLite has no functions of this kind: nothing to do there.

The function's text is copied here as it stood at this revision, so that later changes come with
their own migration; tests/test_likes.py checks that a migrated database has the current text.

Revision ID: 7c2e9a4d1b63
Revises: 5d1e8a3c7f42
Create Date: 2026-12-05 14:20:00

"""
from alembic import op

revision = '7c2e9a4d1b63'
down_revision = '5d1e8a3c7f42'
branch_labels = None
depends_on = None

SET_COMMENT_LIKE = """\
CREATE OR REPLACE FUNCTION set_comment_like(
    p_article_id bigint, p_comment_id bigint, p_reader_hash text, p_ip_hash text, p_like boolean,
    p_now timestamptz, p_per_address integer,
    OUT outcome text, OUT liked boolean, OUT like_count integer, OUT counted boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    locked record;
    like_id integer;
    counted_from_address integer;
    delta integer;
BEGIN
    IF p_article_id IS NULL THEN
        outcome := 'no_article';
        RETURN;
    END IF;
    SELECT c.article_id, c.status, c.author_hash, c.like_count, c.reply_count, c.created_at INTO locked
        FROM comment c WHERE c.id = p_comment_id FOR NO KEY UPDATE;
    IF NOT FOUND OR locked.article_id <> p_article_id THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF locked.status <> 'approved' THEN
        outcome := 'not_published';
        RETURN;
    END IF;
    SELECT l.id INTO like_id FROM comment_like l
        WHERE l.comment_id = p_comment_id AND l.reader_hash = p_reader_hash;
    liked := like_id IS NOT NULL;
    like_count := locked.like_count;
    IF p_like IS NULL THEN
        p_like := NOT liked;
    END IF;
    IF p_like = liked THEN
        outcome := 'unchanged';
        RETURN;
    END IF;
    IF p_like THEN
        SELECT count(*) INTO counted_from_address FROM comment_like l
            WHERE l.comment_id = p_comment_id AND l.ip_hash = p_ip_hash AND l.counted;
        counted := locked.author_hash IS DISTINCT FROM p_reader_hash AND counted_from_address < p_per_address;
        INSERT INTO comment_like (comment_id, article_id, reader_hash, ip_hash, counted, created_at)
            VALUES (p_comment_id, p_article_id, p_reader_hash, p_ip_hash, counted, p_now AT TIME ZONE 'UTC');
        outcome := 'liked';
    ELSE
        DELETE FROM comment_like l WHERE l.id = like_id RETURNING l.counted INTO counted;
        outcome := 'unliked';
    END IF;
    liked := p_like;
    IF NOT counted THEN
        RETURN;
    END IF;
    delta := CASE WHEN p_like THEN 1 ELSE -1 END;
    UPDATE comment c SET like_count = c.like_count + delta,
            hot_key = log((greatest(locked.like_count + delta, 0) + 2 * greatest(locked.reply_count, 0) + 1)::float8)
                      + extract(epoch FROM locked.created_at)::float8 / 45000
        WHERE c.id = p_comment_id RETURNING c.like_count INTO like_count;
END
$$"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(SET_COMMENT_LIKE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS set_comment_like')
