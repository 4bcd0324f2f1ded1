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


def parse_names(text: str) -> tuple[list[str], list[tuple[str, str | None]]]:
    """One name a line, blanks and repeats dropped; and every reason the list cannot be kept, each a
    problem code with the name it is about (None for the list as a whole), so all are said at once."""
    names: list[str] = []
    problems: list[tuple[str, str | None]] = []
    seen = set()
    for line in text.replace("\r", "\n").split("\n"):
        name = " ".join(line.split())
        if not name:
            continue
        key = compact_form(name)
        if len(name) > MAX_NAME_LENGTH:
            problems.append(("name_too_long", name))
        elif len(key) < 2:
            problems.append(("name_too_short", name))  # one character would hold half the comments
        elif key not in seen:
            seen.add(key)
            names.append(name)
    if len(names) > MAX_NAMES:
        problems.append(("too_many_names", None))
    return names, problems


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
