"""Two moderators deciding on the same comment at the same moment: exactly one decision wins."""

import threading

from sqlalchemy.orm import Session

from moderation.decisions import Decision, RejectReason, Refusal, decide
from moderation.models import AuditEntry, Comment, CommentStatus
from tests.conftest import make_comment, make_moderator

ROUNDS = 8


def race(engine, comment_id, moderators, clock):
    """Both moderators decide at once, each in its own thread and database connection."""
    barrier = threading.Barrier(len(moderators))
    results = {}

    def work(moderator_id, decision):
        with Session(engine) as session:
            moderator = session.get(type(moderators[0][0]), moderator_id)
            barrier.wait()
            results[decision] = decide(session, comment_id, decision, expected_version=1, actor=moderator,
                                       now=clock(), reason=RejectReason.ABUSE)

    threads = [threading.Thread(target=work, args=(moderator.id, decision)) for moderator, decision in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_exactly_one_of_two_simultaneous_decisions_wins(db, clock):
    alice, bob = make_moderator(db, "alice"), make_moderator(db, "bob")
    for _ in range(ROUNDS):
        comment = make_comment(db)
        results = race(db.engine, comment.id, [(alice, Decision.APPROVE), (bob, Decision.REJECT)], clock)
        winners = [decision for decision, result in results.items() if result.ok]
        losers = [result for result in results.values() if not result.ok]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0].refusal is Refusal.CONFLICT
        assert losers[0].last_change is not None and losers[0].last_change.actor in {"alice", "bob"}
        db.session.expire_all()
        stored = db.session.get(Comment, comment.id)
        expected = CommentStatus.APPROVED if winners == [Decision.APPROVE] else CommentStatus.REJECTED
        assert stored.status is expected and stored.version == 2
        [entry] = db.session.query(AuditEntry).filter_by(comment_id=comment.id).all()
        assert entry.action == winners[0].value
