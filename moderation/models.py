"""Database tables as SQLAlchemy 2.0 typed models. Behaviour lives in the service modules."""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from moderation.article_text import render_body_html
from moderation.database_functions import DROP_SET_COMMENT_LIKE, SET_COMMENT_LIKE
from moderation.screening.normalize import fold


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, on every backend (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def _str_enum(enum_class: type[enum.Enum]) -> Enum:
    return Enum(
        enum_class,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    pass


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"


class CommentMode(enum.StrEnum):
    PRE_MODERATION = "pre"  # new comments wait for a moderator
    POST_MODERATION = "post"  # published at once, still listed for review
    CLOSED = "closed"  # no new comments; existing ones stay visible


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("key", name="uq_article_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The newsroom CMS's own name for the article (its API, the counts script, the embed); the
    # slug for articles made here. Printable ASCII without slashes or commas (services.newsroom).
    key: Mapped[str] = mapped_column(String(128))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(Text)
    column_name: Mapped[str] = mapped_column(Text, default="")
    # Paragraphs separated by a blank line, pinyin glosses kept inline as written: 網(wǎng).
    body: Mapped[str] = mapped_column(Text)
    # The body as HTML with <ruby> glosses, produced whenever `body` is set, never per request.
    body_html: Mapped[str] = mapped_column(Text, default="")
    comment_mode: Mapped[CommentMode] = mapped_column(
        _str_enum(CommentMode), default=CommentMode.PRE_MODERATION
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the newsroom published it; comments close automatically some days after (services.newsroom).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Days after publication when comments close: None follows COMMENTS_CLOSE_AFTER_DAYS, 0 never closes.
    close_after_days: Mapped[int | None] = mapped_column(Integer)
    # Kept in the same transaction as every change of what readers see (moderation.services.listing),
    # so the page's heading needs no COUNT and its validator no scan of the comments.
    approved_count: Mapped[int] = mapped_column(Integer, default=0)
    # Names screening holds in comments on this article (victims, minors), one a line, in any script or
    # reading; moderators edit them on the article (services.protected_names).
    protected_names: Mapped[str] = mapped_column(Text, default="", server_default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The newsroom site whose API key created it (ApiKey.site); None for articles made here. Which
    # origins may frame its embedded comment section follows from it (EmbedSite).
    site: Mapped[str | None] = mapped_column(String(32))

    comments: Mapped[list[Comment]] = relationship(back_populates="article")

    @validates("body")
    def _render_body(self, key: str, body: str) -> str:
        self.body_html = render_body_html(body)
        return body


def searchable_text(nickname: str | None, body: str) -> str:
    """What the queue's text search reads: nickname and body folded as screening folds them (script,
    width, case, look-alikes), so 檢測 finds 检测 and ＣＮＡＳ finds cnas. A line apart: no match spans both."""
    return fold(nickname or "") + "\n" + fold(body or "")


def _searchable_default(context) -> str:
    # A column default, so that every insert fills it: the ORM's and Core's (the reader's post).
    values = context.get_current_parameters()
    return searchable_text(values.get("nickname"), values.get("body", ""))


def hot_key(*, likes: int, replies: int, created_at: datetime) -> float:
    """最熱's order, Reddit-style: log10(likes + 2·replies + 1) + created_epoch / 45000.

    A tenfold score is worth 12.5 hours of age, so yesterday's favourite yields to this morning's
    lively comment without a decay job: the key only changes when the comment's counts do, and the
    order of two comments never changes while neither is liked or answered.
    """
    score = max(likes, 0) + 2 * max(replies, 0) + 1
    return math.log10(score) + created_at.timestamp() / HOT_SECONDS_PER_DECADE


HOT_SECONDS_PER_DECADE = 45000


def _hot_key_default(context) -> float:
    values = context.get_current_parameters()
    created_at = values.get("created_at") or utcnow()
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return hot_key(likes=values.get("like_count") or 0, replies=values.get("reply_count") or 0, created_at=created_at)


def _listed_default(context) -> bool:
    # A column default, so that every insert fills it (decide() keeps it afterwards).
    values = context.get_current_parameters()
    status = values.get("status")
    return values.get("thread_id") is None and (
        status in (CommentStatus.APPROVED, CommentStatus.APPROVED.value) or (values.get("reply_count") or 0) > 0)


STAFF_ANSWER = "staff_account_id IS NOT NULL"


class Comment(Base):
    __tablename__ = "comment"
    __table_args__ = (
        # Public listing and the moderation queue read by (status, created_at, id) keysets.
        Index("ix_comment_article_status_created", "article_id", "status", "created_at", "id"),
        Index("ix_comment_status_created", "status", "created_at", "id"),
        Index("ix_comment_author_created", "author_hash", "created_at"),
        Index("ix_comment_ip_created", "ip_hash", "created_at"),
        # The article's list of threads, and one thread's replies, by keyset (services.listing).
        Index("ix_comment_article_listed_created", "article_id", "listed", "created_at", "id"),
        Index("ix_comment_thread_status_created", "thread_id", "status", "created_at", "id"),
        # The site's answers under each thread of the article page, however long the thread.
        Index("ix_comment_thread_staff_created", "thread_id", "created_at", "id",
              sqlite_where=text(STAFF_ANSWER), postgresql_where=text(STAFF_ANSWER)),
        Index("ix_comment_article_pinned", "article_id", "pinned_at"),
        # Surge mode counts an article's last minutes of comments (services.surge), and finds one text's
        # copies by either fingerprint without reading the article's other comments of those minutes.
        Index("ix_comment_article_created", "article_id", "created_at"),
        Index("ix_comment_article_fingerprint", "article_id", "fingerprint", "created_at"),
        Index("ix_comment_article_reading", "article_id", "reading_fingerprint", "created_at"),
        # 最熱: the article's threads by hot key, by keyset (services.listing).
        Index("ix_comment_article_listed_hot", "article_id", "listed", "hot_key", "id"),
        UniqueConstraint("submission_key", name="uq_comment_submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    nickname: Mapped[str | None] = mapped_column(String(40))
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(
        _str_enum(CommentStatus), default=CommentStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # HMAC(IP_PEPPER, client address): lets moderators group one author's comments without
    # storing or revealing the address. Never an unkeyed hash: IPv4 is too small a space.
    ip_hash: Mapped[str] = mapped_column(String(64))
    # HMAC(IP_PEPPER, per-browser token from the reader's signed cookie).
    author_hash: Mapped[str] = mapped_column(String(64))
    # sha256 of the compact normalised text: duplicates despite spacing, width or script.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    # Optimistic concurrency: a status change names the version it saw.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The captcha challenge the comment was posted with: a resent form (its reply was lost)
    # finds its comment here instead of storing a second copy.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    # The folded nickname and body for the queue's search (`searchable_text`); the body never changes.
    search_text: Mapped[str] = mapped_column(Text, default=_searchable_default, server_default="")
    # Replies: the top comment of the thread (one level of nesting) and the comment answered (the top
    # itself, or a reply in the thread: 「回覆 @暱稱」). No foreign keys: a reply outlives an erased parent.
    thread_id: Mapped[int | None] = mapped_column(Integer)
    reply_to_id: Mapped[int | None] = mapped_column(Integer)
    # On a top comment: its published replies, kept with every decision as `approved_count` is.
    reply_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A thread head in the article's list: a published top comment, or an unpublished one whose
    # published replies still stand (shown as 「原評論已刪除」). Kept with the status and reply_count.
    listed: Mapped[bool] = mapped_column(Boolean, default=_listed_default, server_default=sa_false())
    # An editors' pick (「編輯精選」) since then; at most PICKS_PER_ARTICLE per article (services.picks).
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written by a moderator as the site (「本站編輯」): the badge comes from here, never from a nickname.
    staff_account_id: Mapped[int | None] = mapped_column(ForeignKey("moderator.id", ondelete="SET NULL"))
    # sha256 of the text's reading (pinyin of every Han character): 加微信 and 家威信 are one text to surge mode.
    reading_fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Near-identical comments from several authors, held together and shown on one card (services.surge).
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("comment_cluster.id", ondelete="SET NULL"), index=True)
    # Counted likes (讚): kept by services.likes in the transaction that stores or removes a like.
    like_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 最熱's sort key (`hot_key`), recomputed whenever like_count or reply_count changes.
    hot_key: Mapped[float] = mapped_column(Float, default=_hot_key_default, server_default="0")

    article: Mapped[Article] = relationship(back_populates="comments")
    screening_reasons: Mapped[list[ScreeningReason]] = relationship(
        order_by="ScreeningReason.id", cascade="all, delete-orphan"
    )

    @property
    def display_name(self) -> str | None:
        """The nickname, or None for an anonymous comment (templates show 匿名網友)."""
        return None if self.is_anonymous else self.nickname

    @property
    def is_reply(self) -> bool:
        return self.thread_id is not None

    @property
    def is_staff(self) -> bool:
        return self.staff_account_id is not None


class CommentLike(Base):
    """One reader's like (讚) of one comment; `counted` says whether it adds to the comment's count."""

    __tablename__ = "comment_like"
    __table_args__ = (
        UniqueConstraint("comment_id", "reader_hash", name="uq_comment_like_reader"),
        Index("ix_comment_like_comment_ip", "comment_id", "ip_hash"),
        Index("ix_comment_like_reader_article", "reader_hash", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(Integer)  # the reader's likes on one page in one query
    reader_hash: Mapped[str] = mapped_column(String(64))  # reader_identity.author_hash
    ip_hash: Mapped[str] = mapped_column(String(64))
    # False for a like by the comment's own author, or from an address past LIKES_COUNTED_PER_ADDRESS.
    counted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# PostgreSQL's like in one call (moderation/database_functions.py), made and dropped with the likes' table.
event.listen(CommentLike.__table__, "after_create", DDL(SET_COMMENT_LIKE).execute_if(dialect="postgresql"))
event.listen(CommentLike.__table__, "before_drop", DDL(DROP_SET_COMMENT_LIKE).execute_if(dialect="postgresql"))


class CaptchaMedium(enum.StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


class CaptchaChallenge(Base):
    """One challenge, created when its image or audio is first requested, used at most once."""

    __tablename__ = "captcha_challenge"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_nonce: Mapped[str] = mapped_column(String(64), index=True)
    medium: Mapped[CaptchaMedium] = mapped_column(_str_enum(CaptchaMedium))
    # HMAC(IP_PEPPER, id + answer): the answer itself is never stored.
    answer_hash: Mapped[str] = mapped_column(String(64))
    # The rendered image or audio, so that a re-request (audio range requests) costs no CPU.
    media: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaptchaFailure(Base):
    """A failed answer, counted per browser and per address to slow down guessing."""

    __tablename__ = "captcha_failure"
    __table_args__ = (
        Index("ix_captcha_failure_nonce_at", "browser_nonce", "failed_at"),
        Index("ix_captcha_failure_ip_at", "ip_hash", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    browser_nonce: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WordRuleRow(Base):
    """A term of the screening word lists (action: block, hold, spam or allow)."""

    __tablename__ = "word_rule"
    # Ids never come back after a delete (as with PostgreSQL sequences): the rules cache relies on it.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(200), unique=True)
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fuzzy: Mapped[str] = mapped_column(String(8), default="hold", server_default="hold")  # screening.matching.Fuzzy


class DomainRuleRow(Base):
    """A link domain that is always spam (block) or never counted (allow)."""

    __tablename__ = "domain_rule"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScreeningReason(Base):
    """Why screening put a comment where it is: shown to moderators, with the matched span."""

    __tablename__ = "screening_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(16))
    rule_id: Mapped[str] = mapped_column(Text)  # "domain:" + up to 253 characters: never too long
    detail: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(16))
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    how: Mapped[str] = mapped_column(String(16), default="exact", server_default="exact")  # for words


class Role(enum.StrEnum):
    MODERATOR = "moderator"  # works the queue
    ADMIN = "admin"  # also manages moderators, comment modes and word lists


class Moderator(Base):
    __tablename__ = "moderator"
    __table_args__ = (UniqueConstraint("name_key", name="uq_moderator_name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # as the admin typed it (NFKC)
    # NFKC and case-folded, compared in Python on every backend (SQL lower() is not casefold()).
    name_key: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[Role] = mapped_column(_str_enum(Role), default=Role.MODERATOR)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A one-time password (first admin, reset by an admin) must be replaced at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModeratorSession(Base):
    """A signed-in browser. Deleting the row ends the session at once (logout, account disabled)."""

    __tablename__ = "moderator_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    moderator_id: Mapped[int] = mapped_column(ForeignKey("moderator.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Counted per account name and per address to slow down password guessing (no lockout)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_name_at", "name_key", "attempted_at"),
        Index("ix_login_attempt_ip_at", "ip_hash", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_key: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """One line of the audit log: who did what, when, to which comment, from which status to which."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_comment_at", "comment_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderator.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(40))  # name as it was (also for failed logins), or "system"
    action: Mapped[str] = mapped_column(String(32), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")  # as a person typed it
    # What the system records about the action, as codes and numbers (a rule's term and action, how many
    # comments a re-screening checked and moved…): the templates word it in the reader's language.
    details: Mapped[dict | None] = mapped_column(JSON)
    ip_hash: Mapped[str | None] = mapped_column(String(64))


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class CommentReport(Base):
    """A reader's report of a published comment; open until a moderator decides on the comment."""

    __tablename__ = "comment_report"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter_hash", name="uq_comment_report_reporter"),
        Index("ix_comment_report_reporter_at", "reporter_hash", "created_at"),
        Index("ix_comment_report_address_at", "reporter_ip_hash", "created_at"),
        Index("ix_comment_report_open", "resolved_at", "comment_id"),
        Index("ix_comment_report_created", "created_at"),  # the dashboard's reports of a period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    reason: Mapped[ReportReason] = mapped_column(_str_enum(ReportReason))
    # The reader's author hash, or for a reader without a token a keyed hash of the address.
    reporter_hash: Mapped[str] = mapped_column(String(64))
    # Hiding counts distinct addresses, so that minting tokens from one address counts once.
    reporter_ip_hash: Mapped[str] = mapped_column(String(64), default="")
    # What the reader wrote beside the reason, mostly with 其他 (REPORT_NOTE_MAX_LENGTH); "" for none.
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Scope(enum.StrEnum):
    """What an API key may do."""

    ARTICLES_WRITE = "articles:write"  # create, update, read back and close articles
    COMMENTS_READ = "comments:read"  # read published comments as data


class ApiKey(Base):
    """A newsroom's key to the JSON API. Only its SHA-256 is kept: the key is shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(32), index=True)  # the audit log's and request log's name
    # sha256 of the whole key: 256 random bits need no salt or slow hash, and the lookup stays one index probe.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # its first characters, to tell keys apart in lists
    scopes: Mapped[str] = mapped_column(String(200))  # Scope values, space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(value) for value in self.scopes.split())


class EmbedSite(Base):
    """The origins (scheme://host[:port]) a site lets frame /embed/ pages of its articles
    (Content-Security-Policy frame-ancestors; services.embed_sites)."""

    __tablename__ = "embed_site"
    __table_args__ = (UniqueConstraint("site", name="uq_embed_site_site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(32))
    origins: Mapped[str] = mapped_column(Text, default="")  # one a line, normalised, sorted
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def origin_list(self) -> list[str]:
        return [line for line in self.origins.split("\n") if line]


class WebhookEndpoint(Base):
    """A receiver an admin registered: the events it wants, signed with its own secret (services.webhooks)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200))  # space-separated event names (webhooks.EVENTS)
    # HMAC key of the signature; shown once when generated. Kept readable: signing needs it.
    secret: Mapped[str] = mapped_column(String(200))
    # The admin allowed this host to resolve to a loopback, link-local or private address.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    # "json": the signed event itself. A chat format (services.alerts.FORMATS: slack, wecom, dingtalk,
    # feishu, telegram): a message for people, events within ALERT_QUIET_SECONDS sent as one digest.
    format: Mapped[str] = mapped_column(String(16), default="json", server_default="json")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_problem: Mapped[str | None] = mapped_column(String(32))  # webhooks.DeliveryProblem
    last_problem_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def event_names(self) -> list[str]:
        return self.events.split()


class ExternalCheck(Base):
    """An admin's HTTP check that screening asks about each new comment (services/external_check.py):
    at most one row."""

    __tablename__ = "external_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))  # signs each request, as webhooks are signed
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_problem: Mapped[str | None] = mapped_column(String(32))  # external_check.CheckProblem
    last_problem_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxEvent(Base):
    """An event that receivers must hear of, written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)  # uuid4: the event's id for receivers
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # JSON: the event's `data`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its first try or its next retry
    DELIVERED = "delivered"
    FAILED = "failed"  # retried for WEBHOOK_RETRY_WINDOW_SECONDS; an admin may redeliver


class WebhookDelivery(Base):
    """One event for one endpoint: the unit the queue carries, retried until delivered or failed."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("outbox_id", "endpoint_id", name="uq_webhook_delivery_event_endpoint"),
        Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    state: Mapped[DeliveryState] = mapped_column(_str_enum(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Retries stop this long after this moment (the event, or the admin's redelivery).
    retry_since: Mapped[datetime] = mapped_column(UTCDateTime)
    # Last handed to the queue; the relay hands it again once this is old (a lost hand-over).
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker holds the delivery until then: no two workers send it at once; a dead worker's expires.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_problem: Mapped[str | None] = mapped_column(String(32))  # webhooks.DeliveryProblem
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[OutboxEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class LongJobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # an error, or abandoned: no progress for LONG_JOB_STALE_SECONDS
    CANCELLED = "cancelled"


ACTIVE_LONG_JOB = "state IN ('queued', 'running')"


class LongJob(Base):
    """Work too long for a request (re-screening, erasing an author) run by the job queue, with its
    progress for the page that started it. One job of a kind and subject is active at a time."""

    __tablename__ = "long_job"
    __table_args__ = (
        Index("ix_long_job_one_active", "kind", "subject", unique=True,
              sqlite_where=text(ACTIVE_LONG_JOB), postgresql_where=text(ACTIVE_LONG_JOB)),
        Index("ix_long_job_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # services.long_jobs.Kind
    subject: Mapped[str] = mapped_column(String(64), default="")  # an author tag, or "" for the whole queue
    state: Mapped[LongJobState] = mapped_column(_str_enum(LongJobState), default=LongJobState.QUEUED)
    total: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(40))  # the actor's name, as the audit log writes it
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderator.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last progress: a job that stops moving is stale
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(200))


class RestrictionKind(enum.StrEnum):
    """What moderators set for one author, mildest first (services.sanctions)."""

    PREMODERATE = "premoderate"  # always pre-moderate: every comment is held for review
    SUSPENSION = "suspension"  # cannot post until `until`
    BAN = "ban"  # cannot post, no end


class AuthorRestriction(Base):
    """The one effective restriction of an author (by author hash): one row per author, so that two
    moderators acting at once cannot leave two. Lifting deletes it; the audit log keeps the history."""

    __tablename__ = "author_restriction"

    author_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[RestrictionKind] = mapped_column(_str_enum(RestrictionKind))
    reason: Mapped[str] = mapped_column(String(32))  # sanctions.RestrictionReason
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: no end (a ban, pre-moderation)
    created_by: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)


class AddressHold(Base):
    """Comments from an address range are held for review until `until`. Only a keyed hash of the range
    (its network at its prefix length) is kept: no address."""

    __tablename__ = "address_hold"
    __table_args__ = (Index("ix_address_hold_range_until", "range_hash", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    range_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[int] = mapped_column(Integer)  # the range's size, e.g. 24
    family: Mapped[int] = mapped_column(Integer)  # 4 or 6
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(40))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
# --- Rolled-up figures for the dashboard (services.rollups keeps them; `flask dashboard rebuild` refills)

class CommentHour(Base):
    """Comments per article and UTC hour of posting: by their status now, and how many were held on
    arrival. Kept in the transaction of each post and decision, so the dashboard never reads comments."""

    __tablename__ = "comment_hour"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    approved: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    spam: Mapped[int] = mapped_column(Integer, default=0)
    held_on_arrival: Mapped[int] = mapped_column(Integer, default=0)


class DecisionTimeHour(Base):
    """How long comments waited for a moderator's decision, as a histogram per UTC hour of the
    decision and moderator: bucket n holds waits up to rollups.bucket_upper(n) seconds."""

    __tablename__ = "decision_time_hour"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("moderator.id", ondelete="CASCADE"), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    decisions: Mapped[int] = mapped_column(Integer, default=0)


class RuleHour(Base):
    """A screening rule's hits per UTC hour of posting, and how many of those comments are approved now."""

    __tablename__ = "rule_hour"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    approved: Mapped[int] = mapped_column(Integer, default=0)


class QueueSample(Base):
    """The pending queue at its largest in a UTC hour, and its oldest comment's longest wait then:
    sampled by the relay, the dashboard and `flask dashboard sample`."""

    __tablename__ = "queue_sample"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    oldest_wait_seconds: Mapped[int] = mapped_column(Integer, default=0)


# --- Surge mode (services.surge) -------------------------------------------------------------------

class SurgeCause(enum.StrEnum):
    RATE = "rate"  # more than SURGE_RATE_PER_MINUTE comments in a minute
    MEDIAN = "median"  # SURGE_MEDIAN_FACTOR times the article's median rate
    CLUSTER = "cluster"  # one text (or its reading) from SURGE_CLUSTER_AUTHORS authors in SURGE_CLUSTER_MINUTES


class Surge(Base):
    """An article's surge: when it began and why, the mode it switched from, when it ended and how."""

    __tablename__ = "surge"
    __table_args__ = (Index("ix_surge_article_ended", "article_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    cause: Mapped[SurgeCause] = mapped_column(_str_enum(SurgeCause))
    details: Mapped[dict | None] = mapped_column(JSON)  # the figures that tripped it
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last post that would trip it again
    # The mode it switched the article from; None when it was already pre-moderated (nothing to give back).
    previous_mode: Mapped[CommentMode | None] = mapped_column(_str_enum(CommentMode))
    person_chose: Mapped[bool] = mapped_column(Boolean, default=False)  # an admin set the mode meanwhile
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommentCluster(Base):
    """Near-identical comments of one article from several authors: one card in the queue."""

    __tablename__ = "comment_cluster"
    __table_args__ = (Index("ix_comment_cluster_article_key", "article_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    surge_id: Mapped[int | None] = mapped_column(ForeignKey("surge.id", ondelete="SET NULL"))
    key: Mapped[str] = mapped_column(String(64))  # the fingerprint or reading fingerprint they share
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
