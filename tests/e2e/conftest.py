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
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


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
