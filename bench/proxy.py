"""Opt-in: Debian's nginx with deploy/nginx.conf in front of gunicorn, on loopback.

Measures the cached article page through nginx beside the bare-Flask ceiling in the same run
(target: ≥ 5× the ceiling), then approves a new comment and polls through nginx until it shows,
which must happen within the page's max-age (plus one second for the revalidation).

Run: `make bench-proxy` (installs nginx with scripts/install-bench-tools.sh --with-nginx). Never
part of `make test`, except `--smoke`: every step once for a second, no target judged (the test
suite runs it when nginx and wrk are installed, and `approval_delay` against the app itself always).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bench.serving import (
    QUIET,
    RESULTS,
    ROOT,
    SLUG,
    OurService,
    free_port,
    gunicorn,
    run_wrk,
)
from moderation.extensions import db
from moderation.models import Comment, CommentStatus
from moderation.services.audit import SYSTEM
from moderation.services.decisions import Decision, decide

NGINX = Path("/usr/sbin/nginx")
TARGET = 5.0


def render_nginx(work: Path, upstream: str, port: int) -> Path:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server {upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/var/cache/nginx/moderation", str(work / "nginx-cache"))
    (work / "site.conf").write_text(site)
    main = work / "nginx-main.conf"
    main.write_text(
        f"daemon off;\nworker_processes 1;\nuser root;\npid {work / 'nginx.pid'};\n"
        f"error_log {work / 'nginx-error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n  access_log off;\n"
        f"  client_body_temp_path {work / 'nginx-body'};\n  proxy_temp_path {work / 'nginx-proxy'};\n"
        f"  fastcgi_temp_path {work / 'nginx-fcgi'};\n  uwsgi_temp_path {work / 'nginx-uwsgi'};\n"
        f"  scgi_temp_path {work / 'nginx-scgi'};\n"
        f"  include {work / 'site.conf'};\n}}\n"
    )
    return main


def fetch(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode(), response.headers.get("X-Cache-Status", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="1 run of 1 s, a 1 s page cache, no target judged")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the raw output")
    args = parser.parse_args(argv)
    if args.smoke:
        args.runs, args.duration = 1, 1
    if not NGINX.exists() or not shutil.which("wrk"):
        print("needs Debian's nginx and wrk: scripts/install-bench-tools.sh --with-nginx", file=sys.stderr)
        return 2

    out = args.results / f"proxy-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "wrk.txt"
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        os.chmod(work, 0o755)
        # A smoke run waits for a 1 s cache, not the 10 s one, to see its approval.
        service = OurService(f"sqlite:///{work / 'bench.sqlite3'}", work / "instance",
                             **({"ARTICLE_CACHE_S_MAXAGE": 1} if args.smoke else {}))
        service.fill()
        max_age = service.app.config["ARTICLE_CACHE_S_MAXAGE"]
        page_bytes = len(service.app.test_client().get(f"/articles/{SLUG}").data)
        ceiling_runs, cached_runs = [], []
        with gunicorn("bench.apps:ceiling_app", workers=args.workers, env={"BENCH_CEILING_BYTES": str(page_bytes)},
                      log=work / "gunicorn.log", args=QUIET) as (ceiling, _), \
             gunicorn("bench.apps:moderation_app", workers=args.workers, env=service.env,
                      log=work / "gunicorn.log", args=QUIET) as (app, _):
            port = free_port()
            config = render_nginx(work, app.removeprefix("http://"), port)
            with open(work / "nginx.out", "wb") as nginx_output:
                nginx = subprocess.Popen([str(NGINX), "-c", str(config)], stderr=nginx_output)
            try:
                proxy = f"http://127.0.0.1:{port}/articles/{SLUG}"
                deadline = time.monotonic() + 10
                while True:
                    try:
                        fetch(proxy)
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                _, status = fetch(proxy)
                print(f"through nginx: X-Cache-Status {status} (page {page_bytes} bytes, s-maxage {max_age} s)")
                for _ in range(args.runs):
                    ceiling_runs.append(run_wrk("ceiling (bare Flask)", ceiling + "/", args, raw))
                    cached_runs.append(run_wrk("article through nginx", proxy, args, raw))
                freshness = approval_delay(service, proxy, max_age)
            finally:
                nginx.send_signal(signal.SIGQUIT)
                nginx.wait(timeout=10)

    ratio = statistics.median(m.requests_per_second for m in cached_runs) / statistics.median(
        m.requests_per_second for m in ceiling_runs)
    errors = sum(m.errors for m in cached_runs)
    print(f"\nmedians of {args.runs} runs: article through nginx = {ratio:.1f}× the bare-Flask ceiling "
          f"(target ≥ {TARGET}); errors {errors}")
    print(f"a new approval appeared through nginx after {freshness:.1f} s (max-age {max_age} s)")
    (out / "summary.txt").write_text(f"ratio {ratio:.2f}\nfreshness_seconds {freshness:.2f}\nerrors {errors}\n")
    if args.smoke:
        print("smoke run: targets not judged")
        return 0
    return 0 if ratio >= TARGET and freshness <= max_age + 1 and not errors else 1


def approval_delay(service: OurService, proxy: str, max_age: int) -> float:
    """Approve a new comment (as the service itself: no moderator signs in here), then poll through
    nginx until readers see it."""
    text = f"剛通過審核的評論 {time.time_ns()}"
    with service.app.app_context():
        article_id = db.session.scalar(select(Comment.article_id).limit(1))
        comment = Comment(article_id=article_id, nickname="新讀者", body=text, status=CommentStatus.PENDING,
                          created_at=datetime.now(UTC), ip_hash="f" * 64, author_hash="f" * 64)
        db.session.add(comment)
        db.session.commit()
        _, before = fetch(proxy)  # the cache holds the page without it
        print(f"before the approval: X-Cache-Status {before}")
        approved_at = time.monotonic()
        result = decide(db.session, comment.id, Decision.APPROVE, expected_version=1, actor=SYSTEM,
                        now=datetime.now(UTC))
        if not result.ok:
            raise RuntimeError(f"the approval was refused: {result.refusal}")
    while time.monotonic() - approved_at < max_age + 5:
        body, status = fetch(proxy)
        if text in body:
            print(f"seen with X-Cache-Status {status}")
            return time.monotonic() - approved_at
        time.sleep(0.25)
    return float("inf")


if __name__ == "__main__":
    sys.exit(main())
