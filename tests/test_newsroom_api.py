"""The newsroom's CMS writes articles through the JSON API with a key of its own; keys are scoped,
kept as hashes and revocable; every error is JSON with a stable code in the request's language."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from moderation.models import ApiKey, Article, AuditEntry, CommentMode, CommentStatus
from moderation.services import api_keys
from moderation.services.audit import COMMAND_LINE
from tests.conftest import ARTICLE_SLUG, make_comment

STORY = {
    "headline": "檢測機構數位轉型",
    "column": "時事聚焦",
    "body": "第一段，網(wǎng)路檢測。\n\n第二段(資料參考來源:儀器網)。",
    "published_at": "2026-11-24T08:00:00+08:00",
}


def new_key(db, *scopes: str, site: str = "cms.example") -> str:
    _, key = api_keys.create_key(db.session, site, scopes or ("articles:write",), actor=COMMAND_LINE,
                                 now=db_now())
    db.session.commit()
    return key


def db_now():
    from tests.conftest import Clock

    return Clock().now


@pytest.fixture
def cms(db):
    return new_key(db, "articles:write")


def put(client, key: str, api_key: str | None, body=STORY, **headers):
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.put(f"/api/v1/articles/{key}", data=data, content_type=headers.pop("content_type", "application/json"),
                      headers=headers)


def article(db, key: str) -> Article | None:
    db.session.expire_all()
    return db.session.scalar(select(Article).where(Article.key == key))


def test_the_cms_creates_an_article_that_readers_can_open(client, db, cms):
    response = put(client, "story-1001", cms)
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/articles/story-1001"
    assert response.json["article"]["headline"] == "檢測機構數位轉型"
    assert response.json["url"].endswith("/articles/story-1001")  # the key is the slug when it can be
    page = client.get("/articles/story-1001").get_data(as_text=True)
    assert "檢測機構數位轉型" in page and '網<rt lang="zh-Latn-pinyin">wǎng</rt>' in page
    assert "(資料參考來源:儀器網)" in page  # ordinary parentheses stay text
    assert '<meta name="robots" content="noindex">' in page  # the newsroom's own page is the one to index
    assert "noindex" not in client.get("/articles/inspection-testing-excellent-cases").get_data(as_text=True)
    stored = article(db, "story-1001")
    assert stored.published_at.isoformat() == "2026-11-24T00:00:00+00:00"
    assert stored.comment_mode is CommentMode.PRE_MODERATION


def test_the_same_put_twice_changes_nothing_the_second_time(client, db, cms):
    put(client, "story-1002", cms)
    revision = article(db, "story-1002").revision
    again = put(client, "story-1002", cms)
    assert again.status_code == 200 and again.json["article"]["headline"] == STORY["headline"]
    assert article(db, "story-1002").revision == revision
    created = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "article_create"))
    updated = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "article_update"))
    assert (created, updated) == (1, 0)


def test_an_update_re_renders_the_body_and_the_cached_page_shows_it(client, db, cms):
    put(client, "story-1003", cms)
    assert "第一段" in client.get("/articles/story-1003").get_data(as_text=True)  # now in the page cache
    response = put(client, "story-1003", cms, {**STORY, "body": "改寫後的內文，質(zhì)量。"})
    assert response.status_code == 200
    page = client.get("/articles/story-1003").get_data(as_text=True)
    assert "改寫後的內文" in page and "第一段" not in page and '質<rt lang="zh-Latn-pinyin">zhì</rt>' in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "article_update"))
    assert entry.actor == "api:cms.example" and entry.note == "story-1003" and entry.details == {"fields": ["body"]}


def test_a_key_that_is_not_a_slug_gets_the_slug_it_is_given(client, db, cms):
    assert put(client, "cms:2026:77", cms, {**STORY, "slug": "digital-labs"}).status_code == 201
    assert client.get("/articles/digital-labs").status_code == 200
    assert client.get("/api/v1/articles/cms:2026:77", headers={"Authorization": f"Bearer {cms}"}).json[
        "article"]["slug"] == "digital-labs"



def test_a_key_a_url_cannot_hold_becomes_its_slug_with_hyphens(client, db, cms):
    created = put(client, "cms:2026:78~b", cms, {"headline": "標題", "body": "內文"})
    assert created.status_code == 201 and created.json["article"]["slug"] == "cms-2026-78-b"
    assert client.get("/articles/cms-2026-78-b").status_code == 200


def test_an_update_that_leaves_out_the_slug_time_or_column_keeps_them(client, db, cms):
    assert put(client, "story-3001", cms, {**STORY, "slug": "digital-labs"}).status_code == 201
    before = article(db, "story-3001")
    kept = (before.slug, before.published_at, before.column_name)
    assert put(client, "story-3001", cms, {"headline": "新標題", "body": "新內文"}).status_code == 200
    after = article(db, "story-3001")
    assert (after.slug, after.published_at, after.column_name) == kept and after.title == "新標題"
    assert client.get("/articles/digital-labs").status_code == 200  # the live URL did not move
    cleared = put(client, "story-3001", cms, {"headline": "新標題", "body": "新內文", "column": "", "published_at": None})
    assert cleared.status_code == 200 and (article(db, "story-3001").column_name, article(db, "story-3001").published_at) == ("", None)

def test_a_slug_taken_by_another_article_is_refused_with_409(client, db, cms):
    response = put(client, "story-1004", cms, {**STORY, "slug": ARTICLE_SLUG})
    assert response.status_code == 409
    assert response.json["error"]["fields"]["slug"]["code"] == "slug_taken"
    assert article(db, "story-1004") is None



def test_another_sites_key_can_neither_read_nor_change_a_sites_article(client, db, cms):
    assert put(client, "story-2001", cms).status_code == 201
    other = new_key(db, "articles:write", "comments:read", site="paper.example")
    auth = {"Authorization": f"Bearer {other}"}
    changed = put(client, "story-2001", other, {**STORY, "headline": "別家改的標題"})
    assert changed.status_code == 409 and changed.json["error"]["fields"]["key"]["code"] == "key_taken"
    assert client.get("/api/v1/articles/story-2001", headers=auth).status_code == 404
    closed = client.put("/api/v1/articles/story-2001/comment-mode", json={"comment_mode": "closed"}, headers=auth)
    assert closed.status_code == 404 and closed.json["error"]["code"] == "article_not_found"
    stored = article(db, "story-2001")
    assert (stored.title, stored.site, stored.comment_mode.value) == (STORY["headline"], "cms.example", "pre")
    assert client.get("/api/v1/articles/story-2001", headers={"Authorization": f"Bearer {cms}"}).status_code == 200

def test_an_update_reads_the_article_once_and_under_its_lock(client, db, cms):
    """The other site's key is judged on the row as locked for the update, not on a read before it."""
    assert put(client, "story-2002", cms).status_code == 201
    sent = []
    record = lambda conn, cursor, statement, *rest: sent.append(" ".join(statement.split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert put(client, "story-2002", cms, {**STORY, "headline": "改過的標題"}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    reads = [text for text in sent if re.search(r'^SELECT .* FROM article WHERE article\."?key"? = ', text)]
    assert len(reads) == 1, reads
    assert db.engine.dialect.name == "sqlite" or reads[0].endswith("FOR UPDATE")
    assert article(db, "story-2002").title == "改過的標題"


def test_the_comment_mode_changes_through_the_same_service_and_is_logged_as_the_site(client, db, cms):
    put(client, "story-1005", cms)
    response = client.put("/api/v1/articles/story-1005/comment-mode", json={"comment_mode": "closed"},
                          headers={"Authorization": f"Bearer {cms}"})
    assert response.status_code == 200 and response.json["article"]["comment_mode"] == "closed"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mode_change"))
    assert (entry.actor, entry.from_status, entry.to_status, entry.note) == ("api:cms.example", "pre", "closed",
                                                                             "story-1005")
    assert "評論已關閉" in client.get("/articles/story-1005").get_data(as_text=True)


def test_a_put_without_comment_mode_keeps_the_mode_a_moderator_set(client, db, cms):
    put(client, "story-1006", cms, {**STORY, "comment_mode": "post"})
    assert article(db, "story-1006").comment_mode is CommentMode.POST_MODERATION
    put(client, "story-1006", cms)
    assert article(db, "story-1006").comment_mode is CommentMode.POST_MODERATION


# -- keys and scopes -------------------------------------------------------------------------------

def test_requests_without_a_valid_key_get_401_json(client, db):
    for headers in ({}, {"Authorization": "Bearer mk_" + "x" * 43}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer "}):
        response = put(client, "story-2001", None, **headers)
        assert response.status_code == 401 and response.is_json
        assert response.json["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        sent = headers.get("Authorization", "").startswith("Bearer mk_")  # a key, but not one: RFC 6750's error
        assert ('error="invalid_token"' in response.headers["WWW-Authenticate"]) is sent
    assert article(db, "story-2001") is None


def test_a_key_without_the_scope_gets_403_json(client, db):
    reader_only = new_key(db, "comments:read")
    response = put(client, "story-2002", reader_only)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden_scope"
    assert response.json["error"]["scope"] == "articles:write"


def test_a_revoked_key_stops_working_at_once(client, db, cms):
    assert put(client, "story-2003", cms).status_code == 201
    row = db.session.scalar(select(ApiKey))
    api_keys.revoke(db.session, row, actor=COMMAND_LINE, now=db_now())
    db.session.commit()
    assert put(client, "story-2003", cms).status_code == 401


def test_only_the_hash_of_a_key_is_stored(db, cms):
    row = db.session.scalar(select(ApiKey))
    assert cms not in (row.key_hash, row.prefix, row.scopes) and cms.startswith(row.prefix)
    assert len(row.key_hash) == 64


def test_the_request_log_names_the_site_and_never_the_key(client, db, cms):
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Keep()
    logging.getLogger("moderation.requests").addHandler(handler)
    try:
        put(client, "story-2004", cms)
        client.get("/api/v1/articles/story-2004", headers={"Authorization": f"Bearer {cms}"},
                   query_string={"api_key": cms})
    finally:
        logging.getLogger("moderation.requests").removeHandler(handler)
    assert len(lines) == 2
    assert all(cms not in line and cms[3:20] not in line for line in lines)
    assert [json.loads(line)["site"] for line in lines] == ["cms.example", "cms.example"]


def test_the_command_line_prints_a_key_once_lists_without_it_and_revokes_it(runner, client, db):
    created = runner.invoke(args=["api-keys", "create", "news.example", "--scope", "articles:write",
                                  "--scope", "comments:read"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("mk_") and put(client, "story-2005", key).status_code == 201
    listed = runner.invoke(args=["api-keys", "list"])
    assert "news.example" in listed.output and "articles:write comments:read" in listed.output
    assert key not in listed.output and key[:10] in listed.output
    revoked = runner.invoke(args=["api-keys", "revoke", key[:10]])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert put(client, "story-2005", key).status_code == 401
    refused = runner.invoke(args=["api-keys", "create", "Bad Site!", "--scope", "articles:write"])
    assert refused.exit_code != 0 and "site name" in refused.output


# -- bad input -------------------------------------------------------------------------------------

BAD_BODIES = [
    pytest.param(b"{not json", 400, "invalid_json", id="invalid-json"),
    pytest.param(b"\xff\xfe{}", 400, "invalid_json", id="not-utf8"),
    pytest.param(b"[" * 100_000, 400, "invalid_json", id="nested-past-the-parser"),
    pytest.param(b'["a list"]', 400, "invalid_json", id="not-an-object"),
    pytest.param({**STORY, "author": "x"}, 400, "unknown_field", id="unknown-field"),
    pytest.param({**STORY, "headline": ""}, 422, "headline_missing", id="no-headline"),
    pytest.param({**STORY, "headline": 12}, 422, "not_text", id="headline-a-number"),
    pytest.param({**STORY, "body": ["a"]}, 422, "not_text", id="body-a-list"),
    pytest.param({**STORY, "column": {"a": 1}}, 422, "not_text", id="column-an-object"),
    pytest.param({**STORY, "body": "<p>網頁內文</p>"}, 422, "body_is_html", id="html-body"),
    pytest.param({**STORY, "headline": "<b>粗體</b>標題"}, 422, "headline_is_html", id="html-headline"),
    pytest.param({**STORY, "body": "網(wang3)路"}, 422, "gloss_tone_numbers", id="tone-numbers"),
    pytest.param({**STORY, "body": "內文\x00"}, 422, "control_characters", id="nul-in-body"),
    pytest.param({**STORY, "headline": "標題\u202e"}, 422, "control_characters", id="bidi-in-headline"),
    pytest.param({**STORY, "body": "長" * 50_001}, 422, "body_too_long", id="body-too-long"),
    pytest.param({**STORY, "published_at": "2026-11-24 08:00"}, 422, "published_at_invalid", id="time-without-zone"),
    pytest.param({**STORY, "published_at": "yesterday"}, 422, "published_at_invalid", id="time-not-a-time"),
    pytest.param({**STORY, "comment_mode": "open"}, 422, "mode_invalid", id="unknown-mode"),
    pytest.param({**STORY, "close_after_days": -1}, 422, "close_after_days_invalid", id="negative-days"),
    pytest.param({**STORY, "close_after_days": 1e400}, 422, "close_after_days_invalid", id="infinite-days"),
    pytest.param({**STORY, "close_after_days": True}, 422, "close_after_days_invalid", id="boolean-days"),
    pytest.param({**STORY, "close_after_days": "7"}, 422, "close_after_days_invalid", id="days-as-text"),
    pytest.param({**STORY, "slug": "../etc"}, 422, "slug_invalid", id="slug-traversal"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BODIES)
def test_bad_input_gets_a_json_error_and_writes_nothing(client, db, cms, body, status, code):
    response = put(client, "story-3001", cms, body)
    assert response.status_code == status and response.is_json
    error = response.json["error"]
    assert code in (error["code"], *(field["code"] for field in error.get("fields", {}).values()))
    assert error["message"]
    assert article(db, "story-3001") is None


def test_the_article_url_given_back_carries_no_interface_language(client, cms):
    """A CMS that keeps the URL must not send every reader to the language of its own request."""
    headers = {"Authorization": f"Bearer {cms}"}
    response = client.put("/api/v1/articles/story-1009?lang=en", data=json.dumps(STORY),
                          content_type="application/json", headers=headers)
    assert response.status_code == 201 and response.json["url"].endswith("/articles/story-1009")
    assert "lang=" not in client.get("/api/v1/articles/story-1009?lang=en", headers=headers).json["url"]


def test_a_text_too_long_is_told_its_limit(client, cms):
    fields = put(client, "story-3003", cms, {**STORY, "headline": "標" * 201, "body": "長" * 50_001}).json["error"]["fields"]
    assert fields["body"]["message"] == "內文太長：最多 50,000 個字。"
    assert fields["headline"]["message"] == "標題太長：最多 200 個字。"


def test_an_oversized_body_gets_413_json(client, cms):
    response = put(client, "story-3002", cms, {**STORY, "body": "長" * 200_000})
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert response.json["error"]["message"] == "請求太大：API 一次最多收 512 KB。"


def test_a_long_article_fits_although_it_is_larger_than_a_comment_form(client, db, cms):
    body = "長" * 40_000  # 120 KB in UTF-8, 240 KB as \\u escapes: past MAX_CONTENT_LENGTH (64 KB)
    response = client.put("/api/v1/articles/story-3003", data=json.dumps({**STORY, "body": body}),
                          content_type="application/json", headers={"Authorization": f"Bearer {cms}"})
    assert response.status_code == 201
    assert len(article(db, "story-3003").body) == 40_000


def test_a_form_instead_of_json_gets_415(client, cms):
    response = put(client, "story-3004", cms, "headline=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json["error"]["code"] == "json_expected"


@pytest.mark.parametrize("key", ["bad key", "a,b", "a\x01b", "-starts-with-dash", "k" * 129, "ｆｕｌｌ"])
def test_an_article_key_with_spaces_commas_or_controls_is_refused(client, db, cms, key):
    response = put(client, key, cms)
    assert response.status_code == 422 and response.json["error"]["fields"]["key"]["code"] == "key_invalid"
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1  # the seed only


@pytest.mark.parametrize("path", ["/api/v1/articles/a/b", "/api/v1/articles/a%2Fb", "/api/v1/nowhere", "/api/v2/x"])
def test_unknown_api_urls_get_json_404(client, cms, path):
    response = client.put(path, json=STORY, headers={"Authorization": f"Bearer {cms}"})
    assert response.status_code == 404 and response.is_json and response.json["error"]["code"] == "not_found"


def test_a_nul_in_the_path_gets_json_400(client, cms):
    response = client.get("/api/v1/articles/a%00b", headers={"Authorization": f"Bearer {cms}"})
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed"


def test_a_wrong_method_gets_json_405_with_allow(client, cms):
    response = client.delete("/api/v1/articles/story-1", headers={"Authorization": f"Bearer {cms}"})
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"
    assert "PUT" in response.headers["Allow"]


def test_reading_an_unknown_article_gets_404_json(client, cms):
    response = client.get("/api/v1/articles/never-sent", headers={"Authorization": f"Bearer {cms}"})
    assert response.status_code == 404 and response.json["error"]["code"] == "article_not_found"


def test_messages_follow_the_request_language(client):
    english = put(client, "story-3005", None, **{"Accept-Language": "en"})
    simplified = put(client, "story-3005", None, **{"Accept-Language": "zh-CN"})
    traditional = put(client, "story-3005", None)
    assert english.json["error"]["message"].startswith("A valid API key")
    assert "密钥" in simplified.json["error"]["message"]
    assert "金鑰" in traditional.json["error"]["message"]
    assert english.json["error"]["code"] == simplified.json["error"]["code"] == "unauthorized"


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(client, cms):
    response = put(client, "story-3006", cms)
    assert response.status_code == 201 and "Set-Cookie" not in response.headers


# -- automatic closing -----------------------------------------------------------------------------

def test_an_article_published_long_ago_is_closed_when_it_arrives(client, db, cms, clock):
    old = (clock.now - timedelta(days=30)).isoformat()
    put(client, "story-4001", cms, {**STORY, "published_at": old})
    assert article(db, "story-4001").comment_mode is CommentMode.CLOSED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mode_change"))
    assert entry.actor == "system" and entry.to_status == "closed"


def test_the_cron_command_closes_articles_past_their_days_and_no_others(client, db, runner, cms, clock):
    published = clock.now.isoformat()
    put(client, "story-4002", cms, {**STORY, "published_at": published})  # the site's 14 days
    put(client, "story-4003", cms, {**STORY, "published_at": published, "close_after_days": 3})
    put(client, "story-4004", cms, {**STORY, "published_at": published, "close_after_days": 0})  # never
    put(client, "story-4005", cms, {**STORY, "published_at": None})  # no publication time: never
    clock.advance(days=3, seconds=1)
    assert runner.invoke(args=["articles", "close-expired"]).output.split()[:2] == ["closed", "1"]
    assert article(db, "story-4003").comment_mode is CommentMode.CLOSED
    assert article(db, "story-4002").comment_mode is CommentMode.PRE_MODERATION
    clock.advance(days=11)
    result = runner.invoke(args=["articles", "close-expired"])
    assert "story-4002" in result.output and "closed 1" in result.output
    clock.advance(days=3650)
    assert "closed 0" in runner.invoke(args=["articles", "close-expired"]).output
    assert article(db, "story-4004").comment_mode is CommentMode.PRE_MODERATION
    assert article(db, "story-4005").comment_mode is CommentMode.PRE_MODERATION


def test_closing_changes_the_article_page_revision_so_caches_see_it(client, db, runner, cms, clock):
    put(client, "story-4006", cms, {**STORY, "published_at": clock.now.isoformat(), "close_after_days": 1})
    first = client.get("/articles/story-4006")
    clock.advance(days=2)
    runner.invoke(args=["articles", "close-expired"])
    again = client.get("/articles/story-4006", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "評論已關閉" in again.get_data(as_text=True)


# -- racing PUTs -----------------------------------------------------------------------------------

@pytest.mark.committing
def test_two_first_puts_of_one_key_racing_make_one_article(app, backend, db):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's concurrent transactions")
    key = new_key(db)
    for round_number in range(6):
        barrier = threading.Barrier(2)
        statuses = []

        def send(number=round_number, barrier=barrier, statuses=statuses):
            client = app.test_client()
            barrier.wait()
            statuses.append(put(client, f"race-{number}", key, {**STORY, "headline": f"競速 {number}"}).status_code)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 201], statuses
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Article).where(Article.key == f"race-{round_number}")) == 1
    creations = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "article_create"))
    assert creations == 6


def test_published_comments_keep_counting_after_an_update(client, db, cms):
    make_comment(db, status=CommentStatus.APPROVED)
    seed = article(db, ARTICLE_SLUG)
    response = put(client, seed.key, cms, {**STORY, "slug": ARTICLE_SLUG})
    assert response.status_code == 200 and response.json["article"]["approved_count"] == 1
