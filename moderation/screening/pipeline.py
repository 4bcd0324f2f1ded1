"""screen(): a submission, the author's recent facts and the rules → a Verdict with reasons. Pure.

Checks run in order: words (text and nickname), personal data and the article's protected names,
links, duplicates, posting rate, what moderators set for the author or address (holds), then the
article's moderation mode and the author's trust. The strongest action wins:
spam (silent) > block (the reader is told) > hold (a moderator decides) > the mode's default.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from moderation.screening.links import LINK_SHORTENERS, domain_listed, find_links, listed_by_figures, readable_domain
from moderation.screening.matching import Action, DomainRules, Thresholds, WordMatch, WordMatcher
from moderation.screening.normalize import NormalizedText, normalize
from moderation.screening.personal_data import find_personal_data


class Outcome(enum.StrEnum):
    PUBLISHED = "published"
    PENDING = "pending"
    SPAM = "spam"
    REJECTED = "rejected"


class ReasonKind(enum.StrEnum):
    WORD = "word"
    LINK_COUNT = "link_count"
    LINK_DOMAIN = "link_domain"
    LINK_SHORTENER = "link_shortener"  # bit.ly and the like: where it goes is hidden; held
    DUPLICATE = "duplicate"
    AUTHOR_RATE = "author_rate"
    IP_RATE = "ip_rate"
    PRE_MODERATION = "pre_moderation"
    PERSONAL_DATA = "personal_data"  # 個人資料: held; published masked under post-moderation
    PROTECTED_NAME = "protected_name"  # a name on the article's protected list (victims, minors)
    AUTHOR_HOLD = "author_hold"  # moderators hold this author's comments (always pre-moderate)
    ADDRESS_HOLD = "address_hold"  # moderators hold comments from this address range for a while
    TRUSTED = "trusted"


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    action: Action | None  # None for informative reasons (mode, trust)
    rule_id: str
    detail: str  # the matched term, domain or threshold; for moderators only
    field: str | None = None  # "body" or "nickname" when a span is given
    start: int | None = None  # span in the ORIGINAL text of that field
    end: int | None = None
    how: str = "exact"  # for words: how the term was found (`MatchKind`)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    fingerprint: str  # of the text, as `fingerprint()` gives it: stored to find later duplicates
    reading_fingerprint: str = ""  # of its reading (`reading_fingerprint()`): surge mode's near-identical texts


@dataclass(frozen=True)
class PastComment:
    fingerprint: str
    created_at: datetime
    status: str  # "approved", "rejected", "pending", "spam"


@dataclass(frozen=True)
class AuthorFacts:
    recent: tuple[PastComment, ...] = ()  # this author's comments, newest first
    ip_comments_last_minute: int = 0
    # Fingerprints of comments from the same address within the duplicate window, given when the
    # poster brought no author cookie: dropping the cookie makes a new author, but the same address
    # posting the same text again is still a duplicate.
    address_fingerprints: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rules:
    words: WordMatcher = field(default_factory=lambda: WordMatcher.build(()))
    domains: DomainRules = field(default_factory=DomainRules)
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True)
class Submission:
    text: str
    nickname: str | None = None
    post_moderation: bool = False
    protected_names: WordMatcher | None = None  # the article's list, as hold rules
    # Holds moderators set: (kind, rule id, detail), e.g. (ReasonKind.ADDRESS_HOLD, "address:7", "2026-12-05").
    holds: tuple[tuple[ReasonKind, str, str], ...] = ()

    @cached_property
    def body(self) -> NormalizedText:
        return normalize(self.text)

    @cached_property
    def fingerprint(self) -> str:
        """The text's `fingerprint()`: the author's earlier copies of it are looked up before screening."""
        return fingerprint(self.body)


_SEVERITY = {Action.SPAM: 3, Action.BLOCK: 2, Action.HOLD: 1}
_OUTCOME = {Action.SPAM: Outcome.SPAM, Action.BLOCK: Outcome.REJECTED, Action.HOLD: Outcome.PENDING}


def fingerprint(text: str | NormalizedText) -> str:
    """Equal for texts that differ only in spacing, punctuation, width, case or script."""
    compact = (text if isinstance(text, NormalizedText) else normalize(text)).compact
    return hashlib.sha256(compact.encode("utf-8", "surrogatepass")).hexdigest()


def reading_fingerprint(text: str | NormalizedText) -> str:
    """Equal also for texts that read the same: 加微信 and 家威信 (every Han character as its pinyin)."""
    normalized = text if isinstance(text, NormalizedText) else normalize(text)
    return hashlib.sha256(normalized.reading.plain_utf8()).hexdigest()


def screen(submission: Submission, author: AuthorFacts, rules: Rules, *, now: datetime) -> Verdict:
    reasons: list[Reason] = []
    body = submission.body
    nickname = normalize(submission.nickname or "")
    for field_name, normalized in (("body", body), ("nickname", nickname)):
        reasons.extend(_word_reason(field_name, match) for match in rules.words.find(normalized))
    reasons.extend(_personal_reasons(body, nickname, submission))
    reasons.extend(_link_reasons(body, rules))
    mine = submission.fingerprint
    reasons.extend(_flood_reasons(mine, author, rules.thresholds, now))
    reasons.extend(Reason(kind, Action.HOLD, rule_id, detail) for kind, rule_id, detail in submission.holds)

    actions = [reason.action for reason in reasons if reason.action in _SEVERITY]
    if actions:
        strongest = max(actions, key=_SEVERITY.__getitem__)
        return Verdict(_OUTCOME[strongest], tuple(reasons), mine, reading_fingerprint(body))

    trusted = is_trusted(author, rules.thresholds, now)
    if trusted:
        reasons.append(Reason(ReasonKind.TRUSTED, None, "trust", f"{rules.thresholds.trust_after}"))
    if submission.post_moderation or (trusted and rules.thresholds.trust_in_pre_moderation):
        return Verdict(Outcome.PUBLISHED, tuple(reasons), mine, reading_fingerprint(body))
    reasons.append(Reason(ReasonKind.PRE_MODERATION, None, "mode", "pre"))
    return Verdict(Outcome.PENDING, tuple(reasons), mine, reading_fingerprint(body))


def _word_reason(field_name: str, match: WordMatch) -> Reason:
    """The same as Reason(ReasonKind.WORD, …), made at half the cost: a frozen dataclass's __init__ sets
    each of the eight fields through object.__setattr__, and a long word list finds dozens of terms
    in a long comment."""
    reason = object.__new__(Reason)
    vars(reason).update(kind=ReasonKind.WORD, action=match.action, rule_id=match.rule.id, detail=match.rule.term,
                        field=field_name, start=match.start, end=match.end, how=match.how.value)
    return reason


def _personal_reasons(body: NormalizedText, nickname: NormalizedText, submission: Submission) -> list[Reason]:
    """Personal data is held; under post-moderation it is published, masked until a moderator decides
    (the reason then holds nothing, but its span is what the public text masks)."""
    action = None if submission.post_moderation else Action.HOLD
    reasons = [Reason(ReasonKind.PERSONAL_DATA, action, f"personal:{found.kind.value}", found.kind.value,
                      "body", found.start, found.end) for found in find_personal_data(body)]
    # A nickname is shown as written (no mask): personal data there is always held.
    reasons += [Reason(ReasonKind.PERSONAL_DATA, Action.HOLD, f"personal:{found.kind.value}", found.kind.value,
                       "nickname", found.start, found.end) for found in find_personal_data(nickname)]
    if submission.protected_names is not None:
        for field_name, text in (("body", body), ("nickname", nickname)):
            reasons.extend(Reason(ReasonKind.PROTECTED_NAME, Action.HOLD, match.rule.id, match.rule.term,
                                  field_name, match.start, match.end, match.how.value)
                           for match in submission.protected_names.find(text))
    return reasons


def _link_reasons(body, rules: Rules) -> list[Reason]:
    reasons = []
    counted = []
    for link in find_links(body):
        if domain_listed(link.domain, rules.domains.allowed):
            continue
        readable = readable_domain(link.domain)
        blocked = domain_listed(readable, rules.domains.blocked)
        if blocked:
            reasons.append(Reason(ReasonKind.LINK_DOMAIN, Action.SPAM, f"domain:{blocked}", readable,
                                  "body", link.start, link.end))
        elif shortener := domain_listed(readable, LINK_SHORTENERS):
            reasons.append(Reason(ReasonKind.LINK_SHORTENER, Action.HOLD, f"shortener:{shortener}", readable,
                                  "body", link.start, link.end))
        else:  # figures for letters (sh0p): a guess, held for review
            guessed = listed_by_figures(readable, rules.domains.blocked_by_figures)
            if guessed:
                reasons.append(Reason(ReasonKind.LINK_DOMAIN, Action.HOLD, f"domain:{guessed}", readable,
                                      "body", link.start, link.end, "reading"))
        counted.append(link)
    limit = rules.thresholds.max_links
    if len(counted) > limit:
        first, last = counted[0], counted[-1]
        reasons.append(Reason(ReasonKind.LINK_COUNT, Action.HOLD, "links", f"{len(counted)}>{limit}",
                              "body", first.start, last.end))
    return reasons


def _flood_reasons(mine: str, author: AuthorFacts, limits: Thresholds, now: datetime) -> list[Reason]:
    reasons = []
    window = now - timedelta(seconds=limits.duplicate_window_seconds)
    if any(past.fingerprint == mine and past.created_at >= window for past in author.recent):
        reasons.append(Reason(ReasonKind.DUPLICATE, Action.SPAM, "duplicate",
                              f"{limits.duplicate_window_seconds}s"))
    elif mine in author.address_fingerprints:
        # Held, not spammed: people sharing an office address may well write the same short text.
        reasons.append(Reason(ReasonKind.DUPLICATE, Action.HOLD, "duplicate-address",
                              f"{limits.duplicate_window_seconds}s"))
    last_minute = sum(1 for past in author.recent if past.created_at > now - timedelta(minutes=1))
    if last_minute >= limits.author_per_minute:
        reasons.append(Reason(ReasonKind.AUTHOR_RATE, Action.HOLD, "author_rate",
                              f"{last_minute + 1}>{limits.author_per_minute}/min"))
    if author.ip_comments_last_minute >= limits.ip_per_minute:
        reasons.append(Reason(ReasonKind.IP_RATE, Action.HOLD, "ip_rate",
                              f"{author.ip_comments_last_minute + 1}>{limits.ip_per_minute}/min"))
    return reasons


def is_trusted(author: AuthorFacts, limits: Thresholds, now: datetime) -> bool:
    """The trust ramp: the author's last `trust_after` comments approved, none refused in the window.
    Screening notes it (and may skip the queue); the comment form skips the captcha for it."""
    if limits.trust_after <= 0:
        return False
    window = now - timedelta(days=limits.trust_window_days)
    recent = [past for past in author.recent if past.created_at >= window]
    if any(past.status in {"rejected", "spam"} for past in recent):
        return False
    previous = author.recent[: limits.trust_after]
    return len(previous) == limits.trust_after and all(past.status == "approved" for past in previous)
