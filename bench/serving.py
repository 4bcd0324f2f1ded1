"""Serving under load, side by side in one run: a bare-Flask ceiling, our article page, its 304,
our comment POST, our like POST (讚), the counts API for 100 keys, the embedded comment section
(/embed/<key>), and Isso 0.14's GET and POST, each under gunicorn with the same workers,
driven by wrk on loopback.

Run: `make bench` (or `.venv/bin/python -m bench.serving [--runs 3] [--duration 10]`); the tools
come from `scripts/install-bench-tools.sh` (Debian's wrk, Isso from PyPI in bench/.isso-venv).
Targets, as ratios within the run: article GET ≥ 0.5× the ceiling, 304 ≥ 0.8× the ceiling,
our POST ≥ 2× Isso's POST, the like POST ≥ 0.5× the ceiling, the counts GET for 100 keys ≥ 0.5× the
ceiling, the embed GET ≥ 0.9× the article GET (as fast, within the noise), p99 ≤ 3× p50 for our scenarios. The like
POST (bench/like.lua) comes from a new reader and a new address each time, on the 200 comments in turn. Raw wrk output goes to bench/results/.

What is relaxed, and why: prepared challenges may be answered at once (CAPTCHA_MIN_SECONDS=0).
Every request comes from 127.0.0.1, so each names its own client address in X-Forwarded-For and
the app trusts one proxy (TRUSTED_PROXY_COUNT=1): per-address flood and failure limits stay as
configured. Challenges are created ahead through the challenge service with CAPTCHA_TEXT_FACTORY
fixed (bench.apps), without rendering images. Isso runs with moderation on and its guard (a
per-address rate limit, which cannot be given other addresses) off.

`--webhooks` also measures the POST with a webhook endpoint registered for every event (a receiver
on loopback answering 204, bench/receiver.py, which checks signatures and keys after the run;
`--checking-receiver`: the tests' receiver, checking each as it comes; deliveries in each worker's
thread, as without REDIS_URL), alternating with the POST without it in each run; target: ≥ 0.9×
the POST without. `--queue redis` runs both POSTs with REDIS_URL set, as a site with Redis runs: the
web workers hand deliveries to the RQ queue in batches and a `flask worker` beside them sends them;
after the run the benchmark waits for the queue to drain and says how long that took.
`--worker-after` starts that worker only once the run is over: what posting itself pays (the
outbox's rows and the hand-over), the sending left out. `--post-only` measures the
comment POST alone (with `--webhooks`, the pair), without the ceiling, Isso or the other scenarios.

`--smoke` runs every step once for a second with a few hundred prepared forms, each wrk thread
stopping after 25 answers (bench/smoke.lua), and judges no target (the test suite runs it, with
--skip-isso --skip-postgres, when wrk is installed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.apps import BENCH_CAPTCHA_TEXT, bench_config
from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.extensions import db
from moderation.models import Article, CaptchaMedium, Comment, CommentStatus
from moderation.services import captcha
from moderation.services.articles import load_article
from moderation.services.listing import listing_changed
from moderation.services.rulebook.starter import load_starter_rules
from tests.servers import free_port, gunicorn

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ISSO_VENV = ROOT / "bench" / ".isso-venv"
SLUG = "bench-article"
APPROVED_COMMENTS = 200
SMOKE_POST_FORMS = 300
SMOKE_ANSWERS = 25  # answers a wrk thread waits for in a smoke run before it stops
TARGETS = {"get_vs_ceiling": 0.5, "not_modified_vs_ceiling": 0.8, "post_vs_isso_post": 2.0, "p99_over_p50": 3.0,
           "post_with_webhooks_vs_post": 0.9, "like_vs_ceiling": 0.5, "counts_vs_ceiling": 0.5,
           "embed_vs_article_get": 0.9}
# The counts API's largest batch (COUNTS_MAX_KEYS), as count.js asks for a list page: the bench
# article and 99 others, all known.
COUNT_KEYS = [SLUG] + [f"bench-story-{index:03d}" for index in range(99)]


@dataclass
class Measurement:
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx responses and socket errors


def comment_text(index: int) -> str:
    return f"第{index}則：檢驗檢測是質量基礎設施的重要部分，希望國產儀器繼續進步，報導很有參考價值。"


QUIET = ("--log-level", "warning")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(scenario: str, output: str) -> Measurement:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentile = {
        match[1]: float(match[2]) * _UNITS[match[3]]
        for match in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Measurement(scenario, rate, percentile["50"], percentile["99"], errors)


def run_wrk(scenario: str, url: str, args, raw: Path, *, headers=(), script=None, env=None) -> Measurement:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
               "--timeout", "10s", "--latency"]
    if getattr(args, "smoke", False):  # a few answers a thread: the same steps, a trifle of the load
        env = {**(env or {}), "BENCH_STOP_AFTER": str(SMOKE_ANSWERS)}
        script = script or ROOT / "bench" / "smoke.lua"
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})},
                            timeout=args.duration + 60, check=True)
    with open(raw, "a") as handle:
        handle.write(f"## {scenario}\n$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    measurement = parse_wrk(scenario, result.stdout)
    statuses = re.search(r"^Answers not 2xx or 3xx by status: (.*)$", result.stdout, re.M)
    print(f"  {scenario:<28} {measurement.requests_per_second:9.1f} req/s  p50 {measurement.p50_ms:7.2f} ms"
          f"  p99 {measurement.p99_ms:7.2f} ms  errors {measurement.errors}"
          + (f" ({statuses.group(1)})" if statuses else ""), flush=True)
    return measurement


class OurService:
    """Our app's database, filled and driven from this process with the workers' own settings."""

    def __init__(self, database_url: str, instance: Path, **settings):
        self.settings = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
                         "SECRET_KEY": "bench-secret-key", "IP_PEPPER": "bench-ip-pepper", **settings}
        # The workers keep the request log (to gunicorn's log file), as in production; this process
        # fills the database and prepares forms, and must not write request lines into the report.
        self.app = create_app(bench_config({**self.settings, "REQUEST_LOG": False}))

    @property
    def env(self) -> dict:
        return {"BENCH_APP_CONFIG": json.dumps(self.settings)}

    def fill(self) -> None:
        with self.app.app_context():
            db.drop_all()
            db.create_all()
            article, _ = load_article(db.session, bundled_seed(), slug=SLUG)
            load_starter_rules(db.session)
            start = datetime(2026, 11, 1, tzinfo=UTC)
            db.session.execute(insert(Comment), [
                {"article_id": article.id, "nickname": f"讀者{index}", "is_anonymous": index % 5 == 0,
                 "body": comment_text(index), "status": CommentStatus.APPROVED,
                 "created_at": start + timedelta(minutes=index), "ip_hash": f"{index:064x}",
                 "author_hash": f"{index:064x}", "fingerprint": "", "version": 1}
                for index in range(APPROVED_COMMENTS)
            ])
            listing_changed(db.session, article.id, approved_delta=APPROVED_COMMENTS)
            db.session.execute(insert(Article), [
                {"key": key, "slug": key, "title": f"文章 {key}", "column_name": "", "body": "內文", "body_html": "<p>內文</p>",
                 "approved_count": index, "revision": 1, "created_at": start}
                for index, key in enumerate(COUNT_KEYS[1:])
            ])
            db.session.commit()

    def prepared_posts(self, count: int, bodies: Path) -> str:
        """`count` solved forms of one browser, one line each; returns that browser's Cookie header."""
        client = self.app.test_client()
        token = client.get("/form-token").get_json()["csrf_token"]
        with client.session_transaction() as session:
            nonce = session["captcha_nonce"]
        cookie = f"session={client.get_cookie('session').value}"
        stamp = int(time.time() * 1000)
        with self.app.app_context(), open(bodies, "w") as out:
            for index in range(count):
                challenge_id = captcha.new_challenge_id()
                captcha.challenge_media(db.session, challenge_id, CaptchaMedium.IMAGE, browser_nonce=nonce,
                                        config=self.app.config, now=datetime.now(UTC), render=lambda *_: b"",
                                        purge=False)
                if index % 1000 == 999:
                    db.session.commit()
                out.write(urllib.parse.urlencode({
                    "csrf_token": token, "captcha_id": challenge_id, "captcha_answer": BENCH_CAPTCHA_TEXT,
                    "nickname": f"讀者{index % 500}", "body": f"{comment_text(index)}（{stamp}-{index}）",
                    "action": "post",
                }) + "\n")
            db.session.commit()
        return cookie


def isso_config(work: Path, port: int) -> Path:
    path = work / "isso.cfg"
    path.write_text(
        f"[general]\ndbpath = {work / 'isso.db'}\nhost = http://127.0.0.1:{port}/\n"
        "[moderation]\nenabled = true\n"
        "[guard]\nenabled = false\n"
        f"[server]\nlisten = http://127.0.0.1:{port}\n"
    )
    return path


def seed_isso(base: str, database: Path) -> None:
    for index in range(APPROVED_COMMENTS):
        request = urllib.request.Request(
            f"{base}/new?uri=%2Fbench-article", method="POST",
            data=json.dumps({"text": comment_text(index), "author": f"讀者{index}", "title": "儀器網"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()
    with sqlite3.connect(database) as connection:  # what a moderator's approval does in Isso
        connection.execute("UPDATE comments SET mode = 1")
    thread = json.load(urllib.request.urlopen(f"{base}/?uri=%2Fbench-article", timeout=10))
    assert thread["total_replies"] == APPROVED_COMMENTS, thread["total_replies"]


def isso_posts(count: int, bodies: Path) -> None:
    stamp = int(time.time() * 1000)
    with open(bodies, "w") as out:
        for index in range(count):
            out.write(json.dumps({"text": f"{comment_text(index)}（{stamp}-{index}）", "author": "讀者",
                                  "title": "儀器網"}, ensure_ascii=False) + "\n")


def median_of(runs: list[Measurement]) -> Measurement:
    return Measurement(
        runs[0].scenario,
        statistics.median(m.requests_per_second for m in runs),
        statistics.median(m.p50_ms for m in runs),
        statistics.median(m.p99_ms for m in runs),
        sum(m.errors for m in runs),
    )


def measure_ours(label: str, service: OurService, args, work: Path, raw: Path, results: dict) -> None:
    with gunicorn("bench.apps:moderation_app", workers=args.workers, env=service.env,
                  log=work / "gunicorn.log", args=QUIET) as (base, _):
        url = f"{base}/articles/{SLUG}"
        with urllib.request.urlopen(url) as response:
            etag = response.headers["ETag"]
        for run in range(args.runs):
            if not args.post_only:
                measure_reads(label, base, url, etag, args, raw, results)
            bodies = work / f"posts-{label}-{run}.txt"
            cookie = service.prepared_posts(args.post_forms, bodies)
            results.setdefault(f"{label} comment POST", []).append(run_wrk(
                f"{label} comment POST", f"{base}/articles/{SLUG}/comments", args, raw,
                script=ROOT / "bench" / "post.lua",
                env={"BENCH_BODIES": str(bodies), "BENCH_COOKIE": cookie, "BENCH_THREADS": str(args.threads),
                     "BENCH_FORWARDED_FOR": "1"}))
            if not args.post_only:
                results.setdefault(f"{label} like POST", []).append(run_wrk(
                    f"{label} like POST", f"{base}/articles/{SLUG}/comments/1/like", args, raw,
                    script=ROOT / "bench" / "like.lua",
                    env={"BENCH_LIKE_PREFIX": f"/articles/{SLUG}", "BENCH_LIKE_IDS": str(APPROVED_COMMENTS)}))
            if args.webhooks:
                measure_post_with_webhooks(label, service, base, args, work, raw, results, run)


def measure_reads(label: str, base: str, url: str, etag: str, args, raw: Path, results: dict) -> None:
    results.setdefault(f"{label} article GET", []).append(run_wrk(f"{label} article GET", url, args, raw))
    results.setdefault(f"{label} article 304", []).append(
        run_wrk(f"{label} article 304", url, args, raw, headers=[f"If-None-Match: {etag}"]))
    results.setdefault(f"{label} embed GET", []).append(
        run_wrk(f"{label} embed GET", f"{base}/embed/{SLUG}", args, raw))
    results.setdefault(f"{label} counts GET (100 keys)", []).append(
        run_wrk(f"{label} counts GET (100 keys)", f"{base}/api/v1/counts?keys={','.join(COUNT_KEYS)}", args, raw))


def measure_post_with_webhooks(label: str, service: OurService, base: str, args, work: Path, raw: Path,
                               results: dict, run: int) -> None:
    """The same POST with an endpoint registered for every event, then the endpoint removed again."""
    from moderation.services import webhooks

    receiver = webhook_receiver(checking=args.checking_receiver)
    endpoint_id = None
    worker = queue_worker(service, work) if args.queue == "redis" and not args.worker_after else None
    try:
        with service.app.app_context():
            endpoint = webhooks.add_endpoint(db.session, receiver.url("/ok"), webhooks.EVENTS,
                                             secret=receiver.secret, allow_private=True, now=datetime.now(UTC))
            db.session.commit()
            endpoint_id = endpoint.id
        bodies = work / f"posts-{label}-{run}-webhooks.txt"
        cookie = service.prepared_posts(args.post_forms, bodies)
        scenario = f"{label} comment POST (webhooks)"
        receiving = time.process_time()  # this process is idle but for the receiver
        results.setdefault(scenario, []).append(run_wrk(
            scenario, f"{base}/articles/{SLUG}/comments", args, raw, script=ROOT / "bench" / "post.lua",
            env={"BENCH_BODIES": str(bodies), "BENCH_COOKIE": cookie, "BENCH_THREADS": str(args.threads),
                 "BENCH_FORWARDED_FOR": "1"}))
        if args.queue == "redis" and args.worker_after:
            worker = queue_worker(service, work)
        if worker is None:
            time.sleep(1)  # let the workers' threads finish what the run handed them
        else:
            drained = wait_for_deliveries(service, timeout=300)
            print(f"  {scenario}: the worker's queue drained {drained:.1f} s after the run")
        receiving = time.process_time() - receiving
        checked = receiver.checked(now=datetime.now(UTC))
        print(f"  {scenario}: {checked.received} deliveries received, {checked.signed} signed correctly, "
              f"{checked.duplicates} twice; the receiver's CPU {receiving * 1000 / max(checked.received, 1):.2f} ms "
              f"a delivery ({'checking each as it came' if args.checking_receiver else 'checked after the run'})")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        receiver.stop()
        if endpoint_id is not None:
            with service.app.app_context():
                webhooks.remove_endpoint(db.session, webhooks.find_endpoint(db.session, endpoint_id))
                db.session.commit()


def queue_worker(service: OurService, work: Path) -> subprocess.Popen:
    """`flask worker` on the benchmark's app and queue, as `make run` starts it beside the server."""
    log = open(work / "worker.log", "ab")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "bench.apps:moderation_app", "worker"],
        env={**os.environ, **service.env}, stdout=log, stderr=log, cwd=ROOT)
    log.close()
    return process


def wait_for_deliveries(service: OurService, *, timeout: float) -> float:
    """Seconds until no delivery is left pending."""
    from sqlalchemy import func, select

    from moderation.models import DeliveryState, WebhookDelivery

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with service.app.app_context():
            pending = db.session.scalar(select(func.count()).where(WebhookDelivery.state == DeliveryState.PENDING))
            db.session.remove()
        if not pending:
            return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"deliveries still pending {timeout:.0f} s after the run")


def webhook_receiver(*, checking: bool):
    """The quiet receiver (bench/receiver.py), or with `checking` the tests' receiver, which verifies
    each delivery as it comes in a thread per connection (what the figures before 2026-12-04 paid)."""
    from bench.receiver import QuietReceiver

    secret = "bench-webhook-secret-0123"
    return CheckingReceiver(secret) if checking else QuietReceiver(secret).start()


class CheckingReceiver:
    """tests/receivers.py behind the quiet receiver's interface."""

    def __init__(self, secret: str):
        from tests.receivers import Receiver, start_receiver

        self.receiver = Receiver(secret=secret)
        self.secret = secret
        self.server = start_receiver(self.receiver)

    def url(self, path: str) -> str:
        return self.receiver.url(path)

    def checked(self, *, now: datetime):
        from bench.receiver import Checked

        received = self.receiver.accepted()
        events: dict[str, int] = {}
        for item in received:
            events[item.event] = events.get(item.event, 0) + 1
        return Checked(len(received), sum(item.signed for item in received), len(self.receiver.duplicates), events)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def measure_isso(args, work: Path, raw: Path, results: dict) -> None:
    port = free_port()
    config = isso_config(work, port)
    isso = dict(executable=ISSO_VENV / "bin" / "gunicorn", port=port, cwd=work, env={"ISSO_SETTINGS": str(config)},
                log=work / "isso.log", args=QUIET, ready_path="/info")
    # Each Isso worker creates the schema of a new database when it boots; two at once can collide.
    with gunicorn("isso.run", workers=1, **isso):
        pass
    with gunicorn("isso.run", workers=args.workers, **isso) as (base, _):
        seed_isso(base, work / "isso.db")
        for run in range(args.runs):
            results.setdefault("Isso GET 200 comments", []).append(
                run_wrk("Isso GET 200 comments", f"{base}/?uri=%2Fbench-article", args, raw))
            bodies = work / f"isso-posts-{run}.txt"
            isso_posts(args.post_forms, bodies)
            results.setdefault("Isso POST (moderated)", []).append(run_wrk(
                "Isso POST (moderated)", f"{base}/new?uri=%2Fbench-article", args, raw,
                script=ROOT / "bench" / "post.lua",
                env={"BENCH_BODIES": str(bodies), "BENCH_CONTENT_TYPE": "application/json",
                     "BENCH_THREADS": str(args.threads)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, the same for every server")
    parser.add_argument("--post-forms", type=int, default=12_000, help="prepared forms per POST run")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"),
                        help="server for the PostgreSQL runs (a database of the benchmark's own is created there)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-isso", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="1 run of 1 s, 300 forms, no target judged")
    parser.add_argument("--webhooks", action="store_true", help="also the POST with a webhook endpoint registered")
    parser.add_argument("--queue", choices=("thread", "redis"), default="thread",
                        help="with --webhooks: deliveries from each web worker's thread (no REDIS_URL), or through "
                             "the RQ queue on REDIS_URL (default redis://127.0.0.1:6379/0) and a `flask worker`")
    parser.add_argument("--worker-after", action="store_true",
                        help="with --queue redis: the worker starts once the run is over (what posting alone pays)")
    parser.add_argument("--checking-receiver", action="store_true",
                        help="with --webhooks: the tests' receiver, verifying each delivery as it comes (the old way)")
    parser.add_argument("--post-only", action="store_true",
                        help="only the comment POST (with --webhooks, the pair): no ceiling, Isso or other scenarios")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the raw output")
    args = parser.parse_args(argv)
    if args.smoke:
        args.runs, args.duration, args.post_forms = 1, 1, min(args.post_forms, SMOKE_POST_FORMS)
    if args.post_only:
        args.skip_isso = True

    if not shutil.which("wrk"):
        print("wrk not found: run scripts/install-bench-tools.sh (make bench does)", file=sys.stderr)
        return 2
    if not args.skip_isso and not (ISSO_VENV / "bin" / "gunicorn").exists():
        print(f"Isso not installed in {ISSO_VENV}: run scripts/install-bench-tools.sh", file=sys.stderr)
        return 2

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.results / f"serving-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "wrk.txt"
    results: dict[str, list[Measurement]] = {}
    print(f"serving benchmark: {args.runs} runs × {args.duration} s, wrk -t{args.threads} -c{args.connections}, "
          f"gunicorn --workers {args.workers}; raw output in {raw}")

    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        work = Path(directory)
        stack.callback(_keep_logs, work, out)  # the servers' logs beside the figures, whatever happens
        service = OurService(f"sqlite:///{work / 'bench.sqlite3'}", work / "instance",
                             **queue_settings(args, f"bench-{stamp}-sqlite"))
        service.fill()
        page_bytes = len(service.app.test_client().get(f"/articles/{SLUG}").data)
        print(f"our first article page: {page_bytes} bytes, {APPROVED_COMMENTS} approved comments")

        with (nullcontext((None, None)) if args.post_only else gunicorn(
                "bench.apps:ceiling_app", workers=args.workers, env={"BENCH_CEILING_BYTES": str(page_bytes)},
                log=work / "gunicorn.log", args=QUIET)) as (ceiling, _):
            if ceiling is not None:
                with urllib.request.urlopen(ceiling + "/") as response:
                    print(f"ceiling page: {len(response.read())} bytes")
            for _ in range(0 if ceiling is None else args.runs):
                results.setdefault("ceiling (bare Flask)", []).append(
                    run_wrk("ceiling (bare Flask)", ceiling + "/", args, raw))

        measure_ours("SQLite", service, args, work, raw, results)
        if not args.skip_isso:
            measure_isso(args, work, raw, results)
        if not args.skip_postgres:
            from tests.postgres import temporary_database

            try:
                postgres_url = stack.enter_context(temporary_database(args.postgres_url, prefix="moderation_bench"))
            except Exception as error:  # no server: say so, measure the rest
                print(f"PostgreSQL runs skipped: {type(error).__name__}: {error}".splitlines()[0])
            else:
                pg_service = OurService(postgres_url, work / "instance-pg", **queue_settings(args, f"bench-{stamp}-pg"))
                pg_service.fill()
                measure_ours("PostgreSQL", pg_service, args, work, raw, results)
                with pg_service.app.app_context():
                    db.engine.dispose()

    medians = {name: median_of(runs) for name, runs in results.items()}
    return report(medians, args, out)


def queue_settings(args, name: str) -> dict:
    """With `--queue redis`, `redis_settings(name)`."""
    return redis_settings(name) if args.queue == "redis" else {}


def redis_settings(name: str) -> dict:
    """Redis (REDIS_URL, else the local one) for the job queue and, as on such a site, the rate limits;
    a queue and key prefix of the run's own."""
    return {"REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "JOBS_QUEUE": name,
            "RATELIMIT_KEY_PREFIX": name}


def _keep_logs(work: Path, out: Path) -> None:
    for log in work.glob("*.log"):
        shutil.copyfile(log, out / log.name)


def target_checks(medians: dict[str, Measurement], ceiling: float | None) -> dict[str, tuple[float, float]]:
    """Each target judged: name → (measured ratio, target)."""
    checks: dict[str, tuple[float, float]] = {}
    for label in ("SQLite", "PostgreSQL"):
        if f"{label} comment POST (webhooks)" in medians:
            checks[f"{label}: POST with webhooks / POST"] = (
                medians[f"{label} comment POST (webhooks)"].requests_per_second
                / medians[f"{label} comment POST"].requests_per_second, TARGETS["post_with_webhooks_vs_post"])
        if f"{label} article GET" not in medians or ceiling is None:
            continue
        get, not_modified = medians[f"{label} article GET"], medians[f"{label} article 304"]
        post = medians[f"{label} comment POST"]
        checks[f"{label}: GET / ceiling"] = (get.requests_per_second / ceiling, TARGETS["get_vs_ceiling"])
        checks[f"{label}: 304 / ceiling"] = (not_modified.requests_per_second / ceiling,
                                             TARGETS["not_modified_vs_ceiling"])
        if "Isso POST (moderated)" in medians:
            checks[f"{label}: POST / Isso POST"] = (
                post.requests_per_second / medians["Isso POST (moderated)"].requests_per_second,
                TARGETS["post_vs_isso_post"])
        like = medians[f"{label} like POST"]
        checks[f"{label}: like POST / ceiling"] = (like.requests_per_second / ceiling, TARGETS["like_vs_ceiling"])
        embed, counted = medians[f"{label} embed GET"], medians[f"{label} counts GET (100 keys)"]
        checks[f"{label}: counts GET (100 keys) / ceiling"] = (counted.requests_per_second / ceiling,
                                                               TARGETS["counts_vs_ceiling"])
        checks[f"{label}: embed GET / article GET"] = (embed.requests_per_second / get.requests_per_second,
                                                       TARGETS["embed_vs_article_get"])
        for m in (get, not_modified, post, like, embed, counted):
            checks[f"{m.scenario}: p99 / p50 (at most)"] = (m.p99_ms / m.p50_ms, TARGETS["p99_over_p50"])
    return checks


def report(medians: dict[str, Measurement], args, out: Path) -> int:
    print(f"\nmedians of {args.runs} runs")
    ceiling = medians["ceiling (bare Flask)"].requests_per_second if "ceiling (bare Flask)" in medians else None
    unanswered = [name for name, m in medians.items() if not m.requests_per_second or not m.p50_ms]
    for name, m in medians.items():
        if name in unanswered:
            print(f"  {name:<28} no request completed in {args.duration} s")
            continue
        versus = f"{m.requests_per_second / ceiling:6.3f}× ceiling" if ceiling else ""
        print(f"  {name:<28} {m.requests_per_second:9.1f} req/s  {versus}"
              f"  p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms  p99/p50 {m.p99_ms / m.p50_ms:5.2f}  errors {m.errors}")
    if unanswered:
        print(f"\nMISS no request completed: {', '.join(unanswered)}; nothing can be judged")
    checks = {} if unanswered else target_checks(medians, ceiling)
    print("\ntargets")
    missed = []
    for name, (value, target) in checks.items():
        at_most = "at most" in name
        ok = value <= target if at_most else value >= target
        missed += [] if ok else [name]
        print(f"  {'ok  ' if ok else 'MISS'} {name:<44} {value:6.2f} ({'≤' if at_most else '≥'} {target})")
    errors = {name: m.errors for name, m in medians.items() if m.errors}
    if errors:
        print(f"  MISS responses that were errors: {errors}")
    (out / "summary.json").write_text(json.dumps(
        {"args": vars(args), "medians": {name: asdict(m) for name, m in medians.items()},
         "checks": {name: {"value": value, "target": target} for name, (value, target) in checks.items()},
         "missed": missed, "errors": errors, "unanswered": unanswered}, ensure_ascii=False, indent=2, default=str))
    print(f"\nsummary: {out / 'summary.json'}")
    if args.smoke:
        print("smoke run: targets not judged")
        return 0
    return 1 if missed or errors or unanswered else 0


if __name__ == "__main__":
    sys.exit(main())
