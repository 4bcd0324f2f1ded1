"""gunicorn settings for the comment service: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be set from the environment, so a deployment changes no code.
"""

import multiprocessing
import os
import shutil
import sys
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY is the usual knob of hosting platforms; sync workers, one request each.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Far above the app's own bounds on every database round trip (moderation/database.py: connect 3 s,
# answer 6 s, ping 1.5 s), so a stalled or cut database turns into a 503 from the app, not a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A worker is replaced after this many requests, so no slow leak can grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The app writes one structured line per request itself (moderation.web.request_log), without client
# addresses; gunicorn's own access log would print them, so it is off unless asked for.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
# The master's pid, for `kill -HUP` (a reload without a dropped request: README, Running in production).
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn 25+ opens a control socket for `gunicornc`, by default one path per user ($HOME/.gunicorn),
# which a second server on the host (another instance, an upgrade's new master) would share. Off
# unless a path is given; signals and the pidfile do what the README documents.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None

# /metrics adds up the figures of every worker (prometheus_client's multiprocess mode): each worker
# writes them to files in PROMETHEUS_MULTIPROC_DIR, which must be set before the workers import the
# app and must start empty. An operator may name the folder; by default it is a new temporary one.
def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=_OWN_METRICS_FOLDER)


_OWN_METRICS_FOLDER = "moderation-metrics-"


def on_exit(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if os.path.basename(folder).startswith(_OWN_METRICS_FOLDER):
        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker):
    """A worker's gauges (connections in use) leave the sum when it exits; its counters stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Screening compiled before the worker's first request (moderation/warm_up.py)."""
    from moderation.warm_up import warm_up

    app = worker.wsgi
    seconds = warm_up(app) if hasattr(app, "extensions") else None
    if seconds is not None:
        worker.log.info("worker %s: screening ready in %.0f ms", worker.pid, seconds * 1000)


def when_ready(server):
    """Say so at start when rate limits cannot hold across workers (the app's own settings, read
    from a throwaway app: the workers build theirs after the fork)."""
    from moderation import create_app
    from moderation.config import ConfigError

    try:
        storage = create_app().config["RATELIMIT_STORAGE_URI"]
    except ConfigError as error:  # a setting it cannot start with: one line, before any worker boots
        server.log.error("moderation: cannot start: %s", error)
        sys.exit(1)
    if server.cfg.workers > 1 and storage.split("://")[0].endswith("memory"):
        server.log.warning(
            "rate limits are kept per worker (%d workers, no REDIS_URL): each limit is multiplied "
            "by the number of workers; set REDIS_URL to share them", server.cfg.workers)
