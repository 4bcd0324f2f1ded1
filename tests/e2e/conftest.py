"""A live server and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.servers import in_thread

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def database_url(tmp_path):
    """Browser tests run once, on SQLite; the database tests cover PostgreSQL."""
    return f"sqlite:///{tmp_path / 'e2e.sqlite3'}"


@contextmanager
def served(app):
    """The app on a free port of 127.0.0.1, in a thread; yields the port."""
    with in_thread(make_server("127.0.0.1", 0, app, threaded=True)) as server:
        yield server.server_port


@pytest.fixture
def live_server(app):
    with served(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright of a test process: a second sync_playwright() in the same process fails."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def kept_contexts(chromium):
    return KeptContexts(chromium)


@pytest.fixture
def browser(kept_contexts):
    """Chromium for one test: `browser.new_context(...)` lends a context that is given back, cleared,
    when the test ends (a test need not close it)."""
    yield kept_contexts
    kept_contexts.take_back()


@pytest.fixture
def browser_page(browser):
    page = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    return page


class KeptContexts:
    """Browser contexts kept between the tests of a process, one set per combination of options.

    A new context and its first page cost Chromium about half a second of CPU, more than most browser
    tests spend on what they check; a kept context holds a blank page of its own, which halves what
    its next test's first page costs. A context comes back as a new one would be: the test's pages
    closed, cookies and permissions cleared, the HTTP cache and the storage of every origin its
    frames showed dropped, its timeouts the defaults again. A context that a test closed, or that
    cannot be cleared, is not kept. `own_context` is for a context a test changes beyond that (an
    init script stays with its context): it is closed when the test ends. At most `most_kept` wait,
    the longest unused closed first (each holds a renderer process).
    """

    def __init__(self, browser, most_kept: int = 8):
        self.browser = browser
        self.most_kept = most_kept
        self._idle: list[Kept] = []  # the longest unused first
        self._lent: list[Kept] = []
        self._own: list = []  # closed when the test ends

    def new_context(self, **options):
        key = repr(sorted(options.items()))
        kept = next((kept for kept in reversed(self._idle) if kept.key == key), None)
        if kept is None:
            kept = Kept(key, self.browser.new_context(**options))
        else:
            self._idle.remove(kept)
        self._lent.append(kept)
        return kept.context

    def own_context(self, **options):
        context = self.browser.new_context(**options)
        self._own.append(context)
        return context

    def take_back(self) -> None:
        own, self._own = self._own, []
        for context in own:
            context.close()  # a second close (the test's own) does nothing
        lent, self._lent = self._lent, []
        for kept in lent:
            if kept.closed:
                continue
            if kept.cleared():
                self._idle.append(kept)
            else:
                kept.context.close()
        while len(self._idle) > self.most_kept:
            self._idle.pop(0).context.close()


class Kept:
    """A context, the blank page that keeps it warm, and what its frames showed since it was lent."""

    def __init__(self, key: str, context):
        self.key = key
        self.context = context
        self.closed = False
        self.origins: set[str] = set()
        self.blank = context.new_page()
        self.devtools = context.new_cdp_session(self.blank)
        context.on("page", lambda page: page.on("framenavigated", self._seen))
        context.on("close", lambda _: setattr(self, "closed", True))

    def _seen(self, frame) -> None:
        if frame.url.startswith(("http:", "https:")):
            self.origins.add("/".join(frame.url.split("/", 3)[:3]))

    def cleared(self) -> bool:
        from playwright.sync_api import Error

        try:
            for page in self.context.pages:
                if page is not self.blank:
                    page.close()
            self.devtools.send("Network.clearBrowserCache")
            for origin in self.origins:
                self.devtools.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
            self.origins.clear()
            self.context.clear_cookies()
            self.context.clear_permissions()
            self.context.set_default_timeout(30_000)
            self.context.set_default_navigation_timeout(30_000)
            return not self.blank.is_closed()
        except Error:
            return False


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Until `expression` is true in the page. Playwright's wait_for_function polls with a function it
    compiles inside the page, which the app's Content-Security-Policy (no 'unsafe-eval') refuses
    whenever the condition is not already true at the first look; this polls from here instead."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Error as error:  # the page navigated (or reloaded itself) under the evaluation
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)
