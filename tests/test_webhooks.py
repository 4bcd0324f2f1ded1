"""Webhooks: endpoints registered by admins (page and CLI), the outbox written with each event,
signed deliveries to a real receiver on loopback, retries, failures shown and redelivered, and
the address check against SSRF. Without REDIS_URL deliveries run in a thread of the web process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update

from moderation.jobs.delivery import deliver_in_app
from moderation.jobs.relay import relay
from moderation.models import (
    Article,
    CommentStatus,
    DeliveryState,
    OutboxEvent,
    ReportReason,
    WebhookDelivery,
    WebhookEndpoint,
)
from moderation.services import outbox, webhooks
from moderation.services.webhooks import DeliveryProblem, RegistrationProblem, RetryPolicy, WebhookError
from tests.conftest import ARTICLE_SLUG, make_comment
from tests.receivers import SECRET
from tests.servers import free_port, wait_for

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def resolver_of(table: dict[str, list[str]]):
    def resolve(host: str, port: int):
        if host not in table:
            raise OSError("no such host")
        return table[host]
    return resolve


PUBLIC = resolver_of({"hooks.example.com": ["93.184.216.34"], "intranet.example.com": ["10.1.2.3"],
                      "split.example.com": ["93.184.216.34", "192.168.1.9"], "127.0.0.1": ["127.0.0.1"],
                      "::1": ["::1"], "169.254.169.254": ["169.254.169.254"], "mapped.example.com": ["::ffff:10.0.0.1"],
                      "cgnat.example.com": ["100.64.0.1"]})


# --- Pure parts: signing, the address check, the retry schedule ------------------------------------

def test_a_signature_verifies_with_the_secret_and_not_with_a_changed_body_or_an_old_timestamp():
    body = b'{"type":"comment.created"}'
    stamp = int(NOW.timestamp())
    header = webhooks.signature_header(SECRET, stamp, body)
    assert header.startswith(f"t={stamp},v1=")
    assert webhooks.verify(SECRET, header, body, now=NOW)
    assert not webhooks.verify(SECRET, header, body + b" ", now=NOW)
    assert not webhooks.verify("another-secret-0123456", header, body, now=NOW)
    assert not webhooks.verify(SECRET, header, body, now=NOW + timedelta(minutes=6))
    assert not webhooks.verify(SECRET, "garbage", body, now=NOW)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "169.254.169.254", "intranet.example.com",
                                  "split.example.com", "mapped.example.com", "cgnat.example.com"])
def test_an_address_that_is_not_public_is_refused_unless_the_host_is_allowed(host):
    url = f"https://{host}/hook"
    with pytest.raises(WebhookError) as refused:
        webhooks.check_target(url, allow_private=False, resolver=PUBLIC)
    assert refused.value.problem is RegistrationProblem.URL_PRIVATE
    assert webhooks.check_target(url, allow_private=True, resolver=PUBLIC).host == host.strip("[]")


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "hooks.example.com",
                                 "https://hooks.example.com:99999/", "https://hooks.example.com/a b", "",
                                 "https://hooks.example.com/\r\nX: y", "https://" + "a" * 2000 + ".com/"])
def test_a_url_that_is_not_plain_http_is_refused(url):
    with pytest.raises(WebhookError) as refused:
        webhooks.check_target(url, allow_private=True, resolver=PUBLIC)
    assert refused.value.problem is RegistrationProblem.URL_INVALID


def test_a_public_host_is_accepted_and_an_unknown_one_is_not():
    target = webhooks.check_target("https://hooks.example.com/in?x=1", allow_private=False, resolver=PUBLIC)
    assert (target.scheme, target.port, target.path, target.addresses) == ("https", 443, "/in?x=1", ("93.184.216.34",))
    with pytest.raises(WebhookError) as refused:
        webhooks.check_target("https://nowhere.example.com/", allow_private=False, resolver=PUBLIC)
    assert refused.value.problem is RegistrationProblem.URL_UNRESOLVABLE


def test_retries_double_from_30_seconds_to_at_most_2_hours_and_stop_after_a_day():
    policy = RetryPolicy()
    waits, attempts, when = [], 0, NOW
    while True:
        attempts += 1
        following = policy.next_attempt(attempts, retry_since=NOW, now=when)
        if following is None:
            break
        waits.append(int((following - when).total_seconds()))
        when = following
    assert waits[:5] == [30, 60, 120, 240, 480]
    assert max(waits) == 7200
    assert when <= NOW + timedelta(days=1) < when + timedelta(hours=2)


# --- Registration, from the command line and the admin page ----------------------------------------

@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off", "WEBHOOK_RESOLVER": PUBLIC}


def test_the_cli_adds_an_endpoint_printing_its_secret_once_lists_and_removes_it(runner, db):
    added = runner.invoke(args=["webhooks", "add", "https://hooks.example.com/in", "--event", "comment.created",
                                "--event", "comment.decided"])
    assert added.exit_code == 0, added.output
    secret = added.output.split("secret (shown only now): ")[1].strip()
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = runner.invoke(args=["webhooks", "list"])
    assert "https://hooks.example.com/in\tjson\tcomment.created comment.decided\t0/0/0\t-" in listed.output
    assert secret not in listed.output
    assert runner.invoke(args=["webhooks", "remove", "https://hooks.example.com/in"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    assert runner.invoke(args=["webhooks", "list"]).output.startswith("no webhook endpoints")  # not an empty answer


def test_the_cli_refuses_a_private_address_unless_allowed_and_a_bad_secret(runner):
    refused = runner.invoke(args=["webhooks", "add", "http://127.0.0.1:9/hook", "--event", "comment.created"])
    assert refused.exit_code != 0 and "--allow-private" in refused.output
    short = runner.invoke(args=["webhooks", "add", "https://hooks.example.com/in", "--event", "comment.created",
                                "--secret", "short"])
    assert short.exit_code != 0 and "16 to 200 visible" in short.output
    allowed = runner.invoke(args=["webhooks", "add", "http://127.0.0.1:9/hook", "--event", "comment.created",
                                  "--allow-private"])
    assert allowed.exit_code == 0 and "allow-private" in runner.invoke(args=["webhooks", "list"]).output


def test_only_admins_reach_the_webhooks_page(client, moderator):
    assert moderator.client.get("/moderation/admin/webhooks/").status_code == 403
    assert client.application.test_client().get("/moderation/admin/webhooks/").status_code == 302


def add_on_the_page(admin, **form):
    return admin.client.post("/moderation/admin/webhooks/", data={"csrf_token": admin.csrf(), **form})


def test_an_admin_adds_an_endpoint_on_the_page_and_sees_its_secret_once(admin, db):
    added = add_on_the_page(admin, url="https://hooks.example.com/in", events=["comment.created", "comment.held"])
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.events == "comment.created comment.held"
    assert endpoint.secret in page
    assert endpoint.secret not in admin.client.get("/moderation/admin/webhooks/").get_data(as_text=True)


@pytest.mark.parametrize(("url", "fields", "said"), [
    ("http://127.0.0.1:9/x", {}, "私有位址"),
    ("javascript:alert(1)", {}, "網址須以"),
    ("https://hooks.example.com/in", {"secret": "too short"}, "密鑰須為"),
    ("https://hooks.example.com/in", {"events": []}, "至少選一個事件"),
])
def test_a_refused_endpoint_is_said_beside_the_form_with_the_input_kept(admin, db, url, fields, said):
    data = {"url": url, "events": ["comment.created"], **fields}
    refused = add_on_the_page(admin, **data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert said in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_every_problem_of_the_endpoint_form_is_said_at_once(admin, db):
    refused = add_on_the_page(admin, url="http://127.0.0.1:9/x", events=[], secret="too short")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "私有位址" in html and "至少選一個事件" in html and "密鑰須為" in html
    assert html.count('aria-describedby="webhook-error" aria-invalid="true"') == 3  # the URL, the events, the secret
    assert 'value="too short"' in html


# --- The outbox: written in the same transaction as the event --------------------------------------

def _endpoint(db, url="https://hooks.example.com/in", events=webhooks.EVENTS, allow_private=False):
    endpoint = webhooks.add_endpoint(db.session, url, events, secret=SECRET, allow_private=allow_private, now=NOW,
                                     resolver=PUBLIC)
    db.session.commit()
    return endpoint


def _events(db) -> list[str]:
    return list(db.session.scalars(select(OutboxEvent.event).order_by(OutboxEvent.id)))


def test_without_an_endpoint_posting_writes_nothing_to_the_outbox(page, db):
    assert page.post().status_code == 303
    assert _events(db) == []


def test_posting_a_held_comment_writes_created_and_held_for_each_endpoint(page, db):
    first, second = _endpoint(db), _endpoint(db, "https://hooks.example.com/other", ["comment.held"])
    inserts = []

    def count(conn, cursor, statement, *args):
        if statement.startswith(("INSERT INTO outbox", "INSERT INTO webhook_delivery")):
            inserts.append(statement.split()[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert page.post().status_code == 303  # pre-moderation: it waits for a moderator
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert inserts == ["outbox", "webhook_delivery"]  # both events in one INSERT, their deliveries in another
    assert _events(db) == ["comment.created", "comment.held"]
    deliveries = db.session.execute(select(WebhookDelivery.endpoint_id, OutboxEvent.event)
                                    .join(OutboxEvent).order_by(WebhookDelivery.id)).all()
    assert [tuple(row) for row in deliveries] == [(first.id, "comment.created"), (first.id, "comment.held"),
                                                 (second.id, "comment.held")]


def test_a_decision_a_report_and_closing_an_article_each_write_their_event(app, db, admin, page):
    _endpoint(db)
    comment = make_comment(db, status=CommentStatus.APPROVED)
    page.open_form()
    reported = page.client.post(f"/articles/{ARTICLE_SLUG}/comments/{comment.id}/report",
                                data={"csrf_token": page.csrf_token, "reason": ReportReason.SPAM.value})
    assert reported.status_code == 303
    assert admin.decide(comment, "reject", reason="advertising").status_code == 303
    assert _events(db) == ["comment.reported", "comment.decided"]
    article = db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))
    assert admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="closed").status_code == 303
    assert _events(db)[-1] == "article.closed"


def test_a_refused_decision_writes_no_event(db, admin):
    _endpoint(db)
    comment = make_comment(db)
    assert admin.decide(comment, "approve", version=comment.version + 5).status_code in (303, 409)
    assert _events(db) == []


# --- Deliveries to a real receiver on loopback ----------------------------------------------------


def _loopback_endpoint(db, receiver, path="/ok", events=webhooks.EVENTS):
    return _endpoint(db, receiver.url(path), events, allow_private=True)


def _deliveries(db) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.mark.committing
class TestDeliveriesInAThreadOfTheWebProcess:
    """No REDIS_URL: the thread runner delivers after the response; real commits, a real receiver."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "JOBS_RUNNER": "thread", "OUTBOX_RELAY_SECONDS": 3600,
                "WEBHOOK_TOTAL_TIMEOUT_SECONDS": 1, "WEBHOOK_RETRY_WINDOW_SECONDS": 60}

    @pytest.fixture(autouse=True)
    def runner_stopped_after(self, app):
        yield
        app.extensions["jobs"].stop()

    def test_a_posted_comment_reaches_the_receiver_signed_with_its_idempotency_key(self, app, db, page, receiver):
        endpoint = _loopback_endpoint(db, receiver)
        db.session.execute(update(Article).values(key="2026-1203-labs"))  # the newsroom's key, not the slug
        db.session.commit()
        assert page.post(nickname="讀者小林").status_code == 303
        got = receiver.wait_for(2)
        assert [item.event for item in got] == ["comment.created", "comment.held"]
        assert all(item.signed for item in got)
        events = {event.event: event.key for event in db.session.scalars(select(OutboxEvent))}
        assert [item.key for item in got] == [f"{events[item.event]}.{endpoint.id}" for item in got]
        comment = got[0].body["data"]["comment"]
        assert (comment["nickname"], comment["body"], comment["status"]) == ("讀者小林", "這篇報導很有參考價值。", "pending")
        assert (comment["article"], comment["article_key"]) == (ARTICLE_SLUG, "2026-1203-labs")
        assert "author_hash" not in str(got[0].body) and "ip_hash" not in str(got[0].body)
        assert app.extensions["jobs"].wait_idle()
        assert [d.state for d in _deliveries(db)] == [DeliveryState.DELIVERED] * 2
        assert receiver.duplicates == []

    def test_an_operator_pings_an_endpoint_and_is_told_what_came_back(self, db, runner, receiver):
        endpoint = _loopback_endpoint(db, receiver)
        pinged = runner.invoke(args=["webhooks", "ping", str(endpoint.id)])
        assert pinged.exit_code == 0 and "delivered (HTTP 204)" in pinged.output, pinged.output
        (got,) = receiver.wait_for(1)
        assert got.event == "ping" and got.signed and got.body["data"]["endpoint"] == endpoint.id
        assert _deliveries(db) == []  # nothing stored, nothing retried
        failing = _loopback_endpoint(db, receiver, "/fail")
        refused = runner.invoke(args=["webhooks", "ping", str(failing.id)])
        assert refused.exit_code != 0 and "not delivered: " in refused.output and "(HTTP 500)" in refused.output

    def test_an_admin_sends_a_test_from_the_endpoints_page_and_is_told_what_came_back(self, db, admin, receiver):
        endpoint = _loopback_endpoint(db, receiver)
        page = admin.client.get(f"/moderation/admin/webhooks/{endpoint.id}").get_data(as_text=True)
        assert f'action="/moderation/admin/webhooks/{endpoint.id}/test"' in page and "送出測試通知" in page
        sent = admin.post(f"/moderation/admin/webhooks/{endpoint.id}/test")
        assert sent.status_code == 303
        assert "測試通知已送達（回應 204）" in admin.client.get(sent.location).get_data(as_text=True)
        (got,) = receiver.wait_for(1)
        assert got.event == "ping" and got.signed
        assert _deliveries(db) == []
        failing = _loopback_endpoint(db, receiver, "/fail")
        refused = admin.post(f"/moderation/admin/webhooks/{failing.id}/test")
        said = admin.client.get(refused.location).get_data(as_text=True)
        assert "測試通知未送達：" in said and "500" in said

    def test_the_list_says_when_a_problem_is_past(self, db, runner, receiver, clock):
        endpoint = _loopback_endpoint(db, receiver)
        endpoint.last_problem, endpoint.last_problem_at = DeliveryProblem.REFUSED.value, clock()
        db.session.commit()
        listed = runner.invoke(args=["webhooks", "list"]).output
        assert "\trefused at " in listed and "(delivered since)" not in listed
        endpoint.last_success_at = clock() + timedelta(seconds=30)
        db.session.commit()
        assert "(delivered since)" in runner.invoke(args=["webhooks", "list"]).output

    def test_a_slow_receiver_never_slows_posting_and_its_timeout_is_shown(self, app, db, page, admin, receiver):
        receiver.slow_seconds = 5
        app.config["WEBHOOK_TOTAL_TIMEOUT_SECONDS"] = 3
        endpoint = _loopback_endpoint(db, receiver, "/slow", ["comment.created"])
        assert page.post().status_code == 303
        # A post that waited for the delivery would come back after its 3 s timeout was recorded.
        assert _deliveries(db)[0].last_problem is None  # still under way when the reader had the answer
        assert app.extensions["jobs"].wait_idle()
        (delivery,) = _deliveries(db)
        assert (delivery.state, delivery.last_problem, delivery.attempts) == (DeliveryState.PENDING, "timeout", 1)
        assert delivery.next_attempt_at == delivery.last_attempt_at + timedelta(seconds=30)
        html = admin.client.get(f"/moderation/admin/webhooks/{endpoint.id}").get_data(as_text=True)
        assert "逾時未回應" in html

    def test_a_failing_receiver_is_retried_then_shown_failed_and_redelivered_in_one_click(
            self, app, db, page, admin, receiver, clock):
        receiver.flaky_failures = 2
        endpoint = _loopback_endpoint(db, receiver, "/flaky", ["comment.created"])
        assert "重新傳送所有失敗的" not in admin.client.get(f"/moderation/admin/webhooks/{endpoint.id}").get_data(
            as_text=True)  # nothing has failed: nothing to send again
        assert page.post().status_code == 303
        assert app.extensions["jobs"].wait_idle()
        assert _deliveries(db)[0].last_problem == "http_error"
        clock.advance(seconds=30)
        assert len(relay(app)) == 1  # the retry is due
        assert app.extensions["jobs"].wait_idle()
        (delivery,) = _deliveries(db)
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.FAILED, 2, 500)
        page_html = admin.client.get(f"/moderation/admin/webhooks/{endpoint.id}").get_data(as_text=True)
        assert "失敗" in page_html and "回應錯誤 500" in page_html and "重新傳送所有失敗的" in page_html
        assert f'name="delivery" value="{delivery.id}"' in page_html

        clicked = admin.post(f"/moderation/admin/webhooks/{endpoint.id}/redeliver", delivery=str(delivery.id))
        assert clicked.status_code == 303
        assert app.extensions["jobs"].wait_idle()
        assert [item.event for item in receiver.wait_for(1)] == ["comment.created"]
        assert _deliveries(db)[0].state is DeliveryState.DELIVERED
        assert "已重新排入 1 筆傳送。" in admin.client.get(clicked.headers["Location"]).get_data(as_text=True)

    def test_a_redirect_is_not_followed_and_a_huge_answer_is_not_read_to_its_end(self, app, db, page, receiver):
        _loopback_endpoint(db, receiver, "/redirect", ["comment.created"])
        _loopback_endpoint(db, receiver, "/huge", ["comment.created"])
        assert page.post().status_code == 303
        assert app.extensions["jobs"].wait_idle()
        redirected, huge = _deliveries(db)
        assert (redirected.state, redirected.last_problem, redirected.last_status_code) == (
            DeliveryState.PENDING, "redirect", 302)
        assert receiver.hits.get("/ok", 0) == 0
        assert (huge.state, huge.last_status_code) == (DeliveryState.DELIVERED, 200)
        # The sender read the answer's head and left: the receiver could not write the 20 MB (more than
        # the sockets' buffers hold) to their end.
        wait_for(lambda: receiver.huge_sent, what="the huge answer to end")
        assert receiver.huge_sent[0] < receiver.huge_bytes


def test_an_unreachable_endpoint_is_recorded_and_retried(app, db):

    endpoint = _endpoint(db, f"http://127.0.0.1:{free_port()}/gone", ["comment.created"], allow_private=True)
    make_comment(db)
    outbox.record(db.session, "comment.created", {"comment": {"id": 1}}, now=NOW)
    db.session.commit()
    (delivery,) = _deliveries(db)
    assert deliver_in_app(app, delivery.id) == "refused"
    assert deliver_in_app(app, delivery.id) == "skipped"  # not due again for 30 s
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).last_problem == "refused"


def test_a_host_that_now_resolves_to_a_private_address_is_not_contacted(app, db):

    _endpoint(db, "https://hooks.example.com/in", ["article.closed"])
    outbox.record(db.session, "article.closed", {"article": {"slug": "x"}}, now=NOW)
    db.session.commit()
    app.config["WEBHOOK_RESOLVER"] = resolver_of({"hooks.example.com": ["10.0.0.7"]})  # DNS changed
    (delivery,) = _deliveries(db)
    assert deliver_in_app(app, delivery.id) == "private_address"
    assert _deliveries(db)[0].last_problem == DeliveryProblem.PRIVATE_ADDRESS.value


def test_removing_an_endpoint_removes_its_deliveries(db, admin):
    endpoint = _endpoint(db, "https://hooks.example.com/in", ["comment.created"])
    make_comment(db)
    outbox.record(db.session, "comment.created", {"comment": {"id": 1}}, now=NOW)
    db.session.commit()
    asked = admin.post(f"/moderation/admin/webhooks/{endpoint.id}/remove")  # first the confirmation
    assert asked.status_code == 200 and "要移除 Webhook 端點 https://hooks.example.com/in 嗎？" in asked.get_data(as_text=True)
    assert len(_deliveries(db)) == 1
    removed = admin.post(f"/moderation/admin/webhooks/{endpoint.id}/remove", confirmed="1")
    assert removed.status_code == 303
    assert "已移除 https://hooks.example.com/in。" in admin.client.get(removed.headers["Location"]).get_data(as_text=True)
    assert _deliveries(db) == []


def test_the_relay_prunes_old_events_once_their_deliveries_ended(app, db, clock):
    endpoint = _endpoint(db, "https://hooks.example.com/in", ["comment.created", "article.closed"])
    outbox.record(db.session, "comment.created", {"comment": {"id": 1, "body": "讀者的話"}}, now=clock())
    outbox.record(db.session, "article.closed", {"article": {"slug": "x"}}, now=clock())
    db.session.commit()
    ended, waiting = _deliveries(db)
    ended.state = DeliveryState.DELIVERED
    db.session.commit()
    clock.advance(days=6)
    relay(app)
    assert len(_events(db)) == 2
    clock.advance(days=2)
    relay(app)  # the waiting one is handed over again (due), and stays
    assert _events(db) == ["article.closed"]
    assert [d.id for d in _deliveries(db)] == [waiting.id]
    assert endpoint.id == waiting.endpoint_id


def test_the_cli_sends_failed_deliveries_again_and_names_an_unknown_endpoint(runner, db):
    endpoint = _endpoint(db, "https://hooks.example.com/in", ["comment.created"])
    outbox.record(db.session, "comment.created", {"comment": {"id": 1}}, now=NOW)
    db.session.commit()
    (delivery,) = _deliveries(db)
    delivery.state = DeliveryState.FAILED
    db.session.commit()
    assert "1 deliveries sent again" in runner.invoke(args=["webhooks", "redeliver", str(endpoint.id)]).output
    assert [d.state for d in _deliveries(db)] == [DeliveryState.PENDING]
    unknown = runner.invoke(args=["webhooks", "remove", "https://nowhere.example.com/"])
    assert unknown.exit_code != 0 and "no endpoint 'https://nowhere.example.com/'" in unknown.output
