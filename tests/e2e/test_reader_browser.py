"""A reader in a real Chromium: reads with and without pinyin, posts, makes a mistake."""

import pytest
from playwright.sync_api import expect

from moderation.models import CommentStatus
from tests.conftest import CAPTCHA_TEXT, make_comment
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # a live server in another thread: real commits

ARTICLE = "/articles/inspection-testing-excellent-cases"


def notice_has_focus_in_view(page) -> bool:
    """After posting or reporting, a screen reader hears the notice and a sighted reader sees it."""
    page.wait_for_load_state("load")
    return page.evaluate("""() => {
        const notice = document.getElementById("notice");
        const box = notice.getBoundingClientRect();
        return document.activeElement === notice && box.top >= -1 && box.bottom <= innerHeight;
    }""")


def rt_display(page):
    return page.eval_on_selector("ruby rt", "element => getComputedStyle(element).display")


def test_reader_toggles_pinyin_and_posts_anonymously(live_server, browser_page, tmp_path):
    page = browser_page
    page.goto(live_server + ARTICLE)
    assert page.locator("ruby").count() == 333
    assert page.locator("ruby", has_text="網").first.inner_text().startswith("網")
    assert rt_display(page) != "none"

    page.get_by_role("button", name="隱藏拼音").click()
    page.locator("body.pinyin-hidden").wait_for(state="attached")
    assert rt_display(page) == "none"
    page.wait_for_timeout(300)  # the preference is saved in the background
    page.reload()
    assert rt_display(page) == "none"
    page.get_by_role("button", name="顯示拼音").click()
    assert rt_display(page) != "none"

    page.get_by_label("匿名（顯示為「匿名網友」）").check()
    page.get_by_label("評論內容").fill("檢驗檢測很重要，支持國產儀器！")
    page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
    page.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT.lower())
    page.get_by_label("評論內容").press("Control+Enter")  # sends it, as 送出評論 does

    page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")
    assert notice_has_focus_in_view(page)
    waiting = page.locator(".comment.is-waiting")
    assert "檢驗檢測很重要" in waiting.inner_text()
    assert "匿名網友" in waiting.inner_text() and "審核中" in waiting.inner_text()
    page.screenshot(path=str(tmp_path / "article-after-post.png"), full_page=True)


def test_wrong_captcha_keeps_the_text(live_server, browser_page, tmp_path):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("讀者小林")
    page.get_by_label("評論內容").fill("請保留我打的字")
    page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
    page.get_by_label("請輸入驗證碼").fill("WRNG")
    page.get_by_label("請輸入驗證碼").press("Enter")

    # The summary is the alert and has the focus; the field's message is tied to the field.
    expect(page.locator("#form-status[role=alert]")).to_be_focused()
    error = page.locator("#captcha_answer-error")
    assert error.inner_text() == "請輸入正確驗證碼"
    assert "captcha_answer-error" in page.get_by_label("請輸入驗證碼").get_attribute("aria-describedby")
    assert page.get_by_label("評論內容").input_value() == "請保留我打的字"
    assert page.get_by_label("暱稱").input_value() == "讀者小林"
    assert page.get_by_label("請輸入驗證碼").input_value() == ""
    page.screenshot(path=str(tmp_path / "wrong-captcha.png"), full_page=True)


def test_new_captcha_without_reloading(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("評論內容").fill("草稿")
    page.locator("[data-captcha-media] img").wait_for()  # writing fetched a token and a challenge
    before = page.input_value("[data-captcha-id]")
    page.get_by_role("button", name="換一張").click()
    expect(page.locator("[data-captcha-id]")).not_to_have_value(before)
    assert page.get_by_label("評論內容").input_value() == "草稿"
    image = page.locator("[data-captcha-media] img")
    assert page.input_value("[data-captcha-id]") in image.get_attribute("src")


def test_audio_stays_chosen_when_a_new_challenge_is_asked_for(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("評論內容").fill("草稿")
    page.locator("[data-captcha-media] img").wait_for()
    page.get_by_role("button", name="改聽語音").click()
    page.locator("[data-captcha-media] audio").wait_for()
    # The player has the focus and waits to be played: a screen reader's words would talk over it.
    expect(page.locator("[data-captcha-media] audio")).to_be_focused()
    assert page.evaluate("document.querySelector('[data-captcha-media] audio').paused")
    before = page.input_value("[data-captcha-id]")
    page.get_by_role("button", name="換一段語音").click()  # named for what it gives while listening
    expect(page.locator("[data-captcha-id]")).not_to_have_value(before)
    expect(page.locator("[data-captcha-media] audio")).to_have_count(1)
    assert page.input_value("[data-captcha-medium]") == "audio"
    page.get_by_role("button", name="改看圖片").click()
    page.locator("[data-captcha-media] img").wait_for()
    assert page.input_value("[data-captcha-medium]") == "image"
    expect(page.get_by_role("button", name="換一張")).to_be_visible()


@pytest.mark.parametrize(("browser_locale", "page_language", "heard"), [("zh-TW", "en", "en"), ("en-US", "zh-Hans", "zh-Hans")])
def test_the_audio_challenge_speaks_the_pages_language_not_the_browsers(live_server, browser, browser_locale,
                                                                      page_language, heard):
    page = browser.new_context(locale=browser_locale).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}{ARTICLE}?lang={page_language}")
    page.locator("#body").fill("草稿")
    page.locator("[data-captcha-media] img").wait_for()
    page.locator("[data-captcha-switch]").click()
    audio = page.locator("[data-captcha-media] audio")
    audio.wait_for()
    answer = page.request.get(live_server + audio.get_attribute("src"))
    assert answer.status == 200 and answer.headers["content-language"] == heard


def test_glosses_are_readable_pinyin_apart_from_their_neighbours(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    measured = page.evaluate("""() => {
        const glosses = [...document.querySelectorAll(".article-body rt")];
        const sizes = glosses.map(rt => parseFloat(getComputedStyle(rt).fontSize));
        let touching = 0, neighbours = 0;
        for (let i = 1; i < glosses.length; i++) {
            const a = glosses[i - 1].getBoundingClientRect(), b = glosses[i].getBoundingClientRect();
            if (Math.abs(a.top - b.top) > 1 || glosses[i - 1].parentElement.nextSibling !== glosses[i].parentElement) continue;
            neighbours++;
            const pad = el => parseFloat(getComputedStyle(el).paddingLeft) + parseFloat(getComputedStyle(el).paddingRight);
            const glyphGap = b.left - a.right + (pad(glosses[i - 1]) + pad(glosses[i])) / 2;
            if (glyphGap < 2) touching++;
        }
        return {smallest: Math.min(...sizes), languages: [...new Set(glosses.map(rt => rt.lang))],
                neighbours, touching};
    }""")
    assert measured["languages"] == ["zh-Latn-pinyin"]
    assert measured["smallest"] >= 12
    assert measured["neighbours"] > 20 and measured["touching"] == 0


def test_a_screen_reader_hears_the_articles_words_without_their_pinyin(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    body = page.locator(".article-body")
    expect(body.locator("rt").first).to_have_attribute("aria-hidden", "true")
    heard = body.aria_snapshot()
    assert "檢驗檢測" in heard.replace(" ", "") and "yàn" not in heard
    assert body.locator("rt").first.is_visible()  # still shown: the glosses are for the eye


def test_the_audio_limit_is_said_with_its_wait(live_server, browser_page, app):
    """The player alone would show 0:00: the reader is told the limit and how long to wait."""
    app.config["CAPTCHA_AUDIO_RATE_LIMIT"] = "1 per hour"
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("評論內容").fill("草稿")
    page.locator("[data-captcha-media] img").wait_for()
    status = page.locator("[data-captcha-status]")
    page.get_by_role("button", name="改聽語音").click()
    page.locator("[data-captcha-media] audio").wait_for()
    page.evaluate("document.querySelector('[data-captcha-media] audio').play().catch(() => {})")  # the reader plays it
    wait_until(page, "() => document.querySelector('[data-captcha-media] audio').readyState > 0")
    assert status.is_hidden()
    before = page.input_value("[data-captcha-id]")
    page.get_by_role("button", name="換一段語音").click()  # a second audio challenge: over the limit once played
    expect(page.locator("[data-captcha-id]")).not_to_have_value(before)
    page.evaluate("document.querySelector('[data-captcha-media] audio').play().catch(() => {})")
    expect(status).to_be_visible()
    text = status.inner_text()
    assert text.startswith("語音驗證碼的播放次數已達上限，請於 ") and "秒後再試，或改看圖片" in text
    seconds = int(text.split("請於 ")[1].split(" 秒")[0])
    assert 0 < seconds <= 3600
    assert page.get_by_label("評論內容").input_value() == "草稿"


def test_phone_width_has_no_horizontal_scroll(live_server, browser, tmp_path, db):
    make_comment(db, status=CommentStatus.APPROVED, body="手機上也要能檢舉的評論" * 5)
    context = browser.new_context(locale="zh-TW", viewport={"width": 360, "height": 780}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(live_server + ARTICLE)
    page.get_by_role("link", name="檢舉").first.click()
    expect(page.get_by_label("人身攻擊")).to_be_visible()  # shown once its token is fetched
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)


def test_reader_without_javascript_posts_from_the_shared_page(live_server, browser, db, tmp_path):
    context = browser.new_context(locale="zh-TW", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + ARTICLE)
    assert page.locator("[data-captcha-live]").is_hidden()
    page.get_by_label("暱稱").fill("不用腳本的讀者")
    page.get_by_label("評論內容").fill("沒有 JavaScript 也能留言")
    with page.expect_response(lambda response: "/captcha/" in response.url):  # the challenge, made by its image
        page.get_by_role("button", name="送出評論", exact=True).last.click()

    page.wait_for_selector("text=請輸入驗證碼，再按「送出評論」")
    assert page.get_by_label("評論內容").input_value() == "沒有 JavaScript 也能留言"
    assert page.get_by_label("暱稱").input_value() == "不用腳本的讀者"
    page.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT)
    page.get_by_role("button", name="送出評論", exact=True).last.click()

    page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")
    assert "沒有 JavaScript 也能留言" in page.locator(".comment.is-waiting").inner_text()
    page.screenshot(path=str(tmp_path / "no-javascript-posted.png"), full_page=True)


def test_older_comments_are_appended_in_place(live_server, app, browser_page, db):
    from datetime import UTC, datetime, timedelta

    app.config["COMMENTS_PAGE_SIZE"] = 5
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for index in range(12):
        make_comment(db, status=CommentStatus.APPROVED, body=f"第{index:02d}則評論", created_at=start + timedelta(minutes=index))
    page = browser_page
    page.goto(live_server + ARTICLE)
    bodies = page.locator("[data-comment-list] .comment-body")
    assert bodies.count() == 5 and bodies.first.inner_text() == "第11則評論"
    page.get_by_role("link", name="較早的評論 →").click()
    expect(page.locator("[data-comment-list] > li")).to_have_count(10)
    assert page.url.endswith(ARTICLE)  # appended, not navigated
    assert page.evaluate("document.activeElement.querySelector('.comment-body').textContent") == "第06則評論"
    page.get_by_role("link", name="較早的評論 →").click()
    expect(page.locator("[data-comment-list] > li")).to_have_count(12)
    assert page.get_by_role("link", name="較早的評論 →").count() == 0
    texts = bodies.all_inner_texts()
    assert texts == [f"第{index:02d}則評論" for index in range(11, -1, -1)]


def test_reporting_from_the_shared_page_uses_its_one_form(live_server, browser_page, db):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="要檢舉的評論")
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_role("link", name="檢舉").first.click()
    form = page.locator("[data-report-form]")
    form.wait_for(state="visible")
    assert page.locator(f"#comment-{comment.id} [data-report-form]").count() == 1
    form.get_by_role("button", name="送出檢舉").click()  # no reason chosen: held back, said in the page's words
    assert page.evaluate("document.querySelector('[data-report-form] input[name=reason]').validationMessage") \
        == "請選擇檢舉原因"
    page.get_by_label("人身攻擊").check()
    assert page.evaluate("document.querySelector('[data-report-form]').checkValidity()")
    form.get_by_role("button", name="送出檢舉").click()
    status = page.locator(f"#comment-{comment.id} [data-report-status]")
    expect(status).to_have_text("已收到您的檢舉，我們會盡快處理")
    assert page.url == live_server + ARTICLE  # reported in place, no reload
    assert page.evaluate("document.activeElement.hasAttribute('data-report-status')")
    expect(page.locator(f"#comment-{comment.id} .reported")).to_have_text("已檢舉")
    assert page.locator(f"#comment-{comment.id} [data-report-link]").count() == 0
    assert form.is_hidden()
    page.reload()  # the reader's own page now: it remembers the report
    expect(page.locator(f"#comment-{comment.id} .reported")).to_have_text("已檢舉")
    assert page.locator(f"#comment-{comment.id} [data-report-link]").count() == 0


def test_reporting_with_words_for_other_in_place(live_server, browser_page, db):
    from moderation.models import CommentReport, ReportReason

    comment = make_comment(db, status=CommentStatus.APPROVED, body="要說明的評論")
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_role("link", name="檢舉").first.click()
    note = page.get_by_label("其他原因（選填）")
    note.fill("冒用\u202e本站記者")  # a reordering character: refused beside the field, the words kept
    assert page.get_by_role("radio", name="其他").is_checked()  # typing the words chose 其他
    page.get_by_role("button", name="送出檢舉").click()
    expect(page.locator("#note-error")).to_have_text("其他原因含有看不見的字元或控制字元，請刪除後再送出")
    assert page.evaluate("document.activeElement.id") == "report-note"
    assert note.get_attribute("aria-invalid") == "true" and note.input_value() == "冒用\u202e本站記者"
    note.fill("冒用本站記者")
    page.get_by_role("button", name="送出檢舉").click()
    expect(page.locator(f"#comment-{comment.id} [data-report-status]")).to_have_text("已收到您的檢舉，我們會盡快處理")
    db.session.expire_all()
    stored = db.session.query(CommentReport).one()
    assert stored.reason is ReportReason.OTHER and stored.note == "冒用本站記者"


def test_reporting_keeps_the_older_comments_loaded_and_escape_closes_the_form(live_server, app, browser_page, db):
    from datetime import UTC, datetime, timedelta

    app.config["COMMENTS_PAGE_SIZE"] = 3
    start = datetime(2026, 11, 20, tzinfo=UTC)
    made = [make_comment(db, status=CommentStatus.APPROVED, body=f"第{index}則", created_at=start + timedelta(minutes=index))
            for index in range(5)]
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_role("link", name="較早的評論 →").click()
    expect(page.locator("[data-comment-list] > li")).to_have_count(5)
    oldest = page.locator(f"#comment-{made[0].id}")
    oldest.get_by_role("link", name="檢舉").click()
    page.locator("[data-report-form]").wait_for(state="visible")
    page.keyboard.press("Escape")
    expect(page.locator("[data-report-form]")).to_be_hidden()
    assert page.evaluate("document.activeElement.hasAttribute('data-report-link')")
    oldest.get_by_role("link", name="檢舉").click()
    page.locator("[data-report-form]").get_by_role("button", name="送出檢舉").click()  # no reason chosen yet
    assert page.evaluate("document.querySelector('[data-report-form] input[name=reason]').validity.valueMissing")
    assert oldest.locator(".reported").count() == 0  # the browser asked for a reason; nothing was sent
    page.locator("[data-report-form]").get_by_label("垃圾廣告").check()
    page.locator("[data-report-form]").get_by_role("button", name="送出檢舉").click()
    expect(oldest.locator(".reported")).to_have_text("已檢舉")
    expect(page.locator("[data-comment-list] > li")).to_have_count(5)  # nothing reloaded


def test_a_first_time_reader_switching_language_gets_the_page_in_it_at_once(live_server, browser_page):
    """The shared page may be kept by shared caches, not by the browser: its cache cannot see the
    `lang` cookie the switch sets, and gave the page back in the old language for ten seconds."""
    page = browser_page
    page.goto(live_server + ARTICLE)
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    with page.expect_navigation():
        page.locator(".language-switch").get_by_role("link", name="English").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    with page.expect_navigation():
        page.locator(".language-switch").get_by_role("link", name="繁體中文").click()
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"


def test_switching_language_after_a_refused_post_keeps_the_draft(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("讀者小林")
    page.get_by_label("評論內容").fill("換語言也不會消失")
    page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
    page.get_by_label("請輸入驗證碼").fill("WRNG")
    page.get_by_label("請輸入驗證碼").press("Enter")
    page.wait_for_selector("#form-status")
    switch = page.locator(".language-switch").get_by_role("button", name="简体中文")
    assert switch.get_attribute("formaction").endswith("/comment#form-status")  # the form page, never the POST-only URL
    with page.expect_navigation() as navigation:
        switch.click()
    response = navigation.value
    assert response.status == 200 and page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.locator("#body").input_value() == "換語言也不會消失"
    assert page.locator("#nickname").input_value() == "讀者小林"


@pytest.mark.parametrize("javascript", [False, True], ids=["no-script", "script"])
def test_on_the_form_page_the_language_switch_keeps_the_draft_and_enter_still_posts(live_server, browser, javascript):
    page = browser.new_context(locale="zh-TW", java_script_enabled=javascript).new_page()
    page.goto(f"{live_server}{ARTICLE}/comment")
    page.get_by_label("暱稱").fill("讀者小林")
    page.get_by_label("評論內容").fill("不用腳本也留得住")
    with page.expect_navigation() as navigation:
        page.locator(".language-switch").get_by_role("button", name="English").click()
    # Without JavaScript the form is sent (the draft travels with it); with it, the switch's link is
    # followed (the draft is in sessionStorage): no page that Back or Reload would post again.
    assert navigation.value.request.method == ("GET" if javascript else "POST")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#body").input_value() == "不用腳本也留得住"
    assert page.locator("#nickname").input_value() == "讀者小林"
    if not javascript:
        expect(page.locator("#form-status")).to_be_focused()  # says the draft was kept
    page.get_by_label("Enter the captcha").fill("WRNG")
    with page.expect_navigation():
        page.get_by_label("Enter the captcha").press("Enter")  # the comment is sent, not a language switch
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.locator("#form-status")).to_contain_text("The comment was not sent")
    assert page.locator("#body").input_value() == "不用腳本也留得住"


def test_the_nickname_is_remembered_and_anonymous_says_it_drops_it(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("常來的讀者")
    page.get_by_label("匿名（顯示為「匿名網友」）").check()
    expect(page.locator("[data-anonymous-note]")).to_have_text("已勾選「匿名」：您輸入的暱稱不會顯示。")
    page.get_by_label("匿名（顯示為「匿名網友」）").uncheck()
    expect(page.locator("[data-anonymous-note]")).to_have_text("")
    page.get_by_label("評論內容").fill("記得我的暱稱")
    page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
    page.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT)
    page.get_by_role("button", name="送出評論", exact=True).last.click()
    page.wait_for_selector("text=您的評論已送出，審核通過後將會公開")
    assert page.get_by_label("評論內容").input_value() == ""  # the draft went with the post
    assert page.get_by_label("暱稱").input_value() == "常來的讀者"


def status_has_focus_in_view(page) -> bool:
    return page.evaluate("""() => {
        const status = document.getElementById("form-status");
        const box = status.getBoundingClientRect();
        return document.activeElement === status && box.top >= -1 && box.bottom <= innerHeight;
    }""")


def test_a_refused_post_gives_its_error_summary_the_focus_and_keeps_it(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("讀者小林")
    page.get_by_label("評論內容").fill("請保留我打的字")
    page.locator("img[alt^='驗證碼圖片']").scroll_into_view_if_needed()
    page.get_by_label("請輸入驗證碼").fill("WRNG")
    page.get_by_label("請輸入驗證碼").press("Enter")
    page.wait_for_selector("#form-status")
    page.wait_for_load_state("load")
    assert [line for line in page.inner_text("#form-status").splitlines() if line] == ["評論尚未送出，請修正標示的欄位。", "驗證碼：請輸入正確驗證碼"]
    assert status_has_focus_in_view(page)
    page.wait_for_timeout(300)  # no later fragment navigation takes it away
    assert status_has_focus_in_view(page)
    page.locator("#form-status").get_by_role("link", name="驗證碼：請輸入正確驗證碼").click()
    expect(page.get_by_label("請輸入驗證碼")).to_be_focused()  # the summary's link leads to the field


def test_without_javascript_the_error_summary_takes_the_focus_too(live_server, browser):
    context = browser.new_context(locale="zh-TW", java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + ARTICLE + "/comment")
    page.get_by_label("暱稱").fill("讀者小林")
    page.get_by_label("評論內容").fill("沒有腳本")
    page.get_by_label("請輸入驗證碼").fill("WRNG")
    page.get_by_role("button", name="送出評論", exact=True).last.click()
    page.wait_for_selector("#form-status")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert status_has_focus_in_view(page)


def test_enter_in_the_nickname_moves_on_and_sends_nothing(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("讀者小林")
    page.get_by_label("暱稱").press("Enter")
    assert page.evaluate("document.activeElement.id") == "body"
    page.wait_for_timeout(200)
    assert page.url == live_server + ARTICLE and page.locator("#form-status").count() == 0


def test_an_empty_text_is_refused_by_the_browser_before_the_captcha(live_server, browser_page, db):
    from moderation.models import CaptchaFailure

    page = browser_page
    page.goto(live_server + ARTICLE)
    page.get_by_label("暱稱").fill("讀者小林")
    page.locator("[data-captcha-media] img").wait_for()
    page.get_by_label("請輸入驗證碼").fill("K7PX")
    page.get_by_label("請輸入驗證碼").press("Enter")
    page.wait_for_timeout(300)
    assert page.url == live_server + ARTICLE  # not sent
    assert page.evaluate("document.activeElement.id") == "body"
    # Said in the page's language, not the browser's ("Please fill out this field.").
    assert page.evaluate("document.getElementById('body').validationMessage") == "請輸入評論內容"
    page.get_by_label("評論內容").fill("   \n  ")  # spaces alone: `required` would let them through
    page.get_by_label("請輸入驗證碼").press("Enter")
    page.wait_for_timeout(300)
    assert page.url == live_server + ARTICLE and page.evaluate("document.activeElement.id") == "body"
    assert page.evaluate("document.getElementById('body').validationMessage") == "請輸入評論內容"
    page.get_by_label("評論內容").fill("有內容了")
    assert page.evaluate("document.getElementById('body').checkValidity()")
    page.get_by_label("請輸入驗證碼").fill("")
    assert page.evaluate("document.getElementById('captcha_answer').reportValidity()") is False
    assert page.evaluate("document.getElementById('captcha_answer').validationMessage") == "請輸入驗證碼"
    assert db.session.query(CaptchaFailure).count() == 0


def test_the_counter_and_the_nickname_check_follow_the_typing(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    counter = page.locator("[data-counter]")
    expect(counter).to_have_text("0/2000")
    page.get_by_label("評論內容").fill("五個字評論")
    expect(counter).to_have_text("5/2000")
    assert page.locator("[data-counter-status]").inner_text() == ""  # quiet far from the limit
    page.get_by_label("評論內容").fill("字" * 1995)
    expect(page.locator("[data-counter-status]")).to_have_text("還可輸入 5 個字")
    # A longer paste is kept whole (no maxlength cut it short), said, and holds the form back.
    page.get_by_label("評論內容").fill("字" * 2100)
    assert len(page.get_by_label("評論內容").input_value()) == 2100
    expect(counter).to_have_text("2100/2000")
    expect(page.locator("[data-counter-status]")).to_have_text("超過上限 100 個字，請刪減後再送出")
    assert page.evaluate("document.getElementById('body').validationMessage") == "超過上限 100 個字，請刪減後再送出"
    page.get_by_label("評論內容").fill("字" * 1995)
    assert page.evaluate("document.getElementById('body').checkValidity()")

    nickname = page.get_by_label("暱稱")
    nickname.fill("管理員")
    error = page.locator("#nickname-error")
    expect(error).to_contain_text("可能被誤認為本站人員")
    assert nickname.get_attribute("aria-invalid") == "true"
    assert "nickname-error" in nickname.get_attribute("aria-describedby")
    assert page.evaluate("!document.getElementById('nickname').checkValidity()")  # the form will not go
    nickname.fill("讀者小林")
    expect(error).to_have_count(0)
    assert page.evaluate("document.getElementById('nickname').checkValidity()")
    assert nickname.get_attribute("aria-invalid") is None


def test_a_page_reached_by_its_language_url_checks_the_nickname_as_any_other(live_server, browser_page):
    """Its links carry ?lang=, the nickname check's URL among them: the check once asked for
    `…?lang=zh-Hant?nickname=…`, heard "missing" for every nickname, and the form would not go."""
    page = browser_page
    page.goto(live_server + ARTICLE + "?lang=zh-Hant")
    nickname = page.get_by_label("暱稱")
    with page.expect_response(lambda response: "/nickname-check" in response.url) as checked:
        nickname.fill("讀者小林")
    assert checked.value.json() == {"problem": None}
    expect(page.locator("#nickname-error")).to_have_count(0)
    assert page.evaluate("document.getElementById('nickname').checkValidity()")
    with page.expect_response(lambda response: "/nickname-check" in response.url):
        nickname.fill("管理員")
    expect(page.locator("#nickname-error")).to_contain_text("可能被誤認為本站人員")


def test_hidden_glosses_give_back_the_tall_lines_and_invalid_fields_show_red(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    ratio = "() => { const s = getComputedStyle(document.querySelector('.article-body')); return parseFloat(s.lineHeight) / parseFloat(s.fontSize); }"
    assert page.evaluate(ratio) > 2.2
    page.get_by_role("button", name="隱藏拼音").click()
    page.locator("body.pinyin-hidden").wait_for(state="attached")
    assert page.evaluate(ratio) < 2
    page.get_by_label("暱稱").fill("管理員")
    expect(page.locator("#nickname-error")).to_be_visible()
    border = page.eval_on_selector("#nickname", "e => [getComputedStyle(e).borderTopWidth, getComputedStyle(e).borderTopColor]")
    assert border == ["2px", "rgb(176, 0, 32)"]


# Phones (19.13): the comments first, the form behind 寫評論, a bar at the foot of the screen.

def phone(browser, base: str, *, width=390, language=None, javascript=True):
    context = browser.new_context(locale="zh-TW", viewport={"width": width, "height": 844}, is_mobile=True,
                                  device_scale_factor=2, java_script_enabled=javascript)
    if language:
        context.add_cookies([{"name": "lang", "value": language, "url": base}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const b = e.getBoundingClientRect(); return {top: b.top, bottom: b.bottom}; }")


def bar_is_seen(page) -> bool:
    """The bar is on screen and nothing covers its link."""
    return page.evaluate("""() => {
        const link = document.querySelector("[data-comment-bar] a"), b = link.getBoundingClientRect();
        const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
        return b.height > 0 && b.top >= 0 && b.bottom <= innerHeight && link.contains(hit);
    }""")


def test_on_a_phone_the_comments_come_first_and_the_form_opens_in_place(live_server, browser, db, tmp_path):
    for index in range(3):
        make_comment(db, status=CommentStatus.APPROVED, body=f"第{index}則手機評論")
    context, page = phone(browser, live_server)
    page.goto(live_server + ARTICLE)
    expect(page.locator("#comment-form")).to_be_hidden()  # folded
    heading, first = box(page, "#comments-heading"), box(page, "[data-comment-list] > li")
    assert first["bottom"] - heading["top"] <= 844, (heading, first)  # within one screen
    opener = page.get_by_role("button", name="寫評論")
    assert opener.get_attribute("aria-expanded") == "false"
    opener.click()
    expect(page.locator("#comment-form")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "nickname"
    expect(opener).to_be_hidden()
    page.screenshot(path=str(tmp_path / "phone-composer-open.png"))


def test_on_a_phone_the_bar_leads_from_the_article_to_the_comments(live_server, browser, db, tmp_path):
    for index in range(2):
        make_comment(db, status=CommentStatus.APPROVED, body=f"第{index}則")
    context, page = phone(browser, live_server)
    page.goto(live_server + ARTICLE)
    link = page.locator("[data-comment-bar] a")
    assert link.inner_text() == "寫評論 · 2 則評論"
    assert bar_is_seen(page)
    page.mouse.wheel(0, 4000)  # reading on
    page.wait_for_timeout(200)
    assert bar_is_seen(page)
    page.screenshot(path=str(tmp_path / "phone-reading.png"))
    link.click()
    wait_until(page, "location.hash === '#comments'")
    heading = box(page, "#comments-heading")
    assert 0 <= heading["top"] and heading["bottom"] <= 844
    expect(page.locator("#comment-form")).to_be_visible()  # and the form is open
    assert page.evaluate("document.activeElement.id") == "comments"


def test_the_bar_never_covers_what_takes_the_focus(live_server, browser, db):
    context, page = phone(browser, live_server)
    page.goto(live_server + ARTICLE)
    # A link in the article (as an editor may write one) lying under the bar when it takes the focus
    # is scrolled clear of it.
    page.evaluate("""() => {
        const link = document.createElement("a");
        link.href = "#elsewhere";
        link.id = "in-article";
        link.textContent = "相關報導";
        document.querySelectorAll(".article-body p")[5].appendChild(link);
        scrollTo(0, link.getBoundingClientRect().top + scrollY - innerHeight + 30);
    }""")
    assert box(page, "#in-article")["top"] > box(page, "[data-comment-bar]")["top"]  # under the bar
    page.locator("#in-article").focus()
    focused, bar = box(page, "#in-article"), box(page, "[data-comment-bar]")
    assert focused["bottom"] <= bar["top"], (focused, bar)


@pytest.mark.parametrize(("language", "words"), [("zh-Hans", "写评论 · 18 条评论"), ("en", "Write a comment · 18 comments")])
def test_the_bar_speaks_the_readers_language(live_server, browser, db, language, words):
    for _ in range(18):
        make_comment(db, status=CommentStatus.APPROVED)
    context, page = phone(browser, live_server, language=language, width=320)
    page.goto(live_server + ARTICLE)
    bar = page.locator("[data-comment-bar] a")
    assert bar.inner_text() == words
    lines = page.eval_on_selector("[data-comment-bar] a", """a => { const r = document.createRange();
        r.selectNodeContents(a); return new Set(Array.from(r.getClientRects(), b => Math.round(b.top))).size; }""")
    assert lines == 1  # one line, even at 320 px in English


def test_the_bar_and_the_fold_are_for_phones_only(live_server, browser_page):
    page = browser_page
    page.goto(live_server + ARTICLE)
    expect(page.locator("[data-comment-bar]")).to_be_hidden()
    expect(page.get_by_role("button", name="寫評論")).to_be_hidden()
    expect(page.locator("#comment-form")).to_be_visible()


def test_on_a_phone_without_javascript_the_form_is_open_and_posts(live_server, browser, db):
    context, page = phone(browser, live_server, javascript=False)
    page.goto(live_server + ARTICLE)
    expect(page.locator("#comment-form")).to_be_visible()
    page.locator("[data-comment-bar] a").click()
    page.wait_for_url("**#comments")
    heading = box(page, "#comments-heading")
    assert 0 <= heading["top"] and heading["bottom"] <= 844
    page.get_by_label("暱稱").fill("手機讀者")
    page.get_by_label("評論內容").fill("手機上沒有腳本也能留言")
    with page.expect_response(lambda response: "/captcha/" in response.url):  # the challenge, made by its image
        page.get_by_role("button", name="送出評論", exact=True).last.click()
    page.wait_for_selector("text=請輸入驗證碼，再按「送出評論」")
    assert page.get_by_label("評論內容").input_value() == "手機上沒有腳本也能留言"


@pytest.mark.parametrize("width", [320, 390])
@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_nothing_scrolls_sideways_on_a_phone(live_server, browser, db, width, javascript):
    make_comment(db, status=CommentStatus.APPROVED, body="很長的評論" * 20)
    context, page = phone(browser, live_server, width=width, javascript=javascript)
    page.goto(live_server + ARTICLE)
    if javascript:
        page.get_by_role("button", name="寫評論").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_pages_of_their_own_start_with_the_way_back_not_with_a_gap(live_server, browser_page, db):
    """The thread page and the form page are not set apart from an article above them: their ← 回到文章
    is the first thing under the header, with no rule or empty band before it."""
    top = make_comment(db, status=CommentStatus.APPROVED, body="有回覆的評論")
    page = browser_page
    for path in (f"{ARTICLE}/comments/{top.id}/replies", f"{ARTICLE}/comment?reply_to={top.id}"):
        page.goto(live_server + path)
        gap = page.evaluate("""() => document.querySelector('.back-link').getBoundingClientRect().top
                                     - document.querySelector('main').getBoundingClientRect().top""")
        assert gap <= 40, (path, gap)  # main's padding and the paragraph's margin; the band was 50 px more
        assert page.evaluate("getComputedStyle(document.querySelector('section.comments')).borderTopWidth") == "0px"
