"""The external check: an admin's classifier asked about each new comment (signed, bounded), its
verdict merged with screening's (the stricter wins) and shown on the card; when it fails, screening
goes on and the card says so."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from moderation.models import Article, Comment, CommentMode, CommentStatus, ExternalCheck, ScreeningReason
from moderation.services import external_check
from tests.receivers import SECRET


@pytest.fixture
def post_moderated(db):
    article = db.session.scalar(select(Article))
    article.comment_mode = CommentMode.POST_MODERATION
    db.session.commit()
    return article


@pytest.fixture
def check(db, receiver, clock, post_moderated):
    added = external_check.set_check(db.session, receiver.url("/check"), secret=SECRET, allow_private=True,
                                     now=clock())
    db.session.commit()
    return added


def stored(db) -> Comment:
    db.session.expire_all()
    return db.session.scalar(select(Comment).order_by(Comment.id.desc()))


def external_reasons(db, comment) -> list[tuple]:
    return db.session.execute(select(ScreeningReason.action, ScreeningReason.detail)
                              .where(ScreeningReason.comment_id == comment.id, ScreeningReason.kind == "external")).all()


@pytest.mark.parametrize("verdict, status", [("allow", CommentStatus.APPROVED), ("hold", CommentStatus.PENDING),
                                             ("spam", CommentStatus.SPAM)])
def test_the_checks_verdict_places_the_comment(db, page, receiver, check, verdict, status):
    receiver.check_answer = json.dumps({"verdict": verdict, "reason": "分類器的說明"}).encode()
    assert page.post(body="一則普通的留言").status_code == 303
    comment = stored(db)
    assert comment.status is status
    assert external_reasons(db, comment) == [(verdict, "分類器的說明")]
    (asked,) = receiver.accepted()
    assert asked.signed and asked.event == "comment.check"
    assert asked.body["comment"] == {"text": "一則普通的留言", "nickname": "讀者小林", "anonymous": False,
                                     "article": post_moderated_slug(db), "reply": False}


def post_moderated_slug(db) -> str:
    return db.session.scalar(select(Article.slug))


def test_the_check_cannot_publish_what_screening_holds(db, page, receiver, check):
    receiver.check_answer = b'{"verdict": "allow"}'
    page.post(body="想要的話請加微信聊")  # a starter rule: spam
    assert stored(db).status is CommentStatus.SPAM


@pytest.mark.parametrize("setup, problem", [
    ({"check_delay": 1.5}, "timeout"),
    ({"check_status": 500}, "http_error"),
    ({"check_answer": b"<html>not json</html>"}, "invalid_answer"),
    ({"check_answer": b'{"verdict": "maybe"}'}, "invalid_answer"),
])
def test_a_check_that_fails_is_passed_over_and_the_card_says_so(app, db, page, receiver, check, moderator, setup,
                                                                 problem):
    app.config["EXTERNAL_CHECK_TIMEOUT_SECONDS"] = 0.5
    for name, value in setup.items():
        setattr(receiver, name, value)
    assert page.post(body="一則普通的留言").status_code == 303
    comment = stored(db)
    assert comment.status is CommentStatus.APPROVED  # screening went on without the check
    assert external_reasons(db, comment) == [(None, problem)]
    db.session.refresh(check)
    assert check.last_problem == problem
    comment.status = CommentStatus.PENDING  # to see its card in the queue
    db.session.commit()
    card = moderator.client.get("/moderation/").get_data(as_text=True)
    assert "外部檢查：" in card and "已照常篩選" in card


def test_the_card_shows_the_checks_verdict_and_reason(db, page, receiver, check, moderator):
    receiver.check_answer = '{"verdict": "hold", "reason": "疑似帶風向"}'.encode()
    page.post(body="一則普通的留言")
    card = moderator.client.get("/moderation/").get_data(as_text=True)
    assert "外部檢查：待審：" in card and "疑似帶風向" in card


def test_an_admin_sets_replaces_and_removes_the_check(admin, db, receiver):
    form = {"csrf_token": admin.csrf(), "check_url": receiver.url("/check")}
    private = admin.client.post("/moderation/admin/webhooks/check", data=form)
    assert private.status_code == 422 and "私有位址" in private.get_data(as_text=True)
    added = admin.client.post("/moderation/admin/webhooks/check", data={**form, "check_allow_private": "y"})
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and "已設定外部檢查" in html and "whsec_" in html
    again = admin.client.post("/moderation/admin/webhooks/check",
                              data={**form, "check_allow_private": "y", "check_url": receiver.url("/check?v=2")})
    assert again.status_code == 200
    assert db.session.scalars(select(ExternalCheck.url)).all() == [receiver.url("/check?v=2")]
    removed = admin.client.post("/moderation/admin/webhooks/check/remove", data={"csrf_token": admin.csrf()})
    assert removed.status_code == 303
    assert "已移除外部檢查" in admin.client.get(removed.location).get_data(as_text=True)
    assert db.session.scalar(select(ExternalCheck)) is None


def test_moderators_cannot_set_a_check(moderator, receiver):
    refused = moderator.post("/moderation/admin/webhooks/check", check_url=receiver.url("/check"))
    assert refused.status_code == 403


def test_the_command_line_sets_shows_and_removes_the_check(runner, receiver):
    refused = runner.invoke(args=["external-check", "set", receiver.url("/check")])
    assert refused.exit_code != 0 and "--allow-private" in refused.output
    added = runner.invoke(args=["external-check", "set", receiver.url("/check"), "--allow-private"])
    assert added.exit_code == 0 and "secret (shown only now): whsec_" in added.output
    assert receiver.url("/check") in runner.invoke(args=["external-check", "show"]).output
    assert "external check removed" in runner.invoke(args=["external-check", "remove"]).output
    assert "no external check" in runner.invoke(args=["external-check", "show"]).output


def test_without_a_check_nothing_is_asked(db, page, receiver, post_moderated):
    page.post(body="一則普通的留言")
    assert receiver.accepted() == [] and external_reasons(db, stored(db)) == []
