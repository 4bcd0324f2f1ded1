"""The moderation queue at 100,000 pending comments: page 1 against page 1000, and a bulk approve.

Run: `make bench` (or `.venv/bin/python -m bench.moderation_queue [--database-url URL]`; default: SQLite in
a temporary folder). Page 1 is the baseline measured in the same run; the target is a
page-1000/page-1 ratio of at most 1.5, which keyset pagination gives and OFFSET would not.
`--smoke` runs the same code on 300 comments (page 5 of 20 against page 1, a bulk approve of 10) and
judges no target (the test suite runs it so the script keeps working).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Role
from moderation.services import accounts
from moderation.services.articles import load_article
from moderation.services.paging import Cursor

RATIO_TARGET = 1.5
PASSWORD = "benchmark password"


@dataclass(frozen=True)
class Sizes:
    comments: int = 100_000
    page_size: int = 50
    target_page: int = 1000
    rounds: int = 15
    bulk: int = 100


SMOKE = Sizes(comments=300, page_size=20, target_page=5, rounds=2, bulk=10)


def fill(app, sizes: Sizes) -> None:
    with app.app_context():
        db.drop_all()  # a leftover run's tables, on a shared PostgreSQL database
        db.create_all()
        article, _ = load_article(db.session, bundled_seed(), slug="bench")
        accounts.create_moderator(db.session, "bench", PASSWORD, role=Role.MODERATOR)
        db.session.commit()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        batch = []
        for index in range(sizes.comments):
            batch.append({
                "article_id": article.id, "nickname": f"讀者{index % 997}", "is_anonymous": False,
                "body": f"第 {index} 則評論：檢驗檢測的報導很有參考價值。" * 3,
                "status": CommentStatus.PENDING, "created_at": start + timedelta(seconds=index),
                "ip_hash": f"{index % 5000:064x}", "author_hash": f"{index % 20000:064x}",
                "fingerprint": "", "version": 1,
            })
            if len(batch) == 10_000 or index == sizes.comments - 1:
                db.session.execute(insert(Comment), batch)
                batch.clear()
        db.session.commit()


def cursor_before_page(app, page_number: int, page_size: int) -> str | None:
    """The cursor a moderator would hold after reading page_number - 1 pages (setup, not timed)."""
    if page_number == 1:
        return None
    with app.app_context():
        last = db.session.execute(
            select(Comment.created_at, Comment.id).where(Comment.status == CommentStatus.PENDING)
            .order_by(Comment.created_at, Comment.id).offset((page_number - 1) * page_size - 1).limit(1)
        ).one()
        return Cursor(last.created_at, last.id).encode()


CARD = re.compile(rb"data-card[\s>]")  # a card's own attribute, not data-cards or data-card-…


def median_ms(client, cursor: str | None, sizes: Sizes) -> float:
    params = {"after": cursor} if cursor else {}
    samples = []
    for round_number in range(sizes.rounds + 2):
        started = time.perf_counter()
        response = client.get("/moderation/", query_string=params)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and len(CARD.findall(response.data)) == sizes.page_size
        if round_number >= 2:  # the first renders warm caches
            samples.append(elapsed)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--smoke", action="store_true", help="300 comments, no target judged")
    options = parser.parse_args(argv)
    sizes = SMOKE if options.smoke else Sizes()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench",
                          "IP_PEPPER": "bench", "QUEUE_PAGE_SIZE": sizes.page_size, "REQUEST_LOG": False})
        started = time.perf_counter()
        fill(app, sizes)
        print(f"generated {sizes.comments:,} pending comments in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")

        client = app.test_client()
        page = client.get("/moderation/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/moderation/login", data={"csrf_token": token, "name": "bench", "password": PASSWORD})

        first = median_ms(client, None, sizes)
        deep = median_ms(client, cursor_before_page(app, sizes.target_page, sizes.page_size), sizes)
        ratio = deep / first
        print(f"queue page 1:    median {first:.1f} ms")
        print(f"queue page {sizes.target_page}: median {deep:.1f} ms")
        print(f"ratio page {sizes.target_page}/page 1: {ratio:.2f} (target ≤ {RATIO_TARGET})")

        with app.app_context():
            items = db.session.execute(
                select(Comment.id, Comment.version).where(Comment.status == CommentStatus.PENDING)
                .order_by(Comment.created_at, Comment.id).limit(sizes.bulk)
            ).all()
        html = client.get("/moderation/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        started = time.perf_counter()
        response = client.post("/moderation/comments/bulk", data={
            "csrf_token": token, "decision": "approve", "scope": "selected",
            "item": [f"{comment_id}:{version}" for comment_id, version in items], "back": "/moderation/",
        })
        bulk_ms = (time.perf_counter() - started) * 1000
        with app.app_context():
            approved = db.session.query(Comment).filter_by(status=CommentStatus.APPROVED).count()
            db.session.close()
            db.drop_all()
            db.engine.dispose()
        assert response.status_code == 303 and approved == sizes.bulk, (response.status_code, approved)
        print(f"bulk approve of {sizes.bulk}: {bulk_ms:.0f} ms ({bulk_ms / sizes.bulk:.1f} ms per comment, "
              "each with its audit row)")
        if options.smoke:
            print("smoke run: targets not judged")
            return 0
        ok = ratio <= RATIO_TARGET
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
