"""Two moderators deciding on the same comment at the same moment: exactly one decision wins."""

import threading

import pytest
from sqlalchemy.orm import Session

from moderation.models import AuditEntry, Comment, CommentStatus
from moderation.services.audit import Actor
from moderation.services.decisions import Decision, Refusal, RejectReason, decide
from tests.conftest import make_comment, make_moderator

pytestmark = pytest.mark.committing  # races need transactions that really commit, on separate connections

ROUNDS = 8


def at_once(send, arguments: list[tuple], *, timeout: float = 30) -> None:
    """`send(*each)` for each of `arguments`, each in a thread of its own, all released at one moment."""
    barrier = threading.Barrier(len(arguments))

    def released(each: tuple) -> None:
        barrier.wait()
        send(*each)

    threads = [threading.Thread(target=released, args=(each,)) for each in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


def race(engine, comment_id, moderators, clock):
    """Both moderators decide at once, each in its own thread and database connection."""
    barrier = threading.Barrier(len(moderators))
    results = {}

    def work(moderator_id, decision):
        with Session(engine) as session:
            moderator = session.get(type(moderators[0][0]), moderator_id)
            barrier.wait()
            results[decision] = decide(session, comment_id, decision, expected_version=1, actor=Actor.moderator(moderator),
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


def test_identical_posts_sent_at_once_leave_one_copy_that_is_not_spam(app, db):
    """Five tabs of one browser send the same text at the same moment, each with its own captcha."""
    from sqlalchemy import select

    from moderation.models import Comment, CommentStatus
    from tests.conftest import make_page

    first = make_page(app)
    first.post(body="暖身的第一則")  # the browser now has its session and author cookies
    forms = []
    for _ in range(5):
        first.open_form()
        first.load_captcha()
        forms.append({"csrf_token": first.csrf_token, "captcha_id": first.challenge_id,
                      "captcha_answer": "K7PX", "nickname": "同一個人", "body": "同時送出五次的評論"})
    cookies = [(cookie.key, cookie.value) for cookie in first.client._cookies.values()]
    clients = []
    for _ in forms:
        client = app.test_client()
        for key, value in cookies:
            client.set_cookie(key, value)
        clients.append(client)
    statuses = []

    def send(client, form):
        statuses.append(client.post(f"{first.url}/comments", data=form).status_code)

    at_once(send, list(zip(clients, forms, strict=True)))
    assert statuses == [303] * 5
    db.session.expire_all()
    copies = db.session.scalars(select(Comment).where(Comment.body == "同時送出五次的評論")).all()
    assert len(copies) == 5
    assert sum(1 for copy in copies if copy.status is not CommentStatus.SPAM) == 1


def test_one_form_sent_three_times_at_once_is_stored_once_and_each_sending_told_received(app, db):
    """A double or triple tap on 送出評論: the sending that stored it and the ones that found its
    challenge spent all say 已送出 (none says the captcha was wrong); one copy, no failure counted."""
    from sqlalchemy import func, select

    from moderation.models import CaptchaFailure, Comment
    from tests.conftest import make_page

    page = make_page(app)
    page.post(body="暖身的第一則")
    page.open_form()
    page.load_captcha()
    form = {"csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_answer": "K7PX",
            "nickname": "手快的讀者", "body": "連按三次送出的評論", "submission_key": "tap-tap-tap-" + "0" * 20}
    cookies = [(cookie.key, cookie.value) for cookie in page.client._cookies.values()]
    clients = []
    for _ in range(3):
        client = app.test_client()
        for key, value in cookies:
            client.set_cookie(key, value)
        clients.append(client)
    answers = []

    def send(client):
        response = client.post(f"{page.url}/comments", data=form)
        answers.append((response.status_code, response.location))

    at_once(send, [(client,) for client in clients])
    assert [status for status, _ in answers] == [303] * 3 and all(at.endswith("#notice") for _, at in answers)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Comment.body == "連按三次送出的評論")) == 1
    assert db.session.scalar(select(func.count()).select_from(CaptchaFailure)) == 0


def test_two_moderators_picking_at_once_never_make_a_fourth_pick(db, clock):
    """Two picks already; two moderators pin two more at the same moment: exactly one is refused."""
    from moderation.services.picks import PinOutcome, set_pinned

    alice, bob = make_moderator(db, "alice"), make_moderator(db, "bob")
    for round_ in range(ROUNDS // 2):
        picked = [make_comment(db, status=CommentStatus.APPROVED, body=f"精選{round_}-{index}") for index in range(4)]
        for comment in picked[:2]:
            assert set_pinned(db.session, comment.id, True, actor=Actor.moderator(alice), now=clock()) is PinOutcome.PINNED
            db.session.commit()
        barrier = threading.Barrier(2)
        outcomes: list[PinOutcome] = []

        def pin(moderator_id, comment_id, barrier=barrier, outcomes=outcomes):
            with Session(db.engine) as session:
                moderator = session.get(type(alice), moderator_id)
                barrier.wait()
                outcome = set_pinned(session, comment_id, True, actor=Actor.moderator(moderator), now=clock())
                session.commit() if outcome is PinOutcome.PINNED else session.rollback()
                outcomes.append(outcome)

        threads = [threading.Thread(target=pin, args=(who.id, comment.id)) for who, comment in zip((alice, bob), picked[2:], strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == sorted([PinOutcome.PINNED, PinOutcome.FULL])
        db.session.expire_all()
        pinned = db.session.query(Comment).filter(Comment.pinned_at.is_not(None), Comment.status == CommentStatus.APPROVED)
        assert pinned.count() == 3
        for comment in pinned:  # the next round starts with none
            set_pinned(db.session, comment.id, False, actor=Actor.moderator(alice), now=clock())
        db.session.commit()


@pytest.mark.parametrize("rounds", [2])
def test_fifty_readers_liking_one_comment_at_once_lose_no_like_and_count_none_twice(db, clock, rounds):
    """Fifty readers (from fifty addresses) like the same comment at the same moment, each in its own
    connection; then they all take it back at once, and like again, twice each."""
    from sqlalchemy import func, select

    from moderation.models import CommentLike
    from moderation.services.likes import set_like

    comment = make_comment(db, status=CommentStatus.APPROVED)
    article_id, comment_id, now = comment.article_id, comment.id, clock()  # the threads share no session
    readers = 50

    def together(wanted: bool, *, twice: bool = False) -> list:
        barrier = threading.Barrier(readers * (2 if twice else 1))
        errors = []

        def work(reader: int):
            try:
                with Session(db.engine) as session:
                    barrier.wait()
                    set_like(session, article_id, comment_id, reader_hash=f"reader{reader}",
                             ip_hash=f"ip{reader}", like=wanted, now=now, per_address=3)
                    session.commit()
            except Exception as error:  # noqa: BLE001 - reported below, with the thread's reader
                errors.append((reader, error))

        threads = [threading.Thread(target=work, args=(reader,))
                   for reader in list(range(readers)) * (2 if twice else 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return errors

    for _ in range(rounds):
        assert together(True, twice=True) == []  # each reader clicks twice at once: one like each
        db.session.expire_all()
        assert db.session.get(Comment, comment_id).like_count == readers
        assert db.session.scalar(select(func.count()).select_from(CommentLike)) == readers
        assert together(False) == []
        db.session.expire_all()
        assert db.session.get(Comment, comment_id).like_count == 0


def test_a_burst_of_likes_from_one_address_counts_no_more_than_the_addresss_share(db, clock):
    """Twenty fresh cookies from one address like one comment at the same moment: three count."""
    from moderation.services.likes import set_like

    comment = make_comment(db, status=CommentStatus.APPROVED)
    article_id, comment_id, now = comment.article_id, comment.id, clock()
    barrier = threading.Barrier(20)
    errors = []

    def work(reader: int):
        try:
            with Session(db.engine) as session:
                barrier.wait()
                set_like(session, article_id, comment_id, reader_hash=f"cookie{reader}", ip_hash="one address",
                         like=True, now=now, per_address=3)
                session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(reader,)) for reader in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(Comment, comment_id).like_count == 3


def test_a_like_does_not_wait_for_another_readers_like_being_stored(db, backend, clock):
    """Storing a like takes KEY SHARE on the comment's row (its foreign key) until it commits; the
    next like's lock is FOR NO KEY UPDATE, which does not wait for that (FOR UPDATE would, until the
    other transaction ends), the lock an UPDATE of the comment takes."""
    from sqlalchemy import text

    from moderation.services.likes import LikeOutcome, set_like

    if backend != "postgresql":
        pytest.skip("SQLite has no row locks: its writers wait for the database's one write lock")
    comment = make_comment(db, status=CommentStatus.APPROVED)
    article_id, comment_id, now = comment.article_id, comment.id, clock()
    with Session(db.engine) as storing, Session(db.engine) as liking:
        storing.execute(text("INSERT INTO comment_like (comment_id, article_id, reader_hash, ip_hash, counted, created_at)"
                             " VALUES (:comment, :article, 'first reader', 'first address', false, :now)"),
                        {"comment": comment_id, "article": article_id, "now": now})
        liking.execute(text("SET LOCAL lock_timeout = '300ms'"))
        result = set_like(liking, article_id, comment_id, reader_hash="second reader", ip_hash="second address",
                          like=True, now=now, per_address=3)
        liking.commit()
        storing.rollback()
    assert result.outcome is LikeOutcome.LIKED and result.like_count == 1


def test_readers_starting_a_surge_at_the_same_moment_each_get_their_comment_stored(app, db, clock):
    """Eight readers (eight browsers, eight addresses) post at once into an article already past its
    surge limit, so that each post would start the surge: one starts it, every post is stored, none
    is answered 503. On PostgreSQL each post's insert holds a key-share lock on the article's row;
    starting a surge must not ask for a lock that conflicts with it (it deadlocked: FOR UPDATE)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from moderation.models import Surge
    from tests.conftest import make_page

    app.config["SURGE_RATE_PER_MINUTE"] = 1
    for number in range(2):
        make_comment(db, status=CommentStatus.APPROVED, body=f"剛才的第{number}則留言",
                     created_at=clock.now - timedelta(seconds=5 * number))
    pages = []
    for index in range(8):
        page = make_page(app)
        page.client.environ_base["REMOTE_ADDR"] = f"10.0.0.{index + 1}"
        page.open_form()
        page.load_captcha()
        pages.append(page)
    statuses = []

    def send(index, page):
        statuses.append(page.post(solve=False, nickname=f"讀者{index}號",
                                  body=f"第{index}位讀者對這篇文章的看法：{'甲乙丙丁戊己庚辛'[index] * 3}").status_code)

    at_once(send, list(enumerate(pages)))
    assert sorted(statuses) == [303] * 8
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 10
    assert db.session.scalar(select(func.count()).select_from(Surge)) == 1


class TestALockWaitedForTooLong:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "DATABASE_LOCK_TIMEOUT_MS": 300}

    def test_the_reader_gets_the_form_back_and_no_outage_is_logged(self, app, db, backend, caplog):
        """An article's row held by another transaction past `lock_timeout` (a migration, a stuck
        session): PostgreSQL fails the post; the reader gets the form back with the text, the log
        says a lock conflict, not an outage, and the next post goes through."""
        import logging

        from sqlalchemy import select

        from moderation.models import Article
        from tests.conftest import make_page

        if backend != "postgresql":
            pytest.skip("SQLite has no row locks: its writers wait for the database's one write lock")
        page = make_page(app)
        page.open_form()
        page.load_captcha()
        with Session(db.engine) as other, caplog.at_level(logging.WARNING, logger="moderation.web.outages"):
            other.execute(select(Article.id).with_for_update())
            response = page.post(solve=False, body="等鎖太久的評論")
            other.rollback()
        assert response.status_code == 503 and "Retry-After" in response.headers
        assert "等鎖太久的評論" in page.html
        messages = [record.getMessage() for record in caplog.records if record.name == "moderation.web.outages"]
        assert len(messages) == 1 and messages[0].startswith("database lock conflict (LockNotAvailable:")
        assert not app.extensions["outages"].in_outage
        page.load_captcha()
        assert page.post(solve=False, body="等鎖太久的評論").status_code == 303
