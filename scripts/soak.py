"""Opt-in soak (bounded, loopback only): 50 concurrent readers post through gunicorn on
PostgreSQL while a worker is SIGKILLed twice; then acknowledged posts are compared with stored ones.

A post is acknowledged when it got its 303. When a connection breaks (a killed worker), the
reader sends the identical form once more, as a browser's retry would: that must not store a
second copy. Run: `.venv/bin/python scripts/soak.py [--seconds 60] [--posters 50]`; it creates a
PostgreSQL database of its own (TEST_DATABASE_URL's server) and drops it afterwards. `--smoke` runs
4 posters for 2 seconds against one worker and judges nothing (the test suite runs it so the script keeps working).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.article_text import bundled_seed  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import Comment  # noqa: E402
from moderation.services.articles import load_article  # noqa: E402
from tests.postgres import temporary_database  # noqa: E402
from tests.server_app import CAPTCHA_TEXT  # noqa: E402
from tests.servers import Browser, app_server  # noqa: E402

SLUG = "soak-article"


def poster(index: int, base: str, deadline: float, results: dict, lock: threading.Lock) -> None:
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        text = f"soak-{index}-{sent} 壓力測試的評論"
        browser = Browser()
        forwarded = {"X-Forwarded-For": f"10.9.{index}.{sent % 250 + 1}"}
        try:
            state = json.loads(browser.get(f"{base}/form-token", forwarded).body)
            browser.get(f"{base}{state['captcha']['image']}", forwarded)
        except Exception as error:  # the worker died under us before the form existed: nothing sent
            with lock:
                results["setup_failed"][type(error).__name__] += 1
            continue
        form = {"csrf_token": state["csrf_token"], "captcha_id": state["captcha"]["id"],
                "captcha_answer": CAPTCHA_TEXT, "nickname": f"讀者{index}", "body": text, "action": "post"}
        for attempt in ("first", "retry"):
            try:
                reply = browser._open(_post_request(f"{base}/articles/{SLUG}/comments", form, forwarded))
            except Exception as error:  # connection broken: the reply was lost; send the same form again
                with lock:
                    results["broken"][f"{attempt}:{type(error).__name__}"] += 1
                continue
            with lock:
                results["statuses"][f"{attempt}:{reply.status}"] += 1
                if reply.status == 303:
                    results["acknowledged"].append(text)
            break


def _post_request(url, form, headers):
    import urllib.parse
    import urllib.request

    return urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers, method="POST")


def kill_a_worker(master: subprocess.Popen) -> int | None:
    children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
    if not children:
        return None
    os.kill(int(children[0]), signal.SIGKILL)
    return int(children[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, choices=range(5, 61), metavar="5..60")
    parser.add_argument("--posters", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    parser.add_argument("--smoke", action="store_true", help="4 posters for 2 s, nothing judged")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.posters, args.workers = 2, 4, 1
    work = Path(tempfile.mkdtemp(prefix="moderation-soak-"))  # instance folder and gunicorn's log

    with temporary_database(args.postgres_url, prefix="moderation_soak") as url:
        config = {"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "soak",
                  "IP_PEPPER": "soak", "CAPTCHA_MIN_SECONDS": 0, "TRUSTED_PROXY_COUNT": 1,
                  "CAPTCHA_IMAGE_RATE_LIMIT": "100000 per minute", "REQUEST_LOG": False}
        app = create_app({**config, "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT})
        with app.app_context():
            db.create_all()
            load_article(db.session, bundled_seed(), slug=SLUG)
            db.session.commit()  # services flush; the caller commits
        results = {"acknowledged": [], "statuses": collections.Counter(), "broken": collections.Counter(),
                   "setup_failed": collections.Counter()}
        lock = threading.Lock()
        killed = []
        with app_server(config, workers=args.workers, log=work / "gunicorn.log") as (base, master):
            started = time.monotonic()
            deadline = started + args.seconds
            threads = [threading.Thread(target=poster, args=(i, base, deadline, results, lock), daemon=True)
                       for i in range(args.posters)]
            for thread in threads:
                thread.start()
            for fraction in (1 / 3, 2 / 3):
                time.sleep(max(0.0, started + args.seconds * fraction - time.monotonic()))
                killed.append(kill_a_worker(master))
            for thread in threads:
                thread.join(timeout=args.seconds + 60)
        with app.app_context():
            stored = [body for body in db.session.scalars(select(Comment.body)) if body.startswith("soak-")]
            db.session.remove()
            db.engine.dispose()

    acknowledged = set(results["acknowledged"])
    counts = collections.Counter(stored)
    lost = sorted(acknowledged - set(counts))
    duplicated = sorted(text for text, count in counts.items() if count > 1)
    unacknowledged_stored = len(set(counts) - acknowledged)
    report = {
        "seconds": args.seconds, "posters": args.posters, "workers_killed": killed,
        "acknowledged": len(acknowledged), "stored": len(stored), "lost": len(lost), "duplicated": len(duplicated),
        "stored_but_not_acknowledged": unacknowledged_stored,
        "responses": dict(results["statuses"]), "broken_connections": dict(results["broken"]),
        "setup_failed": dict(results["setup_failed"]), "gunicorn_log": str(work / "gunicorn.log"),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.smoke:
        print("smoke run: nothing judged")
        return 0
    return 1 if lost or duplicated else 0


if __name__ == "__main__":
    sys.exit(main())
