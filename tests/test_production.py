"""The production path: the wheel, gunicorn's settings, health and readiness, database outages."""

from __future__ import annotations

import logging
import os
import re
import runpy
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from moderation import create_app
from moderation.extensions import db as _db
from moderation.warm_up import warm_up
from moderation.web.outages import OutageLog, is_database_outage
from tests.conftest import ARTICLE_SLUG, CAPTCHA_TEXT, _create_schema_and_seed

ROOT = Path(__file__).resolve().parent.parent
MANDARIN_CLIPS = ROOT / "moderation" / "data" / "captcha_voice_cmn"
UNREACHABLE_DATABASE = "postgresql://127.0.0.1:1/nothing-listens-here"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the files git keeps (a build leaves build/ and *.egg-info where it runs)."""
    source = tmp_path_factory.mktemp("source") / "moderation"
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                   check=True, capture_output=True)
    [built] = out.glob("moderation-*.whl")
    return built


def test_the_wheel_ships_the_templates_static_files_migrations_and_catalogues(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("moderation/templates/base.html", "moderation/templates/error.html",
                     "moderation/templates/reader/article.html", "moderation/templates/moderator/queue.html",
                     "moderation/static/style.css", "moderation/static/reader.js",
                     "moderation/data/article.txt", "moderation/migrations/env.py",
                     "moderation/translations/zh_Hans/LC_MESSAGES/messages.mo",
                     "moderation/translations/en/LC_MESSAGES/messages.mo"):
        assert expected in names, expected
    voices = {name.split("/")[3] for name in names
              if name.startswith("moderation/data/captcha_voice_cmn/") and name.endswith(".wav")}
    assert voices == {path.name for path in MANDARIN_CLIPS.iterdir() if path.is_dir()}  # a clip for every sign


def test_the_installed_wheel_serves_the_article_from_any_folder(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = f"""
import moderation
from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.services.articles import load_article
from moderation.extensions import db
assert moderation.__file__.startswith({str(target)!r}), moderation.__file__
app = create_app({{"DATABASE_URL": "sqlite:///{tmp_path}/installed.sqlite3", "SECRET_KEY": "k", "IP_PEPPER": "p"}})
with app.app_context():
    db.create_all()
    load_article(db.session, bundled_seed(), slug="s")
    db.session.commit()
client = app.test_client()
page = client.get("/articles/s")
assert page.status_code == 200 and "所有評論僅代表網友意見,與本站立場無關" in page.get_data(as_text=True)
assert client.get("/static/style.css").status_code == 200
assert client.get("/no-such-page").status_code == 404
english = client.get("/articles/s", headers={{"Accept-Language": "en"}}).get_data(as_text=True)
assert "Comments are the views of their authors" in english, "the wheel's catalogues"
print("served", app.instance_path)
"""
    # -S: no site-packages .pth files, so the checkout's editable install cannot shadow the wheel.
    site_packages = sysconfig.get_paths()["purelib"]
    result = subprocess.run([sys.executable, "-S", "-c", script], cwd=elsewhere, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(target), site_packages]),
                                 "MODERATION_INSTANCE_PATH": str(tmp_path / "instance")})
    assert result.returncode == 0, result.stderr
    assert "served" in result.stdout


def test_gunicorn_takes_its_workers_and_bind_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == 5 and settings["bind"] == "0.0.0.0:9000"
    assert settings["timeout"] > 5  # above the statement timeout
    assert settings["accesslog"] is None  # the app's own request log has no client addresses
    assert "%(h)s" not in settings["access_log_format"]


@pytest.mark.parametrize("redis_url, warned", [("", True), ("redis://127.0.0.1:6379/0", False)])
def test_gunicorn_prepares_each_worker_and_warns_when_workers_cannot_share_rate_limits(tmp_path, redis_url, warned):
    from tests.servers import app_server, wait_for

    log = tmp_path / "gunicorn.log"
    env = {"MODERATION_INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{tmp_path}/start.sqlite3"}
    config = {"DATABASE_URL": env["DATABASE_URL"], "INSTANCE_PATH": env["MODERATION_INSTANCE_PATH"],
              "SECRET_KEY": "k", "IP_PEPPER": "p", "REQUEST_LOG": False}
    with create_app(config).app_context():
        _create_schema_and_seed()
        _db.engine.dispose()
    with app_server(config, workers=2, log=log, gunicorn_conf=ROOT / "gunicorn.conf.py", env=env):
        # The first worker may answer while the second still starts: wait for both to say they are ready.
        wait_for(lambda: log.read_text().count("screening ready in") == 2, what="both workers' screening")
    said = "rate limits are kept per worker (2 workers, no REDIS_URL)" in log.read_text()
    assert said is warned
    assert "Control socket" not in log.read_text()  # none shared by every server of the user (GUNICORN_CONTROL_SOCKET)


def test_a_worker_prepares_screening_before_its_first_request(app):
    assert app.extensions["screening_rules"].rules is None
    assert warm_up(app) is not None
    assert app.extensions["screening_rules"].rules is not None


def test_a_worker_whose_database_is_down_starts_anyway_and_leaves_screening_to_the_first_post(tmp_path, caplog):
    app = outage_app(tmp_path)
    assert warm_up(app) is None
    assert "the first post builds them" in caplog.text
    assert app.extensions["screening_rules"].rules is None


@pytest.mark.committing  # readiness opens a connection of its own
def test_health_and_readiness_answer_without_a_session_or_a_write(app, client, db):
    for url in ("/healthz", "/readyz"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"
    assert client.get("/readyz").get_json()["checks"] == {"database": "ok"}
    assert client.get("/readyz").get_json()["warnings"] == []


@pytest.mark.committing
def test_a_nearly_full_disk_is_a_warning_of_readiness_and_a_figure_of_the_metrics(app, client, db):
    """Real free space, against a threshold above it: still ready (pages are read), but said."""
    import shutil

    app.config.update(DISK_LOW_BYTES=shutil.disk_usage("/").free + 10**15, METRICS_TOKEN="t")
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.get_json()["warnings"] == ["disk_low"]
    scraped = client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True)
    free = next(line for line in scraped.splitlines() if line.startswith("moderation_instance_disk_free_bytes "))
    assert float(free.split()[1]) > 0


def outage_app(tmp_path, **overrides):
    return create_app({
        "TESTING": True, "DATABASE_URL": UNREACHABLE_DATABASE, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "k", "IP_PEPPER": "p", "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT,
        "DATABASE_CONNECT_TIMEOUT_SECONDS": 1, **overrides,
    })


def test_readiness_is_503_while_the_database_is_unreachable(tmp_path):
    client = outage_app(tmp_path).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["database"] == "unreachable"
    assert int(response.headers["Retry-After"]) > 0


def test_readiness_says_redis_is_unreachable_and_stays_ready(tmp_path):
    """The server works without Redis: a load balancer must not take every server out for it."""
    client = outage_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/ok.sqlite3",
                        REDIS_URL="redis://127.0.0.1:1/0").test_client()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"
    assert response.get_json()["checks"] == {"database": "ok", "redis": "unreachable"}
    assert "redis_unreachable" in response.get_json()["warnings"]


def test_pages_answer_503_with_retry_after_and_one_log_line_per_outage(tmp_path, caplog):
    app = outage_app(tmp_path)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        for _ in range(4):
            response = client.get(f"/articles/{ARTICLE_SLUG}")
            assert response.status_code == 503
            assert response.headers["Retry-After"] == str(app.config["OUTAGE_RETRY_AFTER_SECONDS"])
            assert "服務暫時無法使用" in response.get_data(as_text=True)
    lines = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].getMessage().startswith("database outage started (cut;")
    assert not any(record.exc_info for record in caplog.records)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert client.get("/form-token").status_code == 200  # needs no database: says nothing of it
    assert not [r for r in caplog.records if "outage over" in r.getMessage()]


def test_the_outage_log_says_when_it_began_and_when_it_ended(caplog):
    now = [100.0]
    outages = OutageLog(clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="moderation.web.outages"):
        for _ in range(3):
            outages.failed(OperationalError("SELECT 1", {}, Exception("connection refused")))
        now[0] += 12.5
        outages.succeeded()
        outages.succeeded()
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("database outage started (cut; OperationalError")
    assert messages[1] == "database outage over (cut): 12.5 s, 3 requests answered 503"


def test_a_reader_posting_during_an_outage_gets_the_form_back_with_everything_typed(tmp_path):
    client = outage_app(tmp_path).test_client()
    token = client.get("/form-token").get_json()["csrf_token"]
    response = client.post(f"/articles/{ARTICLE_SLUG}/comments", data={
        "csrf_token": token, "captcha_id": "x" * 32, "captcha_answer": CAPTCHA_TEXT,
        "nickname": "停電時的讀者", "body": "這段文字不能不見", "action": "post",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert "系統暫時無法儲存評論，您輸入的內容已保留" in html
    assert 'value="停電時的讀者"' in html and "這段文字不能不見" in html
    assert re.search(r'name="csrf_token" value="[^"]+"', html)


@pytest.mark.committing  # locks held by a second connection
def test_engine_settings_bound_every_wait(database_url, tmp_path):
    app = outage_app(tmp_path, DATABASE_URL=database_url, DATABASE_STATEMENT_TIMEOUT_MS=200)
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    if database_url.startswith("sqlite"):
        assert options["connect_args"]["timeout"] == 0.2  # the statement timeout bounds the wait for a writer
        with app.app_context():
            busy_ms = _db.session.execute(text("PRAGMA busy_timeout")).scalar()
            _db.engine.dispose()
        assert busy_ms == 200
        return
    assert options["pool_timeout"] > 0
    assert options["connect_args"]["connect_timeout"] == 1
    assert options["connect_args"]["tcp_user_timeout"] == app.config["DATABASE_ANSWER_TIMEOUT_SECONDS"] * 1000
    with app.app_context():
        with pytest.raises(Exception) as raised:
            _db.session.execute(text("SELECT pg_sleep(2)"))
        assert is_database_outage(raised.value)  # a stalled statement becomes a 503, not a hung worker
        _db.session.rollback()
        _db.engine.dispose()


def test_make_run_on_a_port_in_use_says_so_before_anything_else():
    """Before installing or touching the database: gunicorn alone retried five times and stopped
    on `Connection in use`, with nothing said of what to do."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        finished = subprocess.run(["make", "-s", "run", f"PORT={port}", "VENV=/nonexistent"], cwd=ROOT,
                                  capture_output=True, text=True, timeout=60)
    assert finished.returncode != 0
    assert f"make run: 127.0.0.1:{port} is in use (a server already running?)" in finished.stderr
    assert f"make run PORT={port + 1}" in finished.stderr


def test_a_reload_into_a_setting_it_cannot_start_with_stops_gunicorn_rather_than_restarting_workers(tmp_path):
    """A reload (HUP) runs no check at start: each new worker met the refusal, and a worker that exits
    is started again, so the server went on restarting workers for ever (42 in 8 s). An app that fails
    to load stops it instead, with the line said by each worker that met it."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MODERATION_INSTANCE_PATH": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2", "moderation.wsgi:app"],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # serving: its workers have loaded the app
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        (tmp_path / "config.py").write_text('CAPTCHA_LENGTH = "abc"\n')
        server.send_signal(signal.SIGHUP)
        _, errors = server.communicate(timeout=20)  # restarting workers for ever, it would not end
    finally:
        server.kill()
        server.communicate()
    said = "moderation: cannot start: CAPTCHA_LENGTH (MODERATION_CAPTCHA_LENGTH): a number, not 'abc'"
    assert server.returncode != 0 and "App failed to load" in errors, errors[-3000:]
    assert 1 <= errors.count(said) <= 2


def test_the_port_check_takes_an_ipv6_host_as_gunicorn_does():
    """`make run HOST=[::]` must not stop on the check itself (a plain IPv4 socket raised there)."""
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    for host in ("[::]", "::1", "0.0.0.0"):
        finished = subprocess.run([sys.executable, "scripts/port_free.py", host, str(port)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=30)
        assert finished.returncode == 0 and finished.stderr == "", (host, finished.stderr)
