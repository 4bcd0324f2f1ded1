"""What a comment POST costs the whole process with a webhook endpoint registered, against without:
the post itself, the batch thread's deliveries and the receiver, counted over the same posts.

The serving benchmark's forms and settings (bench.serving.OurService, SQLite), posted through the
test client one after another; the thread runner sends the deliveries in batches to a receiver in
this process (`--receiver quiet`, bench/receiver.py, or `checking`, the tests' receiver). Prints the
process's CPU a post (every thread; noisy on a shared machine). For counts that do not depend on
the load, run it under callgrind with `--callgrind`: instrumentation is switched on for the
measured posts only, and `--separate-threads=yes` gives each thread's share in its own file:

    valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no \\
        --callgrind-out-file=bench/results/post-cost.%p .venv/bin/python -m bench.post_cost \\
        --callgrind with --posts 60 --quiet-seconds 1.5 --lag-seconds 15
    grep -H ^totals bench/results/post-cost.*

`--callgrind without` counts the posts without an endpoint, in a process of their own. Under
valgrind a post takes some 30 times longer: the batch thread's quiet period and lag are scaled
with it, so that its batches are as large as in the serving benchmark.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.serving import SLUG, OurService, redis_settings, webhook_receiver
from moderation.extensions import db
from moderation.services import webhooks

WARM_UP = 20


def measure(posts: int, receiver_kind: str | None, *, quiet_seconds: float, lag_seconds: float,
            callgrind: bool, runner_name: str = "thread") -> float:
    """CPU seconds a post; `receiver_kind` None: no endpoint. With `runner_name` "redis" or "off" this
    process only writes the deliveries and hands them over (to a queue nobody works, or to no one)."""
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        queue = redis_settings(f"bench-post-cost-{os.getpid()}") if runner_name == "redis" else {}
        service = OurService(f"sqlite:///{work / 'cost.sqlite3'}", work / "instance", JOBS_RUNNER=runner_name,
                             WEBHOOK_BATCH_QUIET_SECONDS=quiet_seconds, WEBHOOK_BATCH_MAX_LAG_SECONDS=lag_seconds,
                             **queue)
        service.fill()
        receiver = None if receiver_kind is None else webhook_receiver(checking=receiver_kind == "checking")
        try:
            if receiver is not None:
                with service.app.app_context():
                    webhooks.add_endpoint(db.session, receiver.url("/ok"), webhooks.EVENTS, secret=receiver.secret,
                                          allow_private=True, now=datetime.now(UTC))
                    db.session.commit()
            forms = work / "forms.txt"
            cookie = service.prepared_posts(posts + WARM_UP, forms)
            client = PreparedBrowser(service.app, cookie.split("=", 1)[1])
            runner = service.app.extensions["jobs"]
            lines = forms.read_text().splitlines()
            for index, form in enumerate(lines[:WARM_UP]):
                _post(client, form, index)
            waits = runner_name == "thread"
            if waits:
                runner.wait_idle(lag_seconds * 4)
            _instrument(callgrind, True)
            cpu = time.process_time()
            for index, form in enumerate(lines[WARM_UP:], start=WARM_UP):
                _post(client, form, index)
            assert not waits or runner.wait_idle(lag_seconds * 4 + 60), "deliveries still waiting"
            cpu = time.process_time() - cpu
            _instrument(callgrind, False)
            if runner_name == "redis":
                runner.queue().empty()
            runner.stop()
        finally:
            if receiver is not None:
                receiver.stop()
        if receiver is not None and runner_name == "thread":
            checked = receiver.checked(now=datetime.now(UTC))
            print(f"    {checked.received} deliveries received, {checked.signed} signed correctly, "
                  f"{checked.duplicates} twice", flush=True)
        return cpu / posts


class PreparedBrowser:
    """The test client sending the prepared session cookie, and no other, with every post, as wrk does
    in the serving benchmark. Keeping the cookies a post answers would make every later post a
    returning author's (the reader cookie), with a restriction and a trust ramp to read and the
    author's whole run of comments behind each; and it would grow the session by a flashed notice a
    post (nothing follows the 303 to the page that shows it)."""

    def __init__(self, app, cookie: str):
        self.client, self.cookie = app.test_client(use_cookies=False), cookie

    def post(self, *args, headers=None, **kwargs):
        return self.client.post(*args, headers={**(headers or {}), "Cookie": f"session={self.cookie}"}, **kwargs)


def _post(client, form: str, index: int) -> None:
    response = client.post(f"/articles/{SLUG}/comments", data=form, content_type="application/x-www-form-urlencoded",
                           headers={"X-Forwarded-For": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"})
    assert response.status_code == 303, response.status_code


def _instrument(callgrind: bool, on: bool) -> None:
    if callgrind:
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], capture_output=True,
                       check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--receiver", choices=("quiet", "checking"), default="quiet")
    parser.add_argument("--quiet-seconds", type=float, default=0.05, help="WEBHOOK_BATCH_QUIET_SECONDS")
    parser.add_argument("--lag-seconds", type=float, default=0.5, help="WEBHOOK_BATCH_MAX_LAG_SECONDS")
    parser.add_argument("--callgrind", choices=("without", "with"), default=None,
                        help="under callgrind: only the posts without or with an endpoint, instrumented alone")
    parser.add_argument("--runner", choices=("thread", "redis", "off"), default="thread",
                        help="JOBS_RUNNER: redis and off count what posting costs without the sending")
    parser.add_argument("--smoke", action="store_true", help="1 run of 5 posts")
    args = parser.parse_args(argv)
    if args.smoke:
        args.posts, args.runs = 5, 1
    kinds = [None, args.receiver]
    if args.callgrind:  # one process, one kind: each thread's totals then hold that kind's posts alone
        args.runs, kinds = 1, [None] if args.callgrind == "without" else [args.receiver]
    cpu: dict[str | None, list[float]] = {kind: [] for kind in kinds}
    for _ in range(args.runs):
        for kind in kinds:
            print(f"  {args.posts} posts, {'endpoint, ' + kind + ' receiver' if kind else 'no endpoint'}", flush=True)
            cpu[kind].append(measure(args.posts, kind, quiet_seconds=args.quiet_seconds, lag_seconds=args.lag_seconds,
                                     callgrind=args.callgrind is not None, runner_name=args.runner))
    medians = {kind: statistics.median(values) * 1000 for kind, values in cpu.items() if values}
    print(f"process CPU a post, median of {args.runs}: " + ", ".join(
        f"{'with an endpoint' if kind else 'without'} {value:.2f} ms" for kind, value in medians.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
