"""Every page type, in each language and at desktop and phone sizes, checked in Chromium by axe-core
(no violation of any rule it runs by default) and by the Nu HTML Checker (no error); none may
scroll sideways.

One walk per language: each page is checked at the desktop size, then the window is narrowed to the
phone's and the page checked again, then widened back. The pages' layout is CSS alone (no script
reads the width), so a narrowed window lays a page out as a phone loading it does; walking twice
cost half again the time of the suite's slowest part.

Both checkers come from npm (package.json: axe-core, vnu-jar); vnu runs on the machine's Java.
`make test` installs them; without them these tests fail under REQUIRE_BROWSER and skip otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from moderation.models import CommentReport, CommentStatus, ReportReason
from tests.conftest import ARTICLE_SLUG, CAPTCHA_TEXT, PASSWORD, make_comment, make_moderator
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.committing]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTICLE = f"/articles/{ARTICLE_SLUG}"
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _missing(tool: Path, what: str):
    message = f"{what} not found at {tool}; `make test` installs it (npm install)"
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Visit:
    """What the checkers saw: axe's violations and the HTML as served, by page type."""

    violations: dict[str, list] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    too_wide: list[str] = field(default_factory=list)  # pages that scroll sideways


# What axe found, cut down in the page: its whole result (every rule that passed, with a node each)
# came back over the wire and was decoded in Python 102 times a language.
_VIOLATIONS = """axe.run(document, {resultTypes: ['violations']}).then((result) => result.violations.map((item) => (
    {id: item.id, impact: item.impact, nodes: item.nodes.slice(0, 5).map((node) => node.target)})))"""


def _check(page, name: str, visit: Visit, response) -> None:
    page.wait_for_load_state("load")
    if response is not None:
        visit.sources[name] = response.text()
    for size, viewport in VIEWPORTS.items():  # desktop first: the walk goes on at the desktop size
        if size != "desktop":
            page.set_viewport_size(viewport)
        visit.violations[f"{name} ({size})"] = page.evaluate(_VIOLATIONS)
        if page.evaluate("() => document.documentElement.scrollWidth > innerWidth"):
            visit.too_wide.append(f"{name} ({size})")
    page.set_viewport_size(VIEWPORTS["desktop"])


def _goto(page, base: str, path: str, name: str, visit: Visit) -> None:
    response = page.goto(base + path)
    _check(page, name, visit, response)


def _submit(page, selector: str, name: str, visit: Visit) -> None:
    with page.expect_navigation() as navigation:
        page.click(selector)
    _check(page, name, visit, navigation.value)


@pytest.fixture
def site(db):
    """An admin, one approved comment that was reported, one pending comment held by a rule."""
    make_moderator(db, "boss", role="admin")
    approved = make_comment(db, status=CommentStatus.APPROVED, body="已公開的評論")
    db.session.add(CommentReport(comment_id=approved.id, reason=ReportReason.SPAM, reporter_hash="c" * 64,
                          reporter_ip_hash="d" * 64, created_at=approved.created_at))
    db.session.commit()
    make_comment(db, body="待審的評論")
    _a_conversation(db, approved)  # before the webhook: its events are delivered to no one
    _webhook_with_a_failed_delivery(db)
    _a_surge_with_its_cluster(db)
    return approved


def _a_conversation(db, approved):
    """Replies under the approved comment (one answering a reply, one pending, one by the site), an
    editors' pick, and a thread whose top comment was refused after its reply was published."""
    from datetime import timedelta

    from moderation.models import Moderator
    from moderation.services.audit import SYSTEM, Actor
    from moderation.services.decisions import Decision, RejectReason, decide
    from moderation.services.listing import replies_changed
    from moderation.services.picks import set_pinned
    from moderation.services.staff_answers import answer_as_site

    at = approved.created_at
    first = make_comment(db, status=CommentStatus.APPROVED, thread_id=approved.id, reply_to_id=approved.id,
                         nickname="回覆的讀者", body="第一則回覆", created_at=at + timedelta(minutes=1))
    for index in range(4):
        make_comment(db, status=CommentStatus.APPROVED, thread_id=approved.id, reply_to_id=first.id,
                     body=f"回覆的回覆{index}", created_at=at + timedelta(minutes=2 + index))
    replies_changed(db.session, approved.id, 5)
    make_comment(db, thread_id=approved.id, reply_to_id=first.id, body="待審的回覆", created_at=at + timedelta(minutes=9))
    boss = db.session.query(Moderator).filter_by(name="boss").one()
    answer_as_site(db.session, first.id, "本站的回答。", actor=Actor.moderator(boss), author_hash="e" * 64,
                   ip_hash="f" * 64, now=at + timedelta(minutes=10), max_length=2000)
    set_pinned(db.session, approved.id, True, actor=SYSTEM, now=at)
    db.session.commit()
    gone = make_comment(db, status=CommentStatus.APPROVED, body="會被拒絕的主評論", created_at=at - timedelta(hours=1))
    make_comment(db, status=CommentStatus.APPROVED, thread_id=gone.id, reply_to_id=gone.id, body="留下來的回覆",
                 created_at=at - timedelta(minutes=30))
    replies_changed(db.session, gone.id, 1)
    db.session.commit()
    assert decide(db.session, gone.id, Decision.REJECT, expected_version=1, actor=SYSTEM, now=at,
                  reason=RejectReason.ABUSE).ok


def _a_surge_with_its_cluster(db):
    """An article in a surge (the queue's banner) with near-identical comments on one card, and the
    dashboard's rollups filled from the comments."""
    from moderation.models import Article, CommentCluster, CommentMode, Surge, SurgeCause
    from moderation.services import rollups

    at = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    article = db.session.query(Article).one()
    surge = Surge(article_id=article.id, cause=SurgeCause.CLUSTER, details={"authors": 3, "comments": 3},
                  started_at=at, last_seen_at=at, previous_mode=CommentMode.POST_MODERATION)
    db.session.add(surge)
    db.session.flush()
    cluster = CommentCluster(article_id=article.id, surge_id=surge.id, key="f" * 64, created_at=at)
    db.session.add(cluster)
    db.session.commit()
    for number in range(3):
        make_comment(db, body="市府這次的檢測報告根本造假，大家一起來抗議！", cluster_id=cluster.id,
                     author_hash=f"{number:064x}", created_at=at)
    rollups.rebuild(db.session)
    rollups.sample_queue(db.session, now=at)
    db.session.commit()


def _webhook_with_a_failed_delivery(db):
    """An endpoint whose one delivery failed: its page shows the problem and the redelivery button."""
    from moderation.models import DeliveryState, WebhookDelivery
    from moderation.services import outbox, webhooks

    at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    endpoint = webhooks.add_endpoint(db.session, "http://127.0.0.1:9/a-rather-long-path/for-the-phone-width/hook",
                                     ["comment.decided", "article.closed"], allow_private=True, now=at)
    # Events the visit does not cause: no delivery is attempted while the pages are checked.
    outbox.record(db.session, "comment.decided", {"comment": {"id": 1}}, now=at)
    db.session.flush()
    delivery = db.session.query(WebhookDelivery).one()
    delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_problem = (
        DeliveryState.FAILED, 12, 500, "http_error")
    endpoint.last_problem, endpoint.last_problem_at = "http_error", at
    db.session.commit()
    return endpoint


def _visit_every_page_type(browser, base: str, approved, language: str) -> Visit:
    if not AXE.exists():
        _missing(AXE, "axe-core")
    visit = Visit()
    context = browser.own_context(viewport=VIEWPORTS["desktop"], bypass_csp=True)  # axe is injected as a script
    context.add_cookies([{"name": "lang", "value": language, "url": base}])
    # axe loads in each page as it starts: injecting its 500 KB script tag per page cost a fifth of the walk.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _goto(page, base, ARTICLE, "article", visit)
        _goto(page, base, f"{ARTICLE}/comments/{approved.id}/report", "report", visit)
        _goto(page, base, "/articles/no-such-article", "not-found", visit)
        _goto(page, base, f"{ARTICLE}/comments/{approved.id}/replies", "thread", visit)
        _goto(page, base, f"{ARTICLE}?sort=hot", "article-hot", visit)
        _goto(page, base, f"{ARTICLE}?script=converted", "article-converted", visit)
        # The embedded comment section (web/embed.py): the shared frame, its form page, its 404.
        _goto(page, base, f"/embed/{ARTICLE_SLUG}", "embed", visit)
        _goto(page, base, f"/embed/{ARTICLE_SLUG}/comment", "embed-form", visit)
        _goto(page, base, f"/embed/{ARTICLE_SLUG}/comments/{approved.id}/report", "embed-report", visit)
        _goto(page, base, "/embed/no-such-article", "embed-not-found", visit)
        page.goto(base + ARTICLE)  # a like of a comment that is gone: the refusal's page
        page.evaluate("() => { const form = document.querySelector('[data-like]');"
                      " form.action = form.action.replace(/comments\\/\\d+\\/like/, 'comments/2147483647/like'); }")
        _submit(page, "[data-like] button", "like-refused", visit)
        _goto(page, base, f"{ARTICLE}/comment?reply_to={approved.id}", "reply-form", visit)
        _goto(page, base, f"{ARTICLE}/comment?reply_to=999999", "reply-refused", visit)

        page.goto(base + f"{ARTICLE}/comment")
        # The browser's own checks would stop an empty form: the server's error page is the one checked.
        page.evaluate("document.querySelector('#comment-form').noValidate = true")
        _submit(page, "button.primary", "form-with-errors", visit)
        page.fill("#nickname", "讀者")
        page.fill("#body", "想要的話請加微信聊")
        wait_until(page, "document.querySelector('[data-captcha-media] img').complete")
        page.fill("#captcha_answer", CAPTCHA_TEXT)
        _submit(page, "button.primary", "article-with-notice", visit)

        page.goto(base + "/moderation/login")
        page.fill("#name", "boss")
        page.fill("#password", "not the password")
        _submit(page, "button.primary", "login-refused", visit)
        page.fill("#password", PASSWORD)
        _submit(page, "button.primary", "queue", visit)
        author = page.locator(".card-meta a.tag").first.get_attribute("href")
        _goto(page, base, author, "author", visit)
        _goto(page, base, "/moderation/password", "password", visit)
        _goto(page, base, "/moderation/admin/articles", "articles", visit)
        _goto(page, base, page.locator("a[href$='/edit']").first.get_attribute("href"), "article-edit", visit)
        _goto(page, base, "/moderation/admin/articles/new", "article-new", visit)
        page.evaluate("document.querySelector('form.stack.wide').noValidate = true")
        page.fill("#article-body", "<p>HTML</p>")
        _submit(page, "form.stack.wide button.primary", "article-refused", visit)
        _goto(page, base, "/moderation/admin/api-keys", "api-keys", visit)
        _goto(page, base, "/moderation/admin/moderators", "moderators", visit)
        _goto(page, base, "/moderation/admin/rules/", "rules", visit)
        _goto(page, base, "/moderation/admin/audit", "audit", visit)
        _goto(page, base, "/moderation/dashboard/?range=7d", "dashboard", visit)
        _goto(page, base, "/moderation/?tab=reported", "queue-reported", visit)
        _goto(page, base, "/moderation/?kind=replies", "queue-replies", visit)
        _goto(page, base, f"/moderation/comments/{approved.id}/answer", "answer", visit)
        _submit(page, "form.stack button.primary", "answer-refused", visit)
        _goto(page, base, "/moderation/?author=not-a-tag&q=%E6%AA%A2", "queue-filter-refused", visit)

        page.goto(base + "/moderation/")  # the whole page rejected: first a confirmation page
        page.evaluate("document.querySelector('#bulk-form details').open = true")
        page.check("#bulk-form input[name=scope][value=page]")
        _submit(page, "#bulk-form button[data-action=reject]", "bulk-confirm", visit)

        page.goto(base + "/moderation/")  # a decision in place: the card becomes one line with an undo
        wait_until(page, "document.activeElement && document.activeElement.id === 'queue-title'")
        page.keyboard.press("j")  # the surge's cluster card comes first
        page.keyboard.press("j")
        page.keyboard.press("s")
        page.wait_for_selector("[data-decided] [data-undo]")
        visit.sources["queue-decided-in-place"] = page.content()  # the DOM as changed in place
        _check(page, "queue-decided-in-place", visit, None)

        page.goto(base + "/moderation/admin/rules/")
        page.fill("#word-term", "評論")
        _submit(page, "button[formaction*='dry-run']", "rules-dry-run", visit)
        page.goto(base + "/moderation/admin/rules/")
        with page.expect_navigation():  # a job: its page, reloaded by its script once the job is done
            page.click("form[action$='/rescreen'] button")
        wait_until(page, "document.querySelector('[data-job-status]')?.dataset.finished === 'true'")
        _goto(page, base, page.url.removeprefix(base), "job", visit)
        _goto(page, base, "/moderation/admin/data/", "data", visit)
        # A site with content offers no import; the server's refusal is what a page loaded before
        # the site had any would meet.
        page.evaluate("document.querySelectorAll('form[action$=\"/import\"] [disabled]')"
                      ".forEach((element) => { element.disabled = false; })")
        page.set_input_files("#import-file", files=[{"name": "wrong.jsonl", "mimeType": "application/json",
                                                     "buffer": b"not an export\n"}])
        _submit(page, "form[action$='/import'] button", "data-refused", visit)
        with page.expect_navigation():  # the export's job, done: its page offers the file
            page.click("form[action$='/export'] button")
        wait_until(page, "document.querySelector('[data-job-status]')?.dataset.finished === 'true'")
        _goto(page, base, page.url.removeprefix(base), "job-export", visit)
        page.goto(base + "/moderation/admin/moderators")
        _submit(page, "form[action$='/password'] button", "admin-confirm", visit)
        _goto(page, base, "/moderation/admin/webhooks/", "webhooks", visit)
        page.fill("#webhook-url", "http://127.0.0.1/hook")
        page.check("#event-1")
        _submit(page, "form.stack button.primary", "webhooks-refused", visit)
        _goto(page, base, page.locator("table a.break").first.get_attribute("href"), "webhook", visit)
        _visit_sanction_pages(page, base, visit, approved.article_id)
    finally:
        context.close()
    return visit


def _visit_sanction_pages(page, base: str, visit: Visit, article_id: int) -> None:
    """Restricting an author from a card, the list with an address hold, a refused range, protected names."""
    page.goto(base + "/moderation/?tab=approved")  # the pending cards were decided by now
    readers = page.locator("[data-card]").filter(has_not=page.locator(".staff-badge"))  # not the site's answer
    _goto(page, base, readers.locator("a.restrict-link").first.get_attribute("href"), "restriction", visit)
    _submit(page, "form.stack button.decision-reject", "restriction-refused", visit)
    page.check("#duration-7d")
    page.select_option("#restriction-reason", "abuse")
    _submit(page, "form.stack button.decision-reject", "restriction-applied", visit)
    page.goto(base + "/moderation/sanctions")
    page.fill("#hold-range", "192.0.2.1")
    page.select_option("#hold-reason", "brigading")
    _submit(page, "form.stack button.primary", "sanctions", visit)
    page.fill("#hold-range", "10.0.0.0/8")
    page.select_option("#hold-reason", "spam")
    _submit(page, "form.stack button.primary", "sanctions-refused", visit)
    _goto(page, base, f"/moderation/articles/{article_id}/protected-names", "protected-names", visit)
    # This browser's own comment (the reader's, earlier in the visit): its author suspended, the form says so.
    page.goto(base + "/moderation/?tab=spam")
    page.goto(base + page.locator("[data-card]", has_text="微信").locator("a.restrict-link").first.get_attribute("href"))
    page.check("#duration-1d")
    page.select_option("#restriction-reason", "spam")
    with page.expect_navigation():
        page.click("form.stack button.decision-reject")
    page.goto(base + f"{ARTICLE}/comment")
    page.fill("#nickname", "讀者")
    page.fill("#body", "停權中還想留言")
    page.evaluate("document.querySelector('#comment-form').noValidate = true")  # the server answers before the captcha
    _submit(page, "button.primary", "form-suspended", visit)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page.locator("#form-status").inner_text())  # until when


PAGE_TYPES = {
    "article", "report", "not-found", "form-with-errors", "article-with-notice", "login-refused", "queue",
    "author", "password", "articles", "moderators", "rules", "audit", "queue-reported",
    "queue-filter-refused", "bulk-confirm", "queue-decided-in-place", "rules-dry-run", "admin-confirm",
    "article-edit", "article-new", "article-refused", "api-keys",
    "webhooks", "webhooks-refused", "webhook", "job", "dashboard", "data", "data-refused", "job-export",
    "thread", "reply-form", "reply-refused", "queue-replies", "answer", "answer-refused",
    "restriction", "restriction-refused", "restriction-applied", "sanctions", "sanctions-refused", "protected-names",
    "form-suspended",
    "article-hot", "article-converted", "like-refused",
    "embed", "embed-form", "embed-report", "embed-not-found",
}


def _nu_errors(sources: dict[str, str], folder: Path) -> list[dict]:
    if not VNU.exists():
        _missing(VNU, "vnu-jar")
    java = shutil.which("java")
    if java is None:
        _missing(Path("java"), "Java (for vnu-jar)")
    files = []
    for name, html in sources.items():
        path = folder / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    # One short run: the JVM's first-tier compiler and serial collector halve its CPU (the optimising
    # compiler's threads otherwise take the other core from the suite); the checking is the same.
    checked = subprocess.run(
        [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(VNU), "--errors-only", "--format", "json",
         *files],
        capture_output=True, text=True, timeout=120,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    return [
        {"page": Path(message.get("url", "")).stem, "line": message.get("lastLine"), "message": message["message"]}
        for message in messages
        if message.get("type") != "info"
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_and_the_nu_html_checker(live_server, browser, site, language, tmp_path):
    """axe at both sizes; the served HTML is the same at both, so the Nu checker reads it once."""
    visit = _visit_every_page_type(browser, live_server, site, language)
    assert set(visit.sources) == PAGE_TYPES
    assert set(visit.violations) == {f"{name} ({size})" for name in PAGE_TYPES for size in VIEWPORTS}
    found = {name: items for name, items in visit.violations.items() if items}
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
    assert visit.too_wide == []
    errors = _nu_errors(visit.sources, tmp_path)
    assert errors == [], json.dumps(errors, ensure_ascii=False, indent=1)
