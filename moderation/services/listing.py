"""What every reader sees of an article: its approved comments, in keyset pages, newest first.

Newest first, as the comment sections of Chinese news sites open (騰訊新聞, 網易新聞, 聯合新聞網:
「最新評論」): a reader arriving on a story that is still moving sees the current discussion, and
older pages follow. Pages are read by keyset from the (article_id, status, created_at, id) index,
so the first page costs the same at 200 or 20,000 approved comments and other articles' comments
are never scanned.

`Article.approved_count` and `Article.revision` change in the same transaction as anything that
changes what readers see (`listing_changed`), so the heading needs no COUNT and the page's
validator no scan of the comments.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, and_, bindparam, or_, select, true, tuple_, union, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from moderation.models import Article, Comment, CommentStatus, hot_key
from moderation.screening.normalize import normalize
from moderation.screening.personal_data import find_personal_data, masked
from moderation.services.paging import Cursor, HotCursor, comment_key, hot_key_of, key_of

REPLIES_SHOWN = 3  # under each thread of the article page; the rest on the thread's own page
STAFF_ANSWERS_SHOWN = 2  # the site's first answers (本站編輯) of a thread, shown too when not among those


@dataclass(frozen=True)
class PublicPage:
    comments: list[Comment]
    older: Cursor | None  # where the next page (older comments) starts, if there is one
    newer: Cursor | None  # where the previous page (newer comments) ends; None on the first page

    @property
    def is_first(self) -> bool:
        return self.newer is None


# Run on every read of an article page: built once, executed with parameters.
_ARTICLE_STATE = select(Article.id, Article.revision).where(Article.slug == bindparam("slug"))


def article_state(db: Session, slug: str) -> Row | None:
    """(id, revision) of an article: all a cached page needs to know it is still current."""
    return db.connection().execute(_ARTICLE_STATE, {"slug": slug}).one_or_none()


def approved_page(
    db: Session, article_id: int, *, before: Cursor | None = None, after: Cursor | None = None, size: int,
    threads: bool = False,
) -> PublicPage:
    """One page of published comments, replies among them (the API's data); or, with `threads`, of
    thread heads (published top comments, and unpublished ones whose published replies still stand,
    which readers see as 「原評論已刪除」): the newest, those older than `before`, or newer than `after`."""
    listed = Comment.listed.is_(True) if threads else Comment.status == CommentStatus.APPROVED
    query = select(Comment).where(Comment.article_id == article_id, listed)
    if after is not None:
        rows = list(db.scalars(
            query.where(comment_key() > key_of(after))
            .order_by(Comment.created_at, Comment.id).limit(size + 1)
        ))
        more_newer = len(rows) > size
        shown = list(reversed(rows[:size]))
        return PublicPage(
            comments=shown,
            older=Cursor.of(shown[-1]) if shown else None,
            newer=Cursor.of(shown[0]) if more_newer else None,
        )
    if before is not None:
        query = query.where(comment_key() < key_of(before))
    rows = list(db.scalars(query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(size + 1)))
    shown = rows[:size]
    return PublicPage(
        comments=shown,
        older=Cursor.of(shown[-1]) if len(rows) > size else None,
        newer=Cursor.of(shown[0]) if before is not None and shown else None,
    )


def listing_changed(db: Session, article_id: int, *, approved_delta: int = 0) -> None:
    """Record, in the caller's transaction, that what readers see of this article changed."""
    db.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(revision=Article.revision + 1, approved_count=Article.approved_count + approved_delta)
        .execution_options(synchronize_session=False)
    )


def replies_changed(db: Session, thread_id: int, delta: int) -> None:
    """A reply entered or left the thread's published replies: its top's count follows, in the caller's
    transaction, and the top stays listed while published replies stand under it."""
    if not delta:
        return
    counts = db.execute(
        update(Comment)
        .where(Comment.id == thread_id)
        .values(reply_count=Comment.reply_count + delta,
                listed=(Comment.status == CommentStatus.APPROVED) | (Comment.reply_count + delta > 0))
        .returning(Comment.like_count, Comment.reply_count, Comment.created_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    refresh_hot_key(db, thread_id, counts)


def refresh_hot_key(db: Session, comment_id: int, counts: Row | None) -> None:
    """Store 最熱's key from the counts an UPDATE … RETURNING just gave: that UPDATE holds the row's
    lock until the caller commits, so the counts are current and the key matches them."""
    if counts is None:
        return
    likes, replies, created_at = counts
    db.execute(
        update(Comment).where(Comment.id == comment_id)
        .values(hot_key=hot_key(likes=likes, replies=replies, created_at=created_at))
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class HotPage:
    """A page of 最熱: thread heads by hot key, highest first; `older` is where the next page starts."""

    comments: list[Comment]
    older: HotCursor | None
    is_first: bool

    newer = None  # 最熱 pages forward only; its first page is one link away


def hot_page(db: Session, article_id: int, *, before: HotCursor | None = None, size: int) -> HotPage:
    """Thread heads by 最熱, from the (article_id, listed, hot_key, id) index: one query whatever the
    article holds, since the key is stored and kept when likes and replies change."""
    query = select(Comment).where(Comment.article_id == article_id, Comment.listed.is_(True))
    if before is not None:
        query = query.where(tuple_(Comment.hot_key, Comment.id) < hot_key_of(before))
    rows = list(db.scalars(query.order_by(Comment.hot_key.desc(), Comment.id.desc()).limit(size + 1)))
    shown = rows[:size]
    return HotPage(comments=shown, older=HotCursor.of(shown[-1]) if len(rows) > size else None,
                   is_first=before is None)


def approved_delta(before: CommentStatus, after: CommentStatus) -> int:
    return (after is CommentStatus.APPROVED) - (before is CommentStatus.APPROVED)


@dataclass(frozen=True)
class Reply:
    """A published reply as readers see it, with whom it answers when that is not the thread's top."""

    comment: Comment
    answers_name: str | None = None  # the nickname answered (「回覆 @暱稱」); None: 匿名網友
    answers_gone: bool = False  # the answered reply was rejected or erased: 「原評論已刪除」

    @property
    def answers_a_reply(self) -> bool:
        return self.comment.reply_to_id is not None and self.comment.reply_to_id != self.comment.thread_id


def _replies_with_answered(query):
    """The query's replies with the nickname and status of the reply each answers (none for the top)."""
    answered = aliased(Comment)
    return query.add_columns(answered.nickname, answered.is_anonymous, answered.status).outerjoin(
        answered, and_(answered.id == Comment.reply_to_id, answered.id != Comment.thread_id))


def _reply(row) -> Reply:
    comment, nickname, anonymous, status = row
    if comment.reply_to_id is None or comment.reply_to_id == comment.thread_id:
        return Reply(comment)
    if status is not CommentStatus.APPROVED:
        return Reply(comment, answers_gone=True)
    return Reply(comment, answers_name=None if anonymous else nickname)


def first_replies(db: Session, thread_ids: list[int], *, shown: int = REPLIES_SHOWN) -> dict[int, list[Reply]]:
    """The first published replies of every listed thread, and the site's first answers in it
    (STAFF_ANSWERS_SHOWN, however late they came: a reader must not miss the site's word), in
    order, in ONE query whose cost does not grow with a thread's length: for each thread, `shown`
    rows read from the front of the (thread_id, status, created_at, id) index and the answers from
    the front of the partial index of answers. PostgreSQL joins a LATERAL subquery per thread;
    SQLite (no LATERAL) joins through a correlated `id IN (… LIMIT shown)`, which it evaluates once
    per thread head. (A window numbering every published reply of the page's threads cost 4× as
    much on SQLite with one thread of 5,000 replies; the correlated form on PostgreSQL would be run
    for every candidate row, hence two forms.)"""
    if not thread_ids:
        return {}
    found: dict[int, list[Reply]] = {}
    for row in db.execute(first_replies_query(db.get_bind().dialect.name, thread_ids, shown=shown)):
        found.setdefault(row[0].thread_id, []).append(_reply(row))
    return found


def first_replies_query(dialect: str, thread_ids: list[int], *, shown: int = REPLIES_SHOWN):
    """first_replies' one statement, in the form that suits the database (bench/first_page.py times it)."""
    head = aliased(Comment)
    query = (_firsts_lateral if dialect == "postgresql" else _firsts_correlated)(head, shown)
    return _replies_with_answered(query.where(head.id.in_(thread_ids))
                                  .order_by(Comment.thread_id, Comment.created_at, Comment.id))


def _first_ids(head, shown: int):
    reply = aliased(Comment)
    return (select(reply.id).where(reply.thread_id == head.id, reply.status == CommentStatus.APPROVED)
            .order_by(reply.created_at, reply.id).limit(shown))


def _staff_answer_ids(head, *, sqlite: bool = False):
    answer = aliased(Comment)
    status = answer.status
    if sqlite:  # unary +: without statistics, SQLite would read the thread's every reply through the
        # (thread_id, status, …) index, which matches one more term, instead of the answers' own index
        status = UnaryExpression(status, operator=operators.custom_op("+"), type_=status.type)
    return (select(answer.id).where(answer.thread_id == head.id, answer.staff_account_id.is_not(None),
                                    status == CommentStatus.APPROVED)
            .order_by(answer.created_at, answer.id).limit(STAFF_ANSWERS_SHOWN))


def _firsts_lateral(head, shown: int):
    firsts = union(_first_ids(head, shown), _staff_answer_ids(head)).lateral("firsts")
    return select(Comment).select_from(head).join(firsts, true()).join(Comment, Comment.id == firsts.c.id)


def _firsts_correlated(head, shown: int):
    return select(Comment).select_from(head).join(Comment, or_(
        Comment.id.in_(_first_ids(head, shown).correlate(head)),
        Comment.id.in_(_staff_answer_ids(head, sqlite=True).correlate(head))))


@dataclass(frozen=True)
class ThreadPage:
    top: Comment | None  # None: the top comment was erased
    replies: list[Reply]
    later: Cursor | None  # where the next page (later replies) starts


def thread_page(db: Session, thread_id: int, *, after: Cursor | None, size: int) -> ThreadPage:
    """One keyset page of a thread's published replies, oldest first (a conversation reads down)."""
    query = select(Comment).where(Comment.thread_id == thread_id, Comment.status == CommentStatus.APPROVED)
    if after is not None:
        query = query.where(comment_key() > key_of(after))
    rows = [_reply(row) for row in db.execute(
        _replies_with_answered(query.order_by(Comment.created_at, Comment.id).limit(size + 1)))]
    shown = rows[:size]
    return ThreadPage(top=db.get(Comment, thread_id), replies=shown,
                      later=Cursor.of(shown[-1].comment) if len(rows) > size else None)


PICKS_PER_ARTICLE = 3


def picks(db: Session, article_id: int) -> list[Comment]:
    """The editors' picks (「編輯精選」) of an article, first pinned first: shown above the list."""
    return list(db.scalars(
        select(Comment).where(Comment.article_id == article_id, Comment.pinned_at.is_not(None),
                              Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.pinned_at, Comment.id).limit(PICKS_PER_ARTICLE)
    ))


def public_text(comment: Comment) -> str:
    """What readers see of a comment: personal data masked in one that screening published and no
    moderator has decided on yet (version 1: post-moderation). The stored text never changes."""
    if comment.status is not CommentStatus.APPROVED or comment.version != 1:
        return comment.body
    return masked(comment.body, find_personal_data(normalize(comment.body)))
