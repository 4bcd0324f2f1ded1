"""The job queue: a real RQ worker (`flask worker --burst`) against the real Redis delivers what the
outbox holds; Redis down at posting time or a worker dying mid-job loses nothing and sends nothing
twice. Each test has a queue and a rate-limit key prefix of its own, so parallel test workers never
see each other's jobs. Skipped, saying why, when Redis is not reachable."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import select

from moderation.jobs import dispatch
from moderation.models import DeliveryState, WebhookDelivery
from moderation.services import webhooks
from tests.receivers import SECRET
from tests.servers import free_port

pytestmark = pytest.mark.committing  # the worker reads what the web request committed


@pytest.fixture
def queue_name(redis_url):
    from redis import Redis
    from rq import Queue

    name = f"test-{uuid.uuid4().hex}"
    yield name
    Queue(name, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


@pytest.fixture
def app_config(app_config, redis_url, queue_name):
    return {**app_config, "REDIS_URL": redis_url, "JOBS_QUEUE": queue_name, "RATELIMIT_KEY_PREFIX": queue_name,
            "OUTBOX_RELAY_SECONDS": 3600}


@pytest.fixture
def endpoint(db, receiver):
    added = webhooks.add_endpoint(db.session, receiver.url("/ok"), ["comment.created"], secret=SECRET,
                                  allow_private=True, now=receiver.now())
    db.session.commit()
    return added


def queued(app) -> int:
    """Jobs on the queue, once this process's hand-over thread has passed on what posts gave it."""
    runner = app.extensions["jobs"]
    assert runner.wait_idle(10)
    return runner.queue().count


def work(runner) -> str:
    """A real RQ worker in burst mode: relays the outbox, works until the queue is empty, stops."""
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def states(db) -> list[DeliveryState]:
    db.session.expire_all()
    found = list(db.session.scalars(select(WebhookDelivery.state).order_by(WebhookDelivery.id)))
    # No transaction left open while a worker runs: the server ends one idle for 15 s
    # (idle_in_transaction_session_timeout), and a burst on a loaded machine can take longer.
    db.session.rollback()
    return found


def test_with_redis_url_the_runner_is_the_queue(app):
    assert app.extensions["jobs"].name == "redis"


def test_a_real_worker_delivers_what_posting_put_on_the_queue(app, db, page, runner, endpoint, receiver):
    assert page.post().status_code == 303
    assert queued(app) == 1  # handed over after commit, not run in the request
    assert receiver.accepted() == []
    output = work(runner)
    assert "relayed 0 waiting deliveries" in output
    (got,) = receiver.accepted()
    assert got.event == "comment.created" and got.signed
    assert states(db) == [DeliveryState.DELIVERED]
    assert queued(app) == 0


def test_redis_down_when_posting_costs_nothing_and_loses_nothing(app, db, page, runner, endpoint, receiver, clock,
                                                                 redis_url):
    app.extensions["jobs"].stop()
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app.extensions["jobs"] = dispatch.runner_for(app)
    for body in ("第一則", "第二則"):
        assert page.post(body=body).status_code == 303
        page.open_form()
    assert app.extensions["jobs"].wait_idle(10)
    assert states(db) == [DeliveryState.PENDING] * 2
    app.extensions["jobs"].stop()
    # The post only gives the ids to its process's thread: the connect, bounded by
    # JOBS_REDIS_TIMEOUT_SECONDS even for a Redis that never answers, is tried there, and after a
    # failure not at all until JOBS_REDIS_PAUSE_SECONDS have passed.
    silent = dispatch.RedisRunner(app)
    app.config["REDIS_URL"] = "redis://10.255.255.1:6379/0"  # unroutable: a connect that never completes
    tries, connects = [], []
    enqueue, queue = silent.enqueue, silent.queue
    silent.enqueue = lambda ids: tries.append((threading.current_thread().name, enqueue(ids)))
    silent.queue = lambda: connects.append(threading.current_thread().name) or queue()
    silent.hand_over([1])
    assert silent.wait_idle(5)
    assert tries == [(silent.thread_name, False)] and connects == [silent.thread_name]
    options = queue().connection.connection_pool.connection_kwargs
    assert options["socket_connect_timeout"] == options["socket_timeout"] == app.config["JOBS_REDIS_TIMEOUT_SECONDS"]
    assert silent._paused_until > time.monotonic() + 20  # paused JOBS_REDIS_PAUSE_SECONDS (30)
    silent.hand_over([2])
    assert silent.wait_idle(5)
    assert tries[1:] == [(silent.thread_name, False)] and len(connects) == 1  # no try while paused
    silent.stop()

    app.config["REDIS_URL"] = redis_url  # Redis is back; the outbox is re-read once the hand-over is overdue
    app.extensions["jobs"] = dispatch.runner_for(app)
    assert "relayed 0 waiting" in work(runner)  # handed over moments ago: maybe still queued
    clock.advance(seconds=61)
    assert "relayed 2 waiting" in work(runner)
    assert sorted(item.body["data"]["comment"]["body"] for item in receiver.accepted()) == ["第一則", "第二則"]
    assert states(db) == [DeliveryState.DELIVERED] * 2


def test_a_worker_that_dies_mid_job_loses_nothing_and_a_second_hand_over_sends_nothing_twice(
        app, db, page, runner, endpoint, receiver, clock):
    assert page.post().status_code == 303
    (delivery_id,) = db.session.scalars(select(WebhookDelivery.id))
    # A worker took the job and died before answering: the job is gone from Redis, its lease held.
    assert queued(app) == 1  # handed over by this process's thread first
    app.extensions["jobs"].queue().empty()
    assert webhooks.claim(db.session, delivery_id, now=clock(), lease_seconds=60)
    db.session.commit()
    assert "relayed 0" in work(runner)  # the lease still holds: nobody else sends it
    clock.advance(seconds=61)
    app.extensions["jobs"].hand_over([delivery_id])  # a second, stray hand-over of the same delivery
    assert queued(app) == 1
    assert "relayed 1" in work(runner)  # the relay hands it over too: two jobs, one delivery
    assert len(receiver.accepted()) == 1 and receiver.duplicates == []
    assert states(db) == [DeliveryState.DELIVERED]


def test_a_burst_of_posts_goes_to_the_queue_as_one_job_and_the_worker_sends_it_as_one_batch(
        app, db, page, runner, endpoint, receiver):
    """An RQ enqueue costs about a third of a post: the posts of a burst share one."""
    app.config["WEBHOOK_BATCH_QUIET_SECONDS"] = 2  # a burst: each post comes within the quiet period
    app.config["WEBHOOK_BATCH_MAX_LAG_SECONDS"] = 30
    for body in ("第一則", "第二則", "第三則"):
        assert page.post(body=body).status_code == 303
        page.open_form()
    assert queued(app) == 1
    (job,) = app.extensions["jobs"].queue().jobs
    assert job.func_name == "moderation.jobs.batches.run_delivery_batch" and len(job.args[0]) == 3
    work(runner)
    assert sorted(item.body["data"]["comment"]["body"] for item in receiver.accepted()) == ["第一則", "第三則", "第二則"]
    assert receiver.duplicates == []
    assert states(db) == [DeliveryState.DELIVERED] * 3


def test_flask_outbox_relay_hands_due_deliveries_to_the_queue(app, db, page, runner, endpoint, receiver, clock):
    app.config["JOBS_REDIS_PAUSE_SECONDS"] = 0
    app.extensions["jobs"]._paused_until = float("inf")  # as after a failed hand-over
    assert page.post().status_code == 303
    assert queued(app) == 0
    app.extensions["jobs"]._paused_until = 0.0
    clock.advance(seconds=61)
    assert "handed 1 deliveries to the queue" in runner.invoke(args=["outbox", "relay"]).output
    assert queued(app) == 1


def test_without_redis_flask_outbox_relay_delivers_at_once(app, db, page, runner, endpoint, receiver, clock):
    app.config["REDIS_URL"] = None
    app.extensions["jobs"] = dispatch.runner_for(app)
    assert app.extensions["jobs"].name == "thread"
    app.extensions["jobs"] = dispatch.OffRunner(app)  # nothing delivered after the response
    assert page.post().status_code == 303
    clock.advance(seconds=61)
    assert "attempted 1 deliveries: 1 delivered" in runner.invoke(args=["outbox", "relay"]).output
    assert len(receiver.accepted()) == 1


def test_flask_worker_refuses_to_start_without_redis(app, runner):
    app.config["REDIS_URL"] = None
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def test_a_real_worker_runs_a_long_job_started_from_its_page(app, db, admin, runner):
    from moderation.models import LongJob, LongJobState
    from tests.conftest import make_comment

    make_comment(db, body="普通的留言")
    started = admin.post("/moderation/admin/rules/rescreen")
    job_id = int(started.location.rsplit("/", 1)[1])
    assert queued(app) == 1  # on the queue, not run in the request
    work(runner)
    db.session.expire_all()
    job = db.session.get(LongJob, job_id)
    assert (job.state, job.done, job.total) == (LongJobState.DONE, 1, 1)


def test_a_worker_ends_without_waiting_out_a_long_read_on_its_command_channel(app):
    """RQ's command thread used to read for 60 s at a time, and stopping joins it: a burst worker
    then took a minute to end whenever its channel was left before the thread's read began."""
    from moderation.jobs.worker import PUBSUB_READ_SECONDS, make_worker

    worker = make_worker(app)
    worker.subscribe()
    thread = worker.pubsub_thread
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + 10
    while worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)  # the thread reads the reply, then waits for a subscription again
    time.sleep(0.1)
    thread.stop(timeout=PUBSUB_READ_SECONDS + 4)
    assert not thread.is_alive()
    worker.pubsub.close()


def test_the_worker_closes_the_connections_it_kept_when_it_stops(app, db, page, runner, endpoint, receiver):
    """Its sender keeps connections open from job to job: a worker that stops closes them."""
    assert page.post().status_code == 303
    assert queued(app) == 1
    work(runner)
    assert len(receiver.accepted()) == 1
    assert "delivery_sender" not in app.extensions
