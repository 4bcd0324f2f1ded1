"""The external check: an admin's own classifier, asked about each new comment, as Coral's external
moderation phases are.

The request is JSON, signed as webhooks are (`X-Moderation-Signature`, HMAC-SHA256 over the
timestamp and the body), with a 2 s budget (EXTERNAL_CHECK_TIMEOUT_SECONDS). The answer is
`{"verdict": "allow" | "hold" | "spam", "reason": "…"}`. The stricter of the check and the service's
own screening wins: the check can hold or mark as spam what screening would publish, never publish
what screening holds. When the check does not answer in time, answers an error or something
unreadable, screening goes on without it and the moderator's card says so.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from moderation.models import CommentStatus, ExternalCheck
from moderation.services import webhooks

MAX_REASON = 200


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    HOLD = "hold"
    SPAM = "spam"


class CheckProblem(enum.StrEnum):
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # refused, unresolvable, or now resolving to a private address
    HTTP_ERROR = "http_error"  # an answer outside 2xx
    INVALID_ANSWER = "invalid_answer"  # not JSON, or no known verdict


@dataclass(frozen=True)
class CheckAnswer:
    verdict: Verdict | None  # None: the check had a problem, and screening went on without it
    reason: str = ""
    problem: CheckProblem | None = None

    def reason_values(self) -> dict:
        """The screening reason row that tells the moderator what the check said (action: its verdict;
        detail: its reason), or that it did not answer (no action; detail: the problem)."""
        said = self.problem is None
        return {"kind": "external", "action": self.verdict.value if said else None,
                "rule_id": "external" if said else "external:problem",
                "detail": self.reason if said else self.problem.value, "field": None,
                "span_start": None, "span_end": None, "how": "exact"}


def current(db: Session) -> ExternalCheck | None:
    return db.scalar(select(ExternalCheck).order_by(ExternalCheck.id).limit(1))


def set_check(db: Session, url: str, *, secret: str | None = None, allow_private: bool = False, now: datetime,
              resolver: webhooks.Resolver = webhooks.system_resolver) -> ExternalCheck:
    """The check to ask from now on (replaces any earlier one; flushes). Its URL passes the same
    checks as a webhook's (http(s), public address unless allowed); `secret` None: generated."""
    url = url.strip()
    webhooks.check_target(url, allow_private=allow_private, resolver=resolver)
    secret = webhooks.chosen_secret(secret)
    db.execute(delete(ExternalCheck))
    check = ExternalCheck(url=url, secret=secret, allow_private=allow_private, created_at=now)
    db.add(check)
    db.flush()
    return check


def remove_check(db: Session) -> bool:
    return bool(db.execute(delete(ExternalCheck)).rowcount)


def request_body(*, text: str, nickname: str | None, anonymous: bool, article_key: str, reply: bool) -> bytes:
    return json.dumps({"comment": {"text": text, "nickname": None if anonymous else nickname,
                                   "anonymous": anonymous, "article": article_key, "reply": reply}},
                      ensure_ascii=False, separators=(",", ":")).encode()


def interpret(status_code: int | None, body: bytes | None, problem: CheckProblem | None) -> CheckAnswer:
    if problem is not None:
        return CheckAnswer(None, problem=problem)
    if status_code is None or not 200 <= status_code < 300:
        return CheckAnswer(None, problem=CheckProblem.HTTP_ERROR)
    try:
        answer = json.loads(body or b"")
        verdict = Verdict(answer["verdict"])
        reason = answer.get("reason") or ""
    except (ValueError, TypeError, KeyError, AttributeError):
        return CheckAnswer(None, problem=CheckProblem.INVALID_ANSWER)
    return CheckAnswer(verdict, str(reason)[:MAX_REASON])


def stricter(status: CommentStatus, answer: CheckAnswer) -> CommentStatus:
    """Where the comment goes once the check has spoken: never less strict than screening."""
    if answer.verdict is Verdict.SPAM and status in (CommentStatus.APPROVED, CommentStatus.PENDING):
        return CommentStatus.SPAM
    if answer.verdict is Verdict.HOLD and status is CommentStatus.APPROVED:
        return CommentStatus.PENDING
    return status


def record_outcome(db: Session, check_id: int, answer: CheckAnswer, *, now: datetime) -> None:
    check = db.get(ExternalCheck, check_id)
    if check is None:
        return
    if answer.problem is None:
        check.last_answer_at = now
    else:
        check.last_problem, check.last_problem_at = answer.problem.value, now
