"""Moderator alerts: events as chat messages (Slack, WeCom, DingTalk, Feishu, Telegram) or e-mail, a
digest per quiet period, and the queue's backlog as an event of its own.

An endpoint whose format is not "json" receives messages for people instead of the signed event:
its deliveries that fall due together are sent as one message (`webhooks.digest`), and after a
message the next waits ALERT_QUIET_SECONDS (`outbox.record` sets it), so a flood of 500 held
comments becomes a few digests, not 500 messages. The lines are worded by templates
(templates/alerts/); this module only wraps them in each platform's body, and signs where the
platform wants it (DingTalk's "SEC…" secret, Feishu's signing secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.models import Comment, CommentStatus, OutboxEvent

FORMATS = ("json", "slack", "wecom", "dingtalk", "feishu", "telegram", "email")
CHAT_FORMATS = FORMATS[1:]
MAILTO = "mailto:"
MAX_RECIPIENTS = 10
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
GENERATED_SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class Line:
    text: str
    link: str | None = None


@dataclass(frozen=True)
class Message:
    url: str
    body: bytes


def chat_message(fmt: str, url: str, secret: str, title: str, lines: list[Line], *, now: datetime) -> Message:
    """The platform's JSON body (and URL, where it carries the signature or the chat) for `lines`."""
    if fmt == "slack":
        text = "\n".join([f"*{title}*"] + [f"• {line.text}" + (f" <{line.link}|↗>" if line.link else "")
                                             for line in lines])
        return Message(url, _json({"text": text}))
    markdown = [f"- {line.text}" + (f" [↗]({line.link})" if line.link else "") for line in lines]
    if fmt == "wecom":
        return Message(url, _json({"msgtype": "markdown", "markdown": {"content": "\n".join([f"**{title}**"] + markdown)}}))
    if fmt == "dingtalk":
        body = _json({"msgtype": "markdown", "markdown": {"title": title, "text": "\n".join([f"### {title}", ""] + markdown)}})
        if secret.startswith("SEC"):  # 加簽: timestamp and sign in the query
            stamp = str(int(now.timestamp() * 1000))
            sign = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
            url = _with_query(url, timestamp=stamp, sign=sign.decode())
        return Message(url, body)
    plain = "\n".join([title] + [f"• {line.text}" + (f" {line.link}" if line.link else "") for line in lines])
    if fmt == "feishu":
        payload: dict = {"msg_type": "text", "content": {"text": plain}}
        if not secret.startswith(GENERATED_SECRET_PREFIX):  # the bot's signing secret
            stamp = str(int(now.timestamp()))
            key = f"{stamp}\n{secret}".encode()
            payload = {"timestamp": stamp, "sign": base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode(),
                       **payload}
        return Message(url, _json(payload))
    if fmt == "telegram":  # https://api.telegram.org/bot<token>/sendMessage?chat_id=<chat>
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        return Message(url, _json({"chat_id": query.get("chat_id", [""])[0], "text": plain,
                                   "disable_web_page_preview": True}))
    raise ValueError(f"unknown format {fmt!r}")


def recipients(url: str) -> list[str] | None:
    """The addresses of a `mailto:a@example.com,b@example.com` URL, or None when it is not one."""
    if not url.startswith(MAILTO):
        return None
    addresses = [urllib.parse.unquote(part).strip() for part in url[len(MAILTO):].split("?", 1)[0].split(",")]
    if not 1 <= len(addresses) <= MAX_RECIPIENTS or not all(_ADDRESS.match(each) for each in addresses):
        return None
    return addresses


def email_message(to: list[str], sender: str, title: str, lines: list[Line], *, now: datetime) -> EmailMessage:
    """A plain-text e-mail: the title as subject, one line per event with its link below it."""
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    text = [title, ""] + [f"• {line.text}" + (f"\n  {line.link}" if line.link else "") for line in lines]
    message.set_content("\n".join(text) + "\n")
    return message


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = "&".join(filter(None, [parts.query, urllib.parse.urlencode(params)]))
    return urllib.parse.urlunsplit(parts._replace(query=query))


# --- The queue's backlog --------------------------------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_minutes: int


def backlog(db: Session, *, now: datetime, max_pending: int, max_age_minutes: int) -> Backlog | None:
    """The pending queue, when it holds more than `max_pending` comments or its oldest has waited
    longer than `max_age_minutes`; else None."""
    count, oldest = db.execute(select(func.count(), func.min(Comment.created_at))
                               .where(Comment.status == CommentStatus.PENDING)).one()
    if not count:
        return None
    if oldest.tzinfo is None:  # min() over the column bypasses its type on some backends
        oldest = oldest.replace(tzinfo=UTC)
    minutes = int((now - oldest).total_seconds() // 60)
    if count > max_pending or minutes > max_age_minutes:
        return Backlog(count, minutes)
    return None


def backlog_said_recently(db: Session, *, now: datetime, repeat_minutes: int) -> bool:
    return db.scalar(select(OutboxEvent.id).where(OutboxEvent.event == "queue.backlog",
                                                  OutboxEvent.created_at > now - timedelta(minutes=repeat_minutes))
                     .limit(1)) is not None
