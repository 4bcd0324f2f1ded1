"""The dashboard at 1,000,000 comments: the page's render time for the last 30 days, 7 days, 24 hours.

Run: `make bench` (or `.venv/bin/python -m bench.dashboard [--database-url URL]`; default: SQLite in a
temporary folder). The database is filled with bulk inserts: 1,000,000 comments over 30 days on 200
articles (published, held, rejected, spam), a screening reason on every tenth, 200,000 moderators'
decisions in the audit log, 20,000 reader reports, a queue sample per hour; then `rollups.rebuild()`
rolls them up as posting and deciding would have (timed too). The target: the median render of the
30-day page (the whole million in range) under 1 second. `--smoke` runs the same code on 3,000
comments and judges no target (the test suite runs it so the script keeps working). On PostgreSQL
(`--database-url`) the tables are vacuumed and analysed after filling, as autovacuum would have done.
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

from sqlalchemy import insert

from moderation import create_app
from moderation.extensions import db
from moderation.models import (
    Article,
    AuditEntry,
    Comment,
    CommentReport,
    CommentStatus,
    QueueSample,
    ReportReason,
    Role,
    ScreeningReason,
    WordRuleRow,
)
from moderation.services import accounts, rollups

TARGET_MS = 1000
PASSWORD = "benchmark password"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
STATUSES = [CommentStatus.APPROVED] * 14 + [CommentStatus.PENDING] * 2 + [CommentStatus.REJECTED] * 3 + [CommentStatus.SPAM]
CHEAP = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8, "PASSWORD_HASH_PARALLELISM": 1}


@dataclass(frozen=True)
class Sizes:
    comments: int = 1_000_000
    articles: int = 200
    decisions: int = 200_000
    reports: int = 20_000
    rounds: int = 7


SMOKE = Sizes(comments=3_000, articles=20, decisions=600, reports=60, rounds=2)


def fill(app, sizes: Sizes) -> None:
    with app.app_context():
        db.drop_all()  # a leftover run's tables, on a shared PostgreSQL database
        db.create_all()
        for number in range(sizes.articles):
            db.session.add(Article(key=f"a{number}", slug=f"a{number}", title=f"第 {number} 篇報導", body="內文"))
        boss = accounts.create_moderator(db.session, "boss", PASSWORD, role=Role.ADMIN,
                                         hasher=accounts.hasher_for(CHEAP))
        moderators = [boss] + [accounts.create_moderator(db.session, f"mod{number}", PASSWORD, role=Role.MODERATOR,
                                                         hasher=accounts.hasher_for(CHEAP)) for number in range(4)]
        rules = [WordRuleRow(term=f"詞{number}", action="hold") for number in range(50)]
        db.session.add_all(rules)
        db.session.flush()
        article_ids = [row[0] for row in db.session.execute(db.select(Article.id).order_by(Article.id))]
        rule_ids = [rule.id for rule in rules]
        moderator_ids = [moderator.id for moderator in moderators]
        db.session.commit()

        start = NOW - timedelta(days=30)
        spacing = timedelta(days=30) / sizes.comments
        comments, reasons, audit, reports = [], [], [], []
        decided_every = max(1, sizes.comments // sizes.decisions)
        reported_every = max(1, sizes.comments // sizes.reports)
        for index in range(sizes.comments):
            comment_id = index + 1
            created = start + spacing * index
            status = STATUSES[index % len(STATUSES)]
            # A few articles take most comments, as on a news site.
            article_id = article_ids[(index * index) % len(article_ids) if index % 3 else index % 5]
            comments.append({
                "id": comment_id, "article_id": article_id, "nickname": f"讀者{index % 997}", "is_anonymous": False,
                "body": f"第 {index} 則評論：檢驗檢測的報導很有參考價值。", "status": status, "created_at": created,
                "ip_hash": f"{index % 5000:064x}", "author_hash": f"{index % 20000:064x}", "fingerprint": "",
                "version": 1, "search_text": "",
            })
            if index % 10 == 0:
                reasons.append({"comment_id": comment_id, "kind": "word", "action": "hold",
                                "rule_id": f"word:{rule_ids[index % len(rule_ids)]}", "detail": "詞", "field": "body",
                                "span_start": 0, "span_end": 1, "how": "exact"})
            if index % decided_every == 0 and status is not CommentStatus.PENDING:
                audit.append({"at": created + timedelta(seconds=30 + (index * 7919) % 7200),
                              "moderator_id": moderator_ids[index % len(moderator_ids)], "actor": "mod",
                              "action": {"approved": "approve", "rejected": "reject", "spam": "spam"}[status.value],
                              "comment_id": comment_id, "from_status": "pending", "to_status": status.value,
                              "note": ""})
            if index % reported_every == 0:
                reports.append({"comment_id": comment_id, "reason": list(ReportReason)[index % 4],
                                "reporter_hash": f"{index:064x}", "reporter_ip_hash": f"{index:064x}", "note": "",
                                "created_at": created + timedelta(minutes=5),
                                "resolved_at": None if status is CommentStatus.APPROVED else created + timedelta(hours=1)})
            if len(comments) == 20_000 or index == sizes.comments - 1:
                for model, rows in ((Comment, comments), (ScreeningReason, reasons), (AuditEntry, audit),
                                    (CommentReport, reports)):
                    if rows:
                        db.session.execute(insert(model), rows)
                        rows.clear()
        db.session.execute(insert(QueueSample), [
            {"hour": rollups.hour_of(NOW - timedelta(hours=hour)), "pending": 500 + hour, "oldest_wait_seconds": 60 * hour}
            for hour in range(24 * 30)])
        db.session.commit()


def rebuild(app) -> float:
    with app.app_context():
        started = time.perf_counter()
        counts = rollups.rebuild(db.session)
        db.session.commit()
        elapsed = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":  # what autovacuum does to a table in use: visibility, statistics
            raw = db.engine.raw_connection()
            try:
                driver = raw.driver_connection
                driver.commit()  # the connection's set-up opened a transaction; VACUUM runs outside one
                driver.autocommit = True
                driver.execute("VACUUM ANALYZE")
                driver.autocommit = False
            finally:
                raw.close()
    print(f"rollups rebuilt in {elapsed:.1f} s: {counts['comment_hours']:,} comment hours, "
          f"{counts['rule_hours']:,} rule hours, {counts['decision_buckets']:,} decision-time buckets")
    return elapsed


def median_ms(client, span: str, rounds: int) -> float:
    samples = []
    for round_number in range(rounds + 2):
        started = time.perf_counter()
        response = client.get("/moderation/dashboard/", query_string={"range": span})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200 and b'role="img"' in response.data, response.status_code
        if round_number >= 2:  # the first renders warm caches
            samples.append(elapsed)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--smoke", action="store_true", help="3,000 comments, no target judged")
    options = parser.parse_args(argv)
    sizes = SMOKE if options.smoke else Sizes()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench", "IP_PEPPER": "bench",
                          "REQUEST_LOG": False, "CLOCK": lambda: NOW, "JOBS_RUNNER": "off", **CHEAP})
        started = time.perf_counter()
        fill(app, sizes)
        print(f"generated {sizes.comments:,} comments, {sizes.decisions:,} decisions, {sizes.reports:,} reports "
              f"in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
        rebuild(app)

        client = app.test_client()
        page = client.get("/moderation/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/moderation/login", data={"csrf_token": token, "name": "boss", "password": PASSWORD})
        figures = {span: median_ms(client, span, sizes.rounds) for span in ("30d", "7d", "24h")}
        for span, ms in figures.items():
            print(f"dashboard {span}: median {ms:.0f} ms of {sizes.rounds} renders")
        with app.app_context():
            db.session.close()
            db.drop_all()
            db.engine.dispose()
        if options.smoke:
            print("smoke run: targets not judged")
            return 0
        ok = figures["30d"] < TARGET_MS
        print(f"target: the 30-day page under {TARGET_MS} ms: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
