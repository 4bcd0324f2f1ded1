"""Functions the PostgreSQL schema carries: `set_comment_like`, the like (讚) as one call.

`services.likes.set_like` on PostgreSQL: the same steps as its SQLite code, in the same order,
sent as one statement instead of four and their transaction's BEGIN and COMMIT (the like POST also
finds the article in it: `likes.set_like_on_article`; no article, `p_article_id` NULL: 'no_article'). A like is mostly
round trips to the server (each one the driver's and SQLAlchemy's work in the web process and a
switch to the server's process and back, on the same cores); in one call the like POST served about
1.4× as many likes a second (docs/measurements.md).

Each statement of a VOLATILE function sees what was committed before it began (READ COMMITTED), as
the statements sent one by one do: the lock is taken first, and what is read after it is current.
The 最熱 key is `models.hot_key` written in SQL; tests/test_likes.py holds the two equal.

The schema gets it from `models` (created after `comment_like` by `create_all`) and from the
migration that added it; a change here needs a migration that replaces it.
"""

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

DROP_SET_COMMENT_LIKE = "DROP FUNCTION IF EXISTS set_comment_like"
