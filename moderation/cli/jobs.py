"""`flask worker` and `flask outbox relay`: the job queue's worker, and the outbox's relay by hand or cron."""

from __future__ import annotations

import threading
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from moderation.jobs.relay import relay, relay_in_app

outbox = AppGroup("outbox", help="The outbox of webhook deliveries.")


def register(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(outbox)


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then stop (tests, cron).")
@click.option("--queue", "queue_name", default=None, help="Queue name (default: JOBS_QUEUE).")
def worker(burst: bool, queue_name: str | None):
    """Work through the job queue on REDIS_URL (webhook deliveries), relaying the outbox as well."""
    app = current_app._get_current_object()
    if not app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: without Redis, deliveries run inside the web processes")
    from moderation.jobs.batches import close_kept_sender
    from moderation.jobs.worker import make_worker, start_relay_thread

    if queue_name:
        app.config["JOBS_QUEUE"] = queue_name
    from redis.exceptions import ConnectionError as RedisDown

    handed = relay(app)  # what waited while no worker ran
    click.echo(f"relayed {len(handed)} waiting deliveries; working on queue '{app.config['JOBS_QUEUE']}'")
    stop = threading.Event()
    if not burst:
        start_relay_thread(app, stop)
    wait = 1.0
    try:
        while True:  # RQ's worker ends when Redis goes away: a restarted Redis finds this one waiting
            try:
                make_worker(app).work(burst=burst, logging_level="WARNING")
                return
            except RedisDown as error:
                if burst:
                    raise click.ClickException(f"Redis unreachable: {error}") from None
                click.echo(f"Redis unreachable ({error}); trying again in {wait:.0f} s", err=True)
                time.sleep(wait)
                wait = min(wait * 2, 30.0)
    finally:
        stop.set()
        close_kept_sender(app)


@outbox.command("relay")
def relay_command():
    """Hand every due delivery to the queue; without Redis, deliver them here and now."""
    app = current_app._get_current_object()
    runner = app.extensions["jobs"]
    if runner.name == "redis":
        click.echo(f"handed {len(relay(app))} deliveries to the queue")
        return
    from moderation.jobs.delivery import deliver_in_app

    outcomes = [deliver_in_app(app, delivery_id) for delivery_id in relay_in_app(app)]
    click.echo(f"attempted {len(outcomes)} deliveries: {sum(o == 'delivered' for o in outcomes)} delivered")
