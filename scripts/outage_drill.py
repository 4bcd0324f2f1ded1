"""Opt-in fault drill (bounded, loopback only): the app under load while the path to its database
fails the ways networks do, and while it is restarted.

gunicorn reaches PostgreSQL through a TCP proxy (tests/db_proxy.py). Phases, each followed by a
normal one: a cut (every connection reset, new ones refused) for --cut seconds; a stall (links open,
passing no bytes) for --stall seconds; lost COMMIT answers (--lost-commits of them: the server
commits, the app never hears); a reload (gunicorn's HUP, --reloads times). The machine's PostgreSQL
itself is never stopped. Readers post and read all along; a reader whose post is answered 503
sends the form from that page again a second later, as a person would.

Reported per phase: responses by kind; 503s with and without Retry-After; requests that got no
answer; the longest request; the time from the fault's end to the first answered request. For the
whole run: comments acknowledged but not stored (lost), and stored more than once (duplicated).
Expected: no 500, no unanswered request outside a cut's own resets, none lost or duplicated, no
request longer than 10 s, no worker killed.

Run: `.venv/bin/python scripts/outage_drill.py` (about two minutes); it creates a PostgreSQL
database of its own (TEST_DATABASE_URL's server) and drops it afterwards. `--smoke` runs each
phase briefly with two clients and judges nothing (the test suite runs it so the script keeps
working).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.article_text import bundled_seed  # noqa: E402
from moderation.config import sqlalchemy_url  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.services.articles import load_article  # noqa: E402
from tests.db_proxy import FaultyProxy  # noqa: E402
from tests.postgres import temporary_database  # noqa: E402
from tests.server_app import CAPTCHA_TEXT  # noqa: E402
from tests.servers import Browser, app_server  # noqa: E402

SLUG = "drill-article"
LONGEST_ALLOWED_S = 10
FAULTS = ("cut", "stall", "lost commits", "reload")


@dataclass
class Phase:
    responses: collections.Counter = field(default_factory=collections.Counter)
    unanswered: int = 0
    without_retry_after: int = 0
    longest_s: float = 0.0
    first_answer_at: float | None = None


class Drill:
    def __init__(self, base: str, phases: list[str]):
        self.base = base
        self.phases = {name: Phase() for name in phases}
        self.current = phases[0]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.acknowledged: list[str] = []

    def request(self, call):
        """One request, recorded in the phase it started in; None when no answer came."""
        phase, started = self.current, time.monotonic()
        try:
            reply = call()
        except OSError:
            reply = None
        elapsed = time.monotonic() - started
        with self.lock:
            record = self.phases[phase]
            record.longest_s = max(record.longest_s, round(elapsed, 2))
            if reply is None:
                record.unanswered += 1
            else:
                if reply.status == 503 and "Retry-After" not in reply.headers:
                    record.without_retry_after += 1
                if reply.status < 500 and record.first_answer_at is None:
                    record.first_answer_at = time.monotonic()
        return reply

    def note(self, kind: str, phase: str):
        with self.lock:
            self.phases[phase].responses[kind] += 1

    def reader(self, index: int):
        n = 0
        while not self.stop.is_set():
            n += 1
            if n % 3 == 0:
                self.post(f"drill-{index}-{n} 演練中送出的評論")
            else:
                phase = self.current
                reply = self.request(lambda: Browser(timeout=30).get(f"{self.base}/articles/{SLUG}"))
                self.note("GET no answer" if reply is None else f"GET {reply.status}", phase)
            time.sleep(0.05)

    def post(self, body: str):
        browser = Browser(timeout=30)
        phase = self.current
        state = self.request(lambda: browser.get(f"{self.base}/form-token"))
        if state is None or state.status != 200:
            self.note("form-token failed", phase)
            return
        state = json.loads(state.body)
        form = {"csrf_token": state["csrf_token"], "captcha_id": state["captcha"]["id"],
                "captcha_answer": CAPTCHA_TEXT, "nickname": "演練讀者", "body": body, "action": "post"}
        for attempt in range(30):  # a reader sending the form again from the page they got back
            if self.stop.is_set() and attempt:
                return
            self.request(lambda: browser.get(f"{self.base}/captcha/{form['captcha_id']}.png"))
            phase = self.current
            reply = self.request(lambda: browser.post(f"{self.base}/articles/{SLUG}/comments", form))
            if reply is None:
                self.note("POST no answer", phase)
                return  # the reader does not know; a person would reload and may retype
            self.note(f"POST {reply.status}", phase)
            if reply.status == 303:
                with self.lock:
                    self.acknowledged.append(body)
                return
            # 503: the form back with the text; 422: a challenge whose image the outage kept from
            # being made. Either way the page holds the text, a new challenge and the same key.
            if reply.status not in (503, 422) or body not in reply.body:
                return
            form.update(_hidden_fields(reply.body))
            time.sleep(1)

    def fault(self, name: str, start, end, seconds: float):
        self.current = name
        start()
        time.sleep(seconds)
        ended = time.monotonic()
        end()
        self.current = f"after {name}"
        return ended


def _hidden_fields(html: str) -> dict:
    fields = {}
    for name in ("csrf_token", "captcha_id", "submission_key"):
        match = re.search(rf'name="{name}" value="([^"]*)"', html)
        if match:
            fields[name] = match.group(1)
    return fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cut", type=float, default=10, help="seconds")
    parser.add_argument("--stall", type=float, default=35, help="seconds")
    parser.add_argument("--lost-commits", type=int, default=6)
    parser.add_argument("--reloads", type=int, default=2)
    parser.add_argument("--normal", type=float, default=5, help="seconds before and after each fault")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    parser.add_argument("--smoke", action="store_true", help="each phase briefly, nothing judged")
    args = parser.parse_args(argv)
    if args.smoke:
        args.cut, args.stall, args.normal, args.lost_commits, args.reloads = 0.5, 1.5, 0.5, 1, 1
        args.clients, args.workers = 2, 2
    work = Path(tempfile.mkdtemp(prefix="moderation-drill-"))  # instance folder and gunicorn's log
    log = work / "gunicorn.log"
    log.write_text("")

    with temporary_database(args.postgres_url, prefix="moderation_drill") as url:
        direct = make_url(sqlalchemy_url(url))
        proxy = FaultyProxy(direct.host or "127.0.0.1", direct.port or 5432)
        config = {"DATABASE_URL": proxy.url_for(direct), "INSTANCE_PATH": str(work / "instance"),
                  "SECRET_KEY": "drill", "IP_PEPPER": "drill", "CAPTCHA_MIN_SECONDS": 0,
                  "CAPTCHA_IMAGE_RATE_LIMIT": "100000 per minute", "SCREENING_IP_PER_MINUTE": 100000,
                  "SCREENING_AUTHOR_PER_MINUTE": 100000, "CAPTCHA_MAX_FAILURES_PER_IP": 100000,
                  "REQUEST_LOG": False}
        app = create_app({**config, "DATABASE_URL": url, "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT})
        with app.app_context():
            db.create_all()
            load_article(db.session, bundled_seed(), slug=SLUG)
            db.session.commit()
            db.engine.dispose()
        phases = ["normal"] + [name for fault in FAULTS for name in (fault, f"after {fault}")]
        fault_ended: dict[str, float] = {}
        with app_server(config, workers=args.workers, log=log) as (base, process):
            drill = Drill(base, phases)
            threads = [threading.Thread(target=drill.reader, args=(i,), daemon=True) for i in range(args.clients)]
            for thread in threads:
                thread.start()
            time.sleep(args.normal)
            # The baseline: readers were served before anything breaks (a loaded machine can take
            # longer than the phase to answer the first page).
            deadline = time.monotonic() + 60
            while not drill.phases["normal"].responses["GET 200"] and time.monotonic() < deadline:
                time.sleep(0.1)
            fault_ended["cut"] = drill.fault("cut", proxy.cut, proxy.restore, args.cut)
            time.sleep(args.normal)
            fault_ended["stall"] = drill.fault("stall", proxy.stall, proxy.restore, args.stall)
            time.sleep(args.normal)

            def lose_commits():
                for _ in range(args.lost_commits):
                    proxy.lose_next_commit_reply()
                    deadline = time.monotonic() + 5
                    while proxy._lose_commit_reply.is_set() and time.monotonic() < deadline:
                        time.sleep(0.05)
            fault_ended["lost commits"] = drill.fault("lost commits", lose_commits, lambda: None, 0)
            time.sleep(args.normal)

            def reload():
                for _ in range(args.reloads):
                    os.kill(process.pid, signal.SIGHUP)
                    time.sleep(max(2.0, args.normal))  # the new workers boot before the next reload
            fault_ended["reload"] = drill.fault("reload", reload, lambda: None, 0)
            time.sleep(args.normal)
            drill.stop.set()
            for thread in threads:
                thread.join(timeout=90)
        proxy.close()
        stored = collections.Counter()
        counter = sqlalchemy.create_engine(sqlalchemy_url(url))
        with counter.connect() as connection:
            for (body,) in connection.execute(sqlalchemy.text("SELECT body FROM comment")):
                stored[body] += 1
        counter.dispose()

    text = log.read_text()
    report = {"phases": {}, "commit answers lost": proxy.commit_replies_lost}
    for name, record in drill.phases.items():
        entry = {"responses": dict(record.responses), "unanswered": record.unanswered,
                 "503 without Retry-After": record.without_retry_after, "longest_s": record.longest_s}
        fault = name.removeprefix("after ")
        if name.startswith("after ") and fault in fault_ended and record.first_answer_at is not None:
            entry["recovery_s"] = round(max(0.0, record.first_answer_at - fault_ended[fault]), 2)
        report["phases"][name] = entry
    acknowledged = set(drill.acknowledged)
    report.update({
        "posts acknowledged": len(acknowledged),
        "lost": sorted(body for body in acknowledged if not stored[body]),
        "duplicated": sorted(body for body, count in stored.items() if count > 1),
        "outage_log_lines": [line.split("] ", 1)[-1] for line in text.splitlines() if "database outage" in line],
        "worker timeouts": text.count("WORKER TIMEOUT"),
        "tracebacks_in_log": text.count("Traceback"),
    })
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.smoke:
        return 0
    problems = [
        report["lost"], report["duplicated"], report["worker timeouts"], report["tracebacks_in_log"],
        any(" 500" in kind for phase in report["phases"].values() for kind in phase["responses"]),
        any(phase["503 without Retry-After"] for phase in report["phases"].values()),
        any(phase["longest_s"] > LONGEST_ALLOWED_S for phase in report["phases"].values()),
        any(phase["unanswered"] for name, phase in report["phases"].items() if name != "cut"),
    ]
    return 1 if any(problems) else 0


if __name__ == "__main__":
    sys.exit(main())
