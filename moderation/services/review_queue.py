"""The moderation queue: tabs with counts, filters, keyset pages, and what each card shows.

Pages are read by keyset (`WHERE (created_at, id) > cursor ORDER BY created_at, id LIMIT n`),
never by OFFSET, so page 1000 costs what page 1 costs. The pending queue runs oldest first
(the longest-waiting reader first); decided queues run newest first.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from moderation.models import Article, AuditEntry, Comment, CommentReport, CommentStatus
from moderation.screening.normalize import fold
from moderation.services.hashing import keyed_hash
from moderation.services.paging import Cursor, comment_key, key_of


class Tab(enum.StrEnum):
    PENDING = "pending"
    REPORTED = "reported"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"


OLDEST_FIRST = {Tab.PENDING, Tab.REPORTED}
STATUS_OF_TAB = {
    Tab.PENDING: CommentStatus.PENDING,
    Tab.APPROVED: CommentStatus.APPROVED,
    Tab.REJECTED: CommentStatus.REJECTED,
    Tab.SPAM: CommentStatus.SPAM,
}


def status_listed(tab: Tab) -> CommentStatus:
    """The status of the comments a tab lists (已檢舉 lists published ones that readers reported)."""
    return CommentStatus.APPROVED if tab is Tab.REPORTED else STATUS_OF_TAB[tab]


class Kind(enum.StrEnum):
    """The queue's filter by place in a conversation."""

    REPLIES = "replies"
    TOP = "top"


@dataclass(frozen=True)
class ThreadPlace:
    """Where a reply stands: the comment it answers (None: erased) and its place among the thread's replies."""

    parent: Comment | None
    position: int  # 1 for the thread's first reply (all statuses, by time)
    of: int  # replies in the thread, all statuses


@dataclass(frozen=True)
class Filters:
    article_id: int | None = None
    author_tag: str | None = None  # a prefix of the author hash, as shown on cards
    text: str = ""
    comment_id: int | None = None  # one comment (an audit row's link)
    malformed_author: str | None = None  # an author tag that is not one (as typed): nothing is listed
    kind: Kind | None = None  # replies only, or top-level comments only

    @property
    def active(self) -> bool:
        return bool(self.article_id or self.narrowed)

    @property
    def narrowed(self) -> bool:
        """Picking comments within an article: by author, text, kind or id. A surge's cluster card
        stands for comments of many authors, so such a list shows the cluster's comments among the
        others, each on its own card, and no cluster card."""
        return bool(self.author_tag or self.text or self.comment_id or self.malformed_author or self.kind)


@dataclass
class AuthorHistory:
    approved: int = 0
    rejected: int = 0
    spam: int = 0
    pending: int = 0


@dataclass(frozen=True)
class ReportGroup:
    reason: str
    readers: int  # distinct readers who gave this reason
    first_at: datetime
    notes: tuple[str, ...] = ()  # what readers wrote beside the reason (其他), oldest first


@dataclass
class Page:
    comments: list[Comment]
    next_cursor: Cursor | None
    previous_cursor: Cursor | None = None
    histories: dict[str, AuthorHistory] = field(default_factory=dict)
    reports: dict[int, list[CommentReport]] = field(default_factory=dict)
    audit: dict[int, list[AuditEntry]] = field(default_factory=dict)
    places: dict[int, ThreadPlace] = field(default_factory=dict)  # replies on the page
    pending_replies: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # top id → (id, version)


AUTHOR_TAG_LENGTH = 8
AUTHOR_HASH_LENGTH = 64


def author_tag(author_hash: str) -> str:
    """The short tag moderators see: a prefix of an HMAC, so it leads back to no address or token."""
    return author_hash[:AUTHOR_TAG_LENGTH]


def parse_author_tag(raw: str) -> str | None:
    """A tag as typed or linked: lower-case hex digits, else None."""
    tag = raw.lower()
    return tag if tag and all(char in "0123456789abcdef" for char in tag) else None


def by_author(tag: str):
    """Comments whose author hash starts with the tag.

    A range on the indexed hash rather than LIKE 'tag%' (which PostgreSQL indexes only in C collation).
    """
    return Comment.author_hash >= tag, Comment.author_hash < tag + "~"


def comments_of_author(db: Session, tag: str, *, limit: int) -> list[Comment]:
    return list(db.scalars(
        select(Comment).options(joinedload(Comment.article)).where(*by_author(tag))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
    ))


def articles_for_filter(db: Session) -> list[Article]:
    return list(db.scalars(select(Article).order_by(Article.title)))


def network_tag(ip_hash: str, pepper: str) -> str:
    return keyed_hash(pepper, f"net:{ip_hash}")[:6]


def _open_reports():
    return select(CommentReport.comment_id).where(CommentReport.resolved_at.is_(None))


# What a card shows in place of an author's nickname, searched as the moderator reads it: an
# anonymous comment (匿名網友, and its zh-Hans and English wording) or the site's own answer (本站編輯).
_ANONYMOUS_AS_SHOWN = frozenset(fold(name) for name in ("匿名網友", "Anonymous reader"))
_STAFF_AS_SHOWN = frozenset(fold(name) for name in ("本站編輯", "Editor"))


def _filtered(query, filters: Filters):
    if filters.article_id:
        query = query.where(Comment.article_id == filters.article_id)
    if filters.author_tag:
        query = query.where(*by_author(filters.author_tag))
    if filters.comment_id:
        query = query.where(Comment.id == filters.comment_id)
    if filters.kind is Kind.REPLIES:
        query = query.where(Comment.thread_id.is_not(None))
    elif filters.kind is Kind.TOP:
        query = query.where(Comment.thread_id.is_(None))
    folded = fold(filters.text)
    if folded:  # folded as screening folds: 檢測 finds 检测, ＣＮＡＳ finds cnas
        found = Comment.search_text.contains(folded, autoescape=True)
        if folded in _ANONYMOUS_AS_SHOWN:
            found = or_(found, Comment.is_anonymous)
        elif folded in _STAFF_AS_SHOWN:
            found = or_(found, Comment.staff_account_id.is_not(None))
        query = query.where(found)
    return query


def _reported():
    return Comment.id.in_(_open_reports()), Comment.status.in_([CommentStatus.APPROVED, CommentStatus.PENDING])


def _base(tab: Tab, filters: Filters):
    conditions = _reported() if tab is Tab.REPORTED else (Comment.status == STATUS_OF_TAB[tab],)
    if tab is Tab.PENDING and not filters.narrowed:  # a surge's cluster waits on its own card (services.surge)
        conditions = (*conditions, Comment.cluster_id.is_(None))
    return _filtered(select(Comment).where(*conditions), filters)


def counts(db: Session, filters: Filters = Filters()) -> dict[Tab, int]:
    """Every tab's count: one grouped query for the statuses, one for open reports."""
    by_status = dict(db.execute(
        _filtered(select(Comment.status, func.count()).group_by(Comment.status), filters)
    ).all())
    result = {tab: by_status.get(status, 0) for tab, status in STATUS_OF_TAB.items()}
    result[Tab.REPORTED] = db.scalar(
        _filtered(select(func.count()).select_from(Comment).where(*_reported()), filters)
    ) or 0
    return result


def page(db: Session, tab: Tab, filters: Filters, *, after: Cursor | None, size: int,
         before: Cursor | None = None) -> Page:
    """One page after the cursor `after` (or the first); or, going back, the page that ends just
    before `before`. Pages are read by keyset, so the comments decided since a link was made move
    them: a page that finds nothing there is the first page of what is left, and a page with nothing
    before it has no previous page."""
    query = _base(tab, filters)
    oldest_first = tab in OLDEST_FIRST
    forward = before is None
    mark_cursor = after if forward else before
    if mark_cursor is not None:
        query = query.where(_beyond(mark_cursor, ahead=oldest_first == forward))
    ascending = oldest_first == forward
    order = (Comment.created_at, Comment.id) if ascending else (Comment.created_at.desc(), Comment.id.desc())
    rows = list(db.scalars(
        query.options(joinedload(Comment.article), selectinload(Comment.screening_reasons))
        .order_by(*order).limit(size + 1)
    ).unique())
    more = len(rows) > size
    rows = rows[:size]
    if not rows and mark_cursor is not None:
        return page(db, tab, filters, after=None, size=size)
    if forward:
        next_cursor = Cursor.of(rows[-1]) if more else None
        anything_before = after is not None and db.scalar(
            _base(tab, filters).with_only_columns(Comment.id).where(
                _beyond(Cursor.of(rows[0]), ahead=not oldest_first)).limit(1)) is not None
        previous_cursor = Cursor.of(rows[0]) if anything_before else None
    else:
        rows.reverse()
        next_cursor = Cursor.of(rows[-1]) if rows else None
        previous_cursor = Cursor.of(rows[0]) if more else None
    return _with_details(db, rows, next_cursor, previous_cursor)


def _beyond(cursor: Cursor, *, ahead: bool):
    """Comments after the cursor's place in (created_at, id) order, or before it."""
    key, mark = comment_key(), key_of(cursor)
    return key > mark if ahead else key < mark


def page_of(db: Session, comment_ids: list[int]) -> Page:
    """The given comments with what their cards show (one card re-drawn after a decision in place)."""
    rows = list(db.scalars(
        select(Comment).options(joinedload(Comment.article), selectinload(Comment.screening_reasons))
        .where(Comment.id.in_(comment_ids))
    ).unique())
    return _with_details(db, rows, None, None)


def _with_details(db: Session, rows: list[Comment], next_cursor, previous_cursor) -> Page:
    return Page(
        comments=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        histories=author_histories(db, {comment.author_hash for comment in rows}),
        reports=open_reports_of(db, [comment.id for comment in rows]),
        audit=audit_of(db, [comment.id for comment in rows]),
        places=thread_places(db, [comment for comment in rows if comment.thread_id is not None]),
        pending_replies=pending_replies_of(db, [comment.id for comment in rows if comment.thread_id is None]),
    )


def thread_places(db: Session, replies: list[Comment]) -> dict[int, ThreadPlace]:
    """Each reply's parent and its place in its thread: two queries for the whole page."""
    if not replies:
        return {}
    parents = {comment.id: comment for comment in db.scalars(
        select(Comment).where(Comment.id.in_({reply.reply_to_id for reply in replies if reply.reply_to_id})))}
    threads = {reply.thread_id for reply in replies}
    ranked = db.execute(
        select(Comment.id, Comment.thread_id,
               func.row_number().over(partition_by=Comment.thread_id, order_by=(Comment.created_at, Comment.id)),
               func.count().over(partition_by=Comment.thread_id))
        .where(Comment.thread_id.in_(threads))
    ).all()
    answers = {reply.id: reply.reply_to_id for reply in replies}
    return {comment_id: ThreadPlace(parents.get(answers[comment_id]), position, of)
            for comment_id, _thread, position, of in ranked if comment_id in answers}


def pending_replies_of(db: Session, top_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """The pending replies under these top comments, as (id, version): rejecting a top offers them too."""
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if top_ids:
        for thread_id, comment_id, version in db.execute(
            select(Comment.thread_id, Comment.id, Comment.version)
            .where(Comment.thread_id.in_(top_ids), Comment.status == CommentStatus.PENDING)
            .order_by(Comment.created_at, Comment.id)
        ):
            found[thread_id].append((comment_id, version))
    return found


def report_groups(reports: list[CommentReport]) -> list[ReportGroup]:
    """Open reports by reason, with how many distinct readers gave each, most readers first."""
    readers: dict[str, set[str]] = defaultdict(set)
    first: dict[str, datetime] = {}
    notes: dict[str, list[str]] = defaultdict(list)
    for report in sorted(reports, key=lambda report: report.created_at):
        reason = report.reason.value
        readers[reason].add(report.reporter_hash)
        first[reason] = min(first.get(reason, report.created_at), report.created_at)
        if report.note:
            notes[reason].append(report.note)
    return sorted((ReportGroup(reason, len(who), first[reason], tuple(notes[reason])) for reason, who in readers.items()),
                  key=lambda group: (-group.readers, group.first_at))


def tab_of(db: Session, comment_id: int) -> Tab | None:
    """The tab a comment is listed on now (None: no such comment)."""
    status = db.scalar(select(Comment.status).where(Comment.id == comment_id))
    if status is None:
        return None
    reported = db.scalar(select(func.count()).select_from(Comment).where(Comment.id == comment_id, *_reported()))
    return Tab.REPORTED if reported else next(tab for tab, each in STATUS_OF_TAB.items() if each is status)


def author_histories(db: Session, author_hashes: set[str]) -> dict[str, AuthorHistory]:
    histories: dict[str, AuthorHistory] = defaultdict(AuthorHistory)
    if not author_hashes:
        return histories
    rows = db.execute(
        select(Comment.author_hash, Comment.status, func.count())
        .where(Comment.author_hash.in_(author_hashes))
        .group_by(Comment.author_hash, Comment.status)
    )
    for author_hash, status, count in rows:
        setattr(histories[author_hash], status.value, count)
    return histories


def open_reports_of(db: Session, comment_ids: list[int]) -> dict[int, list[CommentReport]]:
    found: dict[int, list[CommentReport]] = defaultdict(list)
    if comment_ids:
        for report in db.scalars(
            select(CommentReport)
            .where(CommentReport.comment_id.in_(comment_ids), CommentReport.resolved_at.is_(None))
            .order_by(CommentReport.created_at)
        ):
            found[report.comment_id].append(report)
    return found


def audit_of(db: Session, comment_ids: list[int]) -> dict[int, list[AuditEntry]]:
    found: dict[int, list[AuditEntry]] = defaultdict(list)
    if comment_ids:
        for entry in db.scalars(
            select(AuditEntry).where(AuditEntry.comment_id.in_(comment_ids)).order_by(AuditEntry.at, AuditEntry.id)
        ):
            found[entry.comment_id].append(entry)
    return found


def highlighted(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_match) parts, overlapping spans merged, for <mark> in templates."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if s is not None and e is not None):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[tuple[str, bool]] = []
    position = 0
    for start, end in merged:
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:end], True))
        position = end
    if position < len(text):
        parts.append((text[position:], False))
    return parts
