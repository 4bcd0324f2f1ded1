"""A moderator in a real Chromium suspends an author from a queue card; the author, in another browser,
is told until when and why, and keeps the text."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from moderation.models import AuditEntry, AuthorRestriction, Comment, CommentStatus
from tests.conftest import CAPTCHA_TEXT, make_moderator
from tests.e2e.conftest import wait_until
from tests.e2e.test_moderator_browser import ARTICLE, sign_in_to_the_queue

pytestmark = [pytest.mark.e2e, pytest.mark.committing]


def post_as_reader(page, live_server, body):
    page.goto(live_server + ARTICLE + "/comment")
    page.fill("#nickname", "讀者")
    page.fill("#body", body)
    wait_until(page, "document.querySelector('[data-captcha-media] img').complete")
    page.fill("#captcha_answer", CAPTCHA_TEXT)
    with page.expect_navigation():
        page.click("button.primary")


def test_a_moderator_suspends_an_author_from_a_card_and_the_author_is_told(live_server, browser, db, tmp_path):
    make_moderator(db, "mod")
    reader = browser.new_context(locale="zh-TW").new_page()
    reader.set_default_timeout(10_000)
    post_as_reader(reader, live_server, "第一則留言")
    post_as_reader(reader, live_server, "第二則留言")

    moderator = browser.new_context(locale="zh-TW", viewport={"width": 390, "height": 844}).new_page()  # a phone
    moderator.set_default_timeout(10_000)
    sign_in_to_the_queue(moderator, live_server, "mod")
    moderator.locator("a.restrict-link").first.click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("處分作者")
    moderator.get_by_label("停權 7 天").check()
    moderator.get_by_label("原因").select_option("abuse")
    moderator.get_by_label("同時拒絕這位作者所有待審的評論").check()
    moderator.get_by_role("button", name="套用處分").click()
    # Back in the queue being worked, told at its top, with the way to the restriction (to lift it).
    expect(moderator.get_by_role("heading", level=1)).to_have_text("審核佇列")
    expect(moderator.locator("p.result")).to_contain_text("已設定：停權 7 天")
    expect(moderator.locator("p.result")).to_contain_text("同時拒絕了 2 則待審評論")
    expect(moderator.locator("p.result")).to_be_focused()  # read out, as a bulk decision's result is
    expect(moderator.locator("[data-card]")).to_have_count(0)  # both pending comments rejected with it
    moderator.screenshot(path=str(tmp_path / "restricted.png"), full_page=True)
    moderator.locator("p.result").get_by_role("link").click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("處分作者")
    expect(moderator.get_by_role("button", name="提前解除")).to_be_visible()

    post_as_reader(reader, live_server, "我還要說")
    expect(reader.locator("#form-status")).to_contain_text("您暫時無法留言，至")  # said once, at the form's status
    expect(reader.locator("#form-status")).to_contain_text("人身攻擊")
    expect(reader.locator(".field-error")).to_have_count(0)
    expect(reader.locator("#body")).to_have_value("我還要說")
    reader.screenshot(path=str(tmp_path / "suspended-reader.png"), full_page=True)

    db.session.expire_all()
    assert db.session.scalar(select(AuthorRestriction.created_by)) == "mod"
    assert set(db.session.scalars(select(Comment.status))) == {CommentStatus.REJECTED}
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "author_suspend")) == "author_suspend"
