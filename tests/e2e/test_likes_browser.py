"""A reader in a real Chromium likes a comment (with and without JavaScript), takes it back, and
switches between 最新 and 最熱."""

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from moderation.models import Comment, CommentStatus
from moderation.services.likes import set_like
from tests.conftest import make_comment

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # a live server in another thread: real commits

ARTICLE = "/articles/inspection-testing-excellent-cases"
START = datetime(2026, 11, 20, tzinfo=UTC)


def like_count(db, comment: Comment) -> int:
    db.session.expire_all()
    return db.session.get(Comment, comment.id).like_count


def test_liking_in_place_with_javascript(live_server, browser_page, db, tmp_path):
    comment = make_comment(db, status=CommentStatus.APPROVED, nickname="老王", body="國產儀器要加油")
    page = browser_page
    page.goto(live_server + ARTICLE)
    button = page.locator(f"#comment-{comment.id} [data-like] button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator("[data-count]")).to_have_text("1")
    expect(page.locator("[data-like-status]")).to_have_text("已按讚，這則評論有 1 個讚。")  # said, not only pressed
    assert page.url.endswith(ARTICLE)  # in place: no navigation
    assert like_count(db, comment) == 1
    # Its name says whose comment it likes (in a screen reader's list of buttons every 讚 looked alike),
    # after the words and figure shown, so that a voice command saying what is seen still finds it.
    expect(page.get_by_role("button", name="讚 1 ，老王 的評論", exact=True)).to_have_count(1)
    page.screenshot(path=str(tmp_path / "liked.png"), full_page=True)

    page.reload()  # the reader's own page now: their like pressed
    button = page.locator(f"#comment-{comment.id} [data-like] button")
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button.locator("[data-count]")).to_have_text("0")
    expect(page.locator("[data-like-status]")).to_have_text("已收回讚，這則評論有 0 個讚。")
    assert like_count(db, comment) == 0


def test_a_like_kept_but_not_counted_is_said_beside_the_button(app, live_server, browser_page, db):
    """The count does not move for the author's own like or one past the address's few: the page
    says so beside the button and to a screen reader, rather than looking broken."""
    app.config["LIKES_COUNTED_PER_ADDRESS"] = 0  # this browser's address has used up its counted likes
    comment = make_comment(db, status=CommentStatus.APPROVED, body="按了讚卻不計入")
    page = browser_page
    page.goto(live_server + ARTICLE)
    button = page.locator(f"#comment-{comment.id} [data-like] button")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator("[data-count]")).to_have_text("0")
    note = page.locator(f"#comment-{comment.id} [data-like-note]")
    expect(note).to_have_text("這個讚不計入讚數：自己的評論，或同一網路已有多個讚。")
    expect(page.locator("[data-like-status]")).to_have_text("這個讚不計入讚數：自己的評論，或同一網路已有多個讚。")
    page.set_viewport_size({"width": 320, "height": 700})  # on a phone the note goes under the row
    assert button.bounding_box()["height"] < 50, "讚 and its count on one line"
    assert note.bounding_box()["y"] >= button.bounding_box()["y"] + button.bounding_box()["height"] - 1
    page.set_viewport_size({"width": 1280, "height": 900})
    button.click()  # taken back: the note goes
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(note).to_have_count(0)


def test_liking_from_the_keyboard_keeps_the_focus_on_the_button(live_server, browser_page, db):
    """Enter likes, Space takes it back: the focus stays on the button (it was disabled during the
    request, which dropped the focus to the page)."""
    comment = make_comment(db, status=CommentStatus.APPROVED, body="用鍵盤按讚")
    page = browser_page
    page.goto(live_server + ARTICLE)
    button = page.locator(f"#comment-{comment.id} [data-like] button")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_be_focused()
    expect(button).not_to_have_attribute("aria-disabled", "true")
    page.keyboard.press(" ")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_be_focused()
    assert like_count(db, comment) == 0


def test_the_shared_page_from_a_cache_gets_the_readers_pressed_buttons_from_the_token_endpoint(
        live_server, browser_page, db):
    liked, other = (make_comment(db, status=CommentStatus.APPROVED, body=body) for body in ("按過讚的", "沒按過的"))
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.locator(f"#comment-{liked.id} [data-like] button").click()
    expect(page.locator(f"#comment-{liked.id} [data-like] button")).to_have_attribute("aria-pressed", "true")
    # As a cache in front would serve it to this reader too: the shared bytes, every button unpressed.
    with urllib.request.urlopen(live_server + ARTICLE) as response:
        shared = response.read()
    assert b'aria-pressed="true"' not in shared
    page.route(live_server + ARTICLE, lambda route: route.fulfill(body=shared, content_type="text/html"))
    page.goto(live_server + ARTICLE)
    expect(page.locator(f"#comment-{liked.id} [data-like] button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#comment-{other.id} [data-like] button")).to_have_attribute("aria-pressed", "false")


def test_liking_without_javascript(live_server, browser, db, tmp_path):
    comment = make_comment(db, status=CommentStatus.APPROVED, nickname="老王", body="國產儀器要加油")
    context = browser.new_context(locale="zh-TW", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + ARTICLE)
    page.locator(f"#comment-{comment.id} [data-like] button").click()
    # Back to the comment (303), where a notice beside it has the focus: a pressed button alone is not said.
    assert page.url.endswith(f"{ARTICLE}#notice")
    notice = page.locator(f"#comment-{comment.id} #notice")
    expect(notice).to_have_text("已按讚。")
    expect(notice).to_be_focused()
    button = page.locator(f"#comment-{comment.id} [data-like] button")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator("[data-count]")).to_have_text("1")
    assert like_count(db, comment) == 1
    page.screenshot(path=str(tmp_path / "no-javascript-like.png"), full_page=True)
    button.click()  # the second POST undoes
    expect(page.locator(f"#comment-{comment.id} [data-like] button")).to_have_attribute("aria-pressed", "false")
    expect(page.locator(f"#comment-{comment.id} #notice")).to_have_text("已收回讚。")
    assert like_count(db, comment) == 0


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_sort_switch(live_server, browser, db, javascript):
    popular = make_comment(db, status=CommentStatus.APPROVED, body="較早但熱門", created_at=START)
    make_comment(db, status=CommentStatus.APPROVED, body="最新但冷門", created_at=START + timedelta(hours=2))
    for reader in range(20):
        set_like(db.session, popular.article_id, popular.id, reader_hash=f"reader{reader}", ip_hash=f"ip{reader}",
                 like=True, now=START, per_address=3)
    db.session.commit()
    context = browser.new_context(locale="zh-TW", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + ARTICLE)
    bodies = page.locator("[data-comment-list] > li .comment-body")
    expect(bodies).to_have_text(["最新但冷門", "較早但熱門"])
    page.get_by_role("navigation", name="評論排序").get_by_role("link", name="最熱").click()
    assert "sort=hot" in page.url
    expect(bodies).to_have_text(["較早但熱門", "最新但冷門"])
    expect(page.get_by_role("link", name="最熱")).to_have_attribute("aria-current", "page")
    # The page comes back at the list's heading, which takes the focus: a screen reader says the new order.
    expect(page.locator("#comment-list-heading")).to_be_focused()
    page.get_by_role("navigation", name="評論排序").get_by_role("link", name="最新").click()
    expect(bodies).to_have_text(["最新但冷門", "較早但熱門"])


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_comments_in_the_readers_script_with_the_original_one_click_away(live_server, browser, db, javascript):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="這個儀器的檢測結果很準確")
    context = browser.new_context(locale="zh-CN", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + ARTICLE)
    body = page.locator(f"#comment-{comment.id} > .comment-body")
    expect(body).to_have_text("這個儀器的檢測結果很準確")  # as written by default
    if javascript:
        page.evaluate("window.stayedHere = true")
    page.get_by_role("link", name="评论转为简体").click()
    expect(body).to_have_text("这个仪器的检测结果很准确")
    assert "script=converted" in page.url
    page.get_by_role("link", name="原文").click()
    expect(body).to_have_text("這個儀器的檢測結果很準確")
    if javascript:
        assert page.evaluate("window.stayedHere") is True  # in place, no page load


def test_on_a_phone_each_comments_controls_are_a_finger_wide(live_server, browser, db):
    """At 390 px, 回覆, 檢舉 and the script link are at least 44 px in each direction (WCAG 2.5.5)."""
    comment = make_comment(db, status=CommentStatus.APPROVED, body="手機上看得清楚嗎")
    context = browser.new_context(locale="zh-TW", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + ARTICLE)
    actions = page.locator(f"#comment-{comment.id} > .comment-actions")
    for control in (actions.locator("[data-reply-link]"), actions.locator("[data-report-link]"),
                    page.locator("[data-script-converted]"), page.locator(".sort-switch a").first,
                    page.locator(".sort-switch [aria-current]")):
        box = control.bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, (control, box)
    page.goto(live_server + ARTICLE + "/comment")
    assert page.locator("label[for=anonymous]").bounding_box()["height"] >= 44  # 匿名's label, a finger high
    context.close()


def test_on_a_threads_own_page_liking_is_in_place_and_the_readers_likes_come_back_pressed(live_server, browser_page, db):
    """A reader who reaches a thread's page (its 已公開 link, a pick's link) likes there as on the
    article page: in place, then pressed again on the next visit (the page is shared: the token
    endpoint says which buttons are the reader's)."""
    top = make_comment(db, status=CommentStatus.APPROVED, body="討論串的第一則")
    reply = make_comment(db, status=CommentStatus.APPROVED, body="討論串裡的回覆", thread_id=top.id, reply_to_id=top.id)
    page = browser_page
    url = f"{live_server}{ARTICLE}/comments/{top.id}/replies"
    page.goto(url)
    page.evaluate("window.stayedHere = true")
    button = page.locator(f"#comment-{reply.id} [data-like] button")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator("[data-count]")).to_have_text("1")
    assert page.evaluate("window.stayedHere") is True and page.url == url  # in place, no page load
    assert like_count(db, reply) == 1
    page.reload()
    expect(page.locator(f"#comment-{reply.id} [data-like] button")).to_have_attribute("aria-pressed", "true")
