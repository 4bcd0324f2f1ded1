"""Every input of the shared attack table against every form and URL that takes text, on both
backends: an answer in the page's language, never a server error."""

from __future__ import annotations

import io
import urllib.parse

import pytest

from moderation.models import CommentStatus
from moderation.services import api_keys
from moderation.services.audit import COMMAND_LINE
from tests.attack_inputs import PROBE_INPUTS
from tests.conftest import ARTICLE_SLUG, ModeratorBrowser, make_comment

ARTICLE = f"/articles/{ARTICLE_SLUG}"


@pytest.fixture
def app_config(app_config):
    """Limits raised so that every input reaches the code behind them, not a 429 in front."""
    return {**app_config, "CAPTCHA_IMAGE_RATE_LIMIT": "100000 per minute", "CAPTCHA_MAX_FAILURES": 10**6,
            "CAPTCHA_MAX_FAILURES_PER_IP": 10**6, "WEBHOOK_RESOLVER": _no_such_host, "METRICS_TOKEN": "t",
            "LIKE_RATE_LIMIT_PER_READER": "100000 per minute", "LIKE_RATE_LIMIT_PER_ADDRESS": "100000 per minute",
            "JOBS_RUNNER": "off"}  # an export or import started here stays queued (no thread on the test's connection)


def _no_such_host(host: str, port: int):
    raise OSError("no DNS in the attack tests")


def test_the_attack_table_has_at_least_150_inputs():
    assert len(PROBE_INPUTS) >= 150


# The table in a few slices: one app per slice and backend (one test per input would spend minutes
# building apps), and slices small enough for parallel workers to share the work.
SLICES = 8
# On PostgreSQL, the probes: every input whose bytes, length or number a database may take differently
# (NUL, surrogates, control characters, huge and negative numbers, texts past each column's length).
# The nicknames and comment texts that follow them in the table are ordinary Unicode, stored alike by
# both backends; they go through every form on SQLite. A third of the table's time was theirs on PostgreSQL.
POSTGRESQL_INPUTS = [probe for probe in PROBE_INPUTS if probe.id.startswith("probe-")]


def test_the_postgresql_pass_keeps_every_input_of_a_kind_that_databases_differ_on():
    ids = {probe.id for probe in POSTGRESQL_INPUTS}
    assert {"probe-nul", "probe-huge-number", "probe-int-max", "probe-long-10000", "probe-surrogate-like",
            "probe-c1-control", "probe-negative"} <= ids
    assert len(POSTGRESQL_INPUTS) >= 100


@pytest.mark.parametrize("slice_index", range(SLICES), ids=lambda index: f"slice-{index + 1}-of-{SLICES}")
def test_no_input_gets_a_server_error(app, db, page, admin, clock, backend, slice_index):
    published = make_comment(db, status=CommentStatus.APPROVED)
    _, key = api_keys.create_key(db.session, "cms.example", ["articles:write", "comments:read"], actor=COMMAND_LINE,
                                 now=clock())
    db.session.commit()
    failures = {}
    for probe in (PROBE_INPUTS if backend == "sqlite" else POSTGRESQL_INPUTS)[slice_index::SLICES]:
        errors = server_errors(probe.values[0], app, page, admin, published)
        errors.update(api_server_errors(probe.values[0], page.client, admin, key))
        errors.update(sanction_server_errors(probe.values[0], admin, published))
        if errors:
            failures[probe.id] = errors
    assert not failures


def server_errors(value, app, page, admin, published) -> dict[str, int]:
    quoted = urllib.parse.quote(value, safe="")
    reader = page.client
    answers = {
        "article cursors": reader.get(ARTICLE, query_string={"before": value, "after": value}),
        "article path": reader.get(f"/articles/{quoted}"),
        "form page": reader.post(f"{ARTICLE}/comment", data={"nickname": value, "body": value, "switch_language": value}),
        "comment": page.post(nickname=value, body=value),
    }
    page.open_form()
    answers["anonymous comment"] = page.post(anonymous="y", body=value, captcha_answer=value)
    page.open_form()
    answers["report"] = reader.post(f"{ARTICLE}/comments/{published.id}/report",
                                    data={"csrf_token": page.csrf_token, "reason": value, "note": value})
    answers["report page"] = reader.get(f"{ARTICLE}/comments/{quoted}/report")
    embed = f"/embed/{ARTICLE_SLUG}"  # the embedded comment section, its state and its forms (web/embed.py)
    answers["embed path"] = reader.get(f"/embed/{quoted}", query_string={"lang": value, "origin": value})
    answers["embed query"] = reader.get(embed, query_string={"state": value, "notice": value, "before": value,
                                                             "origin": value, "switch": value})
    answers["embed form page"] = reader.post(f"{embed}/comment", query_string={"state": value},
                                             data={"nickname": value, "body": value})
    answers["embed post"] = reader.post(f"{embed}/comments", query_string={"state": value},
                                        data={"nickname": value, "body": value, "captcha_answer": value})
    answers["embed report"] = reader.post(f"{embed}/comments/{published.id}/report", query_string={"state": value},
                                          data={"reason": value, "note": value})
    answers["embed captcha"] = reader.get(f"{embed}/captcha/{quoted}.png", query_string={"state": value})
    answers["embed like"] = reader.post(f"{embed}/comments/{published.id}/like", query_string={"state": value},
                                        data={"like": value, "sort": value})
    page.open_form()
    answers["reply"] = page.post(body=value, reply_to=value)
    answers["reply form page"] = reader.get(f"{ARTICLE}/comment", query_string={"reply_to": value})
    answers["reply from the shared form"] = reader.post(f"{ARTICLE}/comment", data={"body": value, "reply_to": value})
    answers["thread page"] = reader.get(f"{ARTICLE}/comments/{published.id}/replies", query_string={"after": value})
    answers["thread path"] = reader.get(f"{ARTICLE}/comments/{quoted}/replies")
    answers["pinyin"] = reader.post("/preferences/pinyin", data={"slug": value})
    answers["like"] = reader.post(f"{ARTICLE}/comments/{published.id}/like",
                                  data={"like": value, "sort": value, "thread": value})
    answers["like from 最熱 or a thread"] = reader.post(f"{ARTICLE}/comments/{published.id}/like",
                                                     query_string={"sort": value, "thread": value})
    answers["like (JSON)"] = reader.post(f"{ARTICLE}/comments/{published.id}/like", data={"like": value},
                                         headers={"Accept": "application/json"})
    answers["like path"] = reader.post(f"{ARTICLE}/comments/{quoted}/like")
    answers["sort and script"] = reader.get(ARTICLE, query_string={"sort": value, "script": value})
    answers["hot cursor"] = reader.get(ARTICLE, query_string={"sort": "hot", "before": value, "script": "converted"})
    answers["script preference"] = reader.post("/preferences/script", data={"slug": value})
    answers["liked comments"] = reader.get("/form-token", query_string={"parts": "likes", "article": value})
    answers["captcha"] = reader.get(f"/captcha/{quoted}.png")
    answers["login"] = ModeratorBrowser(app.test_client()).login(value, value)
    answers["queue"] = admin.client.get("/moderation/", query_string={
        "q": value, "author": value, "article": value, "tab": value, "after": value, "kind": value})
    answers["decision"] = admin.post(f"/moderation/comments/{published.id}/decide", decision=value,
                                     version=value, note=value, back=value, reason=value, share_note=value,
                                     with_replies="1", reply_item=[value, f"{value}:1"])
    answers["bulk undo"] = admin.post("/moderation/comments/bulk-undo", back=value,
                                      undo_item=[value, f"{value}:1:approve", f"{published.id}:{value}:{value}"])
    # The replies' items are read by the same parser as the bulk undo's (above); this is the refused parent's path.
    answers["undo with replies (parent refused)"] = admin.post(f"/moderation/comments/{published.id}/decision.json", decision="approve",
                                              version="1", undo="1", back=value,
                                              undo_reply=[value, f"{value}:1:restore", f"{published.id}:{value}:{value}"])
    answers["pin"] = admin.post(f"/moderation/comments/{published.id}/pin", pinned=value, back=value)
    answers["pin (JSON)"] = admin.client.post(f"/moderation/comments/{published.id}/pin", query_string={"tab": "approved"},
                                              data={"csrf_token": admin.csrf(), "pinned": value, "back": value},
                                              headers={"Accept": "application/json"})
    answers["staff answer"] = admin.post(f"/moderation/comments/{published.id}/answer", body=value, back=value)
    answers["staff answer page"] = admin.client.get(f"/moderation/comments/{quoted}/answer", query_string={"back": value})
    answers["author page"] = admin.client.get(f"/moderation/authors/{quoted}")
    answers["rule tester"] = admin.post("/moderation/admin/rules/test", text=value, nickname=value)
    answers["add word"] = admin.post("/moderation/admin/rules/words", term=value, action=value)
    answers["audit filter"] = admin.client.get("/moderation/admin/audit", query_string={
        "actor": value, "action": value, "comment": value})
    # Webhooks: the URL is resolved, so the table's inputs go to a name no resolver knows.
    answers["add webhook"] = admin.client.post("/moderation/admin/webhooks/", data={
        "csrf_token": admin.csrf(), "url": value, "events": [value, "comment.created"], "secret": value,
        "allow_private": value, "format": value})
    answers["webhook page"] = admin.client.get(f"/moderation/admin/webhooks/{quoted}")
    answers["redeliver"] = admin.post("/moderation/admin/webhooks/1/redeliver", delivery=value)
    answers["external check"] = admin.client.post("/moderation/admin/webhooks/check", data={
        "csrf_token": admin.csrf(), "check_url": value, "check_secret": value, "check_allow_private": value})
    answers["job page"] = admin.client.get(f"/moderation/admin/jobs/{quoted}")
    answers["job status"] = admin.client.get(f"/moderation/admin/jobs/{quoted}.json")
    answers["cancel job"] = admin.post(f"/moderation/admin/jobs/{quoted}/cancel")
    answers["data page"] = admin.client.get("/moderation/admin/data/", query_string={"problem": value})
    answers["export"] = admin.post("/moderation/admin/data/export", include_password_hashes=value)
    answers["import upload"] = admin.client.post("/moderation/admin/data/import", data={
        "csrf_token": admin.csrf(), "note": value,
        "file": (io.BytesIO(value.encode("utf-8", "surrogatepass")), "probe.jsonl")}, content_type="multipart/form-data")
    answers["export download"] = admin.client.get(f"/moderation/admin/data/exports/{quoted}")
    answers["dashboard"] = admin.client.get("/moderation/dashboard/", query_string={"range": value})
    answers["dashboard csv"] = admin.client.get(f"/moderation/dashboard/{quoted}.csv", query_string={"range": value})
    answers["cluster decision"] = admin.post("/moderation/comments/bulk", decision="reject", scope="selected",
                                             item=[value, f"{published.id}:{value}"], reason=value, note=value,
                                             back=value)
    return {name: response.status_code for name, response in answers.items() if response.status_code >= 500}


def api_server_errors(value, client, admin, key) -> dict[str, int]:
    """The newsroom's API and the admin's article and key forms: JSON errors or a stored article, never a 500."""
    quoted = urllib.parse.quote(value, safe="")
    auth = {"Authorization": f"Bearer {key}"}
    article = {"headline": value, "column": value, "body": value, "slug": value, "published_at": value,
               "comment_mode": value, "close_after_days": value}
    answers = {
        "api put (key)": client.put(f"/api/v1/articles/{quoted}", json={"headline": "標題", "body": "內文"}, headers=auth),
        "api put (fields)": client.put("/api/v1/articles/probe", json=article, headers=auth),
        "api put (text fields)": client.put("/api/v1/articles/probe", json={"headline": value, "body": value}, headers=auth),
        "api put (raw body)": client.put("/api/v1/articles/probe", data=value.encode("utf-8", "surrogatepass"),
                                         content_type="application/json", headers=auth),
        "api mode": client.put("/api/v1/articles/probe/comment-mode", json={"comment_mode": value}, headers=auth),
        "api get": client.get(f"/api/v1/articles/{quoted}", headers=auth),
        "api bearer": client.get("/api/v1/articles/probe", headers={"Authorization": f"Bearer {value}".replace("\r", "")
                                                                     .replace("\n", "")}),
        "metrics": client.get("/metrics", headers={"Authorization": f"Bearer {value}".replace("\r", "")
                                                     .replace("\n", "")}),
        "api counts": client.get("/api/v1/counts", query_string={"keys": f"{value},{value}x"}),
        "api most commented": client.get("/api/v1/most-commented", query_string={"hours": value, "limit": value}),
        "api comments": client.get(f"/api/v1/articles/{quoted}/comments", query_string={"before": value}, headers=auth),
        "article form": admin.post("/moderation/admin/articles/new", key=value, **article),
        "api key form": admin.post("/moderation/admin/api-keys", site=value, scope=value),
        "embed sites form": admin.post("/moderation/admin/embed-sites", site=value, origins=value),
    }
    return {name: response.status_code for name, response in answers.items() if response.status_code >= 500}


def sanction_server_errors(value, admin, published) -> dict[str, int]:
    """Restricting an author (by a tag from the card), holding an address range, protected names."""
    quoted = urllib.parse.quote(value, safe="")
    tag = published.author_hash[:8]
    answers = {
        "restriction page": admin.client.get(f"/moderation/authors/{quoted}/restriction"),
        "restrict (tag)": admin.post(f"/moderation/authors/{quoted}/restriction", duration="7d", reason="abuse"),
        "restrict (fields)": admin.post(f"/moderation/authors/{tag}/restriction", duration=value, reason=value,
                                        note=value, reject_pending=value, back=value),
        "lift author": admin.post(f"/moderation/authors/{quoted}/restriction/lift", note=value),
        "hold range": admin.post("/moderation/sanctions/holds", range=value, duration=value, reason=value, note=value),
        "lift hold": admin.post(f"/moderation/sanctions/holds/{quoted}/lift"),
        "protected names": admin.post(f"/moderation/articles/{published.article_id}/protected-names", names=value),
    }
    return {name: response.status_code for name, response in answers.items() if response.status_code >= 500}
