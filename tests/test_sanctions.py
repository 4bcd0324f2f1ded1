"""Suspensions, bans and "always pre-moderate" by author tag; address-range holds; protected names;
personal data held and masked. Through the pages a moderator and a reader use."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.models import (
    AddressHold,
    Article,
    AuditEntry,
    AuthorRestriction,
    Comment,
    CommentMode,
    CommentStatus,
    ScreeningReason,
)
from moderation.services import sanctions
from moderation.services.audit import Actor
from moderation.services.sanctions import SanctionError
from tests.conftest import ARTICLE_SLUG, make_comment, make_moderator, make_page

AUTHOR = "c0ffee" + "1" * 58
TAG = AUTHOR[:8]


def restrict(moderator, tag=TAG, **fields):
    data = {"duration": "7d", "reason": "abuse", "note": "罵人"}
    data.update(fields)
    return moderator.post(f"/moderation/authors/{tag}/restriction", **data)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def posting_author(page, db) -> str:
    """A reader posts once (and so gets a browser token); the author hash of that comment."""
    assert page.post().status_code == 303
    return db.session.scalars(select(Comment.author_hash).order_by(Comment.id.desc())).first()


def set_mode(db, mode: CommentMode):
    article = db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))
    article.comment_mode = mode
    db.session.commit()
    return article


def test_a_suspended_author_is_told_until_when_and_why_and_keeps_the_text(page, db, moderator, clock):
    author = posting_author(page, db)
    response = restrict(moderator, author[:8], duration="1d", reason="doxxing")
    assert response.status_code == 303
    assert "已設定：停權 1 天" in text_of(moderator.client.get(response.headers["Location"]))
    page.open_form()
    refused = page.post(body="我還想再說一次")
    html = text_of(refused)
    assert refused.status_code == 403
    assert "您暫時無法留言，至 2026-11-25 10:00" in html  # the app's clock, in Taipei time
    assert "公開他人的個人資料" in html and "我還想再說一次" in html
    assert 'id="captcha-field"' not in html and 'class="primary"' not in html  # nothing to send it with now
    assert html.count("您暫時無法留言") == 1  # said once, at the form's status, not again under the text
    textarea = re.search(r"<textarea[^>]*>", html).group()
    assert "aria-invalid" not in textarea  # the text is fine: the author is what is refused
    assert db.session.scalar(select(Comment).where(Comment.body == "我還想再說一次")) is None  # no shadow ban
    clock.advance(days=1, seconds=1)  # expired on its own
    page.open_form()
    assert page.post(body="我還想再說一次").status_code == 303


def test_a_ban_has_no_end_and_is_lifted_early_with_a_log_line(page, db, moderator):
    author = posting_author(page, db)
    assert restrict(moderator, author[:8], duration="ban", reason="spam").status_code == 303
    page.open_form()
    assert "您已無法在本站留言" in text_of(page.post(body="再來"))
    assert moderator.post(f"/moderation/authors/{author[:8]}/restriction/lift").status_code == 303
    page.open_form()
    assert page.post(body="再來").status_code == 303
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("author_%"))))
    assert actions == ["author_ban", "author_lift"]


def test_banning_an_already_banned_author_says_who_did_it_and_changes_nothing(db, moderator, clock):
    make_comment(db, author_hash=AUTHOR)
    assert restrict(moderator, duration="ban").status_code == 303
    clock.advance(minutes=2)  # not the same form sent twice: a second decision
    again = restrict(moderator, duration="ban")
    assert again.status_code == 409
    assert "這位作者已被mod設為「永久停權」" in text_of(again)
    assert db.session.scalar(select(AuthorRestriction.version)) == 1


def test_the_same_restriction_sent_twice_at_once_is_answered_as_set_not_refused(db, moderator, clock):
    make_comment(db, author_hash=AUTHOR)
    first = restrict(moderator, duration="7d")
    second = restrict(moderator, duration="7d")  # a double click
    assert (first.status_code, second.status_code) == (303, 303)
    assert "已設定：停權 7 天" in text_of(moderator.client.get(second.headers["Location"]))
    assert db.session.scalar(select(AuthorRestriction.version)) == 1
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "author_suspend")).all()) == 1
    assert restrict(moderator, duration="7d", reason="spam").status_code == 409  # other choices: refused as before


def test_a_milder_step_over_a_stronger_one_is_refused_and_a_stronger_one_replaces_a_milder(db, moderator):
    make_comment(db, author_hash=AUTHOR)
    assert restrict(moderator, duration="premoderate").status_code == 303
    assert restrict(moderator, duration="30d").status_code == 303
    assert restrict(moderator, duration="premoderate").status_code == 409
    db.session.expire_all()
    assert db.session.get(AuthorRestriction, AUTHOR).kind.value == "suspension"


def test_a_suspension_is_made_longer_without_lifting_it_first_and_never_shorter(db, moderator, clock):
    make_comment(db, author_hash=AUTHOR)
    assert restrict(moderator, duration="7d").status_code == 303
    clock.advance(hours=1)
    assert restrict(moderator, duration="30d").status_code == 303
    db.session.expire_all()
    assert db.session.get(AuthorRestriction, AUTHOR).until == clock.now + timedelta(days=30)
    clock.advance(minutes=2)
    for shorter in ("7d", "1d", "30d"):  # the same length again is the same sanction
        refused = restrict(moderator, duration=shorter)
        assert refused.status_code == 409 and "要改為較輕的處分，請先解除" in text_of(refused)
    assert [entry.details["duration"] for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "author_suspend").order_by(AuditEntry.id))] == ["7d", "30d"]


def test_pending_comments_rejected_with_a_sanction_carry_its_reason(db, moderator, admin):
    first, second = (make_comment(db, author_hash=AUTHOR, body=body) for body in ("買一送一", "限時優惠"))
    restrict(moderator, duration="7d", reason="spam", reject_pending="1")
    reasons = db.session.execute(select(AuditEntry.comment_id, AuditEntry.reason).where(AuditEntry.action == "reject"))
    assert dict(reasons.all()) == {first.id: "advertising", second.id: "advertising"}
    other = make_comment(db, author_hash="e" * 64, body="另一位")
    restrict(moderator, other.author_hash[:8], duration="ban", reason="evasion", note="", reject_pending="1")
    html = text_of(admin.client.get("/moderation/admin/audit"))
    assert "隨作者的處分一併拒絕" in html and "；sanction" not in html  # the note that marks it is no words


@pytest.mark.parametrize(("tag", "status", "words"), [
    ("deadbeef", 404, "找不到這個作者標籤"),
    ("zzzz", 404, "找不到這個作者標籤"),
    ("<script>", 404, "找不到這個作者標籤"),
])
def test_an_unknown_author_tag_is_a_clear_message(db, moderator, tag, status, words):
    response = restrict(moderator, tag)
    assert response.status_code == status and words in text_of(response)
    page = moderator.client.get(f"/moderation/authors/{tag}/restriction")
    assert page.status_code == status and words in text_of(page)


@pytest.mark.parametrize(("fields", "words"), [
    ({"duration": "999d"}, "請選擇期間與原因"),
    ({"reason": "bogus"}, "請選擇期間與原因"),
    ({"reason": "other", "note": " "}, "選「其他」時請填寫說明"),
    ({"note": "長" * 501}, "說明最多 500 個字"),
])
def test_bad_choices_are_refused_with_the_input_kept(db, moderator, fields, words):
    make_comment(db, author_hash=AUTHOR)
    response = restrict(moderator, **fields)
    assert response.status_code == 422 and words in text_of(response)
    assert db.session.get(AuthorRestriction, AUTHOR) is None


def test_rejecting_every_pending_comment_goes_through_decide_one_audit_row_each(db, moderator):
    pending = [make_comment(db, author_hash=AUTHOR, body=f"第{index}則") for index in range(3)]
    make_comment(db, author_hash=AUTHOR, status=CommentStatus.APPROVED)
    response = restrict(moderator, reject_pending="1")
    assert "同時拒絕了 3 則待審評論" in text_of(moderator.client.get(response.headers["Location"]))
    db.session.expire_all()
    assert {db.session.get(Comment, comment.id).status for comment in pending} == {CommentStatus.REJECTED}
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reject")).all()
    assert sorted(row.comment_id for row in rows) == [comment.id for comment in pending]


def test_in_english_the_restriction_is_said_in_two_sentences_with_its_duration(db, moderator):
    import re

    from moderation.web.languages import LANGUAGE_COOKIE

    moderator.client.set_cookie(LANGUAGE_COOKIE, "en")
    make_comment(db, author_hash=AUTHOR, body="待審")
    page = text_of(moderator.client.get(restrict(moderator, reject_pending="1").headers["Location"]))
    assert re.search(r"\d\d:\d\d\. 1 pending comment rejected with it\.", page)
    form = text_of(moderator.client.get(f"/moderation/authors/{TAG}/restriction"))
    assert "<legend>Duration</legend>" in form and "Period shown" not in form


def test_always_pre_moderate_holds_the_authors_comments_and_says_why(page, db, moderator):
    set_mode(db, CommentMode.POST_MODERATION)
    author = posting_author(page, db)
    assert restrict(moderator, author[:8], duration="premoderate", reason="brigading").status_code == 303
    page.open_form()
    assert page.post(body="又來了").status_code == 303
    comment = db.session.scalar(select(Comment).where(Comment.body == "又來了"))
    assert comment.status is CommentStatus.PENDING
    assert "這位作者的評論一律先審" in moderator.queue()


def test_the_card_and_the_author_page_lead_to_the_restriction_form(db, moderator):
    comment = make_comment(db, author_hash=AUTHOR)
    assert f"/moderation/authors/{TAG}/restriction" in moderator.queue()
    assert f"/moderation/authors/{TAG}/restriction" in text_of(moderator.client.get(f"/moderation/authors/{TAG}"))
    form = text_of(moderator.client.get(f"/moderation/authors/{TAG}/restriction"))
    assert "目前沒有處分" in form and "停權 7 天" in form
    assert comment.id


def test_a_restriction_is_lifted_from_the_list(db, moderator):
    make_comment(db, author_hash=AUTHOR)
    assert restrict(moderator).status_code == 303
    listed = text_of(moderator.client.get("/moderation/sanctions"))
    assert f'action="/moderation/authors/{TAG}/restriction/lift"' in listed and f"解除 {TAG}" in listed
    lifted = moderator.post(f"/moderation/authors/{TAG}/restriction/lift", back="/moderation/sanctions")
    assert lifted.status_code == 303
    db.session.expire_all()
    assert db.session.get(AuthorRestriction, AUTHOR) is None
    assert f"解除 {TAG}" not in text_of(moderator.client.get("/moderation/sanctions"))


def test_the_list_shows_what_is_in_force_and_not_what_expired(db, moderator, clock):
    make_comment(db, author_hash=AUTHOR)
    restrict(moderator, duration="1d")
    assert TAG in text_of(moderator.client.get("/moderation/sanctions"))
    clock.advance(days=2)
    assert TAG not in text_of(moderator.client.get("/moderation/sanctions"))


@pytest.mark.committing
def test_two_moderators_suspending_at_once_leave_one_effective_state(db, clock):
    make_moderator(db, "alice"), make_moderator(db, "bob")
    for round_number in range(4):
        author = f"{round_number:x}" + AUTHOR[1:]
        make_comment(db, author_hash=author)
        barrier = threading.Barrier(2)
        outcomes = {}

        def work(name, duration, author=author, barrier=barrier, outcomes=outcomes):
            with Session(db.engine) as session:
                barrier.wait()
                try:
                    sanctions.restrict(session, author, duration, "abuse", note="", actor=Actor(name), now=clock())
                    session.commit()
                    outcomes[name] = "applied"
                except SanctionError as error:
                    session.rollback()
                    outcomes[name] = error.problem

        # The same length from both: a longer one would rightly replace the other's (one state either way).
        threads = [threading.Thread(target=work, args=("alice", "7d")), threading.Thread(target=work, args=("bob", "7d"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(map(str, outcomes.values())) == ["already", "applied"]
        db.session.expire_all()
        stored = db.session.get(AuthorRestriction, author)
        winner = next(name for name, outcome in outcomes.items() if outcome == "applied")
        assert stored.created_by == winner and stored.version == 1
        assert db.session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "author_suspend",
                                                                 AuditEntry.details["author"].as_string()
                                                                 == author[:8])) == winner


# Address ranges.

def hold(moderator, address: str, **fields):
    data = {"range": address, "duration": "1d", "reason": "brigading", "note": ""}
    data.update(fields)
    return moderator.post("/moderation/sanctions/holds", **data)


def test_a_held_range_holds_comments_from_it_and_the_card_says_why(app, db, moderator, clock):
    set_mode(db, CommentMode.POST_MODERATION)
    assert hold(moderator, "203.0.113.7").status_code == 303
    stored = db.session.scalar(select(AddressHold))
    assert stored.prefix == 24 and "203.0.113" not in stored.range_hash  # only the keyed hash is kept
    reader = make_page(app)
    reader.client.environ_base["REMOTE_ADDR"] = "203.0.113.200"
    assert reader.post(body="同一網段").status_code == 303
    elsewhere = make_page(app)
    elsewhere.client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert elsewhere.post(body="別的網段").status_code == 303
    statuses = dict(db.session.execute(select(Comment.body, Comment.status)).all())
    assert statuses["同一網段"] is CommentStatus.PENDING and statuses["別的網段"] is CommentStatus.APPROVED
    assert f"此網段的評論暫時待審：#{stored.id}" in moderator.queue()
    clock.advance(days=1, seconds=1)
    reader.open_form()
    assert reader.post(body="到期之後").status_code == 303
    assert db.session.scalar(select(Comment.status).where(Comment.body == "到期之後")) is CommentStatus.APPROVED


def test_an_ipv6_address_is_held_as_its_64_and_a_48_is_the_widest(app, db, moderator):
    assert hold(moderator, "2001:db8:1:2::1").status_code == 303
    assert db.session.scalar(select(AddressHold.prefix)) == 64
    wide = hold(moderator, "2001:db8::/47")
    assert wide.status_code == 422 and "IPv6 最大 /48" in text_of(wide)


@pytest.mark.parametrize(("address", "status", "words"), [
    ("10.0.0.0/15", 422, "網段太大"),
    ("0.0.0.0/0", 422, "網段太大"),
    ("not an address", 422, "請輸入 IP 位址或網段"),
    ("", 422, "請輸入 IP 位址或網段"),
    ("1.2.3.4/33", 422, "請輸入 IP 位址或網段"),
])
def test_bad_or_too_wide_ranges_are_refused(db, moderator, address, status, words):
    response = hold(moderator, address)
    assert response.status_code == status and words in text_of(response)
    assert address in text_of(response)  # kept in the field
    assert db.session.scalar(select(AddressHold)) is None


def test_overlapping_ranges_are_refused_both_ways(db, moderator):
    assert hold(moderator, "198.51.100.0/24").status_code == 303
    first = db.session.scalar(select(AddressHold.id))
    for overlapping in ("198.51.100.77", "198.51.0.0/16", "198.51.100.128/25"):
        response = hold(moderator, overlapping)
        assert response.status_code == 409, overlapping
        assert f"與生效中的網段審核 #{first} 重疊" in text_of(response)
    assert hold(moderator, "198.51.101.0/24").status_code == 303


def test_a_hold_is_lifted_early_and_logged(db, moderator):
    hold(moderator, "192.0.2.1")
    hold_id = db.session.scalar(select(AddressHold.id))
    assert moderator.post(f"/moderation/sanctions/holds/{hold_id}/lift").status_code == 303
    again = moderator.post(f"/moderation/sanctions/holds/{hold_id}/lift")
    assert again.status_code == 409 and "沒有生效中的處分可解除" in text_of(again)
    assert moderator.post("/moderation/sanctions/holds/999999999999/lift").status_code == 404
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("address_%"))))
    assert actions == ["address_hold", "address_hold_lift"]


# Personal data and protected names.

def test_personal_data_is_held_with_the_span_marked_on_the_card(page, db, moderator):
    assert page.post(body="他的電話是 0912-345-678 大家打").status_code == 303
    comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
    assert comment.status is CommentStatus.PENDING
    html = moderator.queue()
    assert "個人資料：手機號碼" in html and "<mark>0912-345-678</mark>" in html


def test_under_post_moderation_personal_data_is_masked_until_a_moderator_decides(page, db, moderator, client):
    set_mode(db, CommentMode.POST_MODERATION)
    assert page.post(body="身分證 A123456789 公開").status_code == 303
    comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
    assert comment.status is CommentStatus.APPROVED and comment.body == "身分證 A123456789 公開"
    reader_view = text_of(make_page(client.application).open())
    assert "A12*******" in reader_view and "A123456789" not in reader_view
    assert moderator.decide(comment, "restore").status_code == 303
    db.session.refresh(comment)
    assert moderator.decide(comment, "approve").status_code == 303
    assert "A123456789" in text_of(make_page(client.application).open())


def test_moderators_keep_an_articles_protected_names_and_comments_naming_them_are_held(page, db, moderator):
    article = set_mode(db, CommentMode.POST_MODERATION)
    url = f"/moderation/articles/{article.id}/protected-names"
    assert moderator.post(url, names="陳小美\n\n陳小美").status_code == 303
    assert "已儲存 1 個受保護的姓名" in text_of(moderator.client.get(url))
    assert page.post(body="chen xiao mei 就是那個學生").status_code == 303
    comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
    assert comment.status is CommentStatus.PENDING
    reason = db.session.scalar(select(ScreeningReason).where(ScreeningReason.comment_id == comment.id))
    assert reason.kind == "protected_name"
    refused = moderator.post(url, names="陳\n林大同\n" + "長" * 41)
    said = text_of(refused)
    assert refused.status_code == 422 and "「陳」太短：每個姓名至少 2 個字" in said and "太長：姓名最多 40 個字" in said
    assert "林大同" in said  # what was typed is kept
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "protected_names"))
    assert entry.details == {"article": article.id, "count": 1} and "陳" not in (entry.note or "")


def test_refusals_are_worded_in_the_page_language_with_the_input_kept(db, moderator):
    make_comment(db, author_hash=AUTHOR)
    english = {"Accept-Language": "en"}
    csrf = moderator.csrf()
    refused = moderator.client.post(f"/moderation/authors/{TAG}/restriction", headers=english, data={
        "csrf_token": csrf, "duration": "30d", "reason": "other", "note": "  ", "reject_pending": "1"})
    html = text_of(refused)
    assert refused.status_code == 422 and "With Other, please write a note." in html
    assert 'value="30d" checked' in html and 'value="other" selected' in html and 'id="reject-pending" name="reject_pending" value="1" checked' in html
    wide = moderator.client.post("/moderation/sanctions/holds", headers=english, data={
        "csrf_token": csrf, "range": "10.0.0.0/8", "duration": "7d", "reason": "spam", "note": "農場"})
    html = text_of(wide)
    assert wide.status_code == 422 and "Range too wide: at most /16 for IPv4, /48 for IPv6." in html
    assert 'value="10.0.0.0/8"' in html and "農場" in html and 'value="7d" selected' in html
    unknown = moderator.client.get("/moderation/authors/deadbeef/restriction", headers=english)
    assert unknown.status_code == 404 and "No such author tag" in text_of(unknown)


def test_the_suspended_readers_message_is_in_the_readers_language(page, db, moderator):
    author = posting_author(page, db)
    restrict(moderator, author[:8], duration="30d", reason="spam")
    page.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page.open_form()
    html = text_of(page.post(body="kept text"))
    assert "You cannot comment for now, until 2026-12-24 10:00. Reason: advertising or flooding." in html
    assert "kept text" in html


def test_no_page_of_these_answers_500_to_odd_ids(moderator):
    for url in ("/moderation/articles/0/protected-names", "/moderation/articles/99999999999/protected-names"):
        assert moderator.client.get(url).status_code == 404
    assert re.search(r"處分", text_of(moderator.client.get("/moderation/sanctions")))


def test_the_apis_comments_are_masked_as_the_page_is(client, db, clock):
    from moderation.services import api_keys
    from moderation.services.audit import COMMAND_LINE

    make_comment(db, status=CommentStatus.APPROVED, body="找他：0912345678")
    _, key = api_keys.create_key(db.session, "app.example", ["comments:read"], actor=COMMAND_LINE, now=clock())
    db.session.commit()
    answer = client.get(f"/api/v1/articles/{ARTICLE_SLUG}/comments", headers={"Authorization": f"Bearer {key}"})
    assert answer.json["comments"][0]["text"] == "找他：091*******"


# The command line.

def test_operators_restrict_authors_and_hold_ranges_from_the_shell(runner, db):
    make_comment(db, author_hash=AUTHOR)
    done = runner.invoke(args=["authors", "restrict", TAG, "--duration", "ban", "--reason", "spam"])
    assert done.exit_code == 0 and f"author {TAG}: ban until no end" in done.output
    again = runner.invoke(args=["authors", "restrict", TAG, "--duration", "7d", "--reason", "spam"])
    assert again.exit_code == 1 and "in force: ban by cli" in again.output
    assert TAG in runner.invoke(args=["authors", "list"]).output
    assert "no comment has this author tag" in runner.invoke(args=["authors", "lift", "deadbeef"]).output
    assert runner.invoke(args=["authors", "lift", TAG]).exit_code == 0
    held = runner.invoke(args=["holds", "add", "2001:db8::1", "--duration", "7d", "--reason", "brigading"])
    assert held.exit_code == 0 and "IPv6 /64" in held.output
    assert "range too wide" in runner.invoke(args=["holds", "add", "10.0.0.0/8", "--duration", "1d",
                                                   "--reason", "spam"]).output
    hold_id = db.session.scalar(select(AddressHold.id))
    assert "IPv6 /64" in runner.invoke(args=["holds", "list"]).output
    assert "no hold '99999999999'" in runner.invoke(args=["holds", "lift", "99999999999"]).output
    assert runner.invoke(args=["holds", "lift", str(hold_id)]).exit_code == 0
    actors = set(db.session.scalars(select(AuditEntry.actor).where(AuditEntry.action.in_(
        ["author_ban", "author_lift", "address_hold", "address_hold_lift"]))))
    assert actors == {"cli"}


def test_the_restriction_page_leads_back_to_the_queue_it_came_from_and_nowhere_else(db, moderator):
    make_comment(db, author_hash=AUTHOR)
    back = "/moderation/?tab=pending&q=%E7%BD%B5"
    page = text_of(moderator.client.get(f"/moderation/authors/{TAG}/restriction", query_string={"back": back}))
    assert 'href="/moderation/?tab=pending&amp;q=%E7%BD%B5">回到審核佇列' in page
    done = restrict(moderator, back=back, reject_pending="1")
    assert done.headers["Location"] == back + "#sanction-result"  # from a card: back to the queue being worked
    queue = text_of(moderator.client.get(back))
    assert 'id="sanction-result" autofocus>' in queue and "已設定：停權 7 天" in queue and "同時拒絕了 1 則待審評論" in queue
    assert (f'href="/moderation/authors/{TAG}/restriction?back=/moderation/?tab%3Dpending%26q%3D%25E7%25BD%25B5">'
            f"作者 {TAG} 的處分（可在此解除）") in queue
    assert "已設定" not in text_of(moderator.client.get(back))  # said once
    stronger = restrict(moderator, duration="ban")  # from the author's own page: the result is said there
    assert stronger.headers["Location"] == f"/moderation/authors/{TAG}/restriction"
    assert "回到審核佇列" not in text_of(moderator.client.get(f"/moderation/authors/{TAG}/restriction",
                                                           query_string={"back": "https://evil.example/"}))


def test_the_author_of_a_staff_answer_is_not_restricted(db, moderator):
    from moderation.models import Moderator

    make_comment(db, author_hash=AUTHOR, staff_account_id=db.session.scalar(select(Moderator.id)))
    refused = restrict(moderator)
    assert refused.status_code == 422 and "這是本站人員回覆的作者，不能停權或設為先審" in text_of(refused)
    assert db.session.get(AuthorRestriction, AUTHOR) is None


def test_the_audit_log_and_its_csv_word_every_sanction(db, moderator, admin):
    make_comment(db, author_hash=AUTHOR)
    restrict(moderator, duration="7d", reason="doxxing", reject_pending="1")
    moderator.post(f"/moderation/authors/{TAG}/restriction/lift")
    hold(moderator, "192.0.2.1")
    moderator.post(f"/moderation/sanctions/holds/{db.session.scalar(select(AddressHold.id))}/lift")
    article = db.session.scalar(select(Article))
    moderator.post(f"/moderation/articles/{article.id}/protected-names", names="王小明")
    page = admin.client.get("/moderation/admin/audit")
    html = text_of(page)
    assert page.status_code == 200
    for words in ("停權作者", f"作者 {TAG}：停權 7 天，至 2026-12-01 10:00", "公開他人個人資料", "解除作者的處分",
                  "隨作者的處分一併拒絕", "暫時審核網段", "（/24），至 2026-11-25 10:00", "解除網段審核",
                  "變更受保護的姓名", "1 個姓名"):
        assert words in html, words
    csv = admin.client.get("/moderation/admin/audit.csv")
    assert csv.status_code == 200 and "author_suspend" in text_of(csv)
