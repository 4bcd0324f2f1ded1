"""What screening learns of an author's and an address's earlier comments: the few rows that decide
something are read, and they decide the same as the author's whole recent history would, on both
backends. The history is written straight into the table, on the tests' clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from moderation.models import Article, Comment, CommentStatus
from moderation.screening.pipeline import (
    AuthorFacts,
    PastComment,
    ReasonKind,
    Rules,
    Submission,
    is_trusted,
    screen,
)
from moderation.services.author_history import author_facts

AUTHOR = "b" * 64
ADDRESS = "a" * 64
TEXT = "這篇報導寫得很清楚，謝謝記者"
RULES = Rules()


def _history(db, clock, rows: list[tuple[float, str, CommentStatus]], *, author: str = AUTHOR,
             address: str = ADDRESS) -> None:
    """(minutes ago, text, status) of each earlier comment."""
    article_id = db.session.scalar(select(Article.id))
    db.session.execute(insert(Comment), [
        {"article_id": article_id, "body": text, "status": status, "author_hash": author, "ip_hash": address,
         "created_at": clock.now - timedelta(minutes=minutes), "fingerprint": Submission(text).fingerprint}
        for minutes, text, status in rows])
    db.session.commit()


def _whole_history(db, clock) -> AuthorFacts:
    """Every earlier comment of the author in the windows, as screening would read them one by one."""
    since = clock.now - timedelta(days=RULES.thresholds.trust_window_days)
    rows = db.session.execute(select(Comment.fingerprint, Comment.created_at, Comment.status)
                              .where(Comment.author_hash == AUTHOR, Comment.created_at >= since)
                              .order_by(Comment.created_at.desc(), Comment.id.desc())).all()
    return AuthorFacts(recent=tuple(PastComment(row.fingerprint, row.created_at, row.status.value) for row in rows))


def _decided(facts: AuthorFacts, submission: Submission, clock) -> tuple:
    verdict = screen(submission, facts, RULES, now=clock())
    kinds = sorted(reason.kind.value for reason in verdict.reasons)
    return verdict.outcome, kinds, is_trusted(facts, RULES.thresholds, clock())


A_FLOOD = [(index * 0.01, f"第 {index} 則留言，內容各不相同", CommentStatus.PENDING) for index in range(150)]
HISTORIES = {
    "a regular, trusted": [(60 * 24 * days, f"第 {days} 天的留言", CommentStatus.APPROVED) for days in (1, 2, 3)],
    "a regular refused once among many approved": [
        *((60 * hours, f"第 {hours} 小時的留言", CommentStatus.APPROVED) for hours in range(1, 40)),
        (60 * 45, "一則被拒絕的留言", CommentStatus.REJECTED)],
    "a flood with a copy of the text in the hour": [*A_FLOOD, (40, TEXT, CommentStatus.PENDING)],
    "a copy older than the duplicate window": [(90, TEXT, CommentStatus.APPROVED)],
    "approved comments, then one still waiting": [
        (1, "還在等待審核", CommentStatus.PENDING),
        *((60 * days, f"第 {days} 天", CommentStatus.APPROVED) for days in (1, 2, 3))],
}


@pytest.mark.parametrize("history", list(HISTORIES))
def test_the_rows_read_decide_as_the_whole_history_would(db, clock, history):
    _history(db, clock, HISTORIES[history])
    submission = Submission(TEXT, "讀者")
    facts = author_facts(db.session, author_hash=AUTHOR, ip_hash="", now=clock(), limits=RULES.thresholds,
                         fingerprint=submission.fingerprint)
    limits = RULES.thresholds
    assert len(facts.recent) <= limits.trust_after + limits.author_per_minute + 2
    assert _decided(facts, submission, clock) == _decided(_whole_history(db, clock), submission, clock)


def test_a_flood_is_held_and_its_copy_spammed(db, clock):
    _history(db, clock, [*A_FLOOD, (40, TEXT, CommentStatus.PENDING)])
    submission = Submission(TEXT, "讀者")
    facts = author_facts(db.session, author_hash=AUTHOR, ip_hash=ADDRESS, now=clock(), limits=RULES.thresholds,
                         fingerprint=submission.fingerprint)
    kinds = {reason.kind for reason in screen(submission, facts, RULES, now=clock()).reasons}
    assert {ReasonKind.DUPLICATE, ReasonKind.AUTHOR_RATE, ReasonKind.IP_RATE} <= kinds
    assert len(facts.recent) <= 8
    assert facts.ip_comments_last_minute == RULES.thresholds.ip_per_minute  # counted up to the limit, no further


def test_the_captcha_counts_decided_comments_only(db, clock):
    _history(db, clock, HISTORIES["approved comments, then one still waiting"])
    facts = author_facts(db.session, author_hash=AUTHOR, ip_hash="", now=clock(), limits=RULES.thresholds)
    decided = author_facts(db.session, author_hash=AUTHOR, ip_hash="", now=clock(), limits=RULES.thresholds, decided_only=True)
    assert not is_trusted(facts, RULES.thresholds, clock())
    assert is_trusted(decided, RULES.thresholds, clock())


def test_a_reader_without_a_cookie_posting_the_same_text_from_the_same_address(db, clock):
    _history(db, clock, [(5, TEXT, CommentStatus.PENDING)], author="c" * 64)
    submission = Submission(TEXT, "讀者")
    asked = {"author_hash": AUTHOR, "ip_hash": ADDRESS, "now": clock(), "limits": RULES.thresholds,
             "fingerprint": submission.fingerprint}
    facts = author_facts(db.session, **asked, address_duplicates=True)
    assert facts.address_fingerprints == {submission.fingerprint}
    assert ReasonKind.DUPLICATE in {reason.kind for reason in screen(submission, facts, RULES, now=clock()).reasons}
    assert author_facts(db.session, **asked).address_fingerprints == frozenset()  # a known author: not asked
    other = Submission("另一則完全不同的留言")
    assert author_facts(db.session, **{**asked, "fingerprint": other.fingerprint},
                        address_duplicates=True).address_fingerprints == frozenset()
