"""A reader in a real Chromium replies (with and without JavaScript), opens a whole thread in place,
and sees what became of their own comments."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from moderation.models import Comment, CommentStatus
from moderation.services.audit import SYSTEM
from moderation.services.decisions import Decision, RejectReason, decide
from moderation.services.listing import replies_changed
from tests.conftest import CAPTCHA_TEXT, make_comment, make_moderator
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # a live server in another thread: real commits

ARTICLE = "/articles/inspection-testing-excellent-cases"
START = datetime(2026, 11, 20, tzinfo=UTC)


def stored_reply(db, body: str) -> Comment:
    db.session.expire_all()
    return db.session.scalar(select(Comment).where(Comment.body == body))


def decide_now(db, comment: Comment, decision: Decision, **options) -> None:
    db.session.expire_all()
    version = db.session.get(Comment, comment.id).version
    assert decide(db.session, comment.id, decision, expected_version=version, actor=SYSTEM,
                  now=datetime.now(UTC), **options).ok



def test_a_reply_being_written_stays_a_reply_across_a_language_switch(live_server, browser_page, db):
    top = make_comment(db, status=CommentStatus.APPROVED, nickname="老王", body="國產儀器要加油")
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.locator(f"#comment-{top.id}").get_by_role("link", name="回覆").click()
    page.get_by_label("評論內容").fill("換了語言還是回覆")
    with page.expect_navigation():
        page.locator(".language-switch").get_by_role("link", name="English").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#body").input_value() == "換了語言還是回覆"
    assert page.locator("[data-reply-to]").input_value() == str(top.id)
    expect(page.locator("[data-replying]")).to_contain_text("Replying to @老王")
    # The page opens at the draft, not at the article's headline, and says it was kept.
    expect(page.locator("#body")).to_be_focused()
    expect(page.locator("#body")).to_be_in_viewport()
    expect(page.locator("#comment-form [role=status]")).to_have_text("Language switched: what you typed is kept.")
    page.reload()  # only after a switch: a later visit opens at the top as ever
    expect(page.locator("#comment-form [role=status]")).to_have_count(0)
    assert page.evaluate("document.activeElement.id") != "body"

def test_replying_in_place_with_javascript(live_server, browser_page, db, tmp_path):
    top = make_comment(db, status=CommentStatus.APPROVED, nickname="老王", body="國產儀器要加油")
    page = browser_page
    page.goto(live_server + ARTICLE)
    thread = page.locator(f"#comment-{top.id}")
    thread.get_by_role("link", name="回覆").click()
    form = thread.locator("#comment-form")
    expect(form).to_be_visible()  # moved under the comment answered
    expect(form.locator("[data-replying]")).to_contain_text("回覆 @老王")
    assert page.evaluate("document.activeElement.id") == "body"
    box = page.get_by_label("評論內容")
    expect(box).to_have_accessible_description(re.compile("^回覆 @老王"))  # whom it answers, said with the box
    expect(form.locator("[data-replying]")).to_be_in_viewport()
    page.get_by_label("暱稱").fill("小李")
    page.get_by_label("評論內容").fill("同意，支持國產")
    page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
    page.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT)
    page.screenshot(path=str(tmp_path / "replying.png"), full_page=True)
    page.get_by_role("button", name="送出評論", exact=True).last.click()
    page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")
    reply = stored_reply(db, "同意，支持國產")
    assert (reply.thread_id, reply.reply_to_id) == (top.id, top.id)
    expect(page.locator(".own-waiting")).to_contain_text("同意，支持國產")

    # 取消回覆 takes the form home: the next comment is a comment of its own.
    page.locator(f"#comment-{top.id}").get_by_role("link", name="回覆").click()
    page.locator("[data-reply-cancel]").click()
    expect(page.locator("[data-replying]")).to_be_hidden()
    expect(page.get_by_label("評論內容")).not_to_have_accessible_description(re.compile("回覆"))
    assert page.locator("[data-reply-to]").input_value() == ""
    assert page.locator(f"#comment-{top.id} #comment-form").count() == 0


def test_replying_in_place_to_a_reply_names_its_author_and_carries_its_id(live_server, browser_page, db):
    """The link says neither: the id comes from its URL, the name from the reply's own author line."""
    top = make_comment(db, status=CommentStatus.APPROVED, nickname="老王", body="國產儀器要加油")
    reply = make_comment(db, status=CommentStatus.APPROVED, nickname="小李", body="同意", thread_id=top.id,
                         reply_to_id=top.id, created_at=START + timedelta(minutes=1))
    replies_changed(db.session, top.id, 1)
    db.session.commit()
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.locator(f"#comment-{reply.id}").get_by_role("link", name=re.compile("^回覆 .* 的評論$")).click()
    expect(page.locator(f"#comment-{reply.id} #comment-form [data-replying]")).to_contain_text("回覆 @小李")
    assert page.locator("[data-reply-to]").input_value() == str(reply.id)
    page.locator(f"#comment-{top.id} > .comment-actions").get_by_role("link", name=re.compile("^回覆 .* 的評論$")).click()
    expect(page.locator("[data-replying]")).to_contain_text("回覆 @老王")
    assert page.locator("[data-reply-to]").input_value() == str(top.id)


def test_replying_without_javascript(live_server, browser, db, tmp_path):
    top = make_comment(db, status=CommentStatus.APPROVED, nickname="老王", body="國產儀器要加油")
    context = browser.new_context(locale="zh-TW", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + ARTICLE)
    # The challenge exists once its image has been fetched: a form sent before that is refused (422).
    with page.expect_response(lambda response: "/captcha/" in response.url):
        page.locator(f"#comment-{top.id}").get_by_role("link", name="回覆").click()
    assert f"reply_to={top.id}" in page.url
    expect(page.locator("[data-replying]")).to_contain_text("回覆 @老王")
    page.get_by_label("暱稱").fill("不用腳本的讀者")
    page.get_by_label("評論內容").fill("沒有腳本也能回覆")
    page.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT)
    page.get_by_role("button", name="送出評論", exact=True).last.click()
    page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")
    reply = stored_reply(db, "沒有腳本也能回覆")
    assert (reply.thread_id, reply.reply_to_id, reply.status) == (top.id, top.id, CommentStatus.PENDING)
    assert "審核中" in page.locator(".own-waiting").inner_text()
    page.screenshot(path=str(tmp_path / "no-javascript-reply.png"), full_page=True)


def test_the_whole_thread_is_appended_in_place(live_server, browser_page, db):
    """The site's answer, the thread's last reply, is shown at once; the replies before it go before it."""
    top = make_comment(db, status=CommentStatus.APPROVED, body="熱門主評論")
    editor = make_moderator(db, "editor")
    for index in range(6):
        make_comment(db, status=CommentStatus.APPROVED, thread_id=top.id, reply_to_id=top.id, body=f"第{index}則回覆",
                     created_at=START + timedelta(minutes=index), staff_account_id=editor.id if index == 5 else None)
    replies_changed(db.session, top.id, 6)
    db.session.commit()
    page = browser_page
    page.goto(live_server + ARTICLE)
    replies = page.locator(f"#comment-{top.id} [data-replies] > li")
    bodies = page.locator(f"#comment-{top.id} [data-replies] .comment-body")
    expect(replies).to_have_count(4)
    assert [text.strip() for text in bodies.all_inner_texts()] == ["第0則回覆", "第1則回覆", "第2則回覆", "第5則回覆"]
    expect(replies.last).to_contain_text("本站編輯")
    page.get_by_role("link", name="查看全部 6 則回覆").click()
    expect(replies).to_have_count(6)
    assert page.url.endswith(ARTICLE)  # appended, not navigated
    assert [text.strip() for text in bodies.all_inner_texts()] == [f"第{index}則回覆" for index in range(6)]
    assert page.evaluate("document.activeElement.querySelector('.comment-body').textContent") == "第3則回覆"
    assert page.get_by_role("link", name="查看全部 6 則回覆").count() == 0


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_the_author_sees_what_became_of_each_comment(live_server, browser, db, javascript, tmp_path):
    context = browser.new_context(locale="zh-TW", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    for body in ("會公開的評論", "會被拒絕的評論", "還在審核的評論"):
        page.goto(live_server + ARTICLE + "/comment")
        page.get_by_label("暱稱").fill("常來的讀者")
        page.get_by_label("評論內容").fill(body)
        answer = page.get_by_label("請輸入驗證碼")
        answer.scroll_into_view_if_needed()
        if javascript:  # the image loads lazily, and loading it makes the challenge: answer once it is shown
            wait_until(page, "document.querySelector('[data-captcha-media] img')?.complete")
        answer.fill(CAPTCHA_TEXT)
        page.get_by_role("button", name="送出評論", exact=True).last.click()
        page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")
    published, refused = stored_reply(db, "會公開的評論"), stored_reply(db, "會被拒絕的評論")
    decide_now(db, published, Decision.APPROVE)
    decide_now(db, refused, Decision.REJECT, reason=RejectReason.OTHER, note="請附上數據來源",
               details={"note_shared": True})
    page.goto(live_server + ARTICLE)
    own = page.locator("[data-own-comments]")
    expect(own.locator(f"#own-{published.id}")).to_contain_text("已公開")
    expect(own.locator(f"#own-{refused.id}")).to_contain_text("未通過")
    expect(own.locator(f"#own-{refused.id}")).to_contain_text("請附上數據來源")
    expect(own.locator(".own-waiting")).to_contain_text("還在審核的評論")
    colours = {state: own.locator(f".own-{state} .state").evaluate("badge => getComputedStyle(badge).backgroundColor")
               for state in ("waiting", "published", "refused")}
    assert len(set(colours.values())) == 3, colours  # told apart by more than their word
    own.locator(f"#own-{published.id}").get_by_role("link", name="已公開").click()
    assert page.url.endswith(f"#comment-{published.id}")
    page.screenshot(path=str(tmp_path / "own-states.png"), full_page=True)

    stranger = browser.new_context(locale="zh-TW").new_page()
    stranger.goto(live_server + ARTICLE)
    assert stranger.locator("[data-own-comments]").count() == 0
    assert "會被拒絕的評論" not in stranger.content()


def test_the_nickname_is_remembered_and_anonymous_stays_one_tick(live_server, browser_page):
    """A nickname posted once is filled in on the next visit; a post as 匿名 neither forgets it nor
    makes the next comment anonymous."""
    page = browser_page

    def post(body: str, *, anonymous: bool) -> None:
        if anonymous:
            page.get_by_label("匿名（顯示為「匿名網友」）").check()
        page.get_by_label("評論內容").fill(body)
        page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
        page.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT)
        page.get_by_role("button", name="送出評論", exact=True).last.click()
        page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")

    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("常來的讀者")
    post("第一次留言", anonymous=False)
    page.goto(live_server + ARTICLE)
    assert page.get_by_label("暱稱").input_value() == "常來的讀者"
    post("這次匿名", anonymous=True)
    page.context.clear_cookies()  # a later visit, as a stranger to the server
    page.goto(live_server + ARTICLE)
    assert page.get_by_label("暱稱").input_value() == "常來的讀者"
    assert not page.get_by_label("匿名（顯示為「匿名網友」）").is_checked()
