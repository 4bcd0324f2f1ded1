"""The embedded comment section in a newsroom's page, in Chromium with third-party cookies blocked.

The host page is served from http://127.0.0.1:PORT1 by a tiny static server; the service runs at
http://localhost:PORT2: two sites, so the frame is a third party. The browser's profile blocks
third-party cookies by its preference (what a reader sets in chrome://settings/cookies); a control
test shows the same probe keeping a cookie in the frame when the profile allows them. (Chromium's
switch --test-third-party-cookie-phaseout changed nothing here, and Playwright's ordinary contexts,
being off the record, block them whatever the switch.)"""

from __future__ import annotations

import http.server
import json
import re
import time

import pytest
from playwright.sync_api import expect

from moderation.models import CommentStatus
from tests.conftest import ARTICLE_SLUG, CAPTCHA_TEXT, make_comment
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, served, wait_until
from tests.servers import in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.committing]  # live servers in other threads: real commits


@pytest.fixture
def service(app):
    """The service under another site's name than the host page's (localhost, not 127.0.0.1)."""
    with served(app) as port:
        yield f"http://localhost:{port}"


@pytest.fixture
def host(tmp_path, service, app):
    """The newsroom's site: one page with the script tag, one with a plain iframe."""
    folder = tmp_path / "host"
    folder.mkdir()
    (folder / "script.html").write_text(
        '<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>新聞</title></head><body>'
        "<h1>新聞網站的文章</h1>"
        f'<script src="{service}/static/embed.js" data-article="{ARTICLE_SLUG}" data-lang="zh-Hant"></script>'
        "</body></html>", encoding="utf-8")
    (folder / "english.html").write_text(  # no data-lang: the frame's title follows the host page's language
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>News</title></head><body>'
        f'<h1>An article</h1><script src="{service}/static/embed.js" data-article="{ARTICLE_SLUG}"></script>'
        "</body></html>", encoding="utf-8")
    (folder / "fixed.html").write_text(  # a site in one language: the frame without its switch
        '<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>新聞</title></head><body>'
        f'<script src="{service}/static/embed.js" data-article="{ARTICLE_SLUG}" data-lang="zh-Hant"'
        ' data-language-switch="off"></script></body></html>', encoding="utf-8")
    (folder / "iframe.html").write_text(
        '<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>新聞</title></head><body>'
        f'<iframe src="{service}/embed/{ARTICLE_SLUG}" title="網友評論" style="width:100%;height:1800px"></iframe>'
        "</body></html>", encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    with in_thread(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)) as server:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        app.config["EMBED_ALLOWED_ORIGINS"] = [origin]
        yield origin


@pytest.fixture
def open_browser(playwright_driver, tmp_path):
    """A Chromium profile of its own whose preferences block (or allow) third-party cookies, as a
    reader sets them in chrome://settings/cookies; the context's `close` ends the browser."""
    contexts = []

    def open_browser(*, third_party_cookies: bool = False, javascript: bool = True):
        profile = tmp_path / f"profile-{len(contexts)}"
        (profile / "Default").mkdir(parents=True)
        (profile / "Default" / "Preferences").write_text(json.dumps({"profile": {
            "block_third_party_cookies": not third_party_cookies, "cookie_controls_mode": 0 if third_party_cookies else 1,
        }}))
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, locale="zh-TW",
            viewport={"width": 1000, "height": 800}, java_script_enabled=javascript)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_browser
    for context in contexts:
        context.close()


def comment_frame(page):
    return next(frame for frame in page.frames if "/embed/" in frame.url)


def cookie_kept_in_frame(page) -> str:
    """What the frame reads back of a cookie it sets for itself: '' when the browser keeps none."""
    return comment_frame(page).evaluate("document.cookie = 'probe=1; SameSite=None; Secure; path=/'; document.cookie")


def test_the_profile_decides_whether_the_frame_keeps_a_cookie(open_browser, host):
    """The control for the tests below: the same probe sees the cookie when the profile allows them."""
    for allowed, expected in ((True, "probe=1"), (False, "")):
        page = open_browser(third_party_cookies=allowed).new_page()
        page.goto(host + "/iframe.html")
        page.frame_locator("iframe").get_by_text("所有評論僅代表網友意見,與本站立場無關").wait_for()
        assert cookie_kept_in_frame(page) == expected


def assert_frame_fits_its_content(page, timeout: float = 10.0) -> None:
    """The frame's height (set by embed.js) comes to its content's, with nothing cut off."""
    deadline = time.monotonic() + timeout
    while True:
        content = comment_frame(page).evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        framed = page.evaluate("Math.round(document.querySelector('iframe').getBoundingClientRect().height)")
        if abs(framed - content) <= 1:
            return
        assert time.monotonic() < deadline, f"frame {framed} px, its content {content} px"
        page.wait_for_timeout(50)


def post_and_report(page, frame) -> None:
    frame.get_by_label("暱稱").fill("嵌入的讀者")
    frame.get_by_label("評論內容").fill("在新聞網站上留言")
    with page.expect_response(lambda response: "/captcha/" in response.url):  # the challenge, made by its image
        frame.get_by_role("button", name="送出評論", exact=True).last.click()
    frame.get_by_text("請輸入驗證碼，再按「送出評論」").wait_for()
    assert frame.get_by_label("評論內容").input_value() == "在新聞網站上留言"
    frame.get_by_label("請輸入驗證碼").fill(CAPTCHA_TEXT)
    frame.get_by_role("button", name="送出評論", exact=True).last.click()
    frame.get_by_text("您的評論已送出，審核通過後將會公開").wait_for()
    expect(frame.locator(".own-list")).to_contain_text("在新聞網站上留言")

    frame.get_by_role("link", name="檢舉").first.click()
    frame.get_by_role("heading", name="檢舉評論").wait_for()
    frame.get_by_label("人身攻擊").check()
    frame.get_by_role("button", name="送出檢舉").click()
    frame.get_by_text("已收到您的檢舉，我們會盡快處理").wait_for()


def test_the_script_tag_frames_sizes_and_lets_a_reader_post_and_report(open_browser, host, service, app, db,
                                                                         tmp_path):
    make_comment(db, status=CommentStatus.APPROVED, body="要檢舉的評論")
    requests_cookies: list[str] = []
    page = open_browser().new_page()
    page.on("request", lambda request: requests_cookies.append(request.headers.get("cookie", ""))
            if request.url.startswith(service) else None)
    page.goto(host + "/script.html")
    page.locator("iframe[data-comment-embed-height]").wait_for(state="attached")
    assert cookie_kept_in_frame(page) == ""
    # The host page cannot look into the frame; the frame told it only its height.
    assert page.evaluate("document.querySelector('iframe').contentDocument") is None
    assert_frame_fits_its_content(page)
    height = int(page.locator("iframe").get_attribute("data-comment-embed-height"))
    assert height > 400
    # A height from anyone but the frame (here the host page itself) is not heard: once the host's
    # own listener, added after embed.js's, has seen the message, embed.js has already ignored it.
    page.evaluate("window.addEventListener('message', (event) => { if (event.data.height === 7) window.seen = 1; });"
                  "window.postMessage({type: 'moderation-embed:height', height: 7}, '*')")
    wait_until(page, "window.seen === 1")
    assert page.locator("iframe").get_attribute("data-comment-embed-height") == str(height)

    post_and_report(page, page.frame_locator("iframe"))
    # After the frame's own navigations the height still comes (the frame kept the parent origin).
    wait_until(page, f"document.querySelector('iframe').dataset.commentEmbedHeight !== '{height}'")
    assert_frame_fits_its_content(page)
    assert page.url == host + "/script.html"  # everything happened inside the frame
    assert not any(requests_cookies), requests_cookies  # the service never saw a cookie
    # Not full_page: Chromium paints a cross-site frame only within the viewport it had.
    page.set_viewport_size({"width": 1000, "height": 1800})
    assert_frame_fits_its_content(page)
    page.screenshot(path=str(tmp_path / "embed-script.png"))


def test_after_a_like_or_a_report_the_frame_gives_the_focus_back_where_the_reader_was(open_browser, host, db):
    """The frame has no reader.js: each posts and the frame comes back; the focus did not stay at its top."""
    older = make_comment(db, status=CommentStatus.APPROVED, body="較早的評論")
    liked = make_comment(db, status=CommentStatus.APPROVED, body="要按讚的評論")
    page = open_browser().new_page()
    page.goto(host + "/script.html")
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="讚", exact=False).nth(1).wait_for()
    frame.locator(f"#comment-{older.id} [data-like] button").click()
    expect(frame.locator(f"#comment-{older.id} [data-like] button")).to_contain_text("1")
    wait_until(comment_frame(page), f"document.activeElement.closest('li') && document.activeElement.closest('li').id === 'comment-{older.id}'")
    # On the notice beside the liked comment, which says it (a pressed button alone is not announced).
    assert comment_frame(page).evaluate("document.activeElement.id === 'notice'")
    expect(frame.locator(f"#comment-{older.id} #notice")).to_have_text("已按讚。")
    frame.locator(f"#comment-{liked.id}").get_by_role("link", name="檢舉").click()
    frame.get_by_label("人身攻擊").check()
    frame.get_by_role("button", name="送出檢舉").click()
    frame.get_by_text("已收到您的檢舉，我們會盡快處理").wait_for()
    wait_until(comment_frame(page), "document.activeElement.id === 'notice'")


def in_view_of_the_host(page, selector: str) -> bool:
    """Whether an element of the frame is inside the host page's viewport (the frame is as tall as
    its content: only the host page scrolls)."""
    frame_top = page.locator("iframe").bounding_box()["y"]
    inner = comment_frame(page).evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top")
    return 0 <= frame_top + inner <= page.viewport_size["height"] - 40


def test_on_a_phone_the_host_page_brings_a_reports_notice_and_a_replys_box_into_view(open_browser, host, db):
    """The frame comes back at its new height after a post; the host page scrolls to what took the
    focus (it stayed where it was, and the notice was a screen further down)."""
    comments = [make_comment(db, status=CommentStatus.APPROVED, body=f"手機上的第 {number} 則評論" * 6)
                for number in range(6)]
    page = open_browser().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(host + "/script.html")
    frame = page.frame_locator("iframe")
    reported = comments[1]  # listed newest first: near the end of the frame
    frame.locator(f"#comment-{reported.id}").get_by_role("link", name="檢舉").click()
    frame.get_by_label("離題").check()
    frame.get_by_role("button", name="送出檢舉").click()
    frame.get_by_text("已收到您的檢舉，我們會盡快處理").wait_for()
    wait_until(comment_frame(page), "document.activeElement.id === 'notice'")
    assert soon(lambda: in_view_of_the_host(page, "#notice"))
    frame.locator(f"#comment-{comments[2].id}").get_by_role("link", name="回覆").click()
    wait_until(comment_frame(page), "document.activeElement && document.activeElement.name === 'body'")
    assert soon(lambda: in_view_of_the_host(page, "#comment-form textarea[name=body]"))


def soon(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_in_the_frame_a_required_field_is_said_in_the_pages_language(open_browser, host, db):
    """The frame has no reader.js, but every page has required.js: a report sent without its reason
    says 請選擇檢舉原因, not the browser's "Please select one of these options."."""
    reported = make_comment(db, status=CommentStatus.APPROVED, body="沒選原因就檢舉")
    page = open_browser().new_page()
    page.goto(host + "/script.html")
    frame = page.frame_locator("iframe")
    frame.locator(f"#comment-{reported.id}").get_by_role("link", name="檢舉").click()
    frame.get_by_role("button", name="送出檢舉").click()
    reason = comment_frame(page).locator("input[name=reason]").first
    assert reason.evaluate("(field) => field.validationMessage") == "請選擇檢舉原因"
    assert "/report" in comment_frame(page).url  # not sent


def test_a_draft_in_the_frame_survives_its_language_switch(open_browser, host):
    """The frame's language switch is a link (the frame has no reader.js); the draft followed it away."""
    page = open_browser().new_page()
    page.goto(host + "/script.html")
    frame = page.frame_locator("iframe")
    frame.get_by_label("暱稱").fill("嵌入草稿")
    frame.get_by_label("評論內容").fill("嵌入框裡打了一半的評論。")
    frame.get_by_role("link", name="English").click()
    expect(frame.get_by_label("Comment", exact=True)).to_have_value("嵌入框裡打了一半的評論。")
    expect(frame.get_by_label("Nickname")).to_have_value("嵌入草稿")


def test_a_plain_iframe_works_without_javascript(open_browser, host, service, db):
    make_comment(db, status=CommentStatus.APPROVED, body="要檢舉的評論")
    requests_cookies: list[str] = []
    page = open_browser(javascript=False).new_page()
    page.on("request", lambda request: requests_cookies.append(request.headers.get("cookie", ""))
            if request.url.startswith(service) else None)
    page.goto(host + "/iframe.html")
    frame = page.frame_locator("iframe")
    frame.get_by_text("所有評論僅代表網友意見,與本站立場無關").wait_for()
    post_and_report(page, frame)
    assert page.url == host + "/iframe.html"
    assert not any(requests_cookies), requests_cookies


def test_a_site_not_allowed_cannot_frame_it(open_browser, host, service, app, db):
    app.config["EMBED_ALLOWED_ORIGINS"] = ["https://somewhere-else.example"]
    page = open_browser().new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "frame-ancestors" in message.text else None)
    page.goto(host + "/iframe.html")
    wait_until(page, "true")
    page.wait_for_timeout(500)  # the refusal has no event of its own; the console says it
    assert any("frame-ancestors" in text for text in refused), refused
    assert comment_frame_or_none(page) is None


def comment_frame_or_none(page):
    for frame in page.frames:
        if "/embed/" in frame.url:
            try:
                if frame.evaluate("document.body && document.body.innerText.includes('所有評論')"):
                    return frame
            except Exception:
                return None
    return None



def test_data_language_switch_off_leaves_the_switch_out_of_the_frame(host, browser):
    page = browser.new_context(locale="en-US").new_page()
    page.goto(host + "/fixed.html")
    expect(page.locator("iframe")).to_have_attribute("src", re.compile(r"[?&]switch=off(&|$)"))
    frame = page.frame_locator("iframe")
    expect(frame.locator(".disclaimer").first).to_have_text("所有評論僅代表網友意見,與本站立場無關")
    expect(frame.locator(".language-switch")).to_have_count(0)


def test_without_data_lang_the_frames_title_is_in_the_host_pages_language(host, browser):
    """The title is read in the host page, among its English: 「網友評論」 there was a Chinese word
    in an English voice."""
    page = browser.new_context(locale="zh-TW").new_page()
    page.goto(host + "/english.html")
    frame = page.locator("iframe")
    expect(frame).to_have_attribute("title", "Comments")
    expect(frame).to_have_attribute("lang", "en")
