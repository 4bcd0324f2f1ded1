"""An article's protected names (victims, minors): kept one a line on the article, screened as hold
rules with every reading and script the word rules have (a name written in Simplified, in pinyin or
with look-alike characters is found too)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session

from moderation.models import Article
from moderation.screening.matching import Action, Fuzzy, WordMatcher, WordRule
from moderation.screening.normalize import compact_form
from moderation.services.audit import Actor, AuditAction, record

MAX_NAMES = 50
MAX_NAME_LENGTH = 40


def parse_names(text: str) -> tuple[list[str], str | None]:
    """One name a line, blanks and repeats dropped; a problem code when the list cannot be kept."""
    names: list[str] = []
    seen = set()
    for line in text.replace("\r", "\n").split("\n"):
        name = " ".join(line.split())
        if not name:
            continue
        if len(name) > MAX_NAME_LENGTH:
            return names, "name_too_long"
        key = compact_form(name)
        if len(key) < 2:
            return names, "name_too_short"  # one character would hold half the comments
        if key not in seen:
            seen.add(key)
            names.append(name)
    if len(names) > MAX_NAMES:
        return names, "too_many_names"
    return names, None


@lru_cache(maxsize=256)
def matcher_for(names: tuple[str, ...]) -> WordMatcher | None:
    if not names:
        return None
    return WordMatcher.build(WordRule(f"protected:{index}", name, Action.HOLD, Fuzzy.HOLD)
                             for index, name in enumerate(names))


def set_names(db: Session, article: Article, names: list[str], *, actor: Actor, now) -> None:
    article.protected_names = "\n".join(names)
    # The names are personal data: the log keeps how many, not which.
    record(db, actor, AuditAction.PROTECTED_NAMES, now=now, details={"article": article.id, "count": len(names)})
