"""Work that runs after the response: the outbox's deliveries, handed to a queue after commit.

With REDIS_URL, an RQ queue that `flask worker` (started by `make run`) works through; without it,
a small thread in each web process (`JOBS_RUNNER`: "redis", "thread", or "off" to leave everything
to the relay). Nothing depends on the hand-over arriving: the relay (`relay.py`) re-reads the
outbox when a worker starts, every OUTBOX_RELAY_SECONDS, and on `flask outbox relay`.
"""

from __future__ import annotations

from flask import Flask

from moderation.jobs import dispatch


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = dispatch.runner_for(app)
