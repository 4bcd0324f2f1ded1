"""The article page under real traffic: shared and cacheable, validated, paged, constant in cost."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from bench import first_page
from bench.first_page import fill_article
from moderation.extensions import db as _db
from moderation.models import Article, CaptchaChallenge, Comment, CommentMode, CommentStatus
from moderation.services.articles import load_article
from moderation.services.audit import SYSTEM
from moderation.services.decisions import Decision, decide
from moderation.services.likes import set_like
from moderation.services.listing import replies_changed
from moderation.services.picks import set_pinned
from tests.conftest import ARTICLE_SLUG, make_comment, make_page
from tests.postgres import client_trace, round_trips_in

ARTICLE_URL = f"/articles/{ARTICLE_SLUG}"
APPROVED = CommentStatus.APPROVED


HARNESS_STATEMENTS = {"SAVEPOINT", "RELEASE", "ROLLBACK"}


@contextmanager
def statements(engine):
    """The first word of every SQL statement the app sends while the block runs (savepoints, which
    the test harness wraps each session in, left out)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        word = statement.strip().split()[0].upper()
        if word not in HARNESS_STATEMENTS:
            seen.append(word)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def approve(db, comment, clock):
    db.session.expire_all()
    current = db.session.get(Comment, comment.id)
    assert decide(db.session, comment.id, Decision.APPROVE, expected_version=current.version,
                  actor=SYSTEM, now=clock()).ok


def etag_of(client, url=ARTICLE_URL):
    return client.get(url).headers["ETag"]


def test_the_proxy_passes_every_reader_holding_one_of_our_cookies_to_the_app(app):
    """deploy/nginx.conf neither serves nor stores a cached page for a browser holding a cookie that
    makes the page its own (the comments-in-my-script cookie was missing: such a reader could be
    served the shared page)."""
    from pathlib import Path

    from moderation.web.reader import personal_cookie_names

    config = (Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    mapped = re.search(r'map "([^"]+)" \$moderation_personal', config).group(1)
    with app.test_request_context():
        names = personal_cookie_names()
    assert set(re.findall(r"\$cookie_(\w+)", mapped)) == set(names)


def test_first_time_readers_get_the_same_public_bytes_and_nothing_is_written(app, db):
    make_comment(db, status=APPROVED, body="公開的評論")
    with statements(db.engine) as sent:
        first = app.test_client().get(ARTICLE_URL)
        second = app.test_client().get(ARTICLE_URL)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    assert "Cookie" not in first.headers.get("Vary", "")
    cache = first.cache_control
    # Browsers ask again each time (their cache cannot see the language cookie); shared caches keep it.
    assert cache.public and cache.max_age == 0
    assert cache.s_maxage == app.config["ARTICLE_CACHE_S_MAXAGE"] > 0
    assert first.headers["ETag"]
    assert set(sent) == {"SELECT"}
    assert db.session.scalar(select(func.count()).select_from(CaptchaChallenge)) == 0


def test_the_shared_page_carries_no_token_challenge_or_pending_comment(app, db, page):
    page.post(body="只有作者看得到的評論")
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert 'name="csrf_token" value=""' in html and 'name="captcha_id" value=""' in html
    assert not re.search(r'name="(csrf_token|captcha_id)" value="[^"]', html)
    assert "只有作者看得到的評論" not in html and "審核中" not in html


def test_a_reader_with_a_cookie_gets_a_private_page_with_their_comment_in_review(page):
    page.post(body="我的評論還在審核")
    response = page.open()
    assert "private" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
    assert "我的評論還在審核" in page.html and "審核中" in page.html


def test_conditional_get_answers_304_without_a_body(client):
    etag = etag_of(client)
    response = client.get(ARTICLE_URL, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == etag and "public" in response.headers["Cache-Control"]


def test_the_validator_changes_when_readers_would_see_something_else(app, db, clock, admin):
    client = app.test_client()
    comment = make_comment(db, body="待審的評論")
    initial = etag_of(client)
    approve(db, comment, clock)
    approved = etag_of(client)
    assert approved != initial
    assert "待審的評論" in client.get(ARTICLE_URL).get_data(as_text=True)
    assert client.get(ARTICLE_URL, headers={"If-None-Match": initial}).status_code == 200

    db.session.expire_all()
    assert decide(db.session, comment.id, Decision.SPAM, expected_version=db.session.get(Comment, comment.id).version,
                  actor=SYSTEM, now=clock()).ok
    unapproved = etag_of(client)
    assert unapproved != approved
    assert unapproved == initial  # the same bytes as before the approval: the validator is of the content
    assert "待審的評論" not in client.get(ARTICLE_URL).get_data(as_text=True)

    article = db.session.scalar(select(Article))
    admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="closed")
    assert etag_of(client) != unapproved
    assert "本文評論已關閉" in client.get(ARTICLE_URL).get_data(as_text=True)


def test_a_pending_comment_does_not_change_the_validator(app, db, page):
    client = app.test_client()
    before = etag_of(client)
    page.post(body="還在審核的評論")
    assert etag_of(client) == before


def test_the_comment_form_has_a_heading_of_its_own_between_the_sections_and_the_lists(app, db):
    """Heading navigation reached 網友評論 and then the list: the form between them had none."""
    make_comment(db, status=APPROVED, body="一則評論")
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    headings = re.findall(r"<h([23])[^>]*>(.*?)</h\1>", html)
    names = [text for _, text in headings]
    form = names.index("發表評論")
    assert names[form - 1].startswith("網友評論") and "則評論" in names[form + 1]
    assert html.index('id="form-heading"') < html.index('id="comment-form"')


def test_heading_counts_approved_comments_of_this_article_only(app, db, clock):
    other, _ = load_article(db.session, "另一篇文章的內文。", slug="another-story")
    db.session.commit()
    for index in range(3):
        make_comment(db, status=APPROVED, body=f"本文評論{index}")
    make_comment(db, article_id=other.id, status=APPROVED, body="別篇文章的評論")
    pending = make_comment(db, body="待審")
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert "網友評論（3）" in html and "3 則評論" in html and "別篇文章的評論" not in html
    approve(db, pending, clock)
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert "網友評論（4）" in html


def test_the_phone_bar_and_the_folded_form_are_in_the_shared_bytes(app, db):
    """The bar and 寫評論 are the same for everyone: the count is the heading's, the link a plain one."""
    for index in range(2):
        make_comment(db, status=APPROVED, body=f"本文評論{index}")
    response = app.test_client().get(ARTICLE_URL)
    html = response.get_data(as_text=True)
    assert response.cache_control.public
    assert re.search(r'<a href="#comments">寫評論 · 2 則評論</a>', html)
    assert 'id="comments" tabindex="-1"' in html and "網友評論（2）" in html
    assert re.search(r'<button type="button" class="composer-open" hidden aria-expanded="false" aria-controls="comment-form"', html)
    article = db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))
    article.comment_mode = CommentMode.CLOSED
    article.revision += 1
    db.session.commit()
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert '<a href="#comments">2 則評論</a>' in html and "composer-open" not in html  # nothing to write


def test_the_stored_count_follows_every_decision(db, clock):
    comments = [make_comment(db) for _ in range(4)]
    steps = [(0, Decision.APPROVE), (1, Decision.APPROVE), (0, Decision.SPAM), (0, Decision.RESTORE),
             (2, Decision.APPROVE), (1, Decision.RESTORE), (3, Decision.SPAM), (3, Decision.APPROVE)]
    for index, decision in steps:
        db.session.expire_all()
        version = db.session.get(Comment, comments[index].id).version
        assert decide(db.session, comments[index].id, decision, expected_version=version, actor=SYSTEM, now=clock()).ok
        db.session.expire_all()
        article = db.session.scalar(select(Article))
        counted = db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.status == APPROVED)
        )
        assert article.approved_count == counted


def comments_at_equal_times(db, count: int) -> list[Comment]:
    """Comments in groups of three sharing one timestamp, the hardest case for a keyset."""
    start = datetime(2026, 11, 20, tzinfo=UTC)
    return [
        make_comment(db, status=APPROVED, body=f"評論編號{index:03d}", created_at=start + timedelta(minutes=index // 3))
        for index in range(count)
    ]


def listed_bodies(html: str) -> list[str]:
    return re.findall(r'<div class="comment-body" dir="auto">(評論編號\d{3})</div>', html)


def pager_link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)#comment-list-heading" rel="{rel}"', html)
    return match and match.group(1).replace("&amp;", "&")


def test_keyset_pages_with_equal_timestamps_have_no_duplicates_or_gaps(app, db):
    app.config["COMMENTS_PAGE_SIZE"] = 4
    made = comments_at_equal_times(db, 23)
    newest_first = [comment.body for comment in sorted(made, key=lambda c: (c.created_at, c.id), reverse=True)]
    client = app.test_client()

    pages, url = [], ARTICLE_URL
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(listed_bodies(html))
        url = pager_link(html, "next")
    assert [body for page in pages for body in page] == newest_first
    assert [len(page) for page in pages] == [4, 4, 4, 4, 4, 3]

    backwards, url = [], pager_link(client.get(ARTICLE_URL).get_data(as_text=True), "next")
    while url:
        html = client.get(url).get_data(as_text=True)
        backwards.append(listed_bodies(html))
        url = pager_link(html, "next")
    last_html = html
    walked_back, url = [listed_bodies(last_html)], pager_link(last_html, "prev")
    while url:
        html = client.get(url).get_data(as_text=True)
        walked_back.insert(0, listed_bodies(html))
        url = pager_link(html, "prev")
    assert [body for page in walked_back for body in page] == newest_first


def test_every_page_link_works_without_javascript_and_a_bad_cursor_is_404(app, db, client):
    app.config["COMMENTS_PAGE_SIZE"] = 2
    comments_at_equal_times(db, 5)
    first = client.get(ARTICLE_URL).get_data(as_text=True)
    assert pager_link(first, "prev") is None and pager_link(first, "next")
    assert client.get(ARTICLE_URL + "?before=yesterday").status_code == 404
    assert client.get(ARTICLE_URL + "?before=1_99999999999").status_code == 404


@pytest.mark.parametrize("query", ["", "?sort=hot"])
def test_sql_statements_per_article_get_do_not_grow_with_comments(app, db, query):
    def count_for_get(*, cached: bool) -> int:
        client = app.test_client()
        if not cached:
            app.extensions["article_pages"].clear()
        with statements(db.engine) as sent:
            assert client.get(ARTICLE_URL + query).status_code == 200
        return len(sent)

    def reply_to(parent, count: int, at: datetime) -> None:
        for index in range(count):
            make_comment(db, status=APPROVED, thread_id=parent.id, reply_to_id=parent.id, body=f"回覆{index}",
                         created_at=at + timedelta(milliseconds=index + 1))
        replies_changed(db.session, parent.id, count)
        db.session.commit()

    first = make_comment(db, status=APPROVED)
    reply_to(first, 1, first.created_at)
    set_pinned(db.session, first.id, True, actor=SYSTEM, now=first.created_at)
    db.session.commit()
    few = (count_for_get(cached=False), count_for_get(cached=True))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for index in range(120):
        comment = make_comment(db, status=APPROVED, body=f"第{index}則", created_at=start + timedelta(seconds=index))
        if index % 3 == 0:  # threads of every size on the page, one of them long
            reply_to(comment, 40 if index == 117 else index % 5, comment.created_at)
        if index in (116, 117):
            set_pinned(db.session, comment.id, True, actor=SYSTEM, now=comment.created_at)
            db.session.commit()
        if index % 7 == 0:  # likes move 最熱's order
            for reader in range(index % 4):
                set_like(db.session, comment.article_id, comment.id, reader_hash=f"reader{reader}",
                         ip_hash=f"ip{reader}", like=True, now=comment.created_at, per_address=3)
            db.session.commit()
    many = (count_for_get(cached=False), count_for_get(cached=True))
    html = app.test_client().get(ARTICLE_URL + query).get_data(as_text=True)
    assert "查看全部 40 則回覆" in html and "編輯精選" in html
    assert few == many
    assert many[1] == 1  # a cached page costs one query: is it still current?


def test_the_article_body_is_not_rendered_per_request(app, monkeypatch, client):
    import moderation.article_text

    def refuse(*args):
        raise AssertionError("article body rendered during a request")

    monkeypatch.setattr(moderation.article_text, "parse_body", refuse)
    monkeypatch.setattr(moderation.article_text, "render_body_html", refuse)
    app.extensions["article_pages"].clear()
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    assert html.count("<ruby>") == 333


@pytest.mark.parametrize("query", ["", "?sort=hot&script=converted&lang=zh-Hans"])
def test_first_page_of_50_comments_weighs_under_100_kb(app, db, query):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for index in range(80):
        make_comment(db, status=APPROVED, nickname="熱心讀者" + str(index),
                     body=("檢驗檢測行業的發展很重要，希望有更多國產儀器。" * 5)[:120],
                     created_at=start + timedelta(minutes=index))
    response = app.test_client().get(ARTICLE_URL + query)
    assert response.get_data(as_text=True).count('class="comment"') == 50
    assert len(response.data) <= 100 * 1024


@pytest.mark.parametrize("query", ["", "?lang=en", "?sort=hot&script=converted&lang=zh-Hans"])
def test_first_page_with_replies_likes_and_picks_weighs_under_100_kb(app, query):
    """bench.first_page's articles, smaller: the first page of 50 threads, a third with 2 replies,
    a fifth liked, 2 editors' picks, and (`long`) a thread of 60 replies of which the page shows
    the first ones and a link to the rest."""
    with app.app_context():
        fill_article("base", 60, long_thread=0, page_size=50)
        fill_article("long", 60, long_thread=60, page_size=50)
        _db.session.commit()
    client = app.test_client()
    for slug in ("base", "long"):
        html = client.get(f"/articles/{slug}{query}").get_data(as_text=True)
        long = slug == "long"
        assert html.count('<li id="comment-') == 50 + 17 * 2 + (3 if long else 0)
        assert html.count("data-more-replies") == (1 if long else 0)
        assert html.count('<li id="pick-') == 2 and html.count('<span data-count>7<') == 10
        assert len(html.encode()) <= first_page.SIZE_TARGET, (slug, len(html.encode()))


def test_without_javascript_the_shared_form_leads_to_the_form_page_with_the_text_kept(app, db):
    client = app.test_client()
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    action = re.search(r'<form class="comment-form"[^>]*action="([^"#]+)', html).group(1)
    assert action == f"{ARTICLE_URL}/comment"
    response = client.post(action, data={"nickname": "沒有腳本", "body": "我的想法", "action": "post"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    form_page = response.get_data(as_text=True)
    assert 'value="沒有腳本"' in form_page and "我的想法" in form_page
    assert "請輸入驗證碼，再按「送出評論」" in form_page
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0

    reader = make_page(app)
    reader.client = client
    reader.html = form_page
    assert reader.post(nickname="沒有腳本", body="我的想法").status_code == 303
    assert db.session.scalar(select(Comment.body)) == "我的想法"


def test_form_token_gives_this_browser_a_token_and_a_challenge(client):
    response = client.get("/form-token")
    assert response.headers["Cache-Control"] == "no-store"
    state = response.get_json()
    assert state["csrf_token"] and re.fullmatch(r"[A-Za-z0-9_-]{32}", state["captcha"]["id"])
    assert client.get(state["captcha"]["image"]).status_code == 200


@pytest.mark.parametrize("cookie", ["session", "reader", "pinyin"])
def test_any_cookie_of_ours_gets_the_private_variant(client, cookie):
    client.set_cookie(cookie, "x")
    response = client.get(ARTICLE_URL)
    assert response.status_code == 200 and "private" in response.headers["Cache-Control"]


def test_the_hot_page_validates_and_answers_304_like_the_newest_first_page(app, db):
    make_comment(db, status=APPROVED, body="熱門的評論")
    first = app.test_client().get(ARTICLE_URL + "?sort=hot")
    assert first.status_code == 200 and first.cache_control.public and first.headers["ETag"]
    assert "Set-Cookie" not in first.headers
    again = app.test_client().get(ARTICLE_URL + "?sort=hot", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert first.headers["ETag"] != app.test_client().get(ARTICLE_URL).headers["ETag"]


@pytest.mark.committing
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite answers in the process: no round trips
@pytest.mark.parametrize(("path", "round_trips"), [
    (ARTICLE_URL, 1),  # the article's state (no ping: the connection was given back a moment ago)
    (f"/embed/{ARTICLE_SLUG}", None),  # the frame's article and the sites that may show it
    (f"/api/v1/counts?keys={ARTICLE_SLUG}", None),
], ids=["article", "embed", "counts"])
def test_shared_reads_ask_postgresql_without_a_transaction(app, client, backend, tmp_path, path, round_trips):
    """A page every reader shares, answered 304: its statements sent outside a transaction, with no
    BEGIN before them and no ROLLBACK after (libpq's own trace of what the client sent)."""
    first = client.get(path)  # renders and caches the page; its connection goes back to the pool
    assert first.status_code == 200
    with app.app_context():
        engine = _db.engine
    trace = tmp_path / "libpq.trace"
    with client_trace(engine, trace) as sent:
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    text = trace.read_text()
    assert sent, "nothing traced"
    assert not re.search(r"\b(BEGIN|ROLLBACK|COMMIT)\b", text), text
    if round_trips is not None:
        assert round_trips_in(sent) == round_trips, text


@pytest.mark.committing
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("ping_after_idle", "round_trips"), [(60, 1), (0, 2)], ids=["used-a-moment-ago", "every-time"])
def test_a_pooled_connection_given_back_a_moment_ago_is_used_without_the_ping(app, app_config, backend, tmp_path,
                                                                               ping_after_idle, round_trips):
    """DATABASE_PING_AFTER_IDLE_SECONDS: a connection back in the pool for less is not pinged (under
    load none is: one round trip less a request); 0 pings each checkout, as SQLAlchemy's pre-ping."""
    from moderation import create_app

    checked = create_app({**app_config, "DATABASE_PING_AFTER_IDLE_SECONDS": ping_after_idle})
    client = checked.test_client()
    first = client.get(ARTICLE_URL)
    with checked.app_context():
        engine = _db.engine
    trace = tmp_path / "libpq.trace"
    try:
        with client_trace(engine, trace) as sent:
            assert client.get(ARTICLE_URL, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        assert round_trips_in(sent) == round_trips, trace.read_text()
    finally:
        engine.dispose()


def test_the_form_says_when_comments_appear_as_the_articles_mode_has_it(app, db):
    from sqlalchemy import select

    from moderation.models import Article, CommentMode

    assert "評論經審核後公開" in app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    article = db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))
    article.comment_mode = CommentMode.POST_MODERATION
    article.revision += 1
    db.session.commit()
    for url in (ARTICLE_URL, ARTICLE_URL + "/comment"):
        html = app.test_client().get(url).get_data(as_text=True)
        assert "評論通過自動篩選即公開，本站仍可能撤下" in html and "評論經審核後公開" not in html
