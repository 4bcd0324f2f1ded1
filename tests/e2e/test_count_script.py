"""count.js on a newsroom's list page, served from another origin than the comment service."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moderation.article_text import bundled_seed
from moderation.models import CommentStatus
from moderation.services.articles import load_article
from tests.conftest import ARTICLE_SLUG, make_comment
from tests.servers import in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.committing]


@pytest.fixture
def list_page_server():
    """The newsroom's own site, on `localhost` (the service is on 127.0.0.1: another origin)."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        yield pages, f"http://localhost:{server.server_port}"


def test_count_js_fills_every_count_on_a_list_page_of_another_site(live_server, list_page_server, browser, db):
    for _ in range(3):
        make_comment(db, status=CommentStatus.APPROVED)
    load_article(db.session, bundled_seed(), slug="quiet-story")
    db.session.commit()
    pages, origin = list_page_server
    # 120 other keys: more than one request's 100, so the script must split them.
    others = "".join(f'<li><span data-comment-count="other-{number}">–</span></li>' for number in range(120))
    pages["/list"] = f"""<!doctype html><html lang="zh-Hant"><meta charset="utf-8"><title>列表</title>
<ul>
<li id="seed"><span data-comment-count="{ARTICLE_SLUG}" data-comment-count-template="{{n}} 則評論">…</span></li>
<li id="plain"><span data-comment-count="{ARTICLE_SLUG}">…</span></li>
<li id="twice"><span data-comment-count="{ARTICLE_SLUG}" data-comment-count-template="{{n}} 則評論（共 {{n}} 則）"
    data-comment-count-zero="搶先留言" data-comment-count-one="1 則評論">…</span></li>
<li id="none"><span data-comment-count="quiet-story" data-comment-count-template="{{n}} 則評论"
    data-comment-count-zero="搶先留言">…</span></li>
{others}
</ul>
<script src="{live_server}/static/count.js" async></script>"""
    page = browser.new_context().new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url) if "/api/v1/counts" in request.url else None)
    page.goto(f"{origin}/list")
    page.wait_for_selector("#seed [data-comment-count-loaded]")
    assert page.text_content("#seed span") == "3 則評論"
    assert page.text_content("#plain span") == "3"
    assert page.text_content("#twice span") == "3 則評論（共 3 則）"  # {n} wherever it stands; 3 takes the template
    assert page.text_content("#none span") == "搶先留言"  # none yet: the zero text
    assert page.text_content("[data-comment-count='other-7']") == "–"  # unknown to the service: left alone
    assert len(requests) == 2 and all(url.startswith(live_server) for url in requests)
