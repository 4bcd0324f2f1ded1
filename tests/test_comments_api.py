"""Published comments as data, for a newsroom's key with `comments:read`: newest first in keyset
pages, cacheable like the article page (ETag from the article's revision, 304)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from moderation.models import CommentStatus
from moderation.services import api_keys
from moderation.services.audit import COMMAND_LINE
from tests.conftest import ARTICLE_SLUG, make_comment

URL = f"/api/v1/articles/{ARTICLE_SLUG}/comments"
START = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "COMMENTS_PAGE_SIZE": 2}


def key_with(db, clock, *scopes: str) -> dict[str, str]:
    _, key = api_keys.create_key(db.session, "app.example", scopes, actor=COMMAND_LINE, now=clock())
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def reader_app(db, clock):
    return key_with(db, clock, "comments:read")


def published(db, minutes: int, **overrides):
    return make_comment(db, status=CommentStatus.APPROVED, created_at=START + timedelta(minutes=minutes), **overrides)


def test_published_comments_newest_first_with_the_anonymous_named(client, db, reader_app):
    older = published(db, 1, nickname="讀者小林", body="第一則")
    newer = published(db, 2, nickname="不顯示", is_anonymous=True, body="第二則 <b>")
    make_comment(db, status=CommentStatus.PENDING, body="待審")
    response = client.get(URL, headers=reader_app)
    assert response.status_code == 200
    assert response.json["total"] == 2 and response.json["article"] == ARTICLE_SLUG
    assert response.json["comments"] == [
        {"id": newer.id, "nickname": "匿名網友", "anonymous": True, "text": "第二則 <b>",
         "created_at": "2026-11-24T01:02:00+00:00", "reply_to": None, "thread": None, "replies": 0, "staff": False},
        {"id": older.id, "nickname": "讀者小林", "anonymous": False, "text": "第一則",
         "created_at": "2026-11-24T01:01:00+00:00", "reply_to": None, "thread": None, "replies": 0, "staff": False},
    ]
    english = client.get(URL, headers={**reader_app, "Accept-Language": "en"})
    assert english.json["comments"][0]["nickname"] == "Anonymous reader"
    assert english.headers["ETag"] != response.headers["ETag"]


def test_pages_follow_the_links_without_repeating_or_skipping(client, db, reader_app):
    ids = [published(db, minute).id for minute in range(5)]
    seen, url, pages = [], URL, 0
    while url:
        body = client.get(url, headers=reader_app).json
        seen += [comment["id"] for comment in body["comments"]]
        url, pages = body["links"]["older"], pages + 1
    assert seen == list(reversed(ids)) and pages == 3
    last = client.get(URL, query_string={"before": "0_1"}, headers=reader_app).json
    assert last["comments"] == [] and last["links"] == {"older": None, "newer": None}
    middle = client.get(client.get(URL, headers=reader_app).json["links"]["older"], headers=reader_app).json
    back = client.get(middle["links"]["newer"], headers=reader_app).json
    assert [comment["id"] for comment in back["comments"]] == list(reversed(ids))[:2]


def test_cacheable_like_the_article_page(client, db, reader_app):
    published(db, 1)
    first = client.get(URL, headers=reader_app)
    assert first.cache_control.public and first.cache_control.max_age == 10 and first.cache_control.s_maxage == 10
    assert "Authorization" in first.headers["Vary"]  # a shared cache keeps one copy per key
    again = client.get(URL, headers={**reader_app, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    published(db, 2)
    changed = client.get(URL, headers={**reader_app, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and len(changed.json["comments"]) == 2


def test_a_conditional_request_reads_no_comment(client, db, reader_app):
    published(db, 1)
    etag = client.get(URL, headers=reader_app).headers["ETag"]
    statements = []

    def keep(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert client.get(URL, headers={**reader_app, "If-None-Match": etag}).status_code == 304
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert statements and not any("FROM comment" in statement for statement in statements)


def test_a_key_is_needed_and_it_must_read_comments(client, db, clock):
    assert client.get(URL).status_code == 401
    writer = key_with(db, clock, "articles:write")
    response = client.get(URL, headers=writer)
    assert response.status_code == 403 and response.json["error"]["scope"] == "comments:read"


@pytest.mark.parametrize(("query", "status", "code"), [
    ({"before": "x"}, 400, "bad_cursor"),
    ({"before": "1_1", "after": "1_1"}, 400, "bad_cursor"),
    ({"after": "1_0"}, 400, "bad_cursor"),  # id 0 is no row id
])
def test_bad_cursors_get_a_json_400(client, reader_app, query, status, code):
    response = client.get(URL, query_string=query, headers=reader_app)
    assert response.status_code == status and response.json["error"]["code"] == code


def test_an_unknown_article_gets_a_json_404(client, reader_app):
    response = client.get("/api/v1/articles/never-sent/comments", headers=reader_app)
    assert response.status_code == 404 and response.json["error"]["code"] == "article_not_found"


def test_replies_are_published_comments_and_a_refused_top_never_appears(client, db, clock, reader_app):
    from moderation.services.audit import SYSTEM
    from moderation.services.decisions import Decision, RejectReason, decide
    from moderation.services.listing import replies_changed

    top = published(db, 1, body="會被拒絕的主評論")
    published(db, 2, body="留下來的回覆", thread_id=top.id, reply_to_id=top.id)
    replies_changed(db.session, top.id, 1)
    db.session.commit()
    assert decide(db.session, top.id, Decision.REJECT, expected_version=1, actor=SYSTEM, now=clock(),
                  reason=RejectReason.ABUSE).ok
    listed = client.get(URL, headers=reader_app).json["comments"]
    assert [comment["text"] for comment in listed] == ["留下來的回覆"]
    assert (listed[0]["reply_to"], listed[0]["thread"]) == (top.id, top.id)  # its place, the top gone


def test_a_thread_can_be_rebuilt_from_the_list(client, db, reader_app):
    """A newsroom's own rendering (an app, an AMP page) nests the replies under their top comment."""
    from moderation.services.listing import replies_changed

    top = published(db, 1, body="主評論")
    first = published(db, 2, body="第一則回覆", thread_id=top.id, reply_to_id=top.id)
    published(db, 3, body="回覆第一則回覆", thread_id=top.id, reply_to_id=first.id)
    replies_changed(db.session, top.id, 2)
    db.session.commit()
    listed, url = [], URL
    while url:  # this module's pages hold two
        answer = client.get(url, headers=reader_app).json
        listed, url = listed + answer["comments"], answer["links"]["older"]
    by_id = {comment["id"]: comment for comment in listed}
    assert by_id[top.id]["replies"] == 2 and by_id[top.id]["thread"] is None
    assert [(by_id[c]["thread"], by_id[c]["reply_to"]) for c in sorted(by_id) if c != top.id] == [
        (top.id, top.id), (top.id, first.id)]
