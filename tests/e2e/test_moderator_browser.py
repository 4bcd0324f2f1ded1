"""A moderator in a real Chromium: signs in and works the queue from the keyboard alone."""

from datetime import timedelta

import pytest

from moderation.models import AuditEntry, Comment, CommentStatus
from tests.conftest import PASSWORD, make_comment, make_moderator

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # a live server in another thread: real commits

ARTICLE = "/articles/inspection-testing-excellent-cases"


def test_moderator_approves_and_rejects_from_the_keyboard(live_server, browser_page, db, tmp_path):
    make_moderator(db, "mod")
    first = make_comment(db, body="鍵盤通過的評論")
    second = make_comment(db, body="鍵盤拒絕的評論", created_at=first.created_at + timedelta(minutes=1))
    page = browser_page

    page.goto(live_server + "/moderation/")
    page.get_by_label("帳號").fill("mod")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_label("密碼").press("Enter")
    page.wait_for_selector("[data-card]")
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")

    assert page.evaluate("document.activeElement.id") == f"card-{first.id}"
    page.keyboard.press("a")
    page.wait_for_selector("text=已通過 1 則評論")
    assert page.evaluate("document.activeElement.id") == f"card-{second.id}"

    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("ArrowDown")  # 廣告 → 人身攻擊
    page.keyboard.press("Enter")
    page.wait_for_selector("text=已拒絕 1 則評論")
    page.screenshot(path=str(tmp_path / "queue-after.png"), full_page=True)

    db.session.expire_all()
    assert db.session.get(Comment, first.id).status is CommentStatus.APPROVED
    assert db.session.get(Comment, second.id).status is CommentStatus.REJECTED
    assert db.session.query(AuditEntry).filter_by(comment_id=second.id).one().reason == "abuse"

    page.goto(live_server + ARTICLE)
    comments = page.locator(".comment-list").last.inner_text()
    assert "鍵盤通過的評論" in comments and "鍵盤拒絕的評論" not in comments


def test_bulk_select_with_x_and_approve(live_server, browser_page, db):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"批次{index}") for index in range(3)]
    page = browser_page
    page.goto(live_server + "/moderation/login")
    page.get_by_label("帳號").fill("mod")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    page.wait_for_selector("[data-card]")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_role("button", name="通過", exact=True).first.click()
    page.wait_for_selector("text=已通過 2 則評論")
    db.session.expire_all()
    assert [db.session.get(Comment, c.id).status for c in comments] == [
        CommentStatus.APPROVED, CommentStatus.APPROVED, CommentStatus.PENDING]
