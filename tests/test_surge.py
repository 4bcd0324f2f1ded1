"""Surge mode: a burst of near-identical comments, or a flood, switches an article to pre-moderation,
holds and groups the cluster on one card with 全部拒絕 / 全部通過, tells the admins, and after a quiet
period switches back, unless a person chose the mode. All on the app's clock: no sleeping."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from moderation.models import (
    Article,
    AuditEntry,
    Comment,
    CommentHour,
    CommentMode,
    CommentStatus,
    OutboxEvent,
    Surge,
    SurgeCause,
)
from moderation.services import surge, webhooks
from tests.conftest import PASSWORD, csrf_token_of, make_page

BRIGADE = "市府這次的檢測報告根本造假，大家一起來抗議！"
# The same words with other spacing, punctuation and width: one fingerprint.
BRIGADE_VARIANTS = [BRIGADE, "市府這次的檢測報告 根本造假 大家一起來抗議", "市府這次的檢測報告根本造假，大家一起來抗議！！"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off"}  # the alert's delivery stays in the outbox, for the test to read


def reader_at(app, number: int):
    """A new browser from an address of its own (a brigade's accounts, not one office)."""
    reader = make_page(app)
    reader.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number + 1}"
    return reader


def _article(db) -> Article:
    db.session.expire_all()
    return db.session.scalar(select(Article))


def _to_post_moderation(admin, db) -> Article:
    article = _article(db)
    admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="post")
    return _article(db)


def _brigade(app, db, clock=None) -> list[Comment]:
    """Each of BRIGADE_VARIANTS posted by an author of its own (40 s apart when a clock is given): the
    comments stored, in order."""
    for number, body in enumerate(BRIGADE_VARIANTS):
        reader_at(app, number).post(body=body, nickname=f"路人{number}")
        if clock is not None:
            clock.advance(seconds=40)
    return db.session.scalars(select(Comment).order_by(Comment.id)).all()


def _audit(db, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_surge_drill_a_burst_of_near_identical_comments_flips_the_article_and_groups_the_cluster(app, admin, db, clock):
    _to_post_moderation(admin, db)
    for number, body in enumerate(BRIGADE_VARIANTS[:2]):
        reader_at(app, number).post(body=body, nickname=f"路人{number}")
        clock.advance(seconds=40)
    first_two = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [comment.status for comment in first_two] == [CommentStatus.APPROVED] * 2  # two authors: not yet
    assert _article(db).comment_mode is CommentMode.POST_MODERATION

    reader_at(app, 2).post(body=BRIGADE_VARIANTS[2], nickname="路人2")  # the third author within 10 minutes

    assert _article(db).comment_mode is CommentMode.PRE_MODERATION
    db.session.expire_all()
    cluster = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [comment.status for comment in cluster] == [CommentStatus.PENDING] * 3  # the published two held again
    assert len({comment.cluster_id for comment in cluster}) == 1 and cluster[0].cluster_id is not None
    [began] = _audit(db, "surge_on")
    assert (began.actor, began.from_status, began.to_status) == ("system", "post", "pre")
    assert began.details["cause"] == "cluster" and began.details["authors"] == 3
    assert [entry.comment_id for entry in _audit(db, "restore")] == [cluster[0].id, cluster[1].id]

    queue = admin.queue()
    assert "突發留言潮" in queue and "多位作者貼出相近的內容" in queue  # the banner, with the cause
    assert "3 則相近的評論，來自 3 位作者" in queue and "全部拒絕" in queue and "全部通過" in queue
    assert "data-card" not in queue  # one card for the cluster, not one per comment
    assert "突發留言潮：文章暫時改為先審後發" in admin.queue(comment=cluster[2].id)  # the card's reason

    audit_page = admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert "突發留言潮：改為先審後發" in audit_page and "多位作者貼出相近的內容（3 位作者、3 則）" in audit_page

    # 全部拒絕: each comment through decide(), an audit row each.
    response = admin.post("/moderation/comments/bulk", decision="reject", reason="advertising", scope="selected",
                          item=[f"{comment.id}:{comment.version}" for comment in cluster], back="/moderation/")
    assert response.status_code == 303
    db.session.expire_all()
    assert [comment.status for comment in db.session.scalars(select(Comment))] == [CommentStatus.REJECTED] * 3
    assert len(_audit(db, "reject")) == 3
    assert "相近的評論" not in admin.queue()  # nothing of the cluster waits: no card

    # Quiet time switches it back: nothing for SURGE_QUIET_MINUTES, then the relay's (or cron's) calm-down.
    clock.advance(minutes=29)
    assert app.test_cli_runner().invoke(args=["surge", "calm"]).output == "ended 0 surges\n"
    clock.advance(minutes=2)
    assert app.test_cli_runner().invoke(args=["surge", "calm"]).output == "ended 1 surges\n"
    assert _article(db).comment_mode is CommentMode.POST_MODERATION
    [ended] = _audit(db, "surge_off")
    assert (ended.from_status, ended.to_status, ended.details["restored"]) == ("pre", "post", True)
    assert "突發留言潮" not in admin.queue()



def test_a_clusters_rejection_needs_a_reason_chosen_and_keeps_what_was_typed(app, admin, db, clock):
    """The cluster card's list starts on 請選擇原因 (a list starting on 廣告 refused harmless comments of
    several authors as ads in one click); without a reason nothing is decided, and the card comes back
    with its note and the reason's list in focus."""
    _to_post_moderation(admin, db)
    cluster = _brigade(app, db, clock)
    cluster_id = cluster[0].cluster_id
    queue = admin.queue()
    card = queue[queue.index(f'id="cluster-{cluster_id}"'):queue.index("</form>", queue.index(f'id="cluster-{cluster_id}"'))]
    assert re.search(r'<select [^>]*name="reason"[^>]*>\s*<option value="">請選擇原因</option>', card)
    assert "data-cluster" in card and 'data-action="spam"' in card and "全部標為垃圾" in card
    items = [f"{comment.id}:{comment.version}" for comment in cluster]
    response = admin.post("/moderation/comments/bulk", decision="reject", reason="", note="同一段文字", scope="selected",
                          cluster=str(cluster_id), item=items, back="/moderation/")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#cluster-{cluster_id}-reason")
    db.session.expire_all()
    assert {comment.status for comment in db.session.scalars(select(Comment))} == {CommentStatus.PENDING}
    again = admin.queue()
    assert "批次拒絕請選擇原因" in again and 'value="同一段文字"' in again
    assert admin.post("/moderation/comments/bulk", decision="spam", scope="selected", cluster=str(cluster_id),
                      item=items, back="/moderation/").status_code == 303
    db.session.expire_all()
    assert {comment.status for comment in db.session.scalars(select(Comment))} == {CommentStatus.SPAM}


def test_a_clusters_reason_and_note_typed_as_the_session_ended_come_back_on_it_after_the_sign_in(app, admin, db, clock):
    """As a single card's do: the sign-in page holds them, then the queue opens at the cluster's reason."""
    _to_post_moderation(admin, db)
    cluster = _brigade(app, db, clock)
    cluster_id = cluster[0].cluster_id
    token = admin.csrf()
    clock.advance(hours=9)  # past the session's lifetime
    response = admin.client.post("/moderation/comments/bulk", data={
        "csrf_token": token, "decision": "reject", "reason": "other", "note": "留電話，違反個資規範", "scope": "selected",
        "cluster": str(cluster_id), "item": [f"{comment.id}:{comment.version}" for comment in cluster],
        "back": "/moderation/"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and "您已登出或登入已逾時" in html
    assert f'name="kept_cluster" value="{cluster_id}"' in html and 'value="留電話，違反個資規範"' in html
    assert "您為相近評論的群組輸入的說明" in html
    signed_in = admin.client.post("/moderation/login", data={
        "csrf_token": csrf_token_of(html), "name": "boss", "password": PASSWORD, "next": "/moderation/",
        "kept_cluster": str(cluster_id), "kept_note": "留電話，違反個資規範", "kept_reason": "other"})
    assert signed_in.status_code == 303 and signed_in.location == f"/moderation/#cluster-{cluster_id}-reason"
    queue = admin.queue()
    card = queue[queue.index(f'id="cluster-{cluster_id}"'):queue.index("</form>", queue.index(f'id="cluster-{cluster_id}"'))]
    assert 'value="留電話，違反個資規範"' in card and '<option value="other" selected>' in card
    db.session.expire_all()
    assert {comment.status for comment in db.session.scalars(select(Comment))} == {CommentStatus.PENDING}


def test_a_narrowed_queue_lists_a_clusters_comments_on_their_own_cards_and_no_cluster_card(app, admin, db, clock):
    """A cluster card's 全部拒絕 acts on every author's comment: it has no place in a list narrowed to one
    author, one text or one kind, where those comments are listed like any other."""
    _to_post_moderation(admin, db)
    cluster = _brigade(app, db, clock)
    assert cluster[0].cluster_id is not None and "3 則相近的評論" in admin.queue()
    by_author = admin.queue(author=cluster[1].author_hash[:8])
    assert "則相近的評論，來自" not in by_author and f'id="card-{cluster[1].id}"' in by_author
    assert f'id="card-{cluster[0].id}"' not in by_author
    by_text = admin.queue(q="大家一起來抗議！！")
    assert "則相近的評論，來自" not in by_text and f'id="card-{cluster[2].id}"' in by_text
    for narrowed in ({"kind": "replies"}, {"author": "zzz"}):
        assert "則相近的評論，來自" not in admin.queue(**narrowed)
    assert "3 則相近的評論" in admin.queue(article=cluster[0].article_id)  # an article alone is no narrowing

def test_texts_that_read_the_same_are_one_cluster(app, admin, db, clock):
    _to_post_moderation(admin, db)
    # 投 and 頭 are both tóu/tóu: other characters, one reading (the pinyin-folded fingerprint).
    for number, body in enumerate(["支持市長連任大家都投他一票", "支持市長連任大家都頭他一票", "支持市長連任，大家都投他一票！"]):
        reader_at(app, number).post(body=body, nickname=f"支持者{number}")
    db.session.expire_all()
    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert comments[0].fingerprint != comments[1].fingerprint
    assert comments[0].reading_fingerprint == comments[1].reading_fingerprint
    assert db.session.scalar(select(Surge.cause)) is SurgeCause.CLUSTER
    assert comments[0].cluster_id == comments[1].cluster_id == comments[2].cluster_id is not None
    assert _article(db).comment_mode is CommentMode.PRE_MODERATION


def test_one_author_repeating_itself_is_no_cluster(app, admin, db, clock):
    _to_post_moderation(admin, db)
    reader = make_page(app)
    for _ in range(3):
        reader.open_form()
        reader.post(body=BRIGADE)
        clock.advance(seconds=30)
    assert _article(db).comment_mode is CommentMode.POST_MODERATION
    assert db.session.scalar(select(Surge)) is None


def test_one_authors_copies_form_a_cluster_once_two_other_authors_join(db, clock):
    article = _article(db)
    copy, reading = "f" * 64, "r" * 64

    def written(author: str, seconds_ago: int) -> dict:
        return {"article_id": article.id, "body": BRIGADE, "status": CommentStatus.PENDING, "ip_hash": "a" * 64,
                "author_hash": author, "created_at": clock.now - timedelta(seconds=seconds_ago),
                "fingerprint": copy, "reading_fingerprint": reading}

    def check(author: str):
        return surge.check(db.session, article.id, fingerprint=copy, reading_fingerprint=reading, author_hash=author,
                           text_length=len(BRIGADE), now=clock(), settings=surge.Settings())

    db.session.execute(insert(Comment), [written("b" * 64, 20 * number) for number in range(30)])
    db.session.commit()
    assert check("b" * 64) is None and check("c" * 64) is None
    db.session.execute(insert(Comment), [written("c" * 64, 5)])
    db.session.commit()
    trip = check("d" * 64)
    assert trip.cause is SurgeCause.CLUSTER and trip.details["authors"] == 3 and len(trip.cluster_ids) == 31


def test_more_comments_a_minute_than_the_limit_switch_the_article(db, clock):
    article = _article(db)
    settings = surge.Settings(rate_per_minute=3)
    for number in range(3):
        db.session.add(Comment(article_id=article.id, body=f"留言 {number}", status=CommentStatus.APPROVED,
                               created_at=clock.now - timedelta(seconds=10 * number), ip_hash="a" * 64,
                               author_hash=f"{number:064x}"))
    db.session.commit()
    trip = surge.check(db.session, article.id, fingerprint="f", reading_fingerprint="r", author_hash="b" * 64,
                       text_length=4, now=clock(), settings=settings)
    assert trip is not None and trip.cause is SurgeCause.RATE and trip.details == {"per_minute": 4, "limit": 3}


def test_many_times_the_articles_median_rate_switches_it(db, clock):
    article = _article(db)
    this_hour = clock.now.replace(minute=0, second=0, microsecond=0)
    for hours_ago in range(1, 6):  # a usual hour: 6 comments, 0.1 a minute
        db.session.add(CommentHour(hour=this_hour - timedelta(hours=hours_ago), article_id=article.id, approved=6,
                                   pending=0, rejected=0, spam=0, held_on_arrival=0))
    for number in range(4):
        db.session.add(Comment(article_id=article.id, body=f"留言 {number}", status=CommentStatus.APPROVED,
                               created_at=clock.now - timedelta(seconds=5 * number), ip_hash="a" * 64,
                               author_hash=f"{number:064x}"))
    db.session.commit()
    assert surge.median_per_minute(db.session, article.id, now=clock()) == 0.1
    trip = surge.check(db.session, article.id, fingerprint="f", reading_fingerprint="r", author_hash="b" * 64,
                       text_length=4, now=clock(), settings=surge.Settings(min_per_minute=5, median_factor=10))
    assert trip is not None and trip.cause is SurgeCause.MEDIAN and trip.details["per_minute"] == 5
    quiet = surge.check(db.session, article.id, fingerprint="f", reading_fingerprint="r", author_hash="b" * 64,
                        text_length=4, now=clock(), settings=surge.Settings(min_per_minute=6))
    assert quiet is None  # below the floor: a busy minute of a quiet article is no surge yet


def test_an_article_without_a_history_has_no_median(db, clock):
    assert surge.median_per_minute(db.session, _article(db).id, now=clock()) is None


def test_a_mode_an_admin_chose_during_the_surge_is_kept_when_it_ends(app, admin, db, clock):
    article = _to_post_moderation(admin, db)
    _brigade(app, db)
    assert _article(db).comment_mode is CommentMode.PRE_MODERATION
    admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="closed")
    clock.advance(minutes=31)
    assert app.test_cli_runner().invoke(args=["surge", "calm"]).output == "ended 1 surges\n"
    assert _article(db).comment_mode is CommentMode.CLOSED
    [ended] = _audit(db, "surge_off")
    assert ended.details["restored"] is False and ended.details["person_chose"] is True
    assert "保留管理員選的評論模式" in admin.client.get("/moderation/admin/audit").get_data(as_text=True)


def test_a_pre_moderated_article_keeps_its_mode_and_still_groups_the_cluster(app, admin, db, clock):
    _brigade(app, db)
    surge_row = db.session.scalar(select(Surge))
    assert surge_row.previous_mode is None  # nothing to give back
    assert "評論模式未變" in admin.queue()
    assert "3 則相近的評論，來自 3 位作者" in admin.queue()
    assert re.search(r"\. The comment mode is unchanged\.", admin.queue(lang="en"))  # two sentences, spaced
    clock.advance(minutes=31)
    make_page(app).post(body="平靜之後的一則普通留言")  # the next post to the article ends the quiet surge
    assert db.session.scalar(select(Surge.ended_at)) is not None
    assert _article(db).comment_mode is CommentMode.PRE_MODERATION


def test_admins_are_alerted_through_the_outbox(app, admin, db, clock):
    webhooks.add_endpoint(db.session, "http://127.0.0.1:9/hook", ["article.surge"], allow_private=True, now=clock())
    db.session.commit()
    _to_post_moderation(admin, db)
    _brigade(app, db)
    [event] = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event == "article.surge")).all()
    data = json.loads(event.payload)
    assert data["surge"]["cause"] == "cluster" and data["surge"]["switched"] is True
    assert data["article"]["title"] == _article(db).title


def test_the_alert_line_words_a_surge(app):
    with app.test_request_context():
        from flask import get_template_attribute

        line = get_template_attribute("alerts/words.txt", "line")
        worded = str(line("article.surge", {"article": {"title": "標題"},
                                            "surge": {"cause": "cluster", "authors": 3, "comments": 4, "switched": True}}))
    assert worded == "突發留言潮：「標題」有 3 位作者貼出相近的內容（4 則），相近的評論已一併待審；文章暫時改為先審後發"
