"""The rule tester: what the active rules decide for a text, as JSON-ready data. Stores nothing."""

from __future__ import annotations

from datetime import datetime

from moderation.screening.pipeline import AuthorFacts, Rules, Submission, Verdict, screen


def check_text(rules: Rules, text: str, *, nickname: str | None, post_moderation: bool, now: datetime) -> dict:
    verdict = screen(Submission(text, nickname, post_moderation=post_moderation), AuthorFacts(), rules, now=now)
    return verdict_as_dict(verdict)


def verdict_as_dict(verdict: Verdict) -> dict:
    return {
        "status": verdict.outcome.value,
        "reasons": [
            {
                "rule": reason.rule_id,
                "kind": reason.kind.value,
                "action": reason.action.value if reason.action else None,
                "term": reason.detail,
                "field": reason.field,
                "span": [reason.start, reason.end] if reason.start is not None else None,
                **({"how": reason.how} if reason.kind.value == "word" else {}),
            }
            for reason in verdict.reasons
        ],
    }
