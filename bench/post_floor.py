"""The comment POST's CPU against Isso 0.14's POST and against a floor: the least a Flask comment
POST does (a Flask-WTF form with its CSRF token read from the session cookie, one INSERT and its
commit on SQLite, a flashed notice and the 303), with none of our checks.

All three are posted through Werkzeug's test client, one after another, each in its own process
state: ours with the serving benchmark's prepared forms and settings (bench.serving.OurService,
SQLite, no webhook endpoint, the request log off), the floor with the same texts, Isso with the
same texts as JSON in its own environment (bench/isso_post_cpu.py). Rounds alternate the three;
the report gives each one's median CPU a post and what the serving target (our POST ≥ 2× Isso's)
leaves for a post: half of Isso's CPU, of which the floor alone takes the share printed. A
direction-finder, not a target: `bench.serving` judges the POST.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, flash, redirect, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, create_engine, event, insert
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from bench import post_cost
from bench.serving import ISSO_VENV, ROOT, OurService, isso_config

WARM_UP = 50


class FloorForm(FlaskForm):
    nickname = StringField(validators=[Length(max=20)])
    anonymous = BooleanField()
    body = TextAreaField(validators=[DataRequired(), Length(max=2000)])
    captcha_id = HiddenField()
    captcha_answer = StringField()
    submission_key = HiddenField()
    reply_to = HiddenField()


def floor_app(database: Path) -> Flask:
    engine = create_engine(f"sqlite:///{database}")
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA journal_mode=WAL"))
    table = Table("comment", MetaData(), Column("id", Integer, primary_key=True), Column("nickname", Text),
                  Column("body", Text, nullable=False), Column("created_at", DateTime, nullable=False))
    table.metadata.create_all(engine)
    store = insert(table)
    app = Flask(__name__)
    app.secret_key = "bench-floor-secret-key"

    @app.get("/token")
    def token():
        return generate_csrf()

    @app.get("/")
    def page():
        return ""

    @app.post("/comments")
    def post():
        form = FloorForm()
        if not form.validate():
            return "refused", 422
        with engine.begin() as connection:
            connection.execute(store, {"nickname": form.nickname.data or None, "body": form.body.data,
                                       "created_at": datetime.now(UTC)})
        flash("comment_pending", "notice")
        return redirect(url_for("page", _anchor="notice"), 303)

    return app


def measure_floor(work: Path, lines: list[str]) -> float:
    app = floor_app(work / "floor.sqlite3")
    client = app.test_client()
    token = client.get("/token").get_data(as_text=True)
    cookie = client.get_cookie("session").value
    forms = []
    for line in lines:
        fields = dict(urllib.parse.parse_qsl(line))
        forms.append(urllib.parse.urlencode({**fields, "csrf_token": token}))

    def post(form: str) -> None:
        client.set_cookie("session", cookie)  # as wrk sends one prepared cookie with every post
        answer = client.post("/comments", data=form, content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 303, answer.status_code

    for form in forms[:WARM_UP]:
        post(form)
    cpu = time.process_time()
    for form in forms[WARM_UP:]:
        post(form)
    return (time.process_time() - cpu) / (len(forms) - WARM_UP)


def measure_isso(work: Path, lines: list[str]) -> float:
    (work / "isso.db").unlink(missing_ok=True)
    settings = isso_config(work, 8080)
    bodies = work / "isso-posts.jsonl"
    with open(bodies, "w", encoding="utf-8") as out:
        for line in lines:
            fields = dict(urllib.parse.parse_qsl(line))
            out.write(json.dumps({"text": fields["body"], "author": fields["nickname"], "title": "儀器網"},
                                 ensure_ascii=False) + "\n")
    result = subprocess.run([str(ISSO_VENV / "bin" / "python"), str(ROOT / "bench" / "isso_post_cpu.py"),
                             str(settings), str(bodies), str(WARM_UP)],
                            capture_output=True, text=True, check=True, timeout=600)
    return json.loads(result.stdout.strip().splitlines()[-1])["cpu_ms"] / 1000


def texts(posts: int, work: Path) -> list[str]:
    """The serving benchmark's prepared forms (their texts and nicknames), WARM_UP more."""
    service = OurService(f"sqlite:///{work / 'texts.sqlite3'}", work / "instance")
    service.fill()
    forms = work / "forms.txt"
    service.prepared_posts(posts + WARM_UP, forms)
    return forms.read_text().splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1 run of 5 posts")
    args = parser.parse_args(argv)
    if args.smoke:
        args.posts, args.runs = 5, 1
    if not (ISSO_VENV / "bin" / "python").exists():
        print(f"Isso is not installed ({ISSO_VENV}): run scripts/install-bench-tools.sh", file=sys.stderr)
        return 2
    cpu: dict[str, list[float]] = {"ours": [], "Isso's": [], "the floor's": []}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as directory:
            work = Path(directory)
            lines = texts(args.posts, work)
            cpu["ours"].append(post_cost.measure(args.posts, None, quiet_seconds=0.05, lag_seconds=0.5,
                                                 callgrind=False))
            cpu["Isso's"].append(measure_isso(work, lines))
            cpu["the floor's"].append(measure_floor(work, lines))
        print(f"  run {run + 1}: " + ", ".join(f"{name} {values[-1] * 1000:.2f} ms" for name, values in cpu.items()),
              flush=True)
    ours, isso, floor = (statistics.median(values) * 1000 for values in cpu.values())
    budget = isso / 2
    print(f"CPU a comment POST, median of {args.runs}: ours {ours:.2f} ms, Isso's {isso:.2f} ms, "
          f"the floor's {floor:.2f} ms")
    print(f"our POST at 2× Isso's leaves {budget:.2f} ms a post: the floor alone takes {floor / budget:.0%} of it, "
          f"ours takes {ours / budget:.1f}× it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
