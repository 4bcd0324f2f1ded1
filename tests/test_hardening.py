"""Inputs from an outside probe that used to end in a 500, and the headers every response carries."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from moderation.models import Comment, DomainRuleRow, ScreeningReason, WordRuleRow
from tests.conftest import ARTICLE_SLUG, csrf_token_of, make_comment


def test_a_post_to_an_unknown_article_without_a_token_is_a_404(client):
    response = client.post("/articles/no-such-story/comments", data={"body": "你好"})
    assert response.status_code == 404 and "找不到頁面" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/articles/%00", f"/articles/{ARTICLE_SLUG}%00", "/articles/%00/comment",
                                  "/moderation/authors/%00"])
def test_nul_in_the_path_is_a_400_on_every_backend(client, path):
    assert client.get(path).status_code == 400
    assert client.post(path, data={"body": "x"}).status_code == 400


@pytest.mark.parametrize("target", ["/moderation/\r\nSet-Cookie: x=1", "/moderation/\nX: y", "/moderation/\x7f"])
def test_a_return_address_with_control_characters_falls_back_to_the_queue(client, moderator_account, target):
    page = client.get("/moderation/login", query_string={"next": target}).get_data(as_text=True)
    response = client.post("/moderation/login", query_string={"next": target},
                           data={"csrf_token": csrf_token_of(page), "name": "mod", "password": "correct horse battery"})
    assert response.status_code == 303 and response.location == "/moderation/"


def test_a_decision_with_a_control_character_in_back_is_applied_and_redirects_safely(moderator, db):
    comment = make_comment(db)
    response = moderator.post(f"/moderation/comments/{comment.id}/decide", decision="approve",
                              version=comment.version, back="/moderation/?tab=pending\r\nX-Injected: 1")
    assert response.status_code == 303 and "\n" not in response.location and "X-Injected" not in str(response.headers)


def test_an_uploaded_rules_file_with_nul_is_refused_whole(admin, db):
    upload = io.BytesIO("好詞\tspam\n壞\x00詞\tspam\n".encode())
    response = admin.client.post("/moderation/admin/rules/import", data={
        "csrf_token": admin.csrf(), "kind": "word", "file": (upload, "rules.txt")},
        content_type="multipart/form-data")
    assert response.status_code in (200, 303, 400, 422)
    assert db.session.scalar(select(func.count()).select_from(WordRuleRow).where(WordRuleRow.term == "好詞")) == 0


def test_a_comment_linking_to_a_very_long_blocked_domain_is_stored_with_its_reason(page, db, runner):
    domain = ".".join(["a" * 60, "b" * 60, "c" * 60, "d" * 30, "com"])  # 214 characters
    assert runner.invoke(args=["rules", "add-domain", "block", domain]).exit_code == 0
    response = page.post(body=f"看這裡 https://{domain}/x")
    assert response.status_code == 303
    [comment] = db.session.scalars(select(Comment)).all()
    reasons = [reason.rule_id for reason in db.session.scalars(select(ScreeningReason))]
    assert any(domain in rule_id for rule_id in reasons)


def test_a_domain_with_a_label_over_63_characters_is_refused(runner, db):
    result = runner.invoke(args=["rules", "add-domain", "block", "a" * 64 + ".com"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(DomainRuleRow).where(DomainRuleRow.domain.like("aaaa%"))) == 0


def test_a_domain_with_a_space_is_refused_from_the_command_line_too(runner, db):
    result = runner.invoke(args=["rules", "add-domain", "block", "a b.com"])
    assert result.exit_code != 0 and "a b.com" in result.output
    assert db.session.scalar(select(func.count()).select_from(DomainRuleRow).where(DomainRuleRow.domain == "a b.com")) == 0


@pytest.mark.parametrize("note", ["=1+1", "＝1+1", "＋cmd", "－1", "＠SUM(A1)", "﹦1", "  =1", "\u3000＝1"])
def test_csv_export_quotes_every_formula_starter(admin, db, note):
    comment = make_comment(db)
    admin.decide(comment, "reject", reason="other", note=note)
    rows = list(csv.reader(io.StringIO(admin.client.get("/moderation/admin/audit.csv").get_data(as_text=True))))
    notes = [cell for row in rows for cell in row if note.strip(" \u3000") in cell]
    assert notes and all(cell.startswith("'") for cell in notes)


def test_every_response_carries_the_security_headers(client, app):
    for url in (f"/articles/{ARTICLE_SLUG}", "/moderation/login", "/healthz", "/no-such-page"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # cookies are not Secure in this app


def test_hsts_when_cookies_are_secure(app_config):
    from moderation import create_app

    secure = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    assert "max-age=" in secure.test_client().get("/healthz").headers["Strict-Transport-Security"]


def test_a_405_says_which_methods_are_allowed(client):
    response = client.get(f"/articles/{ARTICLE_SLUG}/comments")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_the_pinyin_cookie_is_secure_when_sessions_are(app_config):
    from moderation import create_app

    secure = create_app({**app_config, "SESSION_COOKIE_SECURE": True}).test_client()
    response = secure.post("/preferences/pinyin", data={"slug": ARTICLE_SLUG})
    assert response.status_code == 303 and "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("body, content_type", [
    ('{"body": "x"}', "application/json"),
    ("--x\r\nbroken", "multipart/form-data; boundary=x"),
    ("nickname=a", "multipart/form-data"),  # no boundary
])
def test_a_comment_post_that_is_no_form_is_refused_as_such_not_as_an_expired_form(client, body, content_type):
    """Nothing typed could be read, so nothing is said to be kept."""
    response = client.post(f"/articles/{ARTICLE_SLUG}/comments", data=body, content_type=content_type)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "請求格式不正確" in html and "表單已逾時" not in html
