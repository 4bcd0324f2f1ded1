"""Restarting without a dropped request: gunicorn's HUP under load on one machine, and the drain
file that turns /readyz to 503 so a load balancer stops sending before a server is stopped."""

from __future__ import annotations

import collections
import os
import signal
import threading
import time

import pytest

from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.extensions import db
from moderation.services.articles import load_article
from tests.conftest import ARTICLE_SLUG
from tests.servers import Browser, app_server


def test_the_drain_file_turns_readiness_to_503_and_back(tmp_path):
    instance = tmp_path / "instance"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "k", "IP_PEPPER": "p",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'drain.sqlite3'}"})
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    instance.mkdir(exist_ok=True)
    (instance / app.config["DRAIN_FILE"]).touch()
    draining = client.get("/readyz")
    assert draining.status_code == 503 and draining.get_json()["status"] == "draining"
    assert int(draining.headers["Retry-After"]) > 0
    assert client.get("/healthz").status_code == 200  # alive, and serving what still reaches it
    (instance / app.config["DRAIN_FILE"]).unlink()
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def served_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k",
                      "IP_PEPPER": "p"})
    with app.app_context():
        db.create_all()
        load_article(db.session, bundled_seed(), slug=ARTICLE_SLUG)
        db.session.commit()
        db.engine.dispose()
    return {"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k",
            "IP_PEPPER": "p", "REQUEST_LOG": False}


def test_a_reload_under_load_resets_no_accepted_request(served_database, tmp_path):
    """HUP: the master keeps the listening socket, starts new workers and lets the old ones finish
    what they accepted. Readers hitting the article all along see only answers."""
    outcomes: collections.Counter = collections.Counter()
    stop = threading.Event()

    def reader(base: str):
        browser = Browser(timeout=20)
        while not stop.is_set():
            try:
                outcomes[browser.get(f"{base}/articles/{ARTICLE_SLUG}").status] += 1
            except OSError as error:
                outcomes[type(error).__name__] += 1

    with app_server(served_database, workers=2, log=tmp_path / "gunicorn.log") as (base, process):
        threads = [threading.Thread(target=reader, args=(base,), daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        for _ in range(2):
            os.kill(process.pid, signal.SIGHUP)
            time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    log = (tmp_path / "gunicorn.log").read_text()
    assert log.count("Handling signal: hup") == 2
    assert set(outcomes) == {200}, outcomes
    assert outcomes[200] >= 4  # readers were served across both reloads
