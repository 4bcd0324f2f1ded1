"""A moderator in a real Chromium: signs in and works the queue from the keyboard alone."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from moderation.models import Article, AuditEntry, Comment, CommentCluster, CommentStatus, Surge
from tests.conftest import PASSWORD, make_comment, make_moderator
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # a live server in another thread: real commits

ARTICLE = "/articles/inspection-testing-excellent-cases"


def sign_in_to_the_queue(page, live_server, name, path="/moderation/"):
    """Sign in from the login form the queue (at `path`: a tab) sends a signed-out visitor to, which
    brings them back there; the queue has cards."""
    page.goto(live_server + path)
    page.get_by_label("帳號").fill(name)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_label("密碼").press("Enter")
    page.wait_for_selector("[data-card]")
    page.wait_for_load_state("load")  # its stylesheet too: what is measured next is laid out with it


def signed_in(browser, live_server, name, **context_options):
    """A browser of its own (`context_options`: its locale, viewport, script), signed in as `name` at
    the queue; its steps wait 10 s at most."""
    page = browser.new_context(**context_options).new_page()
    page.set_default_timeout(10_000)
    sign_in_to_the_queue(page, live_server, name)
    return page


def wait_for_the_keyboard(page):
    """The queue's script has run once it has put the focus on the heading (or on the card a link named):
    keys pressed before are lost."""
    wait_until(page, "document.activeElement && (document.activeElement.id === 'queue-title'"
                           " || document.activeElement.hasAttribute('data-card'))")


def focused_id(page):
    return page.evaluate("document.activeElement.id")


def test_moderator_approves_and_rejects_from_the_keyboard_in_place(app, live_server, browser_page, db, tmp_path):
    app.config["QUEUE_UNDO_SECONDS"] = 600  # both undos still offered at the end, however slow the machine
    make_moderator(db, "mod")
    first = make_comment(db, body="鍵盤通過的評論")
    second = make_comment(db, body="鍵盤拒絕的評論", created_at=first.created_at + timedelta(minutes=1))
    page = browser_page
    loads = []
    page.on("load", lambda _: loads.append(page.url))

    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    assert focused_id(page) == "queue-title"  # the heading first: a screen reader reads it and the tabs
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # no card chosen yet: said, and nothing decided
    expect(page.locator("[data-announce]")).to_have_text("還沒有選到評論：先按 j 移到第一則。")
    page.keyboard.press("/")  # the text search
    expect(page.locator("#filter-q")).to_be_focused()
    page.keyboard.press("Escape")  # out of the field, back to the keys
    page.locator("#queue-title").focus()

    page.keyboard.press("j")
    assert focused_id(page) == f"card-{first.id}"
    loaded = len(loads)
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{first.id}")).to_contain_text(f"#{first.id} 已通過")
    # The line keeps the start of the comment for the eye; the live region says the decision alone.
    expect(page.locator(f"#decided-{first.id} .decided-text")).to_have_text("鍵盤通過的評論")
    expect(page.locator("[data-announce]")).to_have_text(f"#{first.id} 已通過。")
    expect(page.locator("[data-count=pending]")).to_have_text("1")
    expect(page.locator("[data-count=approved]")).to_have_text("1")
    expect(page.locator(f"#card-{second.id}")).to_be_focused()

    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("Enter")  # no reason chosen yet: refused, the card says so
    expect(page.locator(f"#card-{second.id} .card-problem")).to_contain_text("拒絕時請選擇原因")
    expect(page.locator(f"#reason-{second.id}")).to_be_focused()  # where the missing choice is made
    page.keyboard.press("ArrowDown")  # 請選擇原因 → 廣告
    page.keyboard.press("ArrowDown")  # → 人身攻擊
    page.keyboard.press("Enter")
    expect(page.locator(f"#decided-{second.id}")).to_contain_text(f"#{second.id} 已拒絕")
    expect(page.locator("[data-count=pending]")).to_have_text("0")
    assert len(loads) == loaded  # no page was reloaded
    page.screenshot(path=str(tmp_path / "queue-after.png"), full_page=True)

    # k goes back to a decided line, and u there undoes that one, not the latest decision.
    expect(page.locator(f"#decided-{second.id}")).to_be_focused()  # no card left after it: its line
    page.keyboard.press("k")
    expect(page.locator(f"#decided-{first.id}")).to_be_focused()
    page.keyboard.press("u")
    expect(page.locator(f"#card-{first.id}")).to_be_focused()
    expect(page.locator(f"#decided-{second.id}")).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{first.id}")).to_contain_text(f"#{first.id} 已通過")

    db.session.expire_all()
    assert db.session.get(Comment, first.id).status is CommentStatus.APPROVED
    assert db.session.get(Comment, second.id).status is CommentStatus.REJECTED
    assert db.session.query(AuditEntry).filter_by(comment_id=second.id).one().reason == "abuse"

    page.goto(live_server + ARTICLE)
    comments = page.locator(".comment-list").last.inner_text()
    assert "鍵盤通過的評論" in comments and "鍵盤拒絕的評論" not in comments



@pytest.mark.parametrize("javascript", [False, True], ids=["no-script", "script"])
def test_the_keyboard_hint_shows_only_where_the_keys_work_and_a_decision_offers_its_undo(live_server, browser, db,
                                                                                        javascript):
    make_moderator(db, "mod")
    comment = make_comment(db, body="復原看看")
    page = browser.new_context(locale="zh-TW", java_script_enabled=javascript).new_page()
    sign_in_to_the_queue(page, live_server, "mod")
    if javascript:  # the keys need the script; without it their hint would promise what does not happen
        expect(page.locator("[data-shortcut-hint]")).to_be_visible()
    else:
        expect(page.locator("[data-shortcut-hint]")).to_be_hidden()
    card = page.locator(f"#card-{comment.id}")
    card.get_by_role("button", name=re.compile("^通過")).click()
    undo = page.get_by_role("button", name=f"復原 #{comment.id}")
    expect(undo).to_be_visible()
    undo.click()
    expect(page.locator(f"#card-{comment.id}")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.PENDING

def test_undo_after_a_decision_in_place_brings_the_card_back_and_is_logged(live_server, browser_page, db):
    make_moderator(db, "mod")
    comment = make_comment(db, body="按錯了")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("s")
    expect(page.get_by_role("button", name=f"復原 #{comment.id}")).to_be_visible()
    page.keyboard.press("u")
    expect(page.locator(f"#card-{comment.id}")).to_be_visible()
    expect(page.locator(f"#card-{comment.id}")).to_be_focused()
    expect(page.locator("[data-announce]")).to_have_text(f"已復原 #{comment.id}：回到「待審核」。")  # said, not only shown
    expect(page.locator("[data-count=pending]")).to_have_text("1")
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.PENDING
    actions = [entry.action for entry in db.session.query(AuditEntry).filter_by(comment_id=comment.id)
               .order_by(AuditEntry.id)]
    assert actions == ["spam", "restore"]
    page.keyboard.press("a")  # the card that came back has the new version: deciding it works
    expect(page.locator(f"#decided-{comment.id}")).to_contain_text("已通過")


def decided_meanwhile(page, live_server, db, body: str, status: CommentStatus) -> Comment:
    """A comment on the queue a moderator has open, which another then moves to `status`."""
    make_moderator(db, "mod")
    comment = make_comment(db, body=body)
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    stored = db.session.get(Comment, comment.id)
    stored.status, stored.version = status, 2
    db.session.commit()
    return comment


def test_a_decision_in_place_on_a_comment_decided_meanwhile_says_so_on_the_card(live_server, browser_page, db):
    page = browser_page
    comment = decided_meanwhile(page, live_server, db, "兩位版主同時處理", CommentStatus.SPAM)
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f"#card-{comment.id} .card-problem")).to_contain_text("您的操作未套用")
    expect(page.locator(f"#card-{comment.id} .card-title")).to_contain_text("垃圾")  # the card as it is now
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.SPAM


def test_a_rejection_refused_for_a_decision_made_meanwhile_keeps_its_reason_and_note(live_server, browser_page, db):
    page = browser_page
    comment = decided_meanwhile(page, live_server, db, "另一位版主先通過了", CommentStatus.APPROVED)
    card = page.locator(f"#card-{comment.id}")
    card.locator("select[name=reason]").select_option("abuse")
    card.locator("input[name=note]").fill("辱罵其他讀者")
    card.locator("button[data-action=reject]").click()
    expect(page.locator(f"#card-{comment.id} .card-problem")).to_contain_text("您的操作未套用")
    # Still there to act on the comment as it is now (reject what another moderator approved).
    assert page.locator(f"#card-{comment.id} select[name=reason]").input_value() == "abuse"
    assert page.locator(f"#card-{comment.id} input[name=note]").input_value() == "辱罵其他讀者"


def test_without_javascript_a_decision_posts_and_redirects(live_server, browser, db):
    make_moderator(db, "mod")
    comment = make_comment(db, body="沒有腳本也能處理")
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": 1280, "height": 900},
                     java_script_enabled=False)
    page.get_by_role("button", name=f"通過 #{comment.id}").click()
    expect(page.locator(".result")).to_contain_text("已通過 1 則評論")
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.APPROVED


def test_bulk_select_with_x_and_approve(live_server, browser_page, db):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"批次{index}") for index in range(3)]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_role("button", name="通過", exact=True).first.click()
    page.wait_for_selector("text=已通過 2 則評論")
    expect(page.locator("#bulk-result")).to_be_focused()  # read out; Tab goes on to 全部復原
    db.session.expire_all()
    assert [db.session.get(Comment, c.id).status for c in comments] == [
        CommentStatus.APPROVED, CommentStatus.APPROVED, CommentStatus.PENDING]
    page.keyboard.press("u")  # the bulk decision's 全部復原, from the keyboard too
    page.wait_for_selector("text=已復原 2 則評論")
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in comments} == {CommentStatus.PENDING}
    page.wait_for_load_state("load")
    page.keyboard.press("u")  # nothing left to undo: said, not silent
    expect(page.locator("[data-announce]")).to_have_text("沒有可以復原的處理：復原只在決定後幾秒內提供。")


def test_ticks_are_carried_from_page_to_page_and_used_up_by_the_bulk_decision(live_server, browser_page, db):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"跨頁批次{index}") for index in range(53)]  # a page is 50
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-announce]")).to_have_text("已選 1 則")  # a tick is said
    first = page.locator("[data-select]:checked").get_attribute("value")
    with page.expect_navigation():
        page.locator("[data-next-page]").click()
    counter = page.locator("[data-selected-count]")
    expect(counter).to_have_text("已選 1 則（其中 1 則在其他頁）")
    page.locator("[data-select]").first.check()
    expect(counter).to_have_text("已選 2 則（其中 1 則在其他頁）")
    second = page.locator("[data-select]:checked").get_attribute("value")
    with page.expect_navigation():
        page.locator("a[rel=prev]").click()
    expect(page.locator("[data-select]:checked")).to_have_count(1)  # ticked again where it was
    assert page.locator("[data-select]:checked").get_attribute("value") == first
    expect(counter).to_have_text("已選 2 則（其中 1 則在其他頁）")
    with page.expect_navigation():
        page.locator("#bulk-form button[data-action=approve]").click()
    expect(page.locator("#bulk-result")).to_contain_text("已通過 2 則評論")
    db.session.expire_all()
    approved = {comment.id for comment in comments if db.session.get(Comment, comment.id).status is CommentStatus.APPROVED}
    assert approved == {int(first.split(":")[0]), int(second.split(":")[0])}
    page.goto(live_server + "/moderation/")  # used up: nothing ticked any more
    expect(page.locator("[data-select]:checked")).to_have_count(0)
    expect(counter).to_have_text("")
    page.keyboard.press("j")
    page.keyboard.press("x")
    with page.expect_navigation():
        page.locator("[data-next-page]").click()
    page.get_by_role("button", name="取消所有選取").click()
    expect(counter).to_have_text("")
    expect(page.locator("[data-announce]")).to_have_text("沒有選取任何評論")
    page.go_back()  # the page as it was left, its box ticked, is not what is selected now
    expect(page.locator("[data-select]:checked")).to_have_count(0)
    expect(counter).to_have_text("")
    with page.expect_navigation():
        page.locator("[data-next-page]").click()
    expect(counter).to_have_text("")  # nothing came back
    # 本頁全部 decides this page's comments: a tick carried from another page stays, to be acted on.
    with page.expect_navigation():
        page.locator("a[rel=prev]").click()
    page.locator("[data-select]").first.check()
    kept = page.locator("[data-select]:checked").get_attribute("value")
    with page.expect_navigation():
        page.locator("[data-next-page]").click()
    expect(counter).to_have_text("已選 1 則（其中 1 則在其他頁）")
    page.check("#bulk-form input[name=scope][value=page]")
    with page.expect_navigation():
        page.locator("#bulk-form button[data-action=approve]").click()
    with page.expect_navigation():
        page.locator("button.primary").click()  # the confirmation of 本頁全部
    expect(page.locator("#bulk-result")).to_contain_text("已通過 1 則評論")
    expect(counter).to_contain_text("已選 1 則")  # the page-1 tick, still to be acted on (the queue now one page)
    db.session.expire_all()
    assert db.session.get(Comment, int(kept.split(":")[0])).status is CommentStatus.PENDING


def select_two_cards_from_the_keyboard(page, live_server):
    """Signed in as `mod` at the queue: the first two cards selected with j and x."""
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    for _ in range(2):
        page.keyboard.press("j")
        page.keyboard.press("x")


def test_a_refused_bulk_rejection_keeps_the_selection_and_the_reason(live_server, browser_page, db):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"批次{index}") for index in range(3)]
    page = browser_page
    select_two_cards_from_the_keyboard(page, live_server)
    page.select_option("#bulk-reason", "other")  # 其他 without a note: refused
    with page.expect_navigation():
        page.locator("#bulk-form button[data-action=reject]").click()
    page.wait_for_selector("text=批次拒絕請選擇原因")
    expect(page.locator("#bulk-reason")).to_be_focused()  # where the missing choice is made
    expect(page.locator("#bulk-reason-error")).to_be_in_viewport()  # said beside it, in view
    expect(page.locator("#bulk-reason")).to_have_attribute("aria-describedby", "bulk-reason-error")
    assert page.locator("[data-select]:checked").count() == 2
    assert page.locator("[data-selected-count]").inner_text() == "已選 2 則"
    assert page.locator("#bulk-reason").input_value() == "other"
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in comments} == {CommentStatus.PENDING}


def test_enter_in_the_bulk_note_rejects_with_the_reason_chosen_and_never_approves(live_server, browser_page, db):
    """The bulk bar's first visible button is 通過: Enter in its note box used to approve everything
    selected, with a rejection reason chosen."""
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"辱罵的留言{index}") for index in range(2)]
    page = browser_page
    select_two_cards_from_the_keyboard(page, live_server)
    page.evaluate("document.querySelector('#bulk-form details').open = true")
    page.locator("#bulk-form input[name=note]").fill("辱罵")
    with page.expect_navigation():
        page.locator("#bulk-form input[name=note]").press("Enter")  # no reason yet: refused, nothing done
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in comments} == {CommentStatus.PENDING}
    page.select_option("#bulk-reason", "abuse")
    with page.expect_navigation():
        page.locator("#bulk-reason").press("Enter")  # Enter on the reason rejects, as on a card
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in comments} == {CommentStatus.REJECTED}


def test_after_a_conflict_the_focus_moves_on_so_the_same_key_cannot_overrule_the_other_moderator(
        live_server, browser_page, db):
    make_moderator(db, "mod")
    first, second = make_comment(db, body="兩位版主同時處理"), make_comment(db, body="下一則")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    wait_until(page, "document.activeElement.hasAttribute('data-card')")
    taken = int(page.evaluate("document.activeElement.getAttribute('data-comment')"))
    other = first.id if taken == second.id else second.id
    stored = db.session.get(Comment, taken)
    stored.status, stored.version = CommentStatus.SPAM, stored.version + 1  # another moderator, first
    db.session.commit()
    page.keyboard.press("a")
    page.wait_for_selector(f"#card-{taken} .card-problem")
    expect(page.locator(f"#card-{other}")).to_be_focused()
    page.keyboard.press("a")  # the key pressed again lands on the next card, not on the spam
    page.wait_for_selector(f"[data-decided='{other}']")
    db.session.expire_all()
    assert db.session.get(Comment, taken).status is CommentStatus.SPAM


def a_surges_cluster(db, body: str) -> tuple[CommentCluster, list[Comment]]:
    """A surge on the article and a cluster of two pending comments in it, `body` and a figure each."""
    article_id = db.session.scalar(select(Article.id))
    now = datetime.now(UTC)
    surge = Surge(article_id=article_id, cause="cluster", details={"authors": 2}, started_at=now, last_seen_at=now,
                  previous_mode="post")
    db.session.add(surge)
    db.session.flush()
    cluster = CommentCluster(article_id=article_id, surge_id=surge.id, key="f" * 64, created_at=now)
    db.session.add(cluster)
    db.session.commit()
    return cluster, [make_comment(db, body=f"{body}{index}", cluster_id=cluster.id) for index in range(2)]


def test_j_and_k_stop_on_a_surges_cluster_card_and_r_then_enter_needs_a_reason(live_server, browser_page, db):
    cluster, grouped = a_surges_cluster(db, "一起來抗議")
    alone = make_comment(db, body="一則普通的評論")
    make_moderator(db, "mod")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    assert focused_id(page) == f"cluster-{cluster.id}"
    page.keyboard.press("j")
    assert focused_id(page) == f"card-{alone.id}"
    page.keyboard.press("k")
    assert focused_id(page) == f"cluster-{cluster.id}"
    # a (or s) on a cluster decides all its comments: the first press says so, a second would do it.
    page.keyboard.press("a")
    expect(page.locator("[data-announce]")).to_have_text("再按一次 a：全部通過（2 則）。")
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in grouped} == {CommentStatus.PENDING}
    page.keyboard.press("r")
    assert focused_id(page) == f"cluster-{cluster.id}-reason"
    with page.expect_navigation():
        page.keyboard.press("Enter")  # no reason chosen: refused, nothing decided
    page.wait_for_selector("text=批次拒絕請選擇原因")
    expect(page.locator(f"#cluster-{cluster.id}-reason")).to_be_focused()
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in grouped} == {CommentStatus.PENDING}
    page.select_option(f"#cluster-{cluster.id}-reason", "off_topic")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("[data-card]")
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in grouped} == {CommentStatus.REJECTED}
    assert db.session.get(Comment, alone.id).status is CommentStatus.PENDING


def test_a_second_a_on_a_cluster_card_approves_every_comment_of_it(live_server, browser_page, db):
    _, grouped = a_surges_cluster(db, "一起來支持")
    make_comment(db, body="一則普通的評論")  # a card of its own: the queue opens with one
    make_moderator(db, "mod")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator("[data-announce]")).to_have_text("再按一次 a：全部通過（2 則）。")
    with page.expect_navigation():
        page.keyboard.press("a")
    page.wait_for_selector("text=已通過 2 則評論")
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in grouped} == {CommentStatus.APPROVED}


def test_a_queue_left_open_past_its_tokens_hour_still_decides_in_place(live_server, browser_page, db):
    make_moderator(db, "mod")
    comment = make_comment(db, body="午餐後才處理")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => { i.value = 'stale.token.x'; })")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f"[data-decided='{comment.id}']")).to_contain_text("已通過")
    assert page.url.endswith("/moderation/")  # in place: no error page
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.APPROVED


def test_the_shortcuts_go_on_working_after_a_box_is_ticked_with_the_mouse(live_server, browser_page, db):
    """A ticked box keeps the focus; it takes no typing, so j and x still act on the cards."""
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"滑鼠勾選{index}") for index in range(3)]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.locator("[data-select]").first.click()
    assert page.evaluate("document.activeElement.matches('[data-select]')")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-bulk] [data-selected-count]")).to_have_text("已選 2 則")
    page.get_by_role("button", name="通過", exact=True).first.click()
    page.wait_for_selector("text=已通過 2 則評論")
    expect(page.locator("#bulk-result")).to_be_focused()  # read out; Tab goes on to 全部復原
    db.session.expire_all()
    assert [db.session.get(Comment, c.id).status for c in comments] == [
        CommentStatus.APPROVED, CommentStatus.APPROVED, CommentStatus.PENDING]
    page.keyboard.press("u")  # the bulk decision's 全部復原, from the keyboard too
    page.wait_for_selector("text=已復原 2 則評論")
    db.session.expire_all()
    assert {db.session.get(Comment, c.id).status for c in comments} == {CommentStatus.PENDING}
    page.wait_for_load_state("load")
    page.keyboard.press("u")  # nothing left to undo: said, not silent
    expect(page.locator("[data-announce]")).to_have_text("沒有可以復原的處理：復原只在決定後幾秒內提供。")


def test_j_on_the_last_card_continues_on_the_next_page_and_back(live_server, browser_page, db, app):
    app.config["QUEUE_PAGE_SIZE"] = 2
    make_moderator(db, "mod")
    first, second, third = [
        make_comment(db, body=f"第{index}則", created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC)) for index in range(3)
    ]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    expect(page.locator(".page-count")).to_have_text("第 1 頁，共 2 頁")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_id(page) == f"card-{second.id}"
    page.keyboard.press("j")  # the last card: on to the next page, its first card focused
    page.wait_for_selector(f"#card-{third.id}")
    expect(page.locator(f"#card-{third.id}")).to_be_focused()
    expect(page.locator(".page-count")).to_have_text("第 2 頁，共 2 頁")
    page.get_by_role("link", name="上一頁").click()
    page.wait_for_selector(f"#card-{first.id}")
    assert page.locator("[data-card]").count() == 2


def test_deciding_the_last_card_in_place_keeps_the_focus_on_its_line(live_server, browser_page, db):
    """Not back up on a card passed over, where the next key would act on it: j goes on from here
    (to the next page, when there is one), k back up."""
    make_moderator(db, "mod")
    first = make_comment(db, body="前一則")
    last = make_comment(db, body="最後一則", created_at=first.created_at + timedelta(minutes=1))
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{last.id}")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator(f"#card-{first.id}")).to_be_focused()


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
        menu = page.locator(".moderation-nav")  # the admin's eleven links: one row that scrolls sideways
        assert menu.bounding_box()["height"] < 60 and menu.evaluate("(box) => box.scrollWidth > box.clientWidth"), path
        for table in page.locator(".table").all():  # one that scrolls sideways shows shadows at its edges
            if table.evaluate("(box) => box.scrollWidth > box.clientWidth"):
                assert "linear-gradient(to left, rgba(0, 0, 0, 0.22)" in table.evaluate(
                    "(box) => getComputedStyle(box).backgroundImage"), path  # even along the edge, not an ellipse


def test_on_a_touch_screen_the_queue_hints_no_keys_and_its_compact_bars_keep_finger_sized_buttons(
        live_server, browser, db):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"觸控螢幕上的評論{index}") for index in range(3)]
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": 390, "height": 844},
                     is_mobile=True, has_touch=True)
    wait_for_the_keyboard(page)
    # No filter set: the filters fold behind their summary, and the first card's head is on the first screen.
    expect(page.locator("[data-filters]")).not_to_have_attribute("open", "")
    assert page.locator(f"#card-{comments[0].id} .card-head").bounding_box()["y"] < 844
    page.get_by_text("篩選與搜尋").tap()
    expect(page.locator("#filter-q")).to_be_visible()
    expect(page.locator("[data-shortcut-hint]")).to_be_hidden()
    page.locator(f"#card-{comments[0].id} input[name=item]").check()
    page.locator(f"#card-{comments[1].id} input[name=item]").check()
    for button in page.locator(".bulk.is-active button:not([hidden])").all():
        assert button.bounding_box()["height"] >= 44, button.inner_text()
    page.get_by_role("button", name=f"通過 #{comments[2].id}").click()
    undo = page.locator(f"[data-decided='{comments[2].id}'] button")
    expect(undo).to_be_visible()
    assert undo.bounding_box()["height"] >= 44
    expect(undo.locator("kbd")).to_be_hidden()


def test_a_long_rule_note_does_not_widen_the_rules_page(live_server, browser_page, db):
    """A note with no space in it (a URL) made the page thousands of pixels wide at 1280 px."""
    from moderation.services.audit import SYSTEM
    from moderation.services.rulebook.edits import save_word_rule

    make_moderator(db, "boss", role="admin")
    save_word_rule(db.session, "備註很長的詞", "hold", "https://example.com/" + "a" * 480, actor=SYSTEM,
                   now=datetime(2026, 11, 24, tzinfo=UTC))
    db.session.commit()
    page = browser_page
    page.goto(live_server + "/moderation/admin/rules/")
    page.fill("#name", "boss")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#words-heading")
    page.wait_for_load_state("load")  # the stylesheet too: measured before it came, the page was as wide as the note
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_the_bulk_bar_is_one_key_away(live_server, browser_page, db):
    make_moderator(db, "mod")
    make_comment(db, body="批次處理的評論")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("x")
    page.keyboard.press("b")
    assert page.evaluate("document.activeElement.name") == "scope"


UNCOVERED = """(id) => {
  const card = document.activeElement;
  if (!card || card.id !== id) return ["the focus is on " + (card && card.id)];
  const stuck = Array.from(document.querySelectorAll("body *")).filter((element) => {
    const position = getComputedStyle(element).position;
    return (position === "sticky" || position === "fixed") && element.getClientRects().length;
  }).map((element) => [element.className, element.getBoundingClientRect()]);
  const problems = [];
  for (const part of [card.querySelector(".card-head"), card.querySelector(".comment-body")]) {
    const box = part.getBoundingClientRect();
    if (box.top < 0 || box.bottom > innerHeight) problems.push(part.className + " outside the window");
    for (const [name, bar] of stuck) {
      if (bar.bottom > box.top && bar.top < box.bottom && bar.right > box.left && bar.left < box.right) {
        problems.push(part.className + " under " + name);
      }
    }
  }
  return problems;
}"""


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_the_card_focused_after_a_decision_is_in_view_and_not_under_the_bulk_bar(live_server, browser, db,
                                                                                width, height, tmp_path):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"第{index}則：" + "很長的評論內容，" * (5 + index * 6),
                             created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC)) for index in range(8)]
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": width, "height": height})
    wait_for_the_keyboard(page)
    bar = page.locator("[data-bulk]").bounding_box()
    assert bar["height"] < 60  # closed: one line until something is selected
    page.keyboard.press("j")
    page.keyboard.press("x")  # a selection: the bulk bar opens and sticks
    expect(page.locator("[data-bulk] [data-selected-count]")).to_have_text("已選 1 則")
    assert page.evaluate("getComputedStyle(document.querySelector('[data-bulk]')).position") == "sticky"
    assert page.locator("[data-bulk]").bounding_box()["height"] < (130 if width < 640 else 85)  # compact
    for index in (3, 5):  # decisions further down the page, where the bar has stuck
        while focused_id(page) != f"card-{comments[index].id}":
            page.keyboard.press("j")
        page.keyboard.press("a")
        expect(page.locator(f"#card-{comments[index + 1].id}")).to_be_focused()
        assert page.evaluate(UNCOVERED, f"card-{comments[index + 1].id}") == []
        decided = page.locator(f"#decided-{comments[index].id}").bounding_box()
        assert decided["y"] + decided["height"] > 0  # the one-line result stays in sight, just above
    page.screenshot(path=str(tmp_path / f"after-{width}.png"))
    page.keyboard.press("k")  # back up to the decided line (its undo is u there), then a card above: in view too
    expect(page.locator(f"#decided-{comments[5].id}")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator(f"#card-{comments[4].id}")).to_be_focused()
    assert page.evaluate(UNCOVERED, f"card-{comments[4].id}") == []


FOCUSED_UNDER_A_BAR = """() => {
  const focused = document.activeElement;
  if (!focused || !focused.closest("[data-card]")) return null;
  const box = focused.getBoundingClientRect();
  const bars = Array.from(document.querySelectorAll("body *")).filter((element) => {
    const position = getComputedStyle(element).position;
    return (position === "sticky" || position === "fixed") && element.getClientRects().length;
  });
  for (const bar of bars) {
    const edge = bar.getBoundingClientRect();
    if (edge.bottom > box.top && edge.top < box.bottom && edge.right > box.left && edge.left < box.right) {
      return (focused.getAttribute("aria-label") || focused.textContent.trim()).slice(0, 30) + " under " + bar.className;
    }
  }
  return box.top < 0 || box.bottom > innerHeight ? "outside the window" : "";
}"""


def test_tabbing_back_through_the_cards_on_a_phone_never_hides_a_control_under_the_bulk_bar(live_server, browser,
                                                                                          db):
    """Each control a card holds scrolls to below the stuck bar, as the cards do (their scroll margin
    was the cards' alone: a third of the focus stops ended up under the bar)."""
    make_moderator(db, "mod")
    for index in range(6):
        make_comment(db, body=f"第{index}則：" + "很長的評論內容，" * (4 + index * 3),
                     created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC))
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": 390, "height": 844})
    wait_for_the_keyboard(page)
    for _ in range(2):
        page.keyboard.press("j")
        page.keyboard.press("x")
    expect(page.locator("[data-bulk] [data-selected-count]")).to_have_text("已選 2 則")
    page.locator("[data-card]").last.locator("a, button, input, select").last.focus()
    hidden, stops = [], 0
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        problem = page.evaluate(FOCUSED_UNDER_A_BAR)
        if problem is None:
            continue
        stops += 1
        if problem:
            hidden.append(problem)
    assert stops >= 20 and hidden == []


def test_answering_as_the_site_starts_in_the_answer_and_comes_back_to_the_card(live_server, browser_page, db):
    """The answer's box takes the focus and is described by the comment it answers; once posted,
    the queue opens at the card answered, the result just above it, as after a pin (it opened at the top)."""
    make_moderator(db, "mod")
    comments = [make_comment(db, status=CommentStatus.APPROVED, body=f"讀者的問題{index}",
                             created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC)) for index in range(6)]
    asked = comments[1]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod", path="/moderation/?tab=approved")
    wait_for_the_keyboard(page)
    page.locator(f"#card-{asked.id}").focus()
    page.keyboard.press("e")  # the card's 以本站名義回覆
    box = page.get_by_label("回覆內容（立即公開，標示「本站編輯」）")
    expect(box).to_be_focused()
    assert "讀者的問題1" in page.evaluate(
        "document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent")
    box.fill("本站的回答")
    box.press("Control+Enter")  # sends it, as the button does
    page.wait_for_url(f"**/moderation/?tab=approved#result-{asked.id}")
    # The result just above the card has the focus (a screen reader reads it) and is in view; the
    # keys act on the card below it.
    result = page.locator(f"#result-{asked.id}")
    expect(result).to_be_focused()
    expect(result).to_contain_text("已以本站名義回覆")
    expect(result).to_be_in_viewport()
    expect(page.locator(f"#card-{asked.id}")).to_have_class(re.compile("is-current"))
    expect(page.locator(f"#card-{asked.id} .card-head")).to_be_in_viewport()
    # p makes the card below the result an editors' pick in place (the page is not loaded again: the
    # result above stays as it was), the card saying so and keeping the focus; p again takes it back.
    card = page.locator(f"#card-{asked.id}")
    page.keyboard.press("p")
    expect(card.locator(".card-said")).to_have_text(f"#{asked.id} 已設為編輯精選。")
    expect(card).to_be_focused()
    expect(page.locator("[data-announce]")).to_have_text(f"#{asked.id} 已設為編輯精選。")
    expect(result).to_contain_text("已以本站名義回覆")
    page.keyboard.press("p")
    expect(card.locator(".card-said")).to_have_text(f"#{asked.id} 已取消編輯精選。")
    expect(card).to_be_focused()
    expect(card.get_by_role("button", name=f"設為編輯精選 #{asked.id}")).to_be_visible()


def test_a_pick_rejected_from_the_keyboard_says_so_and_its_undo_says_it_is_a_pick_again(live_server, browser_page, db):
    make_moderator(db, "mod")
    comment = make_comment(db, body="曾是精選的評論", status=CommentStatus.APPROVED)
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod", path="/moderation/?tab=approved")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("p")
    expect(page.locator("[data-announce]")).to_have_text(f"#{comment.id} 已設為編輯精選。")
    page.keyboard.press("r")
    page.keyboard.press("ArrowDown")  # 請選擇原因 → 廣告
    page.keyboard.press("Enter")
    line = page.locator(f"#decided-{comment.id}")
    expect(line).to_contain_text("也已取消編輯精選；復原時若精選仍有空位，會一併放回。")
    page.keyboard.press("u")
    expect(page.locator("[data-announce]")).to_contain_text(f"#{comment.id} 已放回編輯精選。")
    expect(page.locator(f"#card-{comment.id}")).to_contain_text("編輯精選")


def test_every_control_of_a_card_names_its_comment_in_the_accessibility_tree(live_server, browser_page, db):
    make_moderator(db, "mod")
    first = make_comment(db, body="第一則")
    second = make_comment(db, body="第二則", created_at=first.created_at + timedelta(minutes=1))
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    tree = page.locator("[data-cards]").aria_snapshot()
    for comment in (first, second):
        assert f'button "通過 #{comment.id}"' in tree
        assert f'button "標為垃圾 #{comment.id}"' in tree
        assert f'button "拒絕 #{comment.id}"' in tree
        assert f'combobox "#{comment.id} 的拒絕原因"' in tree
        assert f'checkbox "選取評論 #{comment.id}"' in tree
    assert 'button "通過 a"' not in tree and 'combobox "拒絕原因"' not in tree
    approve = page.get_by_role("button", name=f"通過 #{first.id}")
    assert approve.get_attribute("aria-keyshortcuts") == "a"


def test_four_short_cards_fit_a_1280_by_900_window(live_server, browser_page, db):
    """Denser cards: the title and meta share a row; before, two cards fitted."""
    make_moderator(db, "mod")
    for index in range(6):
        make_comment(db, body=f"第{index}則：這篇報導寫得不錯，但數據來源需要再確認。",
                     created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC))
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    fully_visible = page.evaluate("""() => Array.from(document.querySelectorAll('[data-card]')).filter((card) => {
        const box = card.getBoundingClientRect(); return box.top >= 0 && box.bottom <= innerHeight; }).length""")
    assert fully_visible >= 4


def test_the_author_history_keeps_each_status_on_one_line_on_a_phone(live_server, browser, db):
    make_moderator(db, "mod")
    for status in (CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.REJECTED):
        make_comment(db, body="一則很長很長的評論，" * 8, status=status, author_hash="e" * 64)
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": 390, "height": 844})
    page.goto(live_server + "/moderation/authors/eeeeeeee")
    lines = page.locator(".table tbody td:nth-child(2)").evaluate_all("""(cells) => cells.map((cell) => {
        const text = document.createRange(); text.selectNodeContents(cell);
        return new Set(Array.from(text.getClientRects(), (box) => Math.round(box.top))).size; })""")
    assert lines == [1, 1, 1]  # each status on one line, not a character a line
    widths = page.locator(".table td.comment-body").evaluate_all("(cells) => cells.map((cell) => cell.clientWidth)")
    assert min(widths) >= 150  # the comment's text readable, not squeezed to a character a line


def test_the_dashboards_chart_labels_stay_legible_on_a_phone(live_server, browser, db):
    make_moderator(db, "mod")
    make_comment(db)
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": 390, "height": 844})
    page.goto(live_server + "/moderation/dashboard/?range=7d")
    heights = page.locator(".chart .axis").evaluate_all("(labels) => labels.map((l) => l.getBoundingClientRect().height)")
    assert heights and min(heights) >= 11  # 12 px as drawn; scaled to the phone's width they were 7 px
    assert not page.evaluate("document.documentElement.scrollWidth > innerWidth")  # the chart scrolls in its box
    box = page.locator(".chart-box.over-time").first
    assert box.evaluate("(element) => element.scrollWidth > element.clientWidth")
    # It opens at its newest end: the last day's label is in view, the first is not.
    seen = box.evaluate("""(element) => { const frame = element.getBoundingClientRect();
        const labels = Array.from(element.querySelectorAll('text[text-anchor=middle]'), (label) => label.getBoundingClientRect());
        const inside = (r) => r.left >= frame.left - 1 && r.right <= frame.right + 1;
        return [inside(labels[0]), inside(labels[labels.length - 1])]; }""")
    assert seen == [False, True]
    box.focus()
    page.keyboard.press("ArrowLeft")  # a keyboard reaches the older days too
    wait_until(page, "document.querySelector('.chart-box.over-time').scrollLeft < 0", timeout=5)


def test_every_box_and_radio_of_the_moderation_pages_is_at_least_20_pixels_on_a_phone(live_server, browser, db):
    make_moderator(db, "boss", role="admin")
    make_comment(db)
    page = signed_in(browser, live_server, "boss", locale="zh-TW", viewport={"width": 390, "height": 844})
    page.evaluate("document.querySelector('#bulk-form details').open = true")
    small = []
    for path in ("/moderation/", "/moderation/admin/webhooks/", "/moderation/admin/api-keys"):
        if path != "/moderation/":
            page.goto(live_server + path)
        small += page.locator("input[type=checkbox], input[type=radio]").evaluate_all(
            """(inputs) => inputs.filter((input) => input.offsetParent !== null).map((input) => {
                const box = input.getBoundingClientRect();
                return [input.name || input.id, Math.round(box.width), Math.round(box.height)]; })
                .filter(([, width, height]) => width < 20 || height < 20)""")
    assert small == []


def test_the_card_selection_box_is_a_24_pixel_target(live_server, browser_page, db):
    make_moderator(db, "mod")
    make_comment(db)
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    box = page.locator(".card-head .select").first.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    page.mouse.click(box["x"] + 2, box["y"] + 2)  # a corner of the target, off the box itself, still ticks it
    expect(page.locator("[data-select]").first).to_be_checked()


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_the_dry_run_answer_is_shown_at_the_form_and_focused(live_server, browser, db, width, height):
    make_moderator(db, "boss", role="admin")
    make_comment(db, body="芝麻湯圓很好吃")
    page = signed_in(browser, live_server, "boss", locale="zh-TW", viewport={"width": width, "height": height})
    page.goto(live_server + "/moderation/admin/rules/")
    page.fill("#word-term", "芝麻湯圓")
    page.get_by_role("button", name="試算（不儲存）").click()
    answer = page.locator("#dry-run")
    expect(answer).to_be_focused()
    box = answer.bounding_box()
    # -1: the browser scrolls by fractions of a pixel (a header of fractional height above it)
    assert -1 <= box["y"] and box["y"] + min(box["height"], 120) <= height  # its first lines in the window


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_without_javascript_the_result_has_the_focus_and_the_next_card_is_in_view_after_a_decision(
        live_server, browser, db, width, height):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"第{index}則：" + "沒有腳本的評論，" * 6,
                             created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC)) for index in range(6)]
    page = signed_in(browser, live_server, "mod", locale="zh-TW", viewport={"width": width, "height": height},
                     java_script_enabled=False)
    page.get_by_role("button", name=f"通過 #{comments[3].id}").click()
    result = page.locator(f"#result-{comments[4].id}")
    expect(result).to_contain_text("已通過 1 則評論")
    page.wait_for_load_state("load")
    expect(result).to_be_focused()  # read out as the other results placed above a card are; Tab goes on to 復原
    for element in (result, page.locator(f"#card-{comments[4].id} .card-head")):
        box = element.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= height


def test_a_decision_in_place_during_an_outage_is_said_on_the_card_and_can_be_sent_again(live_server, browser_page, db):
    """The server's answer in an outage (tests/test_database_faults.py holds its shape): said on the
    card, the buttons free again, the reason and note as typed, and no page left for a bare error."""
    make_moderator(db, "mod")
    comment = make_comment(db, body="停機時要拒絕的評論")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    outage = json.dumps({"ok": False, "code": "unavailable", "message": "系統暫時無法儲存，這個決定尚未套用。"})
    page.route("**/decision.json*", lambda route: route.fulfill(status=503, content_type="application/json", body=outage))
    page.select_option(f"#reason-{comment.id}", "other")
    page.fill(f"#note-{comment.id}", "停機也要保留的說明")
    page.get_by_role("button", name=f"拒絕 #{comment.id}").click()
    expect(page.locator(f"#card-{comment.id} [data-outage]")).to_have_text("系統暫時無法儲存，這個決定尚未套用。")
    assert page.url.startswith(live_server + "/moderation/")  # still the queue
    assert page.locator(f"#note-{comment.id}").input_value() == "停機也要保留的說明"
    page.unroute("**/decision.json*")
    page.get_by_role("button", name=f"拒絕 #{comment.id}").click()
    expect(page.locator(f"[data-decided='{comment.id}']")).to_contain_text("已拒絕")
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.REJECTED


def test_a_key_pressed_while_the_cards_decision_is_being_sent_is_said_to_do_nothing(live_server, browser_page, db):
    make_moderator(db, "mod")
    comments = [make_comment(db, body=f"送出中{index}") for index in range(2)]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    held = []
    page.route("**/decision.json*", lambda route: held.append(route))
    page.keyboard.press("j")
    first = page.locator("[data-card]").first
    card_id = first.get_attribute("id").removeprefix("card-")
    page.keyboard.press("a")
    expect(first).to_have_attribute("aria-busy", "true")  # dimmed while it is sent
    for _ in range(200):  # the route's handler runs when Playwright next hears from the browser
        if held:
            break
        page.wait_for_timeout(25)
    assert held
    page.keyboard.press("a")
    expect(page.locator("[data-announce]")).to_have_text(
        f"#{card_id} 的決定還在送出，這次按鍵沒有作用；請稍候再按。")
    held[0].continue_()
    expect(page.locator(f"[data-decided='{card_id}']")).to_contain_text("已通過")
    assert len(held) == 1  # the second press sent nothing
    db.session.expire_all()
    assert sorted(db.session.get(Comment, each.id).status.value for each in comments) == ["approved", "pending"]


def test_a_rejection_refused_in_place_keeps_the_reason_and_note_typed(live_server, browser_page, db):
    make_moderator(db, "mod")
    comment = make_comment(db, body="要拒絕的評論")
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.select_option(f"#reason-{comment.id}", "other")
    page.get_by_role("button", name=f"拒絕 #{comment.id}").click()  # 其他 without a note: refused
    expect(page.locator(f"#card-{comment.id} .card-problem")).to_contain_text("選「其他」時請填寫說明")
    assert page.locator(f"#reason-{comment.id}").input_value() == "other"
    expect(page.locator(f"#note-{comment.id}")).to_be_focused()  # 其他 chosen: what is missing is its note
    page.fill(f"#note-{comment.id}", "重複貼文")
    stored = db.session.get(Comment, comment.id)
    stored.version = 2  # someone else changed it meanwhile: refused again, the note stays
    db.session.commit()
    page.get_by_role("button", name=f"拒絕 #{comment.id}").click()
    expect(page.locator(f"#card-{comment.id} .card-problem")).to_contain_text("您的操作未套用")
    assert page.locator(f"#note-{comment.id}").input_value() == "重複貼文"


def test_a_reported_comment_is_kept_in_place(live_server, browser_page, db):
    from moderation.models import CommentReport, ReportReason

    make_moderator(db, "mod")
    comment = make_comment(db, status=CommentStatus.APPROVED, body="被檢舉但沒問題的評論")
    db.session.add(CommentReport(comment_id=comment.id, reason=ReportReason.ABUSE, reporter_hash="c" * 64,
                                 reporter_ip_hash="d" * 64, created_at=comment.created_at))
    db.session.commit()
    page = browser_page
    page.goto(live_server + "/moderation/?tab=reported")  # signed out: the sign-in returns here
    page.get_by_label("帳號").fill("mod")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_label("密碼").press("Enter")
    page.wait_for_selector("[data-card]")
    wait_for_the_keyboard(page)  # a click before the queue's script has run is a plain form post
    page.get_by_role("button", name=f"保留並結案 #{comment.id}").click()
    expect(page.locator(f"#decided-{comment.id}")).to_contain_text("已保留並結案")
    expect(page.locator("[data-count=reported]")).to_have_text("0")
    # No undo is offered (its reports are closed): u says so, not that the time for one ran out.
    expect(page.locator(f"#decided-{comment.id}")).to_be_focused()
    page.keyboard.press("u")
    expect(page.locator("[data-announce]")).to_have_text("檢舉已結案，這項處理不能復原；評論仍公開，要撤下請到「已通過」分頁。")
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.APPROVED
    assert db.session.query(AuditEntry).filter_by(comment_id=comment.id, action="keep").count() == 1



def test_u_on_a_card_takes_back_the_latest_decision_and_the_last_card_keeps_the_focus_on_its_line(
        app, live_server, browser_page, db):
    """Going back up with k to decide a card passed over, then u, took back the lowest decision on the
    page (an older one); and deciding the last card sent the focus back up to a card passed over."""
    app.config["QUEUE_UNDO_SECONDS"] = 600
    make_moderator(db, "mod")
    first, second, third = [make_comment(db, body=f"第{index}則", created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC))
                            for index in range(3)]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    page.keyboard.press("j")  # the second card
    expect(page.locator(f"#card-{second.id}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{second.id}")).to_be_visible()
    expect(page.locator(f"#card-{third.id}")).to_be_focused()  # on down the page
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(page.locator(f"#card-{first.id}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{first.id}")).to_be_visible()
    page.keyboard.press("u")  # the latest decision is the first card's, though the second's line stands lower
    expect(page.locator(f"#card-{first.id}")).to_be_visible()
    expect(page.locator(f"#decided-{second.id}")).to_be_visible()
    page.locator(f"#card-{third.id}").focus()
    page.keyboard.press("a")  # the last card: the focus stays on its line, not up on the first card
    expect(page.locator(f"#decided-{third.id}")).to_be_focused()


def test_u_after_keeping_a_reported_comment_says_it_cannot_be_undone(live_server, browser_page, db):
    from moderation.models import CommentReport, ReportReason

    make_moderator(db, "mod")
    kept, other = [make_comment(db, status=CommentStatus.APPROVED, body=f"被檢舉的評論{index}",
                                created_at=datetime(2026, 11, 24, 1, index, tzinfo=UTC)) for index in range(2)]
    for comment in (kept, other):
        db.session.add(CommentReport(comment_id=comment.id, reason=ReportReason.ABUSE, reporter_hash="c" * 64,
                                     reporter_ip_hash="d" * 64, created_at=comment.created_at))
    db.session.commit()
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod", path="/moderation/?tab=reported")
    wait_for_the_keyboard(page)
    page.keyboard.press("j")
    expect(page.locator(f"#card-{kept.id}")).to_be_focused()  # the oldest report first
    page.keyboard.press("a")  # 保留並結案: the focus goes on to the next card
    expect(page.locator(f"#decided-{kept.id}")).to_be_visible()
    expect(page.locator(f"#card-{other.id}")).to_be_focused()
    page.keyboard.press("u")
    expect(page.locator("[data-announce]")).to_have_text("檢舉已結案，這項處理不能復原；評論仍公開，要撤下請到「已通過」分頁。")


@pytest.mark.parametrize("decided_since", [False, True], ids=["all-back", "one-decided-since"])
def test_the_undo_of_a_rejection_brings_back_the_replies_rejected_with_it(app, live_server, browser_page, db,
                                                                          decided_since):
    """And a reply someone else decided on in between stays a line that says so."""
    from moderation.services.audit import SYSTEM
    from moderation.services.decisions import Decision, decide

    app.config["QUEUE_UNDO_SECONDS"] = 600  # still offered when it is pressed, however slow the machine
    make_moderator(db, "mod")
    top = make_comment(db, body="帶著回覆的主評論")
    replies = [make_comment(db, thread_id=top.id, reply_to_id=top.id, body=f"待審回覆{index}",
                            created_at=top.created_at + timedelta(minutes=index + 1)) for index in range(2)]
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    card = page.locator(f"#card-{top.id}")
    card.locator("[data-reject-reason]").select_option("abuse")
    card.locator("[data-with-replies]").check()
    card.locator("[data-action=reject]").click()
    expect(page.locator(f"#decided-{top.id}")).to_contain_text("復原會一併還原")
    for reply in replies:
        expect(page.locator(f"#decided-{reply.id}")).to_be_visible()
    if decided_since:
        db.session.expire_all()
        taken = db.session.get(Comment, replies[1].id)
        assert decide(db.session, taken.id, Decision.APPROVE, expected_version=taken.version, actor=SYSTEM,
                      now=datetime.now(UTC)).ok
    page.locator(f"#decided-{top.id} [data-undo] button").click()
    back = (top, *replies) if not decided_since else (top, replies[0])
    for comment in back:
        expect(page.locator(f"#card-{comment.id}")).to_be_visible()
    expect(page.locator("[data-count=pending]")).to_have_text(str(len(back)))
    if decided_since:
        line = page.locator(f"#decided-{replies[1].id}")
        expect(line.locator("p").first).to_contain_text(f"#{replies[1].id}：這則評論已由")
        expect(line).not_to_contain_text("已拒絕。")  # what is true now, not the rejection it no longer is
        expect(line.locator("[data-undo]")).to_have_count(0)
        expect(page.locator("[data-announce]")).to_contain_text("您的操作未套用")
    db.session.expire_all()
    assert {db.session.get(Comment, each.id).status for each in back} == {CommentStatus.PENDING}


@pytest.mark.parametrize("width", [390, 1280])
def test_a_readers_long_unbroken_report_note_widens_no_card(live_server, browser, db, width):
    """A report's note is a reader's text: 200 letters without a space once pushed every card on the
    reported tab past the page, their reject controls off-screen."""
    from moderation.models import CommentReport, ReportReason

    make_moderator(db, "mod")
    noted, other = make_comment(db, status=CommentStatus.APPROVED), make_comment(db, status=CommentStatus.APPROVED)
    for comment, note in ((noted, "x" * 200), (other, "")):
        db.session.add(CommentReport(comment_id=comment.id, reason=ReportReason.OTHER, note=note, reporter_hash="1" * 64,
                                     reporter_ip_hash="9" * 64, created_at=comment.created_at))
    db.session.commit()
    page = browser.new_context(locale="zh-TW", viewport={"width": width, "height": 900}).new_page()
    sign_in_to_the_queue(page, live_server, "mod", path="/moderation/?tab=reported")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for card in (noted, other):
        button = page.locator(f"#card-{card.id}").get_by_role("button", name=re.compile("^拒絕"))
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width


@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_the_keys_on_the_buttons_show_only_where_they_work(live_server, browser, db, script):
    """The shortcuts need the queue's script and a keyboard: without the script a button's key hint
    would promise what nothing does."""
    make_moderator(db, "mod")
    comment = make_comment(db, body="看按鈕上的按鍵")
    page = signed_in(browser, live_server, "mod", locale="zh-TW", java_script_enabled=script)
    hint = page.locator(f"#card-{comment.id} [data-action=approve] kbd")
    if script:
        wait_for_the_keyboard(page)
        expect(hint).to_be_visible()
    else:
        expect(hint).to_be_hidden()


def test_a_new_api_key_wraps_on_a_phone(live_server, browser, db):
    """The key is shown once, in one long word: it wraps, rather than widening the page to 557 px."""
    make_moderator(db, "boss", role="admin")
    make_comment(db)
    page = signed_in(browser, live_server, "boss", locale="zh-TW", viewport={"width": 390, "height": 844})
    page.goto(live_server + "/moderation/admin/api-keys")
    page.fill("#key-site", "cms.example")
    page.locator("input[name=scope]").first.check()
    page.get_by_role("button", name="建立金鑰").click()
    expect(page.locator("code.secret")).to_contain_text("mk_")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_a_decision_in_place_keeps_the_pages_filters_and_language_from_a_language_url(live_server, browser, db):
    """On a queue reached by a language URL the form's in-place URL carries ?lang= already: the page's
    query must be added to it, not glued on after a second ?, which lost its first filter."""
    make_moderator(db, "mod")
    wanted = make_comment(db, body="要通過的那一則")
    make_comment(db, body="另一則待審", created_at=wanted.created_at + timedelta(minutes=1))
    page = signed_in(browser, live_server, "mod", locale="zh-TW")
    page.goto(live_server + "/moderation/?q=要通過&lang=en")
    wait_for_the_keyboard(page)
    expect(page.locator("[data-count=pending]")).to_have_text("1")  # under the filter
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{wanted.id}")).to_contain_text("pprove")  # the line in the page's English
    expect(page.locator("[data-count=pending]")).to_have_text("0")  # still counted under the filter


def test_a_decision_in_place_updates_the_authors_counts_on_their_other_cards(live_server, browser_page, db):
    make_moderator(db, "mod")
    first = make_comment(db, body="同一作者的第一則", author_hash="b" * 64)
    second = make_comment(db, body="同一作者的第二則", author_hash="b" * 64,
                          created_at=first.created_at + timedelta(minutes=1))
    page = browser_page
    sign_in_to_the_queue(page, live_server, "mod")
    wait_for_the_keyboard(page)
    counts = page.locator(f"#card-{second.id} [data-author-history]")
    expect(counts).to_contain_text("通過 0")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f"#decided-{first.id}")).to_be_visible()
    expect(counts).to_contain_text("通過 1")
    expect(counts).to_contain_text("待審 1")
