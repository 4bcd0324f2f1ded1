"""The conversation: replies and their threads, editors' picks, the site's answers, and what became
of a reader's own comments (services and views, on both backends)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from moderation.models import AuditEntry, Comment, CommentStatus
from moderation.services.articles import load_article
from moderation.services.audit import SYSTEM
from moderation.services.decisions import Decision, RejectReason, decide
from moderation.services.listing import replies_changed
from moderation.services.retention import erase_author
from tests.conftest import ARTICLE_SLUG, make_comment, make_moderator, make_page

ARTICLE_URL = f"/articles/{ARTICLE_SLUG}"
APPROVED, PENDING, REJECTED = CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.REJECTED
START = datetime(2026, 11, 20, tzinfo=UTC)


def make_reply(db, parent: Comment, *, status=APPROVED, **overrides) -> Comment:
    """A stored reply under `parent` (in the parent's thread), counted as decide() counts it."""
    thread_id = parent.thread_id or parent.id
    reply = make_comment(db, thread_id=thread_id, reply_to_id=parent.id, status=status, **overrides)
    if status is APPROVED:
        replies_changed(db.session, thread_id, 1)
        db.session.commit()
    db.session.expire_all()
    return reply


def decide_now(db, comment_id: int, decision: Decision, clock, **options):
    db.session.expire_all()
    version = db.session.get(Comment, comment_id).version
    result = decide(db.session, comment_id, decision, expected_version=version, actor=SYSTEM, now=clock(), **options)
    assert result.ok, result
    db.session.expire_all()
    return result


def shared_html(app, url=ARTICLE_URL) -> str:
    return app.test_client().get(url).get_data(as_text=True)


def stored(db, comment_id: int) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


# Replies


def test_without_javascript_the_reply_link_opens_the_form_as_a_reply_and_the_reply_waits_for_review(app, db, page):
    top = make_comment(db, status=APPROVED, nickname="老王", body="國產儀器要加油")
    html = shared_html(app)
    link = f'{ARTICLE_URL}/comment?reply_to={top.id}#comment-form'
    assert f'href="{link}"' in html
    response = page.client.get(f"{ARTICLE_URL}/comment?reply_to={top.id}")
    assert response.headers["Cache-Control"] == "no-store"
    page.html = response.get_data(as_text=True)
    assert "回覆 @老王" in page.html and f'name="reply_to" value="{top.id}"' in page.html
    assert re.search(r'<textarea id="body"[^>]*aria-describedby="replying-text reply-quote body-hint"', page.html)
    assert re.search(r'<blockquote class="reply-quote" id="reply-quote"[^>]*>國產儀器要加油</blockquote>', page.html)
    assert page.post(body="同意你的看法", reply_to=str(top.id)).status_code == 303
    reply = db.session.scalar(select(Comment).where(Comment.body == "同意你的看法"))
    assert (reply.thread_id, reply.reply_to_id, reply.status) == (top.id, top.id, PENDING)
    assert "同意你的看法" not in shared_html(app)  # moderated like any comment
    assert stored(db, top.id).reply_count == 0


def test_the_reply_page_quotes_the_start_of_the_comment_as_readers_see_it(db, page):
    """A long comment is cut, and personal data in a comment published before any decision is
    masked there as on the article."""
    top = make_comment(db, status=APPROVED, version=1, body="請打 0912-345-678 找我。" + "很長的評論" * 40)
    html = page.client.get(f"{ARTICLE_URL}/comment?reply_to={top.id}").get_data(as_text=True)
    quoted = re.search(r'<blockquote class="reply-quote"[^>]*>([^<]*)</blockquote>', html).group(1)
    assert quoted.endswith("…") and len(quoted) == 121 and "0912-345-678" not in quoted and "請打" in quoted
    assert "reply-quote" not in page.client.get(f"{ARTICLE_URL}/comment").get_data(as_text=True)


def test_a_published_reply_shows_under_its_thread_and_is_counted(app, db, clock):
    top = make_comment(db, status=APPROVED, nickname="老王", body="主評論")
    reply = make_reply(db, top, status=PENDING, nickname="小李", body="第一則回覆")
    decide_now(db, reply.id, Decision.APPROVE, clock)
    assert stored(db, top.id).reply_count == 1
    html = shared_html(app)
    thread = html[html.index(f'id="comment-{top.id}"'):]
    assert thread.index("主評論") < thread.index("第一則回覆")
    assert 'class="replies"' in thread
    decide_now(db, reply.id, Decision.REJECT, clock, reason=RejectReason.OFF_TOPIC)
    assert stored(db, top.id).reply_count == 0
    assert "第一則回覆" not in shared_html(app)


def test_a_reply_to_a_reply_goes_in_the_thread_and_says_whom_it_answers(app, db, page, clock):
    top = make_comment(db, status=APPROVED, nickname="老王", body="主評論")
    first = make_reply(db, top, nickname="小李", body="第一則回覆")
    assert page.post(body="回小李的話", reply_to=str(first.id)).status_code == 303
    answer = db.session.scalar(select(Comment).where(Comment.body == "回小李的話"))
    assert (answer.thread_id, answer.reply_to_id) == (top.id, first.id)
    decide_now(db, answer.id, Decision.APPROVE, clock)
    html = shared_html(app)
    assert "回覆 @小李" in html
    assert stored(db, top.id).reply_count == 2


def test_the_first_three_replies_then_a_link_to_the_whole_thread_which_is_its_own_cacheable_page(app, db):
    top = make_comment(db, status=APPROVED, nickname="老王", body="熱門主評論")
    for index in range(5):
        make_reply(db, top, body=f"回覆{index}", created_at=START + timedelta(minutes=index))
    html = shared_html(app)
    assert all(f"回覆{index}" in html for index in range(3))
    assert "回覆3" not in html and "查看全部 5 則回覆" in html
    thread_url = f"{ARTICLE_URL}/comments/{top.id}/replies"
    assert f'href="{thread_url}"' in html
    client = app.test_client()
    response = client.get(thread_url)
    assert response.status_code == 200 and "public" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    body = response.get_data(as_text=True)
    assert all(f"回覆{index}" in body for index in range(5))
    assert re.search(r"<title>老王 的評論的回覆 - [^<]+ - 儀器網</title>", body)  # whose comment, which article
    assert client.get(thread_url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_each_threads_first_replies_are_read_from_the_front_of_its_index_however_long_it_is(app, db):
    """The first 3 published replies of each thread, ties broken by id, pending ones skipped, and the
    site's first 2 answers however late; and the statement reads at most 3 index entries per thread
    for the replies and 2 for the answers (a long thread costs what a short one does)."""
    from sqlalchemy import text

    from moderation.services.listing import first_replies, first_replies_query

    long, short, quiet = (make_comment(db, status=APPROVED, body=name) for name in ("長串", "短串", "無回覆"))
    make_reply(db, long, body="待審的", status=CommentStatus.PENDING, created_at=START)
    for index in range(40):
        make_reply(db, long, body=f"長{index}", created_at=START + timedelta(seconds=index // 2))  # pairs tie
    editor = make_moderator(db, "editor")
    for index in range(3):
        make_reply(db, long, body=f"本站{index}", staff_account_id=editor.id, created_at=START + timedelta(minutes=5 + index))
    make_reply(db, long, body="本站撤下", staff_account_id=editor.id, status=CommentStatus.REJECTED, created_at=START)
    make_reply(db, short, body="短0", created_at=START)
    make_reply(db, short, body="本站在前三", staff_account_id=editor.id, created_at=START + timedelta(minutes=1))
    found = first_replies(db.session, [long.id, short.id, quiet.id])
    assert {thread: [reply.comment.body for reply in replies] for thread, replies in found.items()} == {
        long.id: ["長0", "長1", "長2", "本站0", "本站1"], short.id: ["短0", "本站在前三"]}

    dialect = db.engine.dialect.name
    statement = first_replies_query(dialect, [long.id, short.id, quiet.id]).compile(
        db.engine, compile_kwargs={"literal_binds": True})
    connection = db.session.connection()
    if dialect == "postgresql":
        plan = connection.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}")).scalar()

        def nodes(node):
            yield node
            for child in node.get("Plans", []):
                yield from nodes(child)

        limits = [node for node in nodes(plan[0]["Plan"]) if node["Node Type"] == "Limit"]
        assert limits and all(node["Actual Rows"] <= 3 for node in limits)  # per loop: one loop per thread
        assert sum(node["Actual Loops"] for node in limits) == 3 * 2  # the replies' and the answers'
    else:
        plan = " / ".join(row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {statement}")))
        assert "CORRELATED LIST SUBQUERY" in plan and "ix_comment_thread_status_created" in plan
        assert "ix_comment_thread_staff_created" in plan, plan
        assert "SCAN" not in plan.replace("SCAN (", ""), plan  # every table read by a search, none scanned


def test_the_thread_page_is_read_in_keyset_pages(app, db):
    app.config["COMMENTS_PAGE_SIZE"] = 2
    top = make_comment(db, status=APPROVED, body="主評論")
    for index in range(5):
        make_reply(db, top, body=f"回覆{index}", created_at=START)  # equal times: the id breaks ties
    client = app.test_client()
    url, seen = f"{ARTICLE_URL}/comments/{top.id}/replies", []
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"回覆(\d)", html)
        later = re.search(r'href="([^"]+)" rel="next" data-later-replies', html)
        url = later.group(1).replace("&amp;", "&") if later else None
    assert seen == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("path", ["/comments/{reply}/replies", "/comments/{pending}/replies",
                                  "/comments/999999/replies", "/comments/{top}/replies?after=nonsense"])
def test_a_thread_page_that_is_not_one_is_404(app, db, path):
    top = make_comment(db, status=APPROVED)
    reply = make_reply(db, top)
    pending = make_comment(db)
    url = ARTICLE_URL + path.format(reply=reply.id, pending=pending.id, top=top.id)
    assert app.test_client().get(url).status_code == 404


def _other_article_comment(db):
    other, _ = load_article(db.session, "另一篇文章的內文。", slug="another-story")
    db.session.commit()
    return make_comment(db, article_id=other.id, status=APPROVED).id


@pytest.mark.parametrize("target", ["other_article", "pending", "rejected", "missing", "huge", "malformed", "negative"])
def test_a_reply_that_cannot_be_answered_is_refused_with_the_input_kept(db, page, target):
    ids = {
        "other_article": lambda: str(_other_article_comment(db)),
        "pending": lambda: str(make_comment(db).id),
        "rejected": lambda: str(make_comment(db, status=REJECTED).id),
        "missing": lambda: "999999",
        "huge": lambda: "9" * 5000,
        "malformed": lambda: "1 OR 1=1",
        "negative": lambda: "-3",
    }
    reply_to = ids[target]()
    response = page.post(nickname="想回覆的人", body="這段文字要保留", reply_to=reply_to)
    assert response.status_code == 422
    assert 'value="想回覆的人"' in page.html and "這段文字要保留" in page.html
    assert "再按「送出評論」將發表為一般評論" in page.html
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.body == "這段文字要保留")) == 0


def test_each_comments_reply_and_report_links_name_whose_comment_they_act_on(db, page):
    """In a screen reader's list of links, fifty 「回覆」 links must be told apart."""
    make_comment(db, status=APPROVED, nickname="王五", body="有名字的評論")
    make_comment(db, status=APPROVED, is_anonymous=True, nickname=None, body="匿名的評論")
    html = page.client.get(ARTICLE_URL).get_data(as_text=True)
    assert 'aria-label="回覆 王五 的評論" data-reply-link>回覆</a>' in html
    assert 'aria-label="檢舉 王五 的評論" data-report-link>檢舉</a>' in html
    assert 'aria-label="回覆 匿名網友 的評論"' in html
    english = page.client.get(f"{ARTICLE_URL}?lang=en").get_data(as_text=True)
    assert 'aria-label="Reply to 王五’s comment"' in english


def test_a_reply_link_to_a_comment_that_cannot_be_answered_says_so_alone(db, page):
    """Opening 回覆's link sends nothing: the page says the comment cannot be answered, not that a
    comment was refused."""
    response = page.client.get(f"{ARTICLE_URL}/comment?reply_to=999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "找不到要回覆的評論" in html
    assert "評論尚未送出" not in html


def test_the_refusal_is_worded_in_the_page_language(db, page):
    page.client.set_cookie("lang", "en")
    response = page.post(body="text kept", reply_to="999999")
    assert response.status_code == 422
    assert "找不到要回覆的評論" not in page.html and "text kept" in page.html


def test_a_reply_whose_parent_is_rejected_or_erased_stays_readable(app, db, clock):
    rejected_top = make_comment(db, status=APPROVED, body="會被拒絕的主評論", author_hash="c" * 64)
    make_reply(db, rejected_top, body="留下來的回覆甲")
    erased_top = make_comment(db, status=APPROVED, body="會被刪除的主評論", author_hash="d" * 64)
    make_reply(db, erased_top, body="留下來的回覆乙")
    decide_now(db, rejected_top.id, Decision.REJECT, clock, reason=RejectReason.ABUSE)
    erase_author(db.session, "d" * 8, actor=SYSTEM, now=clock())
    db.session.commit()
    html = shared_html(app)
    assert "會被拒絕的主評論" not in html and "會被刪除的主評論" not in html
    assert "留下來的回覆甲" in html and "留下來的回覆乙" in html
    assert html.count("原評論已刪除") == 2
    kept = stored(db, erased_top.id)
    assert kept.body == "" and kept.author_hash == "" and kept.nickname is None


def test_a_thread_whose_last_reply_goes_leaves_the_list_with_its_unpublished_top(app, db, clock):
    top = make_comment(db, status=APPROVED, body="主評論")
    reply = make_reply(db, top, body="唯一的回覆")
    decide_now(db, top.id, Decision.REJECT, clock, reason=RejectReason.ABUSE)
    assert stored(db, top.id).listed
    decide_now(db, reply.id, Decision.SPAM, clock)
    assert not stored(db, top.id).listed
    assert "原評論已刪除" not in shared_html(app)


def test_a_reply_to_a_reply_that_went_says_so(app, db, clock):
    top = make_comment(db, status=APPROVED, body="主評論")
    first = make_reply(db, top, nickname="小李", body="會被撤下的回覆")
    make_reply(db, first, body="回小李")
    decide_now(db, first.id, Decision.REJECT, clock, reason=RejectReason.ABUSE)
    html = shared_html(app)
    assert "回小李" in html and "回覆 @小李" not in html and "原評論已刪除" in html


# Editors' picks and the site's answers


def test_a_moderator_pins_up_to_three_picks_shown_first_and_logged(app, db, moderator):
    comments = [make_comment(db, status=APPROVED, body=f"精選候選{index}", created_at=START + timedelta(minutes=index))
                for index in range(4)]
    for comment in comments[:3]:
        response = moderator.post(f"/moderation/comments/{comment.id}/pin", pinned="1", back="/moderation/?tab=approved")
        assert response.status_code == 303
    fourth = moderator.post(f"/moderation/comments/{comments[3].id}/pin", pinned="1", back="/moderation/?tab=approved")
    refused = moderator.client.get(fourth.headers["Location"]).get_data(as_text=True)
    assert "每篇文章最多 3 則編輯精選" in refused
    assert "目前的精選：" + "、".join(f'<a href="/moderation/comments/{each.id}">#{each.id}</a>'
                                for each in comments[:3]) in refused  # which one to unpin
    db.session.expire_all()
    assert db.session.get(Comment, comments[3].id).pinned_at is None
    html = shared_html(app)
    picks = html[html.index('id="picks-heading"'):html.index('id="comment-list-heading"')]
    assert "編輯精選" in html and all(f"精選候選{index}" in picks for index in range(3)) and "精選候選3" not in picks
    moderator.post(f"/moderation/comments/{comments[0].id}/pin", pinned="0", back="/moderation/")
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(["pin", "unpin"]))).all()
    assert sorted(actions) == ["pin", "pin", "pin", "unpin"]
    assert "精選候選0" not in shared_html(app).split('id="comment-list-heading"')[0]


def test_the_queue_script_pins_in_place_and_gets_the_card_saying_what_was_done(app, db, moderator):
    comments = [make_comment(db, status=APPROVED, body=f"精選候選{index}", created_at=START + timedelta(minutes=index))
                for index in range(4)]

    def pin(comment, pinned="1"):
        return moderator.client.post(f"/moderation/comments/{comment.id}/pin?tab=approved",
                                     data={"csrf_token": moderator.csrf(), "pinned": pinned, "back": "/moderation/"},
                                     headers={"Accept": "application/json"})

    first = pin(comments[0])
    assert first.status_code == 200 and first.json["ok"] and first.json["code"] == "pinned"
    card = first.json["card"]
    assert f'id="card-{comments[0].id}"' in card and f"#{comments[0].id} 已設為編輯精選。" in card
    assert 'name="pinned" value="0"' in card and "取消編輯精選" in card  # p again takes it back
    assert 'role="status"' not in card  # the script says it once
    for comment in comments[1:3]:
        assert pin(comment).json["code"] == "pinned"
    full = pin(comments[3])
    assert full.status_code == 409 and full.json["code"] == "full" and not full.json["ok"]
    assert "每篇文章最多 3 則編輯精選" in full.json["card"] and f"#{comments[0].id}</a>" in full.json["card"]
    unpinned = pin(comments[0], pinned="0")
    assert unpinned.json["code"] == "unpinned" and f"#{comments[0].id} 已取消編輯精選。" in unpinned.json["card"]
    missing = moderator.client.post("/moderation/comments/999999/pin", data={"csrf_token": moderator.csrf(), "pinned": "1"},
                                    headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json["card"] is None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(["pin", "unpin"]))).all()
    assert sorted(actions) == ["pin", "pin", "pin", "unpin"]


def test_a_pick_links_to_its_place_and_a_picked_reply_says_it_is_one(app, db, moderator):
    top = make_comment(db, status=APPROVED, body="主評論")
    reply = make_reply(db, top, body="被選為精選的回覆")
    for comment in (top, reply):
        assert moderator.post(f"/moderation/comments/{comment.id}/pin", pinned="1", back="/moderation/").status_code == 303
    html = shared_html(app)
    picks = html[html.index('id="picks-heading"'):html.index('id="comment-list-heading"')]
    assert f'href="{ARTICLE_URL}/comments/{top.id}/replies#comment-{reply.id}">這是一則回覆：在討論串中查看</a>' in picks
    assert f'href="{ARTICLE_URL}/comments/{top.id}/replies#comment-{top.id}">在討論串中查看</a>' in picks
    thread = app.test_client().get(f"{ARTICLE_URL}/comments/{top.id}/replies").get_data(as_text=True)
    assert f'id="comment-{reply.id}"' in thread


def test_in_english_the_picks_are_editors_picks_and_each_one_an_editors_pick(app, db, moderator):
    comment = make_comment(db, status=APPROVED, body="唯一的精選")
    moderator.post(f"/moderation/comments/{comment.id}/pin", pinned="1", back="/moderation/")
    html = app.test_client().get(ARTICLE_URL, query_string={"lang": "en"}).get_data(as_text=True)
    assert 'id="picks-heading">Editors\' picks<' in html
    assert '<span class="badge">Editors\' pick</span>' in html


def test_a_pick_taken_down_stops_being_one(app, db, moderator, clock):
    comment = make_comment(db, status=APPROVED, body="曾經的精選")
    moderator.post(f"/moderation/comments/{comment.id}/pin", pinned="1", back="/moderation/")
    assert stored(db, comment.id).pinned_at is not None
    decide_now(db, comment.id, Decision.REJECT, clock, reason=RejectReason.ABUSE)
    decide_now(db, comment.id, Decision.APPROVE, clock)
    assert stored(db, comment.id).pinned_at is None
    assert 'id="picks-heading"' not in shared_html(app)


def test_the_moderator_is_told_when_a_rejection_takes_a_pick_down_with_and_without_the_script(db, moderator):
    picked, other = (make_comment(db, status=APPROVED, body=f"精選{index}", created_at=START + timedelta(minutes=index))
                     for index in range(2))
    for comment in (picked, other):
        moderator.post(f"/moderation/comments/{comment.id}/pin", pinned="1", back="/moderation/")
    told = "也已取消編輯精選；復原時若精選仍有空位，會一併放回。"
    in_place = moderator.post(f"/moderation/comments/{picked.id}/decision.json?tab=approved", decision="reject",
                              reason="abuse", version=stored(db, picked.id).version, back="/moderation/?tab=approved")
    assert in_place.json["code"] == "decided" and told in in_place.json["html"]
    page = moderator.post(f"/moderation/comments/{other.id}/decide", decision="reject", reason="abuse",
                          version=stored(db, other.id).version, back="/moderation/?tab=approved")
    said = moderator.client.get(page.headers["Location"]).get_data(as_text=True)
    assert f"#{other.id} {told}" in said
    plain = make_comment(db, status=APPROVED, body="不是精選")
    page = moderator.post(f"/moderation/comments/{plain.id}/decide", decision="reject", reason="abuse",
                          version=stored(db, plain.id).version, back="/moderation/?tab=approved")
    assert told not in moderator.client.get(page.headers["Location"]).get_data(as_text=True)


def test_undoing_a_rejected_pick_says_whether_the_pick_came_back(db, moderator):
    picked, *others = (make_comment(db, status=APPROVED, body=f"精選{index}", created_at=START + timedelta(minutes=index))
                       for index in range(4))
    moderator.post(f"/moderation/comments/{picked.id}/pin", pinned="1", back="/moderation/?tab=approved")

    def reject():
        rejected = moderator.post(f"/moderation/comments/{picked.id}/decide", decision="reject", reason="abuse",
                                  version=stored(db, picked.id).version, back="/moderation/?tab=approved")
        assert rejected.status_code == 303 and stored(db, picked.id).pinned_at is None

    def undo(in_place: bool):
        form = {"decision": "approve", "version": stored(db, picked.id).version, "undo": "1",
                "back": "/moderation/?tab=rejected"}
        if in_place:  # the queue's script
            return moderator.post(f"/moderation/comments/{picked.id}/decision.json?tab=rejected", **form).json
        undone = moderator.post(f"/moderation/comments/{picked.id}/decide", **form)
        return moderator.client.get(undone.headers["Location"]).get_data(as_text=True)

    reject()
    assert undo(in_place=True)["pick"] == "restored"  # room for it: a pick again
    reject()
    assert f"#{picked.id} 已放回編輯精選。" in undo(in_place=False)
    assert stored(db, picked.id).pinned_at is not None
    reject()
    for other in others:  # meanwhile the article gets its 3 picks
        moderator.post(f"/moderation/comments/{other.id}/pin", pinned="1", back="/moderation/?tab=approved")
    assert f"#{picked.id} 未放回編輯精選：這篇文章的精選已滿 3 則。" in undo(in_place=False)
    assert stored(db, picked.id).pinned_at is None and stored(db, picked.id).status is APPROVED


def test_a_pin_sent_again_after_its_answer_was_lost_says_the_comment_is_a_pick_already(db, moderator):
    comment = make_comment(db, status=APPROVED, body="精選一次就好")
    for pinned, said in (("1", "已經是編輯精選。"), ("0", "已經不是編輯精選。")):
        moderator.post(f"/moderation/comments/{comment.id}/pin", pinned=pinned, back="/moderation/?tab=approved")
        again = moderator.post(f"/moderation/comments/{comment.id}/pin", pinned=pinned, back="/moderation/?tab=approved")
        page = moderator.client.get(again.headers["Location"]).get_data(as_text=True)
        assert f"#{comment.id} {said}" in page and "沒有變更" not in page
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(["pin", "unpin"]))).all()
    assert sorted(actions) == ["pin", "unpin"]  # each once


def test_an_unpublished_comment_cannot_be_picked(db, moderator):
    pending = make_comment(db)
    response = moderator.post(f"/moderation/comments/{pending.id}/pin", pinned="1", back="/moderation/")
    assert "只有已公開的評論能設為編輯精選" in moderator.client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored(db, pending.id).pinned_at is None


def test_the_site_answers_with_a_badge_from_the_column_published_at_once_and_logged(app, db, moderator):
    top = make_comment(db, status=APPROVED, nickname="讀者", body="請問數據來源？")
    page = moderator.client.get(f"/moderation/comments/{top.id}/answer").get_data(as_text=True)
    assert "請問數據來源？" in page
    response = moderator.post(f"/moderation/comments/{top.id}/answer", body="數據來自市場監管總局。", back="/moderation/")
    assert response.status_code == 303
    answer = db.session.scalar(select(Comment).where(Comment.body == "數據來自市場監管總局。"))
    assert answer.status is APPROVED and answer.staff_account_id is not None and answer.nickname is None
    assert answer.thread_id == top.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff_answer"))
    assert entry.comment_id == answer.id and entry.actor == "mod"
    html = shared_html(app)
    assert '<span class="author staff-badge">本站編輯</span>' in html and "數據來自市場監管總局。" in html


def test_a_pin_or_an_answer_is_told_just_above_its_card_and_a_pick_wears_its_badge(db, moderator):
    """Said at the top of the list, a pin's result was out of view: the page lands on the card."""
    comments = [make_comment(db, status=APPROVED, body=f"候選{index}", created_at=START + timedelta(minutes=index))
                for index in range(4)]
    back = "/moderation/?tab=approved"
    for comment in comments[:3]:
        moderator.post(f"/moderation/comments/{comment.id}/pin", pinned="1", back=back)
    fourth = moderator.post(f"/moderation/comments/{comments[3].id}/pin", pinned="1", back=back)
    assert fourth.location == f"{back}#result-{comments[3].id}"
    html = moderator.client.get(fourth.location).get_data(as_text=True)
    told = html[html.index(f'id="result-{comments[3].id}"'):html.index(f'id="card-{comments[3].id}"')]
    assert "每篇文章最多 3 則編輯精選" in told
    assert '<span class="pick-badge">編輯精選</span>' in _card(html, comments[0].id)
    answered = moderator.post(f"/moderation/comments/{comments[1].id}/answer", body="謝謝指正。", back=back)
    assert answered.location == f"{back}#result-{comments[1].id}"
    html = moderator.client.get(answered.location).get_data(as_text=True)
    assert "已以本站名義回覆" in html[html.index(f'id="result-{comments[1].id}"'):html.index(f'id="card-{comments[1].id}"')]


def _answered_by_the_site(db, moderator):
    """A reader's question answered as the site: (the question, the answer, the 已通過 queue's HTML)."""
    top = make_comment(db, status=APPROVED, body="請問？")
    moderator.post(f"/moderation/comments/{top.id}/answer", body="這是本站的回答。", back="/moderation/")
    answer = db.session.scalar(select(Comment).where(Comment.body == "這是本站的回答。"))
    return top, answer, moderator.queue(tab="approved")


def _card(html: str, comment_id: int) -> str:
    start = html.index(f'id="card-{comment_id}"')
    return html[start:html.index("</article>", start)]


def test_the_sites_own_answer_offers_no_restriction_of_its_author(db, moderator):
    top, answer, html = _answered_by_the_site(db, moderator)
    assert "停權或先審" not in _card(html, answer.id)
    assert "停權或先審" in _card(html, top.id)


def test_the_site_does_not_answer_its_own_answer(db, moderator):
    top, answer, html = _answered_by_the_site(db, moderator)
    assert f"/comments/{answer.id}/answer" not in _card(html, answer.id)
    assert f"/comments/{top.id}/answer" in _card(html, top.id)
    said = "這是本站自己的回覆，不能再以本站名義回覆它；請回覆讀者的評論。"
    page = moderator.client.get(f"/moderation/comments/{answer.id}/answer").get_data(as_text=True)
    assert said in page and 'name="body"' not in page
    response = moderator.post(f"/moderation/comments/{answer.id}/answer", body="自問自答", back="/moderation/")
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.body == "自問自答")) == 0


def test_the_site_answer_refused_keeps_the_text(db, moderator):
    top = make_comment(db, status=APPROVED)
    response = moderator.post(f"/moderation/comments/{top.id}/answer", body="  ", back="/moderation/")
    assert response.status_code == 422 and "請輸入評論內容" in response.get_data(as_text=True)
    long = "長" * 2001
    response = moderator.post(f"/moderation/comments/{top.id}/answer", body=long, back="/moderation/")
    assert response.status_code == 422 and long in response.get_data(as_text=True)
    pending = make_comment(db)
    response = moderator.post(f"/moderation/comments/{pending.id}/answer", body="回覆待審", back="/moderation/")
    assert response.status_code == 422 and "回覆待審" in response.get_data(as_text=True)
    assert moderator.post("/moderation/comments/999999/answer", body="x").status_code == 404


def test_no_reader_can_wear_the_badge(app, db, page):
    for nickname in ("本站編輯", "本站编辑", "小編", "Editor", "ＥＤＩＴＯＲ"):
        assert page.post(nickname=nickname, body="我是編輯").status_code == 422
        assert "此暱稱可能被誤認為本站人員" in page.html
    make_comment(db, status=APPROVED, nickname="本站編輯的粉絲", body="讀者的評論")
    assert "staff-badge" not in shared_html(app)


# What became of my comment


def test_the_author_sees_each_state_of_their_own_comments_and_nobody_else_does(app, db, page, clock):
    page.post(body="還在審核的評論")
    for body in ("會公開的評論", "會被拒絕的評論", "拒絕並說明的評論", "公開後撤下的評論"):
        page.post(body=body)
    by_body = {comment.body: comment for comment in db.session.scalars(select(Comment))}
    decide_now(db, by_body["會公開的評論"].id, Decision.APPROVE, clock)
    decide_now(db, by_body["會被拒絕的評論"].id, Decision.REJECT, clock, reason=RejectReason.ADVERTISING,
               note="內部備註不給作者看")
    decide_now(db, by_body["拒絕並說明的評論"].id, Decision.REJECT, clock, reason=RejectReason.OTHER,
               note="請附上來源", details={"note_shared": True})
    decide_now(db, by_body["公開後撤下的評論"].id, Decision.APPROVE, clock)
    decide_now(db, by_body["公開後撤下的評論"].id, Decision.REJECT, clock, reason=RejectReason.ABUSE)

    response = page.open()
    assert response.headers["Cache-Control"] == "private, no-store"
    own = page.html[page.html.index('id="own-heading"'):page.html.index('id="comment-list-heading"')]

    def state_of(body: str) -> str:
        item = re.search(r'<li id="own-\d+"(?:(?!</li>).)*' + body + r'(?:(?!</li>).)*</li>', own, re.S)
        return item.group(0)

    assert "審核中" in state_of("還在審核的評論")
    published = state_of("會公開的評論")
    assert "已公開" in published and f'#comment-{by_body["會公開的評論"].id}' in published
    refused = state_of("會被拒絕的評論")
    assert "未通過" in refused and "廣告" in refused and "內部備註不給作者看" not in page.html
    shared = state_of("拒絕並說明的評論")
    assert "未通過" in shared and re.search(r"原因：(<span[^>]*>)?請附上來源", shared) and "其他" not in shared  # the note alone
    removed = state_of("公開後撤下的評論")
    assert "已刪除" in removed and "人身攻擊" in removed

    others = shared_html(app)
    assert "還在審核的評論" not in others and "會被拒絕的評論" not in others and "請附上來源" not in others
    stranger = make_page(app)
    stranger.client.set_cookie("reader", "forged")
    assert "會被拒絕的評論" not in stranger.open().get_data(as_text=True)


def test_the_authors_own_replies_say_what_they_answer_while_they_wait_too(db, page, clock):
    top = make_comment(db, status=APPROVED, nickname="老王", body="主評論")
    anonymous = make_reply(db, top, status=APPROVED, nickname=None, is_anonymous=True, body="匿名的回覆")
    gone = make_reply(db, top, status=APPROVED, nickname="小李", body="後來被拒絕的回覆")
    page.post(body="回覆主評論", reply_to=str(top.id))
    page.post(body="回覆匿名網友", reply_to=str(anonymous.id))
    page.post(body="回覆小李", reply_to=str(gone.id))
    decide_now(db, gone.id, Decision.REJECT, clock, reason=RejectReason.ABUSE)
    page.open()
    own = page.html[page.html.index('id="own-heading"'):page.html.index('id="comment-list-heading"')]
    items = {body: re.search(r'<li id="own-\d+"(?:(?!</li>).)*' + body + r'(?:(?!</li>).)*</li>', own, re.S).group(0)
             for body in ("回覆主評論", "回覆匿名網友", "回覆小李")}
    assert "審核中" in items["回覆主評論"] and "回覆 @老王" in items["回覆主評論"]
    assert "回覆 @匿名網友" in items["回覆匿名網友"]
    assert "原評論已刪除" in items["回覆小李"] and "@小李" not in items["回覆小李"]


def test_after_posting_a_reply_the_notice_stands_in_its_thread(db, page):
    older = make_comment(db, status=APPROVED, body="較早的主評論")
    top = make_comment(db, status=APPROVED, nickname="老王", body="被回覆的主評論",
                       created_at=older.created_at + timedelta(minutes=1))
    answer = page.post(body="我的回覆", reply_to=str(top.id))
    assert answer.status_code == 303 and answer.headers["Location"].endswith("#notice")
    html = page.client.get(ARTICLE_URL).get_data(as_text=True)
    thread = html[html.index(f'<li id="comment-{top.id}"'):html.index(f'<li id="comment-{older.id}"')]
    assert 'id="notice"' in thread and "您的評論已送出，審核通過後將會公開" in thread


def test_a_moderator_shares_the_note_with_the_author_by_ticking_it(db, moderator):
    comment = make_comment(db)
    moderator.decide(comment, "reject", reason="other", note="請附上來源", share_note="1")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reject"))
    assert entry.details == {"note_shared": True}
    other = make_comment(db)
    moderator.decide(other, "reject", reason="other", note="不給作者看")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.comment_id == other.id))
    assert not entry.details


# The moderator's side


def test_a_reply_card_shows_the_parent_and_the_thread_position(db, moderator):
    top = make_comment(db, status=APPROVED, nickname="老王", body="被回覆的主評論")
    make_reply(db, top, body="第一則", created_at=START)
    make_reply(db, top, status=PENDING, body="待審的第二則", created_at=START + timedelta(minutes=1))
    html = moderator.queue()
    assert "被回覆的主評論" in html and "回覆（此串第 2 則，共 2 則）" in html


def test_the_queue_filters_replies_and_top_level_comments(db, moderator):
    top = make_comment(db, status=APPROVED, body="主評論")
    make_reply(db, top, status=PENDING, body="待審回覆")
    make_comment(db, body="待審主評論")
    replies = moderator.queue(kind="replies")
    assert "待審回覆" in replies and "待審主評論" not in replies and "只看回覆" in replies
    tops = moderator.queue(kind="top")
    assert "待審主評論" in tops and "待審回覆" not in tops
    assert "待審主評論" in moderator.queue(kind="nonsense")


def test_rejecting_a_parent_can_reject_its_pending_replies_each_through_decide(db, moderator):
    top = make_comment(db, body="待審主評論")
    first = make_reply(db, top, status=PENDING, body="待審回覆一")
    second = make_reply(db, top, status=PENDING, body="待審回覆二")
    html = moderator.queue()
    assert "一併拒絕 2 則待審回覆" in html
    moderator.decide(top, "reject", reason="abuse", with_replies="1",
                     reply_item=[f"{first.id}:{first.version}", f"{second.id}:{second.version}"])
    db.session.expire_all()
    assert {db.session.get(Comment, each.id).status for each in (top, first, second)} == {REJECTED}
    rejected = db.session.scalars(select(AuditEntry.comment_id).where(AuditEntry.action == "reject")).all()
    assert sorted(rejected) == sorted([top.id, first.id, second.id])
    # Its result's one 復原 takes back the three (each through decide(), logged as an undo).
    html = moderator.queue()
    assert "全部復原（3 則）" in html
    undo_items = re.findall(r'name="undo_item" value="([^"]+)"', html)
    assert sorted(item.split(":")[0] for item in undo_items) == sorted(str(each.id) for each in (top, first, second))
    moderator.post("/moderation/comments/bulk-undo", undo_item=undo_items, back="/moderation/")
    db.session.expire_all()
    assert {db.session.get(Comment, each.id).status for each in (top, first, second)} == {PENDING}


def test_without_the_tick_the_pending_replies_stay(db, moderator):
    top = make_comment(db, body="待審主評論")
    reply = make_reply(db, top, status=PENDING)
    moderator.decide(top, "reject", reason="abuse", reply_item=[f"{reply.id}:{reply.version}"])
    assert stored(db, reply.id).status is PENDING


def test_the_author_history_shows_replies(db, moderator):
    top = make_comment(db, status=APPROVED, author_hash="e" * 64)
    reply = make_reply(db, top, author_hash="f" * 64, body="作者的回覆")
    html = moderator.client.get("/moderation/authors/ffffffff").get_data(as_text=True)
    assert "作者的回覆" in html and f"回覆 #{top.id}" in html
    # each row leads to its card, to act on it
    assert f'<a href="/moderation/comments/{reply.id}">#{reply.id}</a>' in html


def test_rejecting_in_place_with_the_replies_answers_their_lines_too(db, moderator):
    top = make_comment(db, body="待審主評論")
    reply = make_reply(db, top, status=PENDING, body="待審回覆")
    response = moderator.post(f"/moderation/comments/{top.id}/decision.json", decision="reject", version=top.version,
                              reason="abuse", with_replies="1", reply_item=f"{reply.id}:{reply.version}",
                              back="/moderation/")
    answer = response.get_json()
    assert response.status_code == 200 and answer["code"] == "decided"
    assert [each["id"] for each in answer["also"]] == [reply.id] and f"#{reply.id}" in answer["also"][0]["html"]
    assert stored(db, reply.id).status is REJECTED
    # The parent's line says which replies went with it; its undo takes them back too, and their cards return.
    assert f"一併拒絕 1 則回覆（#{reply.id}）；復原會一併還原。" in answer["html"]
    undo_reply = re.findall(r'name="undo_reply" value="([^"]+)"', answer["html"])
    assert undo_reply == [f"{reply.id}:{stored(db, reply.id).version}:restore"]
    undone = moderator.post(f"/moderation/comments/{top.id}/decision.json", decision="restore",
                            version=stored(db, top.id).version, undo="1", undo_reply=undo_reply,
                            back="/moderation/").get_json()
    assert undone["code"] == "undone" and [each["id"] for each in undone["also"]] == [reply.id]
    assert f'id="card-{reply.id}"' in undone["also"][0]["card"]
    assert stored(db, top.id).status is PENDING and stored(db, reply.id).status is PENDING
    assert undone["counts"]["pending"] == 2
    # The same line's 復原 sent as a plain form (the script's fallback when the request fails) does the same.
    again = moderator.post(f"/moderation/comments/{top.id}/decision.json", decision="reject", version=stored(db, top.id).version,
                           reason="abuse", with_replies="1", reply_item=f"{reply.id}:{stored(db, reply.id).version}",
                           back="/moderation/").get_json()
    undo_reply = re.findall(r'name="undo_reply" value="([^"]+)"', again["html"])
    moderator.post(f"/moderation/comments/{top.id}/decide", decision="restore", version=stored(db, top.id).version,
                   undo="1", undo_reply=undo_reply, back="/moderation/")
    assert stored(db, top.id).status is PENDING and stored(db, reply.id).status is PENDING


def test_a_decision_in_place_answers_its_authors_counts_as_they_are_now(db, moderator):
    first = make_comment(db, body="第一則", author_hash="a" * 64)
    make_comment(db, body="第二則", author_hash="a" * 64)
    answer = moderator.post(f"/moderation/comments/{first.id}/decision.json", decision="approve",
                            version=first.version, back="/moderation/").get_json()
    assert answer["authors"] == [{"tag": "aaaaaaaa", "approved": 1, "rejected": 0, "spam": 0, "pending": 1}]
    html = moderator.queue()
    assert '<span data-author-history="aaaaaaaa">' in html and '<span data-history="pending">1</span>' in html


def test_without_the_script_a_rejection_whose_next_card_went_with_it_opens_at_its_result(db, moderator):
    """The card after the parent is its first reply, rejected with it: no card is there to land on."""
    top = make_comment(db, body="待審主評論")
    reply = make_reply(db, top, status=PENDING, body="待審回覆")
    response = moderator.post(f"/moderation/comments/{top.id}/decide", decision="reject", version=top.version,
                              reason="abuse", with_replies="1", reply_item=f"{reply.id}:{reply.version}",
                              focus=str(reply.id), back="/moderation/")
    assert response.status_code == 303 and response.headers["Location"].endswith("/moderation/#bulk-result")
    page = moderator.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="bulk-result" tabindex="-1"' in page and f"#{top.id}、#{reply.id}" in page and "全部復原（2 則）" in page


def test_the_undo_says_on_its_line_why_a_reply_decided_on_since_stays(db, moderator, clock):
    top = make_comment(db, body="待審主評論")
    replies = [make_reply(db, top, status=PENDING, body=f"待審回覆{index}") for index in range(2)]
    answer = moderator.post(f"/moderation/comments/{top.id}/decision.json", decision="reject", version=top.version,
                            reason="abuse", with_replies="1", back="/moderation/",
                            reply_item=[f"{reply.id}:{reply.version}" for reply in replies]).get_json()
    undo_reply = re.findall(r'name="undo_reply" value="([^"]+)"', answer["html"])
    decide_now(db, replies[1].id, Decision.RESTORE, clock)  # another moderator took this one back meanwhile
    undone = moderator.post(f"/moderation/comments/{top.id}/decision.json", decision="restore",
                            version=stored(db, top.id).version, undo="1", undo_reply=undo_reply,
                            back="/moderation/").get_json()
    assert undone["code"] == "undone"
    back, staying = undone["also"]
    assert back["id"] == replies[0].id and f'id="card-{replies[0].id}"' in back["card"]
    assert staying["id"] == replies[1].id and "card" not in staying
    assert staying["problem"].startswith(f"#{replies[1].id}：這則評論已由") and "您的操作未套用" in staying["problem"]


def test_a_reply_published_at_once_under_post_moderation_is_counted_in_the_same_transaction(app, db, page):
    from moderation.models import Article, CommentMode

    article = db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))
    article.comment_mode = CommentMode.POST_MODERATION
    db.session.commit()
    top = make_comment(db, status=APPROVED, nickname="老王", body="主評論")
    assert page.post(body="立即公開的回覆", reply_to=str(top.id)).status_code == 303
    assert stored(db, top.id).reply_count == 1
    assert "立即公開的回覆" in shared_html(app)


def test_migration_0016_lists_the_published_comments_already_stored(tmp_path):
    """Comments stored before replies existed head their threads once the schema is upgraded."""
    import sqlalchemy
    from flask_migrate import downgrade, upgrade

    from moderation import create_app

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "k", "IP_PEPPER": "p"})
    with app.app_context():
        upgrade(revision="5c2e8a71d3f0")
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(
                "INSERT INTO article (key, slug, title, column_name, body, body_html, comment_mode, created_at,"
                " approved_count, revision) VALUES ('a', 'a', 't', '', 'b', '', 'pre', '2026-11-01', 1, 1)"))
            for status in ("approved", "pending"):
                connection.execute(sqlalchemy.text(
                    "INSERT INTO comment (article_id, is_anonymous, body, status, created_at, ip_hash, author_hash,"
                    " fingerprint, version, search_text) VALUES (1, 0, 'x', :status, '2026-11-01', '', '', '', 1, '')"),
                    {"status": status})
        upgrade()
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT status, listed, reply_count FROM comment ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [("approved", 1, 0), ("pending", 0, 0)]
        downgrade(revision="5c2e8a71d3f0")
        engine.dispose()
