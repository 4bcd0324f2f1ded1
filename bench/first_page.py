"""An article's first page, uncached, with replies, likes and picks: 200 against 20,000 comments, and
0 against 5,000 replies on one comment of the first page.

Run: `make bench` (or `.venv/bin/python -m bench.first_page [--postgres-url URL | --skip-postgres]`).
Three articles in one database: `base` (200 top comments; on its first page some threads with
replies, liked comments and 2 editors' picks), `many` (the same first page over 20,000 comments)
and `long` (`base` with 5,000 published replies under one comment of its first page, which has none
in `base`). Each page is rendered uncached (the page cache emptied before each GET), interleaved,
and the medians compared with `base`'s in the same run; SQL statements per GET are counted too (they
do not depend on the machine's load). Targets: each ratio ≤ 1.5 and every page ≤ 100 KB. SQLite in a
temporary folder, then PostgreSQL when it answers (`--postgres-url`, default TEST_DATABASE_URL or
postgresql://127.0.0.1:5432/test: the benchmark makes a database of its own on that server and
drops it afterwards, ANALYZEd after loading as autovacuum would; `--no-analyze` measures the
fresh tables, `--skip-postgres` leaves PostgreSQL out). `--smoke` runs the same code on 60 comments and 50 replies and judges no
target (the test suite runs it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert, select, text, update

from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.extensions import db
from moderation.models import Article, Comment, CommentStatus, hot_key
from moderation.services import listing
from moderation.services.articles import load_article

RATIO_TARGET = 1.5
SIZE_TARGET = 100 * 1024
APPROVED = CommentStatus.APPROVED


@dataclass(frozen=True)
class Sizes:
    comments: int = 200
    many: int = 20_000
    replies: int = 5_000
    rounds: int = 15


SMOKE = Sizes(comments=60, many=300, replies=50, rounds=2)


def _row(article_id: int, index: int, at: datetime, **extra) -> dict:
    return {"article_id": article_id, "nickname": f"讀者{index % 997}", "is_anonymous": False,
            "body": f"第 {index} 則評論：檢驗檢測的報導很有參考價值，希望能多寫一些後續。", "status": APPROVED,
            "created_at": at, "ip_hash": f"{index % 5000:064x}", "author_hash": f"{index % 20000:064x}",
            "fingerprint": "", "search_text": "", "version": 1, "listed": extra.get("thread_id") is None,
            "like_count": 0, "reply_count": 0, "hot_key": 0.0, **extra}


def _insert(rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Comment), rows[start:start + 5000])


def fill_article(slug: str, comments: int, *, long_thread: int, page_size: int) -> None:
    """`comments` top comments, one a minute; on the first page (the newest `page_size`): every
    third with 2 replies, every fifth liked, the newest two picked; `long_thread` replies under the
    newest comment that has none."""
    article, _ = load_article(db.session, bundled_seed(), slug=slug)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    _insert([_row(article.id, index, start + timedelta(minutes=index)) for index in range(comments)])
    db.session.flush()
    heads = db.session.execute(
        Comment.__table__.select().with_only_columns(Comment.id, Comment.created_at)
        .where(Comment.article_id == article.id).order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(page_size)).all()
    replies = []
    for position, (head_id, at) in enumerate(heads):
        count = 2 if position % 3 == 1 else 0
        for number in range(count):
            replies.append(_row(article.id, number, at + timedelta(seconds=number + 1), thread_id=head_id,
                                reply_to_id=head_id))
        likes = 7 if position % 5 == 0 else 0
        db.session.execute(update(Comment).where(Comment.id == head_id).values(
            reply_count=count, like_count=likes, hot_key=hot_key(likes=likes, replies=count, created_at=at),
            pinned_at=start if position < 2 else None))
    if long_thread:
        head_id, at = heads[3]  # position 3: no replies of its own in the pattern above
        for number in range(long_thread):
            replies.append(_row(article.id, number, at + timedelta(milliseconds=number + 1), thread_id=head_id,
                                reply_to_id=head_id))
        db.session.execute(update(Comment).where(Comment.id == head_id).values(reply_count=long_thread))
    _insert(replies)
    db.session.execute(update(Article).where(Article.id == article.id).values(
        approved_count=comments + len(replies)))


def fill(app, sizes: Sizes, page_size: int, *, analyze: bool = True) -> None:
    with app.app_context():
        db.drop_all()  # a leftover run's tables, on a shared PostgreSQL database
        db.create_all()
        fill_article("base", sizes.comments, long_thread=0, page_size=page_size)
        fill_article("many", sizes.many, long_thread=0, page_size=page_size)
        fill_article("long", sizes.comments, long_thread=sizes.replies, page_size=page_size)
        if analyze and db.engine.dialect.name == "postgresql":
            # As autovacuum would soon after such a load: without statistics the planner reads the
            # thread list and the picks of `many` through the 最熱 index and sorts 20,000 rows.
            db.session.execute(text("ANALYZE comment"))
        db.session.commit()


@dataclass
class Measured:
    times: list[float]
    size: int
    statements: int
    query_times: list[float]  # first_replies' statement alone (rows, no ORM): what a long thread could grow


def measure(app, sizes: Sizes) -> dict[str, Measured]:
    client = app.test_client()
    pages = app.extensions["article_pages"]
    results = {slug: Measured([], 0, 0, []) for slug in ("base", "many", "long")}
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for round_number in range(sizes.rounds + 2):
            for slug, result in results.items():  # interleaved: the machine's load falls on each alike
                pages.clear()
                sent.clear()
                started = time.perf_counter()
                response = client.get(f"/articles/{slug}")
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (slug, response.status_code)
                result.size, result.statements = len(response.data), len(sent)
                if round_number >= 2:  # the first renders warm caches
                    result.times.append(elapsed)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with app.app_context():
        threads = {slug: _threads_with_replies(slug, int(app.config["COMMENTS_PAGE_SIZE"])) for slug in results}
        connection = db.session.connection()
        statements = {slug: listing.first_replies_query(db.engine.dialect.name, ids) for slug, ids in threads.items()}
        for round_number in range(sizes.rounds * 4 + 2):
            for slug, result in results.items():
                started = time.perf_counter()
                connection.execute(statements[slug]).all()
                if round_number >= 2:
                    result.query_times.append(time.perf_counter() - started)
        db.session.rollback()
    long_page = client.get("/articles/long").get_data(as_text=True)
    assert f"查看全部 {sizes.replies} 則回覆" in long_page, "the long thread is not on the first page"
    return results


def _threads_with_replies(slug: str, page_size: int) -> list[int]:
    """What the article page hands to first_replies: its first page's threads that have replies."""
    heads = db.session.execute(
        select(Comment.id, Comment.reply_count).join(Article).where(Article.slug == slug, Comment.listed.is_(True))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(page_size)).all()
    return [head_id for head_id, replies in heads if replies]


def run(url: str, folder: str, sizes: Sizes, *, judge: bool, analyze: bool = True) -> bool:
    page_size = 50
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench", "IP_PEPPER": "bench",
                      "COMMENTS_PAGE_SIZE": page_size, "REQUEST_LOG": False})
    started = time.perf_counter()
    fill(app, sizes, page_size, analyze=analyze)
    backend = url.split(":")[0]
    print(f"[{backend}] generated {sizes.comments:,} + {sizes.many:,} + {sizes.comments:,} comments and "
          f"{sizes.replies:,} replies in {time.perf_counter() - started:.1f} s")
    try:
        results = measure(app, sizes)
    finally:
        with app.app_context():
            db.session.close()
            db.drop_all()
            db.engine.dispose()
    base = statistics.median(results["base"].times)
    base_query = statistics.median(results["base"].query_times)
    ok = True
    labels = {"base": f"{sizes.comments:,} comments, 0 replies on it",
              "many": f"{sizes.many:,} comments",
              "long": f"{sizes.comments:,} comments, {sizes.replies:,} replies on one"}
    for slug, result in results.items():
        median = statistics.median(result.times)
        ratio = median / base
        print(f"[{backend}] first page, {labels[slug]}: median {median * 1000:.2f} ms, {result.size / 1024:.1f} KB, "
              f"{result.statements} SQL statements" + ("" if slug == "base" else f", ratio {ratio:.2f}"))
        query = statistics.median(result.query_times)
        print(f"[{backend}]   its first replies' statement alone: median {query * 1000:.3f} ms"
              + ("" if slug == "base" else f", ratio {query / base_query:.2f}"))
        ok = ok and ratio <= RATIO_TARGET and result.size <= SIZE_TARGET
    if len({result.statements for result in results.values()}) != 1:
        print(f"[{backend}] the statement counts differ")
        ok = False
    if judge:
        print(f"[{backend}] targets: ratios ≤ {RATIO_TARGET}, pages ≤ {SIZE_TARGET // 1024} KB: "
              + ("met" if ok else "MISSED"))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-analyze", action="store_true",
                        help="PostgreSQL measured on freshly loaded tables, before any ANALYZE")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no target judged")
    options = parser.parse_args(argv)
    sizes = SMOKE if options.smoke else Sizes()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        ok = run(f"sqlite:///{folder}/bench.sqlite3", folder, sizes, judge=not options.smoke)
        if not options.skip_postgres:
            from tests.postgres import temporary_database

            with contextlib.ExitStack() as stack:
                try:
                    url = stack.enter_context(temporary_database(options.postgres_url, prefix="moderation_bench"))
                except Exception as error:  # no server: say so, the SQLite figures stand
                    print(f"PostgreSQL runs skipped: {type(error).__name__}: {error}".splitlines()[0])
                else:
                    ok = run(url, folder, sizes, judge=not options.smoke, analyze=not options.no_analyze) and ok
    if options.smoke:
        print("smoke run: targets not judged")
        return 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
