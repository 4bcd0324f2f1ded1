"""Moderator alerts on the webhook deliveries: chat messages in the formats of Slack, WeCom, DingTalk,
Feishu and Telegram, one digest per quiet period, the queue's backlog, and a report that hides a
comment — delivered to a real receiver on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from moderation.jobs.delivery import deliver_in_app
from moderation.jobs.relay import relay
from moderation.models import CommentStatus, DeliveryState, OutboxEvent, WebhookDelivery
from moderation.services import alerts, webhooks
from moderation.services.alerts import Line
from tests.conftest import ARTICLE_SLUG, make_comment
from tests.receivers import SECRET

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LINES = [Line("新評論等待審核：讀者：你好", "https://news.example.com/moderation/?article=1#card-7"), Line("第二則")]


def body_of(message) -> dict:
    return json.loads(message.body)


def test_slack_gets_a_text_with_the_title_a_bullet_per_event_and_links():
    message = alerts.chat_message("slack", "https://hooks.slack.com/services/T/B/X", "whsec_x" * 3, "2 則通知", LINES,
                                  now=NOW)
    text = body_of(message)["text"]
    assert text.splitlines() == ["*2 則通知*", "• 新評論等待審核：讀者：你好 <https://news.example.com/moderation/?article=1#card-7|↗>",
                                 "• 第二則"]


def test_wecom_and_dingtalk_get_markdown():
    wecom = body_of(alerts.chat_message("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "whsec_xxxxxxxxxxxx",
                                        "2 則通知", LINES, now=NOW))
    assert wecom["msgtype"] == "markdown" and wecom["markdown"]["content"].startswith("**2 則通知**\n- 新評論")
    ding = alerts.chat_message("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "whsec_xxxxxxxxxxxx",
                               "2 則通知", LINES, now=NOW)
    assert body_of(ding)["markdown"]["title"] == "2 則通知"
    assert ding.url == "https://oapi.dingtalk.com/robot/send?access_token=t"  # no SEC secret: not signed


def test_dingtalk_with_its_sec_secret_is_signed_in_the_query_as_dingtalk_checks_it():
    secret = "SEC0123456789abcdef0123456789"
    message = alerts.chat_message("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", secret, "t", LINES,
                                  now=NOW)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(message.url).query)
    stamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert (query["access_token"], stamp, query["sign"][0]) == (["t"], str(int(NOW.timestamp() * 1000)), expected.decode())


def test_feishu_is_signed_with_the_bots_secret_and_telegram_names_the_chat_from_the_url():
    secret = "feishu-signing-secret-01"
    feishu = body_of(alerts.chat_message("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", secret, "t", LINES,
                                         now=NOW))
    key = f"{feishu['timestamp']}\n{secret}".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu["msg_type"] == "text" and feishu["content"]["text"].startswith("t\n• 新評論")
    unsigned = body_of(alerts.chat_message("feishu", "https://open.feishu.cn/x", "whsec_generated_one", "t", LINES, now=NOW))
    assert "sign" not in unsigned
    telegram = body_of(alerts.chat_message("telegram", "https://api.telegram.org/bot1:abc/sendMessage?chat_id=-1001",
                                           "whsec_generated_one", "t", LINES, now=NOW))
    assert telegram["chat_id"] == "-1001" and telegram["text"].splitlines()[0] == "t"


# --- Delivered ---------------------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off", "PUBLIC_BASE_URL": "https://news.example.com",
            "ALERT_QUEUE_SIZE": 2, "ALERT_QUEUE_AGE_MINUTES": 60}


def chat_endpoint(db, receiver, events, fmt="slack"):
    endpoint = webhooks.add_endpoint(db.session, receiver.url("/ok"), events, secret=SECRET, allow_private=True,
                                     now=NOW, format=fmt)
    db.session.commit()
    return endpoint


def due_ids(db) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.state == DeliveryState.PENDING)
                                   .order_by(WebhookDelivery.id)))


def test_a_flood_becomes_one_message_then_one_digest_per_quiet_period(app, db, page, receiver, clock):
    chat_endpoint(db, receiver, ["comment.held"])
    page.post(body="第一則留言")
    (first,) = due_ids(db)
    assert deliver_in_app(app, first) == "delivered"
    for index in range(3):
        page.open_form()
        assert page.post(body=f"洪水第{index}則").status_code == 303
    waiting = due_ids(db)
    assert [deliver_in_app(app, each) for each in waiting] == ["deferred"] * 3  # within the quiet period
    assert len(receiver.accepted()) == 1
    clock.advance(seconds=300)
    handed = relay(app)
    assert handed == waiting
    assert [deliver_in_app(app, each) for each in handed] == ["delivered", "skipped", "skipped"]
    first_message, digest = (item.body["text"] for item in receiver.accepted())
    assert first_message.splitlines()[0] == "*儀器網評論審核：1 則通知*"
    assert "新評論等待審核：讀者小林：第一則留言" in first_message
    assert digest.splitlines()[0] == "*儀器網評論審核：3 則通知*"
    assert [line.split("：")[-1].split(" <")[0] for line in digest.splitlines()[1:]] == ["洪水第0則", "洪水第1則", "洪水第2則"]
    comment_id = db.session.scalar(select(OutboxEvent.payload).order_by(OutboxEvent.id.desc()))
    assert f"#card-{json.loads(comment_id)['comment']['id']}|↗>" in digest
    assert "https://news.example.com/moderation/?article=" in digest


def test_a_report_that_hides_a_comment_alerts_in_the_language_set(app, db, page, receiver, clock):
    app.config["REPORT_HIDE_THRESHOLD"] = 1
    app.config["ALERT_LANGUAGE"] = "en"
    chat_endpoint(db, receiver, ["comment.held"], fmt="wecom")
    comment = make_comment(db, status=CommentStatus.APPROVED, nickname="讀者甲", body="被檢舉的話")
    page.open_form()
    reported = page.client.post(f"/articles/{ARTICLE_SLUG}/comments/{comment.id}/report",
                                data={"csrf_token": page.csrf_token, "reason": "spam"})
    assert reported.status_code == 303
    (held,) = due_ids(db)
    assert deliver_in_app(app, held) == "delivered"
    content = receiver.accepted()[0].body["markdown"]["content"]
    assert content.splitlines()[0] == "**Instrument News moderation: 1 alert**"
    assert "Readers' reports hid a comment, waiting for review: 讀者甲: 被檢舉的話" in content


def test_a_long_or_old_queue_is_said_once_an_hour(app, db, receiver, clock):
    chat_endpoint(db, receiver, ["queue.backlog"], fmt="dingtalk")
    make_comment(db)
    relay(app)
    assert due_ids(db) == []  # one pending comment, waiting 60 minutes: within both limits
    make_comment(db, created_at=NOW - timedelta(hours=3))
    make_comment(db)
    relay(app)
    (said,) = due_ids(db)
    assert deliver_in_app(app, said) == "delivered"
    text = receiver.accepted()[0].body["markdown"]["text"]
    assert "待審佇列有 3 則評論，最久的已等 180 分鐘 [↗](https://news.example.com/moderation/)" in text
    clock.advance(minutes=30)
    relay(app)
    assert due_ids(db) == []  # said within the hour
    clock.advance(minutes=31)
    relay(app)
    assert len(due_ids(db)) == 1


def test_the_admin_chooses_a_chat_format_and_an_unknown_one_is_refused(admin, db):
    form = {"csrf_token": admin.csrf(), "url": "http://127.0.0.1:9/chat", "events": ["comment.held"], "allow_private": "y"}
    refused = admin.client.post("/moderation/admin/webhooks/", data={**form, "format": "fax"})
    assert refused.status_code == 422 and "未知的格式：fax" in refused.get_data(as_text=True)
    added = admin.client.post("/moderation/admin/webhooks/", data={**form, "format": "feishu"})
    assert added.status_code == 200 and "飛書群機器人" in added.get_data(as_text=True)


# --- E-mail ------------------------------------------------------------------------------------------

class Inbox:
    """aiosmtpd's handler: keeps what it accepts; refuses every recipient while `refusing`."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refusing = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def inbox(app):
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_FROM="alerts@news.example.com")
    yield handler
    controller.stop()


def mail_endpoint(db, url="mailto:desk@news.example.com,night@news.example.com"):
    endpoint = webhooks.add_endpoint(db.session, url, ["comment.held"], now=NOW, format="email", mail_configured=True)
    db.session.commit()
    return endpoint


def test_an_email_alert_reaches_a_real_smtp_server_as_a_digest_with_links(app, db, page, inbox):
    import email
    from email import policy

    mail_endpoint(db)
    page.post(body="第一則留言")
    (held,) = due_ids(db)
    assert deliver_in_app(app, held) == "delivered"
    ((sender, recipients, content),) = inbox.messages
    assert sender == "alerts@news.example.com"
    assert recipients == ["desk@news.example.com", "night@news.example.com"]
    message = email.message_from_bytes(content, policy=policy.default)
    assert message["Subject"] == "儀器網評論審核：1 則通知"
    text = message.get_content()
    assert "• 新評論等待審核：讀者小林：第一則留言" in text
    assert "https://news.example.com/moderation/?article=" in text and "#card-" in text


def test_a_refused_email_is_retried_and_its_smtp_code_shown_to_the_admin(app, db, page, inbox, admin):
    endpoint = mail_endpoint(db)
    inbox.refusing = True
    page.post(body="第一則留言")
    (held,) = due_ids(db)
    assert deliver_in_app(app, held) == "mail_refused"
    delivery = db.session.get(WebhookDelivery, held)
    db.session.refresh(delivery)
    assert (delivery.state, delivery.last_status_code) == (DeliveryState.PENDING, 550)  # a retry is scheduled
    assert "郵件伺服器拒收 550" in admin.client.get(f"/moderation/admin/webhooks/{endpoint.id}").get_data(as_text=True)


def test_an_smtp_server_that_does_not_answer_is_a_refused_connection(app, db, page):
    from tests.servers import free_port

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    mail_endpoint(db)
    page.post(body="第一則留言")
    (held,) = due_ids(db)
    assert deliver_in_app(app, held) == "refused"


def test_email_endpoints_need_a_mailto_url_and_an_smtp_server(admin, app, db):
    form = {"csrf_token": admin.csrf(), "events": ["comment.held"], "format": "email"}
    unconfigured = admin.client.post("/moderation/admin/webhooks/", data={**form, "url": "mailto:desk@news.example.com"})
    assert unconfigured.status_code == 422 and "尚未設定寄信伺服器" in unconfigured.get_data(as_text=True)
    app.config["SMTP_HOST"] = "127.0.0.1"
    for url in ("https://news.example.com/hook", "mailto:", "mailto:not-an-address", "mailto:" + ",".join(
            f"m{index}@news.example.com" for index in range(11))):
        refused = admin.client.post("/moderation/admin/webhooks/", data={**form, "url": url})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "mailto: 加上 1 至 10 個" in page, url
    added = admin.client.post("/moderation/admin/webhooks/", data={**form, "url": "mailto:desk@news.example.com"})
    assert added.status_code == 200 and "電子郵件（mailto:）" in added.get_data(as_text=True)


def test_the_cli_adds_an_email_endpoint_only_with_an_smtp_server(app):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["webhooks", "add", "mailto:desk@news.example.com", "--event", "comment.held",
                                  "--format", "email"])
    assert refused.exit_code != 0 and "MODERATION_SMTP_HOST" in refused.output
    app.config["SMTP_HOST"] = "127.0.0.1"
    added = runner.invoke(args=["webhooks", "add", "mailto:desk@news.example.com", "--event", "comment.held",
                                "--format", "email"])
    assert added.exit_code == 0 and "(comment.held; email)" in added.output
