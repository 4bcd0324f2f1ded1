"""What a rule change would do, tried on the comments of the last 30 days before it is saved.

Each comment is screened with the rules as they are and as they would be, under its article's
comment mode: in a pre-moderated article every comment is held anyway, so a new hold rule changes
nothing there and only what a rule would reject or send to spam counts. Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.models import Article, Comment, CommentMode
from moderation.screening.matching import Action, Fuzzy, WordMatcher, WordRule
from moderation.screening.pipeline import AuthorFacts, Outcome, Rules, Submission, screen
from moderation.services.rulebook.cache import word_rule_of
from moderation.services.rulebook.edits import clean_word_rule, word_rules

SEVERITY = {Outcome.PUBLISHED: 0, Outcome.PENDING: 1, Outcome.REJECTED: 2, Outcome.SPAM: 3}
EXAMPLES = 10


@dataclass(frozen=True)
class DryRun:
    term: str
    action: str  # an Action value, or "remove"
    checked: int
    stricter: int  # comments the change would hold, reject or spam where they were let through (or more strictly)
    looser: int  # comments the change would release (or treat less strictly)
    examples: list[tuple[Comment, Outcome, Outcome]] = field(default_factory=list)


def dry_run_word(db: Session, current: Rules, term: str, action: str, *, now: datetime, fuzzy: str = "hold",
                 days: int = 30, limit: int = 10_000) -> DryRun:
    """Try adding (or replacing) the word rule `term` with `action`, or removing it ("remove").
    Raises RuleError for a rule that could not be saved."""
    rows = word_rules(db)
    if action == "remove":
        key = term.strip()
    else:
        key = clean_word_rule(term, action, fuzzy=fuzzy).term
    proposed = [word_rule_of(row) for row in rows if row.term != key]
    if action != "remove":
        proposed.append(WordRule("word:proposed", key, Action(action), Fuzzy(fuzzy)))
    after = Rules(words=WordMatcher.build(proposed), domains=current.domains, thresholds=current.thresholds)
    rows = db.execute(
        select(Comment, Article.comment_mode).join(Article, Comment.article_id == Article.id)
        .where(Comment.created_at >= now - timedelta(days=days))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
    ).all()
    stricter = looser = 0
    examples = []
    for comment, mode in rows:
        submission = Submission(comment.body, comment.nickname, post_moderation=mode is CommentMode.POST_MODERATION)
        was = screen(submission, AuthorFacts(), current, now=now).outcome
        would = screen(submission, AuthorFacts(), after, now=now).outcome
        if SEVERITY[would] == SEVERITY[was]:
            continue
        if SEVERITY[would] > SEVERITY[was]:
            stricter += 1
        else:
            looser += 1
        if len(examples) < EXAMPLES:
            examples.append((comment, was, would))
    return DryRun(key, action, len(rows), stricter, looser, examples)
