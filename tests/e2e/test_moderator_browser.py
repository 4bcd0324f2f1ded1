"""A moderator in a real Chromium: signs in and works the queue from the keyboard alone."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from moderation.models import AuditEntry, Comment, CommentStatus
from tests.conftest import PASSWORD, make_comment, make_moderator

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # a live server in another thread: real commits

ARTICLE = "/articles/inspection-testing-excellent-cases"


def sign_in_to_the_queue(page, live_server, name):
    """Sign in from the login form the queue sends a signed-out visitor to; the queue has cards."""
    page.goto(live_server + "/moderation/")
    page.get_by_label("帳號").fill(name)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_label("密碼").press("Enter")
    page.wait_for_selector("[data-card]")


def wait_for_the_keyboard(page):
    """The queue's script has run once it has put the focus on a card: keys pressed before are lost."""
    page.wait_for_function("document.activeElement && document.activeElement.hasAttribute('data-card')")


def test_moderator_approves_and_rejects_from_the_keyboard(live_server, browser_page, db, tmp_path):
    make_moderator(db, "mod")
    first = make_comment(db, body="鍵盤通過的評論")
    second = make_comment(db, body="鍵盤拒絕的評論", created_at=first.created_at + timedelta(minutes=1))
    page = browser_page

    sign_in_to_the_queue(page, live_server, "mod")
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
    wait_for_the_keyboard(page)
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_role("button", name="通過", exact=True).first.click()
    page.wait_for_selector("text=已通過 2 則評論")
    db.session.expire_all()
    assert [db.session.get(Comment, c.id).status for c in comments] == [
        CommentStatus.APPROVED, CommentStatus.APPROVED, CommentStatus.PENDING]


def test_deciding_the_last_card_of_a_page_focuses_the_card_that_moves_up(live_server, browser_page, db, app):
    app.config["QUEUE_PAGE_SIZE"] = 2
    make_moderator(db, "mod")
    first, second, third = [
        make_comment(db, body=f"第{index}則", created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC)) for index in range(3)
    ]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    assert page.locator("[data-card]").count() == 2
    page.keyboard.press("j")
    page.keyboard.press("a")  # the last card of the page: the third comment moves up into its place
    page.wait_for_selector(f"#card-{third.id}")
    wait_for_the_keyboard(page)
    assert page.evaluate("document.activeElement.id") == f"card-{third.id}"
    page.keyboard.press("a")  # nothing moves up now: the card before it takes the focus
    page.wait_for_selector("text=已通過 1 則評論")
    expect(page.locator("[data-card]")).to_have_count(1)
    wait_for_the_keyboard(page)
    assert page.evaluate("document.activeElement.id") == f"card-{first.id}"


@pytest.mark.parametrize("width", [390, 320])
@pytest.mark.parametrize("locale", ["zh-TW", "zh-CN", "en-US"])  # English words are longer
def test_moderation_pages_fit_a_phone(live_server, browser, db, width, locale):
    make_moderator(db, "boss", role="admin")
    make_comment(db, body="手機上看的評論")
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + "/moderation/")
    page.fill("#name", "boss")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("[data-card]")
    for path in ("/moderation/", "/moderation/admin/rules/", "/moderation/admin/audit", "/moderation/admin/moderators"):
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        name = page.locator(".site-name").bounding_box()
        assert name["height"] < 40, path  # the site name on one line, not a character a line
    context.close()


def test_the_bulk_bar_is_one_key_away(live_server, browser_page, db):
    make_moderator(db, "mod")
    make_comment(db, body="批次處理的評論")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("x")
    page.keyboard.press("b")
    assert page.evaluate("document.activeElement.name") == "scope"
