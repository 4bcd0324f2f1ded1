"""What one queue card shows, computed here so that the card template only lays it out."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from moderation.models import AuditEntry, Comment, CommentReport, CommentStatus, ScreeningReason
from moderation.screening.matching import CERTAIN
from moderation.services.review_queue import (
    AuthorHistory,
    Page,
    ReportGroup,
    Tab,
    ThreadPlace,
    author_tag,
    highlighted,
    network_tag,
    report_groups,
)
from moderation.services.rulebook.reasons import RULE_KINDS

# The decisions a card offers as one-click buttons, with their keyboard key, by the comment's status.
QUICK_DECISIONS = (("approve", "a", CommentStatus.APPROVED), ("spam", "s", CommentStatus.SPAM),
                   ("restore", "", CommentStatus.PENDING))
ALLOW_CONTEXT = 2  # characters either side of a matched term offered as the phrase to allow


@dataclass(frozen=True)
class ReasonView:
    row: ScreeningReason
    can_report_wrong: bool  # a rule gave it, and is still there: "this rule was wrong here" is offered
    allow_phrase: str | None  # a word rule: the phrase an admin may allow, with a little context
    matched: str | None  # a word rule found fuzzily (reading, reversed…): the text as written
    rule_removed: bool = False  # its rule has been deleted since: said on the card, nothing offered


@dataclass(frozen=True)
class Card:
    comment: Comment
    author_tag: str
    network_tag: str
    history: AuthorHistory
    body_parts: list[tuple[str, bool]]  # (text, is a match): the body cut for <mark>
    reasons: list[ReasonView]
    reports: list[CommentReport]
    report_groups: list[ReportGroup]  # the open reports by reason, with how many readers
    can_keep: bool  # published and reported: "keep and close the reports" is offered
    audit: list[AuditEntry]
    quick_decisions: list[tuple[str, str]]  # (decision, key) the card offers
    can_reject: bool
    next_id: int | None  # the card that moves up once this one is decided
    position: int  # on the page, from 0: for the last card, where the next page's first will be
    place: ThreadPlace | None = None  # a reply: the comment it answers and its place in the thread
    pending_replies: tuple[tuple[int, int], ...] = ()  # a top comment: its pending replies (id, version)
    can_pin: bool = False  # published: it can be an editors' pick, or stop being one
    can_answer: bool = False  # published and a reader's: the site can answer it
    nickname_parts: list[tuple[str, bool]] = ()  # the nickname cut for <mark>, when a rule matched in it

    @property
    def waiting_since(self):
        """When it came to wait for a moderator: a comment hidden by readers' reports waits from the
        report that hid it, not from when it was first posted."""
        if self.reports and self.comment.status is CommentStatus.PENDING:
            return max(report.created_at for report in self.reports)
        return self.comment.created_at


# Screening reasons that say nothing on a tab: "held because the article is pre-moderated" says why a
# comment waits on 待審核; elsewhere it is history (on 已檢舉 readers reported it, on 已通過 it was
# published, on 已拒絕 and 垃圾 a moderator or a rule decided), not why it is there.
HIDDEN_REASONS = {tab: {"pre_moderation"} for tab in Tab if tab is not Tab.PENDING}


def rule_ids_of(page: Page) -> set[str]:
    """The rules the page's reasons name (to ask which of them have been deleted since)."""
    return {reason.rule_id for comment in page.comments for reason in comment.screening_reasons if reason.rule_id}


def cards_of(page: Page, *, pepper: str, tab: Tab = Tab.PENDING, removed: frozenset[str] = frozenset()) -> list[Card]:
    """`removed`: rule ids whose rule has been deleted (rulebook.reasons.removed_rules)."""
    comments = page.comments
    return [
        _card(comment, page, pepper, comments[index + 1].id if index + 1 < len(comments) else None, index, tab,
              removed)
        for index, comment in enumerate(comments)
    ]


def _card(comment: Comment, page: Page, pepper: str, next_id: int | None, position: int, tab: Tab,
          removed: frozenset[str]) -> Card:
    hidden = HIDDEN_REASONS.get(tab, set())
    reports = page.reports.get(comment.id, [])
    if reports and comment.status is CommentStatus.PENDING:  # hidden by readers' reports: waiting for them
        hidden = hidden | {"pre_moderation"}
    shown_name = None if comment.staff_account_id else comment.display_name
    nickname_spans = _spans(comment, "nickname")
    return Card(
        comment=comment,
        author_tag=author_tag(comment.author_hash),
        network_tag=network_tag(comment.ip_hash, pepper),
        history=page.histories.get(comment.author_hash, AuthorHistory()),
        body_parts=highlighted(comment.body, _spans(comment, "body")),
        reasons=[_reason(comment, reason, removed) for reason in comment.screening_reasons if reason.kind not in hidden],
        reports=reports,
        report_groups=report_groups(reports),
        can_keep=comment.status is CommentStatus.APPROVED and bool(reports),
        audit=page.audit.get(comment.id, []),
        quick_decisions=[(decision, key) for decision, key, status in QUICK_DECISIONS if comment.status is not status],
        can_reject=comment.status is not CommentStatus.REJECTED,
        next_id=next_id,
        position=position,
        place=page.places.get(comment.id),
        pending_replies=tuple(page.pending_replies.get(comment.id, ())),
        can_pin=comment.status is CommentStatus.APPROVED,
        can_answer=comment.status is CommentStatus.APPROVED and not comment.is_staff,
        nickname_parts=highlighted(shown_name, nickname_spans) if shown_name and nickname_spans else [],
    )


def _spans(comment: Comment, field: str) -> list[tuple[int, int]]:
    """Where screening's reasons matched in one field of the comment (body or nickname)."""
    return [(reason.span_start, reason.span_end) for reason in comment.screening_reasons
            if reason.field == field and reason.span_start is not None]


def _phrase_around(source: str, start: int, end: int) -> str:
    """The match with up to ALLOW_CONTEXT letters or figures either side: punctuation and spaces end
    the context (「：請加微信聊」 offered the colon with it)."""
    left = start
    while left > max(start - ALLOW_CONTEXT, 0) and source[left - 1].isalnum():
        left -= 1
    right = end
    while right < min(end + ALLOW_CONTEXT, len(source)) and source[right].isalnum():
        right += 1
    return source[left:right]


def _written_otherwise(written: str, term: str) -> bool:
    """An exact match whose text differs from the term in more than width and case: look-alike
    letters (bεt365), the other script (髮 for 发), spaces or marks in between.
    The card says how it was written, as it does for a fuzzy match."""
    return unicodedata.normalize("NFKC", written).casefold() != unicodedata.normalize("NFKC", term).casefold()


def _reason(comment: Comment, reason: ScreeningReason, removed: frozenset[str]) -> ReasonView:
    phrase = matched = None
    if reason.kind == "protected_name" and reason.how != "exact" and reason.span_start is not None:
        matched = (comment.body if reason.field == "body" else comment.nickname or "")[reason.span_start:reason.span_end]
    if reason.kind == "word":
        source = comment.body if reason.field == "body" else (comment.nickname or "")
        if reason.span_start is not None:
            phrase = _phrase_around(source, reason.span_start, reason.span_end)
        else:
            phrase = reason.detail
        if reason.span_start is not None:
            written = source[reason.span_start:reason.span_end]
            if reason.how != "exact" or _written_otherwise(written, reason.detail or ""):
                matched = written
        if reason.how not in CERTAIN:
            phrase = None  # an allow-listed phrase must contain the term as written: not so here
    if reason.rule_id in removed:
        return ReasonView(reason, False, None, matched, rule_removed=True)
    return ReasonView(reason, reason.kind in RULE_KINDS, phrase, matched)
