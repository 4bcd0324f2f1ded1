"""Likes (讚), the 最新 / 最熱 switch and comments in the reader's script (services and views, both backends)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from moderation.database_functions import SET_COMMENT_LIKE
from moderation.extensions import db as _db
from moderation.models import Comment, CommentLike, CommentStatus, hot_key
from moderation.services import likes
from moderation.services.likes import LikeOutcome
from moderation.services.listing import hot_page, replies_changed
from moderation.services.paging import HotCursor
from tests.conftest import ARTICLE_SLUG, make_comment
from tests.migrations import schema_at
from tests.postgres import client_trace, round_trips_in

ARTICLE_URL = f"/articles/{ARTICLE_SLUG}"
APPROVED, PENDING, REJECTED = CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.REJECTED
START = datetime(2026, 11, 20, tzinfo=UTC)


def like(db, comment, reader="r1", ip="ip1", wanted=True, clock=None, per_address=3):
    result = likes.set_like(db.session, comment.article_id, comment.id, reader_hash=reader, ip_hash=ip, like=wanted,
                            now=datetime(2026, 11, 24, tzinfo=UTC), per_address=per_address)
    db.session.commit()
    return result


def stored(db, comment) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def like_url(comment) -> str:
    return f"{ARTICLE_URL}/comments/{comment.id}/like"


def like_action(html: str, comment) -> str:
    """The action of the comment's 讚 form in a page, as a browser would post to it."""
    action = re.search(rf'<form method="post" action="([^"]*/comments/{comment.id}/like[^"]*)" data-like>', html)
    return action.group(1).replace("&amp;", "&")


def browser(app, address="198.51.100.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# The service -----------------------------------------------------------------------------------

def test_a_reader_likes_once_and_a_second_flip_undoes(db):
    comment = make_comment(db, status=APPROVED)
    assert like(db, comment, wanted=None).outcome is LikeOutcome.LIKED
    assert like(db, comment, wanted=True).outcome is LikeOutcome.UNCHANGED
    assert stored(db, comment).like_count == 1
    undone = like(db, comment, wanted=None)
    assert undone.outcome is LikeOutcome.UNLIKED and not undone.liked and undone.like_count == 0
    assert stored(db, comment).like_count == 0
    assert db.session.scalar(select(func.count()).select_from(CommentLike)) == 0


def test_on_postgresql_a_like_writes_the_comments_row_once(db, backend):
    """The lock is a `SELECT … FOR NO KEY UPDATE`: only the count's UPDATE writes a new version of the row
    (an UPDATE that changes nothing, to lock it, wrote one more, dead at once, for every like)."""
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks: its lock is an UPDATE that takes the write lock")
    comment = make_comment(db, status=APPROVED)
    db.session.commit()
    updates = text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'comment'")
    before = db.session.scalar(updates)
    result = likes.set_like(db.session, comment.article_id, comment.id, reader_hash="r1", ip_hash="ip1", like=True,
                            now=datetime(2026, 11, 24, tzinfo=UTC), per_address=3)
    assert result.outcome is LikeOutcome.LIKED and result.like_count == 1
    assert db.session.scalar(updates) - before == 1


@pytest.mark.committing
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite answers in the process: no round trips
def test_on_postgresql_a_like_is_one_statement_outside_a_transaction(app, db, backend, tmp_path):
    """The like POST asks the server once: `set_comment_like` with the article found in the same
    statement, which commits on its own (no BEGIN or COMMIT sent: libpq's own trace of what the client
    sent); the pool's ping is left out for a connection given back a moment ago."""
    comment = make_comment(db, status=APPROVED)
    db.session.commit()
    client, url = browser(app), like_url(comment)
    assert browser(app, "192.0.2.1").post(url, data={"like": "1"}).status_code == 303  # a pooled connection now
    trace = tmp_path / "libpq.trace"
    with client_trace(db.engine, trace) as sent:
        answer = client.post(url, data={"like": "1"}, headers={"Accept": "application/json"})
    assert answer.get_json() == {"outcome": "liked", "liked": True, "like_count": 2, "counted": True}
    text = trace.read_text()
    assert not re.search(r"\b(BEGIN|ROLLBACK|COMMIT)\b", text), text
    assert round_trips_in(sent) == 1, text
    assert stored(db, comment).like_count == 2


@pytest.mark.committing  # builds, drops and migrates its own schema
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # the function is PostgreSQL's alone
def test_migration_0025_gives_postgresql_the_like_function_of_the_models(database_url, tmp_path):
    """A migrated database has `set_comment_like` as database_functions.py writes it now: a change
    there without a migration that replaces the function fails here."""
    source = text("SELECT prosrc FROM pg_proc WHERE proname = 'set_comment_like'")
    with schema_at("5d1e8a3c7f42", database_url, tmp_path) as directory:  # 0024
        assert _db.session.scalar(source) is None
        _db.session.close()
        upgrade(directory=directory)
        written = SET_COMMENT_LIKE.split("$$")[1]
        assert _db.session.scalar(source) == written
        _db.session.close()
        downgrade(directory=directory, revision="5d1e8a3c7f42")
        assert _db.session.scalar(source) is None


def test_the_authors_own_like_is_kept_but_not_counted(db):
    comment = make_comment(db, status=APPROVED, author_hash="author")
    result = like(db, comment, reader="author")
    assert result.liked and result.like_count == 0 and not result.counted
    assert stored(db, comment).like_count == 0
    assert likes.liked_on_article(db.session, comment.article_id, "author") == [comment.id]
    assert like(db, comment, reader="author", wanted=False).outcome is LikeOutcome.UNLIKED
    assert stored(db, comment).like_count == 0
    assert like(db, comment, reader="another reader").counted


def test_likes_from_one_address_beyond_the_limit_are_not_counted(db):
    comment = make_comment(db, status=APPROVED)
    for reader in ("a", "b", "c", "d", "e"):
        assert like(db, comment, reader=reader, ip="office").liked
    like(db, comment, reader="f", ip="home")
    assert stored(db, comment).like_count == 4  # three from the office, one from home
    like(db, comment, reader="e", ip="office", wanted=False)  # an uncounted like taken back
    assert stored(db, comment).like_count == 4
    like(db, comment, reader="a", ip="office", wanted=False)
    assert stored(db, comment).like_count == 3


@pytest.mark.parametrize("status", [PENDING, REJECTED, CommentStatus.SPAM])
def test_a_comment_that_is_not_published_cannot_be_liked(db, status):
    comment = make_comment(db, status=status)
    assert like(db, comment).outcome is LikeOutcome.NOT_PUBLISHED
    assert stored(db, comment).like_count == 0


def test_a_missing_comment_or_one_of_another_article_cannot_be_liked(db):
    comment = make_comment(db, status=APPROVED)
    assert likes.set_like(db.session, comment.article_id + 1, comment.id, reader_hash="r", ip_hash="i", like=True,
                          now=START, per_address=3).outcome is LikeOutcome.NOT_FOUND
    assert likes.set_like(db.session, comment.article_id, 2**31 - 1, reader_hash="r", ip_hash="i", like=True,
                          now=START, per_address=3).outcome is LikeOutcome.NOT_FOUND


def test_the_hot_key_follows_likes_and_replies(db):
    comment = make_comment(db, status=APPROVED, created_at=START)
    assert stored(db, comment).hot_key == pytest.approx(hot_key(likes=0, replies=0, created_at=START))
    replies_changed(db.session, comment.id, 2)
    db.session.commit()
    for reader in ("a", "b", "c"):
        like(db, comment, reader=reader, ip=reader)
    # The like wrote this key: on PostgreSQL models.hot_key written in SQL (database_functions.py), to the last bit.
    assert stored(db, comment).hot_key == pytest.approx(hot_key(likes=3, replies=2, created_at=START), rel=1e-15)
    like(db, comment, reader="a", ip="a", wanted=False)
    assert stored(db, comment).hot_key == pytest.approx(hot_key(likes=2, replies=2, created_at=START), rel=1e-15)
    # (3 + 2·2 + 1) = 8: log10(8) = 0.90 of a decade, 0.90 × 45000 s ≈ 11.3 hours ahead of a new comment.
    assert hot_key(likes=3, replies=2, created_at=START) == pytest.approx(
        hot_key(likes=0, replies=0, created_at=START + timedelta(hours=11.29)), abs=1e-3)


def test_a_posted_comment_starts_with_the_hot_key_of_its_age(db, page):
    page.post(body="剛送出的評論")
    posted = db.session.scalar(select(Comment).where(Comment.body == "剛送出的評論"))
    assert posted.hot_key == pytest.approx(hot_key(likes=0, replies=0, created_at=posted.created_at))


def test_hot_pages_rank_by_likes_and_replies_with_time_and_page_by_keyset(db):
    old_favourite = make_comment(db, status=APPROVED, body="昨天的熱門", created_at=START)
    fresh = make_comment(db, status=APPROVED, body="剛剛的評論", created_at=START + timedelta(hours=30))
    liked_today = make_comment(db, status=APPROVED, body="今天的熱門", created_at=START + timedelta(hours=24))
    for index in range(30):
        like(db, old_favourite, reader=f"old{index}", ip=f"ip{index}")
    for index in range(3):
        like(db, liked_today, reader=f"new{index}", ip=f"ip{index}")
    first = hot_page(db.session, old_favourite.article_id, size=2)
    assert [each.body for each in first.comments] == ["今天的熱門", "剛剛的評論"]
    second = hot_page(db.session, old_favourite.article_id, before=HotCursor.decode(first.older.encode()), size=2)
    assert [each.body for each in second.comments] == ["昨天的熱門"] and second.older is None
    assert fresh.id  # the fresh comment without likes still beats a day-old one with 30


def test_old_likes_forget_their_address_and_an_erased_comment_takes_its_likes(db, clock):
    from moderation.services.audit import SYSTEM
    from moderation.services.retention import erase_address_hashes, erase_author

    comment = make_comment(db, status=APPROVED, author_hash="c" * 64)
    like(db, comment, reader="r1", ip="office")
    erased = erase_address_hashes(db.session, older_than=datetime(2026, 12, 1, tzinfo=UTC), days=30, actor=SYSTEM,
                                  now=clock())
    db.session.commit()
    assert erased["likes"] == 1
    assert db.session.scalar(select(CommentLike.ip_hash)) == ""
    assert stored(db, comment).like_count == 1  # the count stays
    erase_author(db.session, "c" * 64, actor=SYSTEM, now=clock())
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CommentLike)) == 0


def test_erasing_an_author_takes_their_likes_and_their_counts(db, clock):
    from moderation.services.audit import SYSTEM
    from moderation.services.retention import erase_author

    comment = make_comment(db, status=APPROVED)
    like(db, comment, reader="f" * 64, ip="home")
    like(db, comment, reader="1" * 64, ip="office")
    erase_author(db.session, "f" * 12, actor=SYSTEM, now=clock())
    db.session.commit()
    assert stored(db, comment).like_count == 1
    assert db.session.scalars(select(CommentLike.reader_hash)).all() == ["1" * 64]


# The like endpoint -----------------------------------------------------------------------------

def test_liking_without_javascript_posts_and_comes_back_to_the_comment(app, db):
    comment = make_comment(db, status=APPROVED)
    reader = browser(app)
    answer = reader.post(like_url(comment))
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}#notice")  # said beside the comment
    assert "reader=" in answer.headers["Set-Cookie"]
    assert stored(db, comment).like_count == 1
    html = reader.get(ARTICLE_URL).get_data(as_text=True)  # the reader's own page: the button pressed
    assert re.search(rf'comments/{comment.id}/like" data-like><button aria-pressed="true">', html)
    item = html[html.index(f'<li id="comment-{comment.id}"'):]
    assert re.search(r'id="notice" data-focus-on-load>已按讚。</p>', item[:item.index("</li>")])
    assert reader.post(like_url(comment), data={"sort": "hot"}).headers["Location"].endswith(
        f"{ARTICLE_URL}?sort=hot#comment-{comment.id}")
    assert stored(db, comment).like_count == 0


def test_a_like_that_is_not_counted_is_said_beside_the_comment_without_javascript(app, db):
    """One address's likes past the few it counts: the button is pressed, the count does not move,
    and the page says why beside the comment (reader.js says the same in place)."""
    comment = make_comment(db, status=APPROVED)
    for _ in range(app.config["LIKES_COUNTED_PER_ADDRESS"]):
        assert browser(app).post(like_url(comment)).headers["Location"].endswith("#notice")
    reader = browser(app)
    answer = reader.post(like_url(comment))
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}#notice")
    html = reader.get(ARTICLE_URL).get_data(as_text=True)
    assert "這個讚不計入讚數：自己的評論，或同一網路已有多個讚。" in html
    assert html.index('id="notice"') > html.index(f'id="comment-{comment.id}"')  # beside it, not at the top
    assert stored(db, comment).like_count == app.config["LIKES_COUNTED_PER_ADDRESS"]


def test_a_reply_liked_on_its_threads_page_comes_back_there(app, db):
    top = make_comment(db, status=APPROVED)
    reply = make_comment(db, status=APPROVED, thread_id=top.id, reply_to_id=top.id, body="一則回覆")
    replies_changed(db.session, top.id, 1)
    db.session.commit()
    reader = browser(app)
    html = reader.get(f"{ARTICLE_URL}/comments/{top.id}/replies").get_data(as_text=True)
    answer = reader.post(like_action(html, reply))
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}/comments/{top.id}/replies#comment-{reply.id}")
    assert stored(db, reply).like_count == 1
    # A thread page cached before the form said it in its action: the same, from its field.
    answer = reader.post(like_url(reply), data={"thread": str(top.id)})
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}/comments/{top.id}/replies#comment-{reply.id}")
    assert stored(db, reply).like_count == 0


def test_the_threads_page_shows_the_disclaimer_and_its_top_comment_can_be_liked_answered_and_reported(app, db):
    top = make_comment(db, status=APPROVED, body="主評論")
    make_comment(db, status=APPROVED, thread_id=top.id, reply_to_id=top.id, body="一則回覆")
    replies_changed(db.session, top.id, 1)
    db.session.commit()
    reader = browser(app)
    html = reader.get(f"{ARTICLE_URL}/comments/{top.id}/replies").get_data(as_text=True)
    assert "所有評論僅代表網友意見,與本站立場無關" in html
    top_part = html[html.index(f'id="comment-{top.id}"'):html.index('class="replies"')]
    assert f"reply_to={top.id}" in top_part and f"comments/{top.id}/report" in top_part
    answer = reader.post(like_action(html, top))
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}/comments/{top.id}/replies#comment-{top.id}")
    assert stored(db, top).like_count == 1


def test_liking_with_javascript_answers_json_and_the_token_endpoint_presses_the_buttons(app, db):
    comment, other = make_comment(db, status=APPROVED), make_comment(db, status=APPROVED)
    reader = browser(app)
    answer = reader.post(like_url(comment), data={"like": "1"}, headers={"Accept": "application/json"})
    assert answer.get_json() == {"outcome": "liked", "liked": True, "like_count": 1, "counted": True}
    assert answer.headers["Cache-Control"] == "no-store"
    again = reader.post(like_url(comment), data={"like": "1"}, headers={"Accept": "application/json"})
    assert again.get_json() == {"outcome": "unchanged", "liked": True, "like_count": 1, "counted": False}
    state = reader.get(f"/form-token?parts=likes&article={comment.article_id}")
    assert state.get_json() == {"liked": [comment.id]} and "Set-Cookie" not in state.headers
    assert reader.get(f"/form-token?article={comment.article_id}").get_json()["liked"] == [comment.id]
    assert browser(app, "203.0.113.9").get(f"/form-token?parts=likes&article={other.article_id}").get_json() == {
        "liked": []}


def test_a_get_never_likes(app, db):
    comment = make_comment(db, status=APPROVED)
    assert browser(app).get(like_url(comment)).status_code == 405
    assert stored(db, comment).like_count == 0


@pytest.mark.parametrize("status, code, words", [
    (PENDING, 409, "This comment is not published yet or was taken down"),
    (REJECTED, 409, "This comment is not published yet or was taken down"),
])
def test_a_like_on_an_unpublished_comment_is_refused_in_the_pages_language(app, db, status, code, words):
    comment = make_comment(db, status=status)
    answer = browser(app).post(like_url(comment) + "?lang=en")
    assert answer.status_code == code and words in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CommentLike)) == 0


def test_a_like_on_a_missing_comment_is_a_clear_404(app, db):
    answer = browser(app).post(f"{ARTICLE_URL}/comments/2147483647/like")
    assert answer.status_code == 404 and "找不到這則評論" in answer.get_data(as_text=True)
    assert browser(app).post(f"{ARTICLE_URL}/comments/99999999999/like").status_code == 404
    json = browser(app).post(f"{ARTICLE_URL}/comments/2147483647/like", headers={"Accept": "application/json"})
    assert json.status_code == 404 and json.get_json() == {"outcome": "like_missing"}


def test_a_like_on_an_article_that_does_not_exist_is_a_404_and_stores_nothing(app, db):
    comment = make_comment(db, status=APPROVED)
    answer = browser(app).post(f"/articles/no-such-article/comments/{comment.id}/like", data={"like": "1"})
    assert answer.status_code == 404
    assert likes.set_like_on_article(db.session, "no-such-article", comment.id, reader_hash="r", ip_hash="i",
                                     like=True, now=START, per_address=3).outcome is LikeOutcome.NO_ARTICLE
    assert likes.set_like_on_article(db.session, ARTICLE_SLUG, comment.id, reader_hash="r", ip_hash="i",
                                     like=True, now=START, per_address=3).outcome is LikeOutcome.LIKED
    db.session.commit()
    assert stored(db, comment).like_count == 1


def test_a_like_from_another_sites_page_is_refused(app, db):
    comment = make_comment(db, status=APPROVED)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"},
                    {"Origin": "https://localhost.evil.example"}):
        answer = browser(app, "203.0.113.77").post(like_url(comment), headers=headers)
        assert answer.status_code == 403 and "按讚只能從本站的頁面送出" in answer.get_data(as_text=True)
    assert browser(app).post(like_url(comment), headers={"Origin": "http://localhost",
                                                         "Sec-Fetch-Site": "same-origin"}).status_code == 303
    # Behind a TLS proxy the app may see http while the browser says https: the same host still.
    assert browser(app, "198.51.100.8").post(like_url(comment), headers={"Origin": "https://localhost:8443"}
                                             ).status_code == 303
    assert stored(db, comment).like_count == 2


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LIKE_RATE_LIMIT_PER_READER": "4 per minute", "LIKE_RATE_LIMIT_PER_ADDRESS": "6 per minute"}


def test_likes_are_rate_limited_per_reader_and_per_address(app, db):
    comment = make_comment(db, status=APPROVED)
    reader = browser(app)
    # The first like has no reader cookie yet (the address stands for it), then four as the reader.
    assert [reader.post(like_url(comment)).status_code for _ in range(6)] == [303] * 5 + [429]
    app.config["LIKE_RATE_LIMIT_PER_READER"] = "100 per minute"
    neighbours = [browser(app).post(like_url(comment)).status_code for _ in range(3)]
    assert 429 in neighbours  # other readers at the same address: the address's limit holds
    assert browser(app, "203.0.113.50").post(like_url(comment)).status_code == 303


# The shared page ------------------------------------------------------------------------------

def test_the_shared_page_shows_new_like_counts_within_the_refresh_time_and_keeps_its_etag(app, db, clock):
    comment = make_comment(db, status=APPROVED)
    first = app.test_client().get(ARTICLE_URL)
    browser(app).post(like_url(comment))
    clock.advance(seconds=1)
    still = app.test_client().get(ARTICLE_URL, headers={"If-None-Match": first.headers["ETag"]})
    assert still.status_code == 304  # within the same counts period the page is as it was
    clock.advance(seconds=app.config["ARTICLE_COUNTS_REFRESH_SECONDS"])
    later = app.test_client().get(ARTICLE_URL)
    assert later.headers["ETag"] != first.headers["ETag"]
    assert re.search(rf'comments/{comment.id}/like" data-like><button aria-pressed="false">讚 <span data-count>1<',
                     later.get_data(as_text=True))
    clock.advance(seconds=app.config["ARTICLE_COUNTS_REFRESH_SECONDS"])
    unchanged = app.test_client().get(ARTICLE_URL, headers={"If-None-Match": later.headers["ETag"]})
    assert unchanged.status_code == 304  # rendered again, the same bytes: the same validator


def test_the_shared_page_never_presses_a_button(app, db):
    comment = make_comment(db, status=APPROVED)
    browser(app).post(like_url(comment))
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert 'aria-pressed="true"' not in html and f"comments/{comment.id}/like" in html


def test_the_sort_switch_links_and_the_hot_page_is_its_own_cacheable_url(app, db, clock):
    make_comment(db, status=APPROVED, body="較早但熱門", created_at=START)
    popular = db.session.scalar(select(Comment).where(Comment.body == "較早但熱門"))
    make_comment(db, status=APPROVED, body="最新但冷門", created_at=START + timedelta(hours=1))
    for index in range(10):
        browser(app, f"198.51.100.{index + 1}").post(like_url(popular))
    clock.advance(seconds=60)
    new = app.test_client().get(ARTICLE_URL + "?sort=new").get_data(as_text=True)
    hot = app.test_client().get(ARTICLE_URL + "?sort=hot")
    html = hot.get_data(as_text=True)
    assert new.index("最新但冷門") < new.index("較早但熱門")
    assert html.index("較早但熱門") < html.index("最新但冷門")
    assert f'href="{ARTICLE_URL}?sort=hot#comment-list-heading" aria-current="page"' in html
    assert hot.cache_control.public and "Set-Cookie" not in hot.headers
    assert app.test_client().get(ARTICLE_URL + "?sort=hot",
                                 headers={"If-None-Match": hot.headers["ETag"]}).status_code == 304
    answer = browser(app).post(like_action(html, popular))  # a like from 最熱 comes back to 最熱
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}?sort=hot#comment-{popular.id}")
    assert "sort=hot" not in like_action(new, popular)


@pytest.mark.parametrize("query", ["sort=best", "sort=hot&after=1_1", "sort=hot&before=1_1_1", "sort=hot&before=x",
                                   "sort=hot&before=1e308_5", "sort=hot&before=1.5_99999999999", "sort="])
def test_bad_sort_arguments_are_a_404_not_a_500(app, db, query):
    assert app.test_client().get(f"{ARTICLE_URL}?{query}").status_code == 404


def test_hot_pages_follow_on_by_keyset(app, db):
    app.config["COMMENTS_PAGE_SIZE"] = 2
    for index in range(5):
        make_comment(db, status=APPROVED, body=f"評論{index}", created_at=START + timedelta(minutes=index))
    seen, url = [], ARTICLE_URL + "?sort=hot"
    while url:
        html = app.test_client().get(url).get_data(as_text=True)
        seen += re.findall(r"評論\d", html)
        following = re.search(r'href="([^"]*before=[^"]*)#comment-list-heading" rel="next"', html)
        url = following[1].replace("&amp;", "&") if following else None
    assert seen == [f"評論{index}" for index in reversed(range(5))]


# Comments in the reader's script --------------------------------------------------------------

def test_comments_are_shown_as_written_unless_the_reader_asks_for_their_script(app, db):
    make_comment(db, status=APPROVED, body="這個儀器的檢測結果很準確")
    make_comment(db, status=APPROVED, body="这台仪器很好用", created_at=START)
    simplified = app.test_client().get(ARTICLE_URL + "?lang=zh-Hans").get_data(as_text=True)
    assert "這個儀器的檢測結果很準確" in simplified and "?script=converted&amp;lang=zh-Hans" in simplified
    converted = app.test_client().get(ARTICLE_URL + "?lang=zh-Hans&script=converted")
    html = converted.get_data(as_text=True)
    assert "这个仪器的检测结果很准确" in html and "这台仪器很好用" in html and "原文" in html
    assert converted.cache_control.public and "Set-Cookie" not in converted.headers
    traditional = app.test_client().get(ARTICLE_URL + "?lang=zh-Hant&script=converted").get_data(as_text=True)
    assert "這臺儀器很好用" in traditional or "這台儀器很好用" in traditional
    english = app.test_client().get(ARTICLE_URL + "?lang=en&script=converted").get_data(as_text=True)
    assert "这台仪器很好用" in english and "這個儀器的檢測結果很準確" in english
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.body == "这台仪器很好用")) == 1


def test_the_script_preference_is_a_cookie_and_the_original_one_click_away(app, db):
    make_comment(db, status=APPROVED, body="這個儀器很準確")
    reader = app.test_client()
    answer = reader.post("/preferences/script", data={"slug": ARTICLE_SLUG}, headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 303 and "script=converted" in answer.headers["Set-Cookie"]
    page = reader.get(ARTICLE_URL, headers={"Accept-Language": "zh-CN"})
    assert "这个仪器很准确" in page.get_data(as_text=True) and page.headers["Cache-Control"] == "private, no-store"
    original = reader.get(ARTICLE_URL + "?script=original", headers={"Accept-Language": "zh-CN"})
    assert "這個儀器很準確" in original.get_data(as_text=True)
    reader.post("/preferences/script", data={"slug": ARTICLE_SLUG})
    assert "這個儀器很準確" in reader.get(ARTICLE_URL, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
