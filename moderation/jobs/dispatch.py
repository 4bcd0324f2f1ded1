"""Handing new deliveries to the queue after their transaction commits, and the runners that take them.

`services.outbox.record` leaves the ids of the deliveries it wrote in `session.info`; the session
listener below hands them to the app's runner once the commit succeeded (and forgets them on
rollback). A hand-over never raises into the request: Redis being down costs the poster nothing
(the runner stops trying for a while) and the relay delivers later.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from moderation.services.outbox import HANDOVER

log = logging.getLogger(__name__)
DELIVERY_BATCH_JOB = "moderation.jobs.batches.run_delivery_batch"
LONG_JOB = "moderation.jobs.long_work.run_long_job"


def run_long_job_in_thread(app: Flask, job_id: int) -> None:
    """A thread of its own per long job (never the deliveries' thread, which it would hold up)."""
    from moderation.jobs.long_work import run_long_job_in_app

    threading.Thread(target=run_long_job_in_app, args=(app, job_id), name=f"long-job-{job_id}", daemon=True).start()


@event.listens_for(Session, "after_commit")
def _hand_over_after_commit(session: Session) -> None:
    ids = session.info.pop(HANDOVER, None)
    if not ids or not has_app_context():
        return  # outside the app (a test's own session): the relay finds them
    try:
        current_app.extensions["jobs"].hand_over(ids)
    except Exception:  # the commit stands; the relay hands them over later
        log.exception("handing %d deliveries to the queue failed", len(ids))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(HANDOVER, None)


def runner_for(app: Flask):
    choice = app.config["JOBS_RUNNER"] or ("redis" if app.config["REDIS_URL"] else "thread")
    runners = {"redis": RedisRunner, "thread": ThreadRunner, "off": OffRunner}
    if choice not in runners:
        raise ValueError(f"JOBS_RUNNER must be one of {sorted(runners)}, not {choice!r}")
    return runners[choice](app)


class OffRunner:
    """Hands nothing over: `flask outbox relay` (or a test) delivers."""

    name = "off"

    def __init__(self, app: Flask):
        self.app = app

    def hand_over(self, ids: list[int], *, at_once: bool = False) -> None:
        pass

    def start_long_job(self, job_id: int) -> None:
        pass

    def stop(self) -> None:
        pass


class _Gathering:
    """Delivery ids handed over by posts, taken in batches by one daemon thread of this process,
    started with the first hand-over (never before a fork).

    It gives way to requests: after a hand-over it waits until none came for
    WEBHOOK_BATCH_QUIET_SECONDS (at most WEBHOOK_BATCH_MAX_LAG_SECONDS, or WEBHOOK_BATCH_SIZE
    deliveries), so a burst of posts is answered first and its deliveries go as one batch after it.
    """

    name = ""
    thread_name = ""

    def __init__(self, app: Flask):
        self.app = app
        self.items: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def hand_over(self, ids: list[int], *, at_once: bool = False) -> None:
        """To this process's thread; `at_once` (the relay) where the runner can pass them on itself."""
        self.start()
        for delivery_id in ids:
            self.items.put(delivery_id)

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        raise NotImplementedError

    def _next_batch(self, wait: float | None) -> list[int] | None:
        """The next batch, or None when nothing came within `wait` seconds (None: until stopped)."""
        try:
            first = self.items.get(timeout=wait)
        except queue.Empty:
            return None
        return self._gather(first)

    def _gather(self, first: int) -> list[int]:
        """`first` and what is handed over until a quiet moment, the lag limit or the batch size.

        It sleeps through each quiet period and then takes what came, rather than waking for every
        hand-over: a wake-up takes the interpreter's lock from the thread answering requests, and
        under a stream of posts that cost more than the deliveries' own work."""
        config = self.app.config
        quiet, size = float(config["WEBHOOK_BATCH_QUIET_SECONDS"]), int(config["WEBHOOK_BATCH_SIZE"])
        deadline = time.monotonic() + float(config["WEBHOOK_BATCH_MAX_LAG_SECONDS"])
        batch = [first]
        while first:
            while len(batch) < size:
                try:
                    batch.append(self.items.get_nowait())
                except queue.Empty:
                    break
            wait = min(quiet, deadline - time.monotonic())
            if len(batch) >= size or wait <= 0 or self._stopped.wait(wait) or self.items.empty():
                break  # full, late, stopping, or nothing came for a quiet period
        return batch

    def _done(self, batch: list[int]) -> None:
        for _ in batch:
            self.items.task_done()

    def stop(self) -> None:
        """Ends the thread after its current batch (tests: before their database is dropped)."""
        self._stopped.set()
        self.items.put(0)  # wakes it; id 0 is never a delivery
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and the CLI: True once every handed-over delivery was passed on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.items.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False


class RedisRunner(_Gathering):
    """An RQ queue on REDIS_URL, named JOBS_QUEUE. What posts hand over goes to the queue in batches,
    one job each (`run_delivery_batch`), from a thread of this process: an RQ enqueue costs about a
    third of a post, and under a stream of posts one goes for many. After a failure to reach Redis it
    stops trying for JOBS_REDIS_PAUSE_SECONDS, so that posting never waits on a Redis that is down;
    the relay hands over what it dropped."""

    name = "redis"
    thread_name = "outbox-hand-over"

    def __init__(self, app: Flask):
        super().__init__(app)
        self._queue = None
        self._paused_until = 0.0

    def queue(self):
        if self._queue is None:
            from redis import Redis
            from rq import Queue

            config = self.app.config
            timeout = float(config["JOBS_REDIS_TIMEOUT_SECONDS"])
            connection = Redis.from_url(config["REDIS_URL"], socket_connect_timeout=timeout, socket_timeout=timeout)
            self._queue = Queue(config["JOBS_QUEUE"], connection=connection)
        return self._queue

    def hand_over(self, ids: list[int], *, at_once: bool = False) -> None:
        if at_once:
            self.enqueue(ids)
        else:
            super().hand_over(ids)

    def enqueue(self, ids: list[int]) -> bool:
        """One job for `ids`, at once, in the caller's thread (the relay's); False when Redis is
        unreachable or paused."""
        from redis.exceptions import RedisError

        if not ids or time.monotonic() < self._paused_until:
            return False
        try:
            self.queue().enqueue(DELIVERY_BATCH_JOB, list(ids), job_timeout=int(self.app.config["WEBHOOK_LEASE_SECONDS"]),
                                 result_ttl=0, failure_ttl=86400)
            return True
        except RedisError as error:
            with self._lock:
                self._paused_until = time.monotonic() + float(self.app.config["JOBS_REDIS_PAUSE_SECONDS"])
            log.warning("Redis unreachable (%s): deliveries wait for the relay", type(error).__name__)
            return False

    def _work(self) -> None:
        while not self._stopped.is_set():
            batch = self._next_batch(None)
            try:
                self.enqueue([each for each in batch if each])
            finally:
                self._done(batch)

    def start_long_job(self, job_id: int) -> None:
        """On the queue for `flask worker`; with Redis down, in a thread here rather than not at all."""
        from redis.exceptions import RedisError

        try:
            self.queue().enqueue(LONG_JOB, job_id, job_timeout=6 * 3600, result_ttl=0, failure_ttl=86400)
        except RedisError as error:
            log.warning("Redis unreachable (%s): long job %s runs in this process", type(error).__name__, job_id)
            run_long_job_in_thread(self.app, job_id)

    def stop(self) -> None:
        super().stop()
        if self._queue is not None:
            self._queue.connection.close()


class ThreadRunner(_Gathering):
    """Without Redis: one daemon thread per process sends what posts hand over, in batches
    (jobs/batches.py), and relays every OUTBOX_RELAY_SECONDS while idle."""

    name = "thread"
    thread_name = "outbox-deliveries"

    def start_long_job(self, job_id: int) -> None:
        run_long_job_in_thread(self.app, job_id)

    def _work(self) -> None:
        from moderation.jobs.batches import BatchSender
        from moderation.jobs.relay import relay_in_app

        interval = float(self.app.config["OUTBOX_RELAY_SECONDS"])
        sender = BatchSender(self.app)
        try:
            while not self._stopped.is_set():
                batch = self._next_batch(interval)
                if batch is None:
                    if self._stopped.is_set():
                        break
                    try:
                        for due in relay_in_app(self.app):
                            self.items.put(due)
                    except Exception:
                        log.exception("relaying the outbox failed")
                    continue
                try:
                    self._deliver(sender, [each for each in batch if each])
                finally:
                    self._done(batch)
        finally:
            sender.close()

    def _deliver(self, sender, ids: list[int]) -> None:
        if not ids or self._stopped.is_set():
            return
        from moderation.jobs.batches import send_batch

        send_batch(self.app, sender, ids, stopped=self._stopped)
