"""Deliveries in batches (jobs/batches.py), as the thread runner sends them without Redis: a batch
costs the same statements and commits whatever its size, a crash between claim and record sends
again under the same key, the address is checked once per period and the connection kept open."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from moderation.jobs import batches, delivery, dispatch
from moderation.jobs.batches import BatchSender
from moderation.jobs.connections import CheckedAddresses, KeptConnections, Watchdog
from moderation.jobs.relay import relay
from moderation.models import DeliveryState, WebhookDelivery
from moderation.services import outbox, webhooks
from tests.receivers import SECRET

pytestmark = pytest.mark.committing


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off", "WEBHOOK_TOTAL_TIMEOUT_SECONDS": 2}


@pytest.fixture
def batches_sent(monkeypatch) -> list[list[int]]:
    """Each batch any BatchSender is given, as given, in order (they are still sent)."""
    sent = []
    deliver = BatchSender.deliver

    def recorded(sender, batch):
        sent.append(list(batch))
        return deliver(sender, batch)

    monkeypatch.setattr(BatchSender, "deliver", recorded)
    return sent


@pytest.fixture
def sender(app):
    sending = BatchSender(app)
    yield sending
    sending.close()


def _endpoint(db, clock, url, *, format="json", allow_private=True, resolver=None):
    endpoint = webhooks.add_endpoint(db.session, url, ["article.closed"], secret=SECRET, allow_private=allow_private,
                                     now=clock(), format=format,
                                     **({"resolver": resolver} if resolver else {}))
    db.session.commit()
    return endpoint


def _events(db, clock, count: int) -> list[int]:
    for index in range(count):
        outbox.record(db.session, "article.closed", {"article": {"slug": f"a{index}"}}, now=clock())
    db.session.commit()
    return list(db.session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))


def _deliveries(db) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


class Counted:
    """Statements and commits on the app's engine while it is attached."""

    def __init__(self, engine):
        self.engine, self.statements, self.commits = engine, 0, 0

    def _statement(self, *args):
        self.statements += 1

    def _commit(self, *args):
        self.commits += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def test_a_batch_costs_the_same_statements_and_two_commits_whatever_its_size(app, db, clock, receiver, sender):
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 22)
    with Counted(db.engine) as two:
        assert sender.deliver(ids[:2]) == []
    with Counted(db.engine) as twenty:
        assert sender.deliver(ids[2:]) == []
    assert len(receiver.wait_for(22)) == 22
    assert (twenty.statements, twenty.commits) == (two.statements, two.commits)
    assert two.commits == 2 and two.statements <= 6
    delivered = _deliveries(db)
    assert {(d.state, d.attempts, d.last_status_code, d.lease_until) for d in delivered} == {
        (DeliveryState.DELIVERED, 1, 204, None)}
    assert all(item.signed for item in receiver.accepted()) and receiver.duplicates == []


def test_one_connection_is_kept_open_for_the_deliveries_of_an_endpoint(app, db, clock, receiver, sender):
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 6)
    sender.deliver(ids[:3])
    sender.deliver(ids[3:])
    assert len(receiver.wait_for(6)) == 6
    assert receiver.connections == 1
    (kept,) = [connection for _, connection in sender.connections._idle.values()]
    # Headers and body go in two writes: without TCP_NODELAY the second waits for a delayed ACK.
    assert kept.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_crash_between_claim_and_record_sends_again_under_the_same_key(app, db, clock, receiver, sender,
                                                                          monkeypatch):
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 3)

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(batches, "record_batch", crash)
    with pytest.raises(SystemExit):
        sender.deliver(ids)
    assert len(receiver.wait_for(3)) == 3
    monkeypatch.undo()
    assert {(d.state, d.attempts) for d in _deliveries(db)} == {(DeliveryState.PENDING, 1)}
    assert sender.deliver(ids) == ids  # still leased: left alone here
    assert receiver.duplicates == []

    clock.advance(seconds=max(app.config["WEBHOOK_LEASE_SECONDS"], app.config["OUTBOX_HANDOVER_GRACE_SECONDS"]) + 1)
    due = relay(app)  # the lease ended: the relay finds them again
    assert due == ids
    assert sender.deliver(due) == []
    assert {(d.state, d.attempts) for d in _deliveries(db)} == {(DeliveryState.DELIVERED, 2)}
    assert len(receiver.accepted()) == 3  # the receiver acted once on each
    assert sorted(receiver.duplicates) == sorted(item.key for item in receiver.accepted())


def test_failures_are_retried_later_and_shown_on_the_endpoint(app, db, clock, receiver, sender):
    endpoint = _endpoint(db, clock, receiver.url("/half"))
    ids = _events(db, clock, 2)
    assert sender.deliver(ids) == []
    failed, delivered = _deliveries(db)
    assert (failed.state, failed.last_problem, failed.last_status_code, failed.handed_at) == (
        DeliveryState.PENDING, "http_error", 500, None)
    assert failed.next_attempt_at == clock() + timedelta(seconds=30)
    assert (delivered.state, delivered.delivered_at) == (DeliveryState.DELIVERED, clock())
    db.session.refresh(endpoint)
    assert (endpoint.last_problem, endpoint.last_success_at) == ("http_error", clock())
    assert sender.deliver([failed.id]) == [failed.id]  # not due: left to the one-by-one path


def test_the_address_is_checked_once_per_period_pinned_and_a_changed_answer_is_heard_after_it(
        app, db, clock, receiver, sender):
    asked = []
    answers = {"hooks.example.com": ["127.0.0.1"]}

    def resolver(host, port):
        asked.append(host)
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    port = int(receiver.base.rsplit(":", 1)[1])
    _endpoint(db, clock, f"http://hooks.example.com:{port}/ok", resolver=resolver)
    app.config["WEBHOOK_RESOLVER"] = resolver
    asked.clear()

    def one_more() -> int:
        outbox.record(db.session, "article.closed", {"article": {"slug": "x"}}, now=clock())
        db.session.commit()
        return _deliveries(db)[-1].id

    assert sender.deliver([one_more()]) == []
    assert sender.deliver([one_more()]) == []
    assert asked == ["hooks.example.com"]  # once for both batches; each went to the address checked
    assert len(receiver.wait_for(2)) == 2
    del answers["hooks.example.com"]  # DNS changed
    clock.advance(seconds=app.config["WEBHOOK_ADDRESS_CHECK_SECONDS"] + 1)
    assert sender.deliver([one_more()]) == []
    assert asked == ["hooks.example.com"] * 2
    assert _deliveries(db)[-1].last_problem == "unresolvable"
    assert len(receiver.accepted()) == 2


def test_a_batch_that_would_outlast_its_lease_releases_what_it_did_not_send(app, db, clock, receiver, sender):
    app.config["WEBHOOK_LEASE_SECONDS"] = 2  # less than one attempt's bound plus a second: nothing is started
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 2)
    assert sender.deliver(ids) == ids
    assert {(d.state, d.attempts, d.lease_until) for d in _deliveries(db)} == {(DeliveryState.PENDING, 0, None)}
    assert receiver.hits == {}


def test_chat_endpoints_are_left_to_the_digest_path(app, db, clock, receiver, sender):
    _endpoint(db, clock, receiver.url("/ok"), format="slack")
    ids = _events(db, clock, 2)
    with Counted(db.engine) as counted:
        assert sender.deliver(ids) == ids
    assert counted.statements == 1 and receiver.hits == {}


def test_one_watchdog_thread_bounds_every_exchange_instead_of_a_timer_each(app, db, clock, receiver, sender,
                                                                           monkeypatch):
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 5)
    started = []
    start = threading.Thread.start

    def counted(thread):
        if threading.current_thread() is threading.main_thread():  # not the receiver's own threads
            started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    assert sender.deliver(ids) == []
    assert started == ["webhook-watchdog"]


def test_the_watchdog_ends_an_answer_that_drips_past_the_total_timeout(app, db, clock, receiver, sender):
    app.config["WEBHOOK_TOTAL_TIMEOUT_SECONDS"] = 0.5  # each byte comes within a read's timeout, the whole does not
    _endpoint(db, clock, receiver.url("/drip"))
    ids = _events(db, clock, 2)
    assert sender.deliver(ids) == []
    assert {(d.state, d.last_problem) for d in _deliveries(db)} == {(DeliveryState.PENDING, "timeout")}


def test_the_thread_runner_sends_what_is_handed_over_together_as_batches(app, db, clock, receiver, batches_sent):
    app.config.update(WEBHOOK_BATCH_SIZE=3, WEBHOOK_BATCH_QUIET_SECONDS=30, WEBHOOK_BATCH_MAX_LAG_SECONDS=30)
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 6)
    runner = dispatch.ThreadRunner(app)
    try:
        runner.hand_over(ids)
        assert runner.wait_idle()
    finally:
        runner.stop()
    assert batches_sent == [ids[:3], ids[3:]]
    assert {d.state for d in _deliveries(db)} == {DeliveryState.DELIVERED}
    assert len(receiver.accepted()) == 6


def test_the_thread_runner_ends_a_batch_at_a_quiet_moment(app, db, clock, receiver, batches_sent):
    """Hand-overs that keep coming within the quiet period join one batch; after a quiet period the
    next ones start another."""
    app.config.update(WEBHOOK_BATCH_SIZE=100, WEBHOOK_BATCH_QUIET_SECONDS=0.5, WEBHOOK_BATCH_MAX_LAG_SECONDS=30)
    _endpoint(db, clock, receiver.url("/ok"))
    ids = _events(db, clock, 6)
    runner = dispatch.ThreadRunner(app)
    try:
        for delivery_id in ids[:4]:  # a burst, each within the quiet period of the one before
            runner.hand_over([delivery_id])
            time.sleep(0.05)
        assert runner.wait_idle()
        runner.hand_over(ids[4:])
        assert runner.wait_idle()
    finally:
        runner.stop()
    assert batches_sent == [ids[:4], ids[4:]]
    assert len(receiver.accepted()) == 6


def test_a_kept_connection_found_closed_is_replaced_and_the_delivery_still_sent(app, db, clock, receiver, sender):
    _endpoint(db, clock, receiver.url("/ok"))
    first, second = _events(db, clock, 2)
    assert sender.deliver([first]) == []
    (kept,) = [connection for _, connection in sender.connections._idle.values()]
    kept.sock.shutdown(socket.SHUT_WR)  # as when the receiver closed it while it was idle
    assert sender.deliver([second]) == []
    assert [d.state for d in _deliveries(db)] == [DeliveryState.DELIVERED] * 2
    assert len(receiver.wait_for(2)) == 2 and receiver.connections == 2


def test_post_with_checked_addresses_and_kept_connections_serves_batches_and_single_posts_alike(app, receiver):
    asked = []

    def resolver(host, port):
        asked.append(host)
        return ["127.0.0.1"]

    app.config["WEBHOOK_RESOLVER"] = resolver
    port = int(receiver.base.rsplit(":", 1)[1])
    addresses, kept = CheckedAddresses(30), KeptConnections(30)
    try:
        with app.app_context():
            answers = [delivery.post(app.config, f"http://hooks.example.com:{port}/ok", {}, b"{}", allow_private=True,
                                     addresses=addresses, kept=kept) for _ in range(3)]
            alone = delivery.post(app.config, f"http://hooks.example.com:{port}/ok", {}, b"{}", allow_private=True)
    finally:
        kept.close()
    assert [(answer.status_code, answer.problem) for answer in [*answers, alone]] == [(204, None)] * 4
    assert asked == ["hooks.example.com"] * 2  # once for the three kept, once for the one alone
    assert receiver.connections == 2


class _LateWatchdog(Watchdog):
    """Fires just as the exchange is over: after the answer was read, before it is cancelled."""

    def arm(self, seconds, stop):
        self._stop = stop

    def cancel(self):
        self._stop()


def test_a_watchdog_firing_after_the_answer_was_read_closes_the_connection_and_keeps_the_answer(
        app, receiver, monkeypatch):
    opened = []

    class Recorded(delivery._PinnedHTTPConnection):
        def connect(self):
            super().connect()
            opened.append(self)

    monkeypatch.setattr(delivery, "_PinnedHTTPConnection", Recorded)
    kept = KeptConnections(30)
    kept.watchdog = _LateWatchdog()
    target = webhooks.check_target(receiver.url("/ok"), allow_private=True)
    answer = delivery.send(target, {}, b"{}", connect_timeout=2, total_timeout=2, max_bytes=1024, kept=kept)
    assert (answer.status_code, answer.problem) == (204, None)  # answered in full before the bound
    (connection,) = opened
    assert connection.sock is None  # closed, not left open with its socket shut down
    assert kept._idle == {}


def test_the_watchdog_is_woken_only_when_it_would_wake_too_late():
    watchdog = Watchdog()
    watchdog.arm(30, lambda: None)  # starts its thread, which then waits for this deadline
    for _ in range(500):
        if watchdog._waking_at is not None:
            break
        time.sleep(0.01)
    watchdog.cancel()
    notify, woken = watchdog._condition.notify, []

    def counted(*args):
        woken.append(1)
        notify(*args)

    watchdog._condition.notify = counted
    try:
        for _ in range(10):  # a batch's exchanges, each bounded alike, each answered in time
            watchdog.arm(30, lambda: None)
            watchdog.cancel()
        assert woken == []  # each deadline is later than the one it already wakes for
        stopped = threading.Event()
        watchdog.arm(0.1, stopped.set)  # sooner than that: it is woken, and stops this exchange
        assert woken == [1] and stopped.wait(10)
    finally:
        watchdog.close()
