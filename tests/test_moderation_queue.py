"""The review queue: tabs, counts, filters, keyset pages, cards, decisions one by one and in bulk."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from moderation.models import AuditEntry, Comment, CommentStatus, ScreeningReason
from tests.conftest import ARTICLE_SLUG, ModeratorBrowser, make_comment, make_moderator

PENDING, APPROVED, REJECTED, SPAM = (CommentStatus.PENDING, CommentStatus.APPROVED,
                                     CommentStatus.REJECTED, CommentStatus.SPAM)


def card_ids(html):
    return [int(value) for value in re.findall(r'id="card-(\d+)"', html)]


def reload(db, comment):
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def test_pending_queue_lists_oldest_first_with_counts_per_tab(moderator, db):
    newer = make_comment(db, body="較新的評論")
    older = make_comment(db, body="較舊的評論", created_at=newer.created_at - timedelta(hours=1))
    make_comment(db, body="已通過的", status=APPROVED)
    make_comment(db, body="垃圾", status=SPAM)
    html = moderator.queue()
    assert card_ids(html) == [older.id, newer.id]
    assert re.search(r"待審核 <span class=\"count\"[^>]*>2</span>", html)
    assert re.search(r"已通過 <span class=\"count\"[^>]*>1</span>", html)
    assert re.search(r"垃圾 <span class=\"count\"[^>]*>1</span>", html)
    assert re.search(r"已拒絕 <span class=\"count\"[^>]*>0</span>", html)


def test_decided_tabs_list_newest_first(moderator, db):
    first = make_comment(db, status=APPROVED)
    second = make_comment(db, status=APPROVED, created_at=first.created_at + timedelta(minutes=5))
    assert card_ids(moderator.queue(tab="approved")) == [second.id, first.id]


def test_keyset_pages_cover_every_comment_once(moderator, db, app):
    app.config["QUEUE_PAGE_SIZE"] = 3
    base = make_comment(db).created_at
    for index in range(7):  # several share a timestamp: the id breaks the tie
        make_comment(db, body=f"第{index}則", created_at=base + timedelta(minutes=index // 2))
    seen, params = [], {}
    while True:
        html = moderator.queue(**params)
        seen += card_ids(html)
        found = re.search(r'href="[^"]*after=([^"&]+)[^"]*" rel="next"', html)
        if not found:
            break
        params = {"after": found.group(1)}
    assert len(seen) == 8 and len(set(seen)) == 8


def test_a_garbled_cursor_shows_the_first_page(moderator, db):
    comment = make_comment(db)
    assert card_ids(moderator.queue(after="nonsense")) == [comment.id]


def test_an_author_tag_no_comment_has_is_a_404_and_no_viewing_is_logged(moderator, db):
    """As the tag's restriction page says it (找不到這個作者標籤), not an empty history that was "viewed"."""
    assert moderator.client.get("/moderation/authors/00000000").status_code == 404
    assert db.session.query(AuditEntry).filter_by(action="view_author_history").count() == 0
    make_comment(db, author_hash="0" * 64)
    assert moderator.client.get("/moderation/authors/00000000").status_code == 200


def test_unknown_tab_is_a_404(moderator):
    assert moderator.client.get("/moderation/?tab=everything").status_code == 404


def test_filters_by_article_author_and_text(moderator, db):
    mine = make_comment(db, body="關於檢測儀器的看法", author_hash="c" * 64)
    make_comment(db, body="完全無關", author_hash="d" * 64)
    assert card_ids(moderator.queue(q="檢測儀器")) == [mine.id]
    # A comment pasted whole is cut where the server cuts it, before its URL passes gunicorn's 4 KB line.
    assert card_ids(moderator.queue(q="關於檢測儀器的看法" + "長" * 300)) == []
    assert 'name="q" type="search" maxlength="200"' in moderator.queue()
    assert card_ids(moderator.queue(author="cccccccc")) == [mine.id]
    assert card_ids(moderator.queue(article=9999)) == []


@pytest.mark.parametrize("typed, stored", [("检测", "關於檢測的看法"), ("檢測", "关于检测的看法"), ("cnas", "通過 ＣＮＡＳ 認證"),
                                           ("ＣＮＡＳ", "通過 CNAS 認證"), ("王小明", None),
                                           ("wechat", "加我 wεchατ 聊"), ("wεchατ", "加我 WeChat 聊")])
def test_search_ignores_script_width_and_case_as_screening_does(moderator, db, typed, stored):
    found = make_comment(db, body=stored) if stored else make_comment(db, nickname="王小明", body="無關")
    make_comment(db, body="完全無關")
    assert card_ids(moderator.queue(q=typed)) == [found.id]


@pytest.mark.parametrize("typed", ["匿名網友", "匿名网友", "anonymous reader"])
def test_searching_the_name_a_card_shows_for_anonymous_finds_the_anonymous_comments(moderator, db, typed):
    anonymous = make_comment(db, nickname=None, is_anonymous=True, body="不具名的意見")
    quoted = make_comment(db, nickname="讀者", body="我同意樓上匿名網友的看法")
    make_comment(db, nickname="讀者乙", body="完全無關")
    assert sorted(card_ids(moderator.queue(q=typed))) == sorted([anonymous.id] + ([quoted.id] if "匿名" in typed else []))


def test_searching_the_sites_badge_finds_the_sites_answers(moderator, db):
    top = make_comment(db, status=CommentStatus.APPROVED, body="請問？")
    moderator.post(f"/moderation/comments/{top.id}/answer", body="這是本站的回答。", back="/moderation/")
    answer = db.session.scalar(select(Comment).where(Comment.body == "這是本站的回答。"))
    assert card_ids(moderator.queue(tab="approved", q="本站編輯")) == [answer.id]


@pytest.mark.parametrize("wildcard", ["%", "_", "\\"])
def test_text_search_takes_like_wildcards_literally(moderator, db, wildcard):
    literal = make_comment(db, body=f"打折 50{wildcard} 喔")
    make_comment(db, body="打折 500 喔")
    assert card_ids(moderator.queue(q=f"50{wildcard}")) == [literal.id]


def test_a_rate_reason_is_worded_in_the_pages_language(moderator, db):
    comment = make_comment(db)
    db.session.add(ScreeningReason(comment_id=comment.id, kind="ip_rate", action="hold", rule_id="ip_rate",
                                   detail="31>30/min", field="body"))
    db.session.commit()
    assert "同一網路發文過多：一分鐘內超過 30 則" in moderator.queue()
    assert "more than 30 within a minute" in moderator.queue(lang="en")
    assert "31&gt;30/min" not in moderator.queue()


def test_card_shows_author_tag_history_and_screening_reasons_with_the_match_marked(moderator, db):
    comment = make_comment(db, body="請看 ｗｅｃｈａｔ 群組", author_hash="e" * 64)
    db.session.add(ScreeningReason(comment_id=comment.id, kind="word", action="hold", rule_id="word:1",
                                   detail="wechat", field="body", span_start=3, span_end=9))
    db.session.commit()
    make_comment(db, author_hash="e" * 64, status=REJECTED)
    html = moderator.queue()
    assert "<mark>ｗｅｃｈａｔ</mark>" in html
    assert "字詞規則：「wechat」" in html
    assert "eeeeeeee" in html and "拒絕 <span data-history=\"rejected\">1</span>" in html
    assert "讀者" in html and "檢驗檢測" in html  # nickname and article title


def test_anonymous_comment_shows_as_anonymous(moderator, db):
    make_comment(db, nickname=None, is_anonymous=True)
    assert "匿名網友" in moderator.queue()


def test_comment_text_is_escaped_on_the_card(moderator, db):
    make_comment(db, body="<script>alert(1)</script>")
    html = moderator.queue()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("decision, status", [("approve", APPROVED), ("spam", SPAM)])
def test_single_decisions_change_status_and_write_the_audit_row(moderator, db, decision, status):
    comment = make_comment(db)
    response = moderator.decide(comment, decision)
    assert response.status_code == 303
    comment = reload(db, comment)
    assert comment.status is status and comment.version == 2
    [entry] = db.session.query(AuditEntry).filter_by(comment_id=comment.id).all()
    assert (entry.actor, entry.action, entry.from_status, entry.to_status) == ("mod", decision, "pending", status.value)


def test_reject_needs_a_reason_and_other_needs_a_note(moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "reject")
    assert reload(db, comment).status is PENDING
    assert "拒絕時請選擇原因" in moderator.queue()  # no reason at all
    moderator.decide(comment, "reject", reason="other")
    html = moderator.queue()
    assert "選「其他」時請填寫說明" in html and "拒絕時請選擇原因" not in html  # a reason, without its note
    moderator.decide(reload(db, comment), "reject", reason="abuse")
    comment = reload(db, comment)
    assert comment.status is REJECTED
    entry = db.session.query(AuditEntry).filter_by(comment_id=comment.id).one()
    assert entry.reason == "abuse"


def test_reject_with_other_and_a_note(moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "reject", reason="other", note="重複貼文")
    assert reload(db, comment).status is REJECTED
    assert db.session.query(AuditEntry).filter_by(comment_id=comment.id).one().note == "重複貼文"


def test_restore_brings_a_decided_comment_back_to_pending(moderator, db):
    comment = make_comment(db, status=SPAM)
    moderator.decide(comment, "restore")
    assert reload(db, comment).status is PENDING


def test_a_decision_not_allowed_from_the_current_status_is_refused(moderator, db):
    comment = make_comment(db, status=APPROVED)
    moderator.decide(comment, "approve")
    comment = reload(db, comment)
    assert comment.version == 1
    assert "這則評論目前的狀態不能這樣處理" in moderator.queue(tab="approved")


def test_second_moderator_is_told_who_decided_first_and_nothing_is_overwritten(app, moderator, db, clock):
    make_moderator(db, "other")
    second = ModeratorBrowser(app.test_client())
    second.login("other")
    comment = make_comment(db)
    seen_version = comment.version
    moderator.decide(comment, "reject", reason="abuse")
    clock.advance(minutes=2)
    response = second.decide(comment, "approve", version=seen_version)
    assert response.status_code == 303
    html = second.queue()
    assert "這則評論已由 mod 拒絕（2 分鐘前，目前狀態：已拒絕）" in html
    assert reload(db, comment).status is REJECTED
    assert db.session.query(AuditEntry).filter_by(comment_id=comment.id).count() == 1


def test_a_refused_rejection_whose_comment_left_the_page_says_what_was_typed_and_where_it_is(app, moderator, db):
    """Its card is on another tab now (another moderator approved it): the note typed is not lost."""
    make_moderator(db, "other")
    second = ModeratorBrowser(app.test_client())
    second.login("other")
    comment = make_comment(db)
    moderator.decide(comment, "approve")
    second.decide(comment, "reject", version=1, reason="abuse", note="辱罵其他讀者")
    html = second.queue()
    assert "這則評論已由 mod 通過" in html and "您填的說明：<q dir=\"auto\">辱罵其他讀者</q>" in html
    assert f'href="/moderation/comments/{comment.id}">到 #{comment.id} 目前所在的分頁' in html


def test_a_decision_sent_again_by_its_moderator_is_done_not_a_conflict(moderator, db):
    """The first answer was lost with the connection after the commit; the moderator sends the same
    form again. It was done: said so, nothing written twice. Anyone else's decision is still a conflict."""
    comment = make_comment(db)
    moderator.decide(comment, "reject", reason="abuse", note="重複貼文")
    again = moderator.decide(comment, "reject", version=1, reason="abuse", note="重複貼文")
    assert again.status_code == 303
    html = moderator.queue(tab="rejected")
    assert "已拒絕 1 則評論" in html and "您的操作未套用" not in html
    answer = decide_in_place(moderator, comment, "reject", version=1, reason="abuse").get_json()
    assert answer["ok"] is True and answer["code"] == "decided"
    response = moderator.post("/moderation/comments/bulk", decision="reject", reason="abuse", scope="selected",
                              item=[f"{comment.id}:1"], back="/moderation/")
    assert response.status_code == 303 and "未處理" not in moderator.queue()
    assert reload(db, comment).version == 2
    assert db.session.query(AuditEntry).filter_by(comment_id=comment.id).count() == 1
    # not the same decision, nor the same rejection for another reason: still a conflict
    assert decide_in_place(moderator, comment, "approve", version=1).get_json()["code"] == "conflict"
    assert decide_in_place(moderator, comment, "reject", version=1, reason="off_topic").get_json()["code"] == "conflict"


def test_a_decision_sent_again_after_another_moderators_is_a_conflict(app, moderator, db):
    make_moderator(db, "other")
    second = ModeratorBrowser(app.test_client())
    second.login("other")
    comment = make_comment(db)
    moderator.decide(comment, "reject", reason="abuse")
    response = decide_in_place(second, comment, "reject", version=1, reason="abuse")
    assert response.status_code == 409 and response.get_json()["code"] == "conflict"


def test_bulk_approve_of_selected_reports_skipped_items(moderator, db):
    first, second, third = (make_comment(db, body=f"批次{i}") for i in range(3))
    stale_version = third.version
    db.session.get(Comment, third.id).status = SPAM
    db.session.get(Comment, third.id).version = 2
    db.session.commit()
    response = moderator.post("/moderation/comments/bulk", decision="approve", scope="selected",
                              item=[f"{first.id}:1", f"{second.id}:1", f"{third.id}:{stale_version}"],
                              back="/moderation/")
    assert response.status_code == 303
    assert [reload(db, c).status for c in (first, second, third)] == [APPROVED, APPROVED, SPAM]
    html = moderator.queue()
    assert "已通過 2 則評論" in html and f"#{third.id}" in html and "1 則未處理" in html


def test_in_english_a_decision_made_is_said_in_the_past_tense_not_with_the_buttons_word(moderator, db):
    from moderation.web.languages import LANGUAGE_COOKIE

    moderator.client.set_cookie(LANGUAGE_COOKIE, "en")
    first, second, third = (make_comment(db, body=f"批次{i}") for i in range(3))
    moderator.post("/moderation/comments/bulk", decision="spam", scope="selected",
                   item=[f"{first.id}:1", f"{second.id}:1"], back="/moderation/")
    assert "2 comments marked as spam." in moderator.queue()
    assert f"#{third.id} approved." in decide_in_place(moderator, third, "approve").get_json()["html"]


def test_bulk_reject_of_the_whole_page_is_confirmed_with_its_count_and_reason_first(moderator, db):
    comments = [make_comment(db, body=f"整頁{i}") for i in range(3)]
    items = [f"{c.id}:{c.version}" for c in comments]
    asked = moderator.post("/moderation/comments/bulk", decision="reject", reason="advertising", scope="page",
                           page_item=items, back="/moderation/")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "要拒絕本頁全部 3 則評論，原因：廣告？" in html
    assert {reload(db, c).status for c in comments} == {PENDING}  # nothing done yet
    moderator.post("/moderation/comments/bulk", decision="reject", reason="advertising", scope="page",
                   page_item=items, back="/moderation/", confirmed="1")
    assert {reload(db, c).status for c in comments} == {REJECTED}
    assert {e.reason for e in db.session.query(AuditEntry).filter_by(action="reject")} == {"advertising"}


def test_a_bulk_approval_stores_no_reject_reason(moderator, db):
    comment = make_comment(db)
    moderator.post("/moderation/comments/bulk", decision="approve", reason="advertising", scope="selected",
                   item=[f"{comment.id}:{comment.version}"], back="/moderation/")
    entry = db.session.query(AuditEntry).filter_by(comment_id=comment.id).one()
    assert (entry.action, entry.reason) == ("approve", None)


def test_a_single_approval_stores_no_reject_reason_either(moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "approve", reason="abuse")
    assert db.session.query(AuditEntry).filter_by(comment_id=comment.id).one().reason is None


def test_a_bulk_rejection_as_other_without_a_note_is_refused_once_up_front(moderator, db):
    comments = [make_comment(db, body=f"其他{i}") for i in range(3)]
    response = moderator.post("/moderation/comments/bulk", decision="reject", reason="other", note=" ",
                              scope="selected", item=[f"{c.id}:{c.version}" for c in comments], back="/moderation/")
    html = moderator.client.get(response.location).get_data(as_text=True)
    assert html.count("批次拒絕請選擇原因") == 1 and "則未處理" not in html
    assert {reload(db, c).status for c in comments} == {PENDING}
    # What was chosen comes back as it was: the boxes ticked, the reason, the bar open.
    for comment in comments:
        assert f'value="{comment.id}:{comment.version}" data-select checked>' in html
    assert '<option value="other" selected>' in html and "<details open>" in html
    again = moderator.client.get("/moderation/").get_data(as_text=True)
    assert " data-select checked>" not in again and "<details open>" not in again  # once, not for good


def test_garbage_in_bulk_items_is_ignored(moderator, db):
    comment = make_comment(db)
    response = moderator.post("/moderation/comments/bulk", decision="approve", item=["x:y", "1:", ":", "9999:1"],
                              back="/moderation/")
    assert response.status_code == 303
    assert reload(db, comment).status is PENDING
    assert "這則評論已不存在" in moderator.queue()


def test_unknown_decision_is_a_400(moderator, db):
    comment = make_comment(db)
    assert moderator.decide(comment, "delete").status_code == 400


def test_back_url_cannot_leave_the_moderation_pages(moderator, db):
    comment = make_comment(db)
    response = moderator.post(f"/moderation/comments/{comment.id}/decide", decision="approve", version=1,
                              back="https://evil.example/")
    assert response.location.startswith("/moderation/")


def test_approved_comment_appears_on_the_article_and_rejected_disappears(moderator, db, client):
    comment = make_comment(db, body="終於通過審核的評論")
    article_url = f"/articles/{ARTICLE_SLUG}"
    assert "終於通過審核的評論" not in client.get(article_url).get_data(as_text=True)
    moderator.decide(comment, "approve")
    assert "終於通過審核的評論" in client.get(article_url).get_data(as_text=True)
    moderator.decide(reload(db, comment), "reject", reason="off_topic")
    page = client.get(article_url).get_data(as_text=True)
    assert "終於通過審核的評論" not in page and "0 則評論" in page


def test_hidden_statuses_never_reach_public_pages_or_counts(app, db):
    for status in (PENDING, REJECTED, SPAM):
        make_comment(db, body=f"不該公開-{status.value}", status=status)
    make_comment(db, body="公開的評論", status=APPROVED)
    page = app.test_client().get(f"/articles/{ARTICLE_SLUG}").get_data(as_text=True)
    assert "不該公開" not in page and "1 則評論" in page


def test_author_history_lists_all_their_comments_and_is_logged(moderator, db):
    make_comment(db, body="第一則", author_hash="f" * 64, status=APPROVED)
    make_comment(db, body="第二則", author_hash="f" * 64, status=SPAM)
    make_comment(db, body="別人的", author_hash="0" * 64)
    html = moderator.client.get("/moderation/authors/ffffffff").get_data(as_text=True)
    assert "第一則" in html and "第二則" in html and "別人的" not in html
    entry = db.session.query(AuditEntry).filter_by(action="view_author_history").one()
    assert entry.actor == "mod" and entry.note == "ffffffff"
    assert moderator.client.get("/moderation/authors/not-hex").status_code == 404


def test_card_shows_the_comments_history(moderator, db):
    comment = make_comment(db, status=APPROVED)
    moderator.decide(comment, "restore")
    assert "處理紀錄（1）" in moderator.queue()


def test_queue_pages_are_not_cached(moderator):
    assert moderator.client.get("/moderation/").headers["Cache-Control"] == "no-store"


def test_pages_are_read_by_keyset_not_offset(moderator, db, app):
    import sqlalchemy

    app.config["QUEUE_PAGE_SIZE"] = 2
    for index in range(5):
        make_comment(db, body=f"第{index}則")
    statements = []

    def remember(conn, cursor, statement, parameters, *args):
        statements.append((statement.upper(), parameters))

    sqlalchemy.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        html = moderator.queue()
        cursor = re.search(r'after=([^"&]+)[^"]*" rel="next"', html).group(1)
        moderator.queue(after=cursor)
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", remember)
    queue_reads = [(s, p) for s, p in statements  # the surge clusters' card is a read of its own
                   if "FROM COMMENT" in s and "LIMIT" in s and "FROM COMMENT_CLUSTER" not in s]
    assert len(queue_reads) == 3  # the two pages, and whether anything comes before the second (its 上一頁)
    for statement, parameters in queue_reads:  # SQLite's dialect always writes "OFFSET ?", with 0
        assert "OFFSET" not in statement or (statement.endswith("OFFSET ?") and parameters[-1] == 0)


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "author=%00", "after=%00", "article=%00"])
def test_nul_in_a_query_string_is_a_400_not_a_database_error(moderator, query):
    response = moderator.client.get(f"/moderation/?{query}")
    assert response.status_code == 400 and "無效的字元" in response.get_data(as_text=True)


def test_hostile_filters_never_cause_a_500(moderator, db, admin):
    make_comment(db)
    for query in ["q=" + "長" * 5000, "article=-1", "article=99999999999999999999", "author=" + "f" * 200,
                  "q=%E2%80%AE", "after=9999999999999_1", "after=-1e308_1", "after=nan_1", "after=1.0_99999999999999999999"]:
        assert moderator.client.get(f"/moderation/?{query}").status_code == 200, query
    for query in ["actor=" + "x" * 500, "comment=abc", "before=-5", "action=%F0%9F%98%80"]:
        assert admin.client.get(f"/moderation/admin/audit?{query}").status_code == 200, query


@pytest.mark.parametrize("url", [
    "/moderation/comments/99999999999999999999/decide",
    "/moderation/comments/0/decide",
    "/moderation/comments/1/reasons/99999999999999999999/wrong",
    "/moderation/admin/moderators/99999999999999999999/active",
    "/moderation/admin/articles/99999999999999999999/mode",
])
def test_out_of_range_ids_in_urls_are_404s(admin, url):
    assert admin.post(url, decision="approve", version=1, active="0", mode="post").status_code == 404


def test_out_of_range_versions_and_items_are_refused_cleanly(moderator, db):
    comment = make_comment(db)
    assert moderator.decide(comment, "approve", version=99999999999999999999).status_code == 400
    response = moderator.post("/moderation/comments/bulk", decision="approve", back="/moderation/",
                              item=[f"{comment.id}:99999999999999999999", "99999999999999999999:1"])
    assert response.status_code == 303 and reload(db, comment).status is PENDING


def test_a_bulk_decision_with_nothing_selected_says_so(moderator, db):
    comment = make_comment(db)
    response = moderator.post("/moderation/comments/bulk", decision="approve", scope="selected", back="/moderation/")
    html = moderator.client.get(response.location).get_data(as_text=True)
    assert "沒有選取任何評論" in html and 'class="result' not in html
    db.session.refresh(comment)
    assert comment.status.value == "pending"


# Decisions in place (the queue's script) ----------------------------------------------------------

def decide_in_place(moderator, comment, decision, *, version=None, query="", **data):
    return moderator.post(f"/moderation/comments/{comment.id}/decision.json{query}", decision=decision,
                          version=comment.version if version is None else version, back="/moderation/", **data)


def test_a_decision_in_place_answers_with_the_result_line_an_undo_and_the_counts(moderator, db):
    comment = make_comment(db)
    make_comment(db, body="另一則")
    response = decide_in_place(moderator, comment, "approve")
    answer = response.get_json()
    assert response.status_code == 200 and answer["code"] == "decided"
    assert answer["counts"]["pending"] == 1 and answer["counts"]["approved"] == 1
    assert f"#{comment.id} 已通過。" in answer["html"] and 'name="decision" value="restore"' in answer["html"]
    assert 'name="version" value="2"' in answer["html"]  # the undo is checked like any decision
    undone = moderator.post(f"/moderation/comments/{comment.id}/decision.json", decision="restore", version=2,
                            undo="1", back="/moderation/").get_json()
    assert undone["code"] == "undone" and f'id="card-{comment.id}"' in undone["card"]
    assert reload(db, comment).status is PENDING
    assert [e.action for e in db.session.query(AuditEntry).filter_by(comment_id=comment.id).order_by(AuditEntry.id)] \
        == ["approve", "restore"]



def test_without_javascript_the_result_of_one_decision_offers_its_undo(moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "approve")
    page = moderator.queue()
    assert "已通過 1 則評論。" in page and f"（#{comment.id}）" in page  # the one named, as several are
    undo = re.search(r'<form method="post" action="(/moderation/comments/\d+/decide)" class="undo">(.*?)</form>', page, re.S)
    assert undo[1] == f"/moderation/comments/{comment.id}/decide"
    assert 'name="decision" value="restore"' in undo[2] and 'name="version" value="2"' in undo[2]
    response = moderator.post(undo[1], decision="restore", version=2, undo="1", back="/moderation/")
    assert response.status_code == 303 and reload(db, comment).status is PENDING
    assert response.location == f"/moderation/#result-{comment.id}"  # above the card that came back
    after = moderator.client.get(response.location).get_data(as_text=True)
    assert "class=\"undo\"" not in after  # an undo is not itself undone
    assert f"已復原 #{comment.id}：回到「待審核」。" in after and "已退回待審" not in after  # said as an undo
    assert after.index(f'id="result-{comment.id}"') < after.index(f'id="card-{comment.id}"')
    assert [e.action for e in db.session.query(AuditEntry).filter_by(comment_id=comment.id).order_by(AuditEntry.id)] \
        == ["approve", "restore"]

def test_a_decision_in_place_counts_under_the_pages_filters(moderator, db):
    mine = make_comment(db, author_hash="c" * 64)
    make_comment(db, author_hash="d" * 64)
    answer = decide_in_place(moderator, mine, "spam", query="?author=cccccccc").get_json()
    assert answer["counts"]["pending"] == 0 and answer["counts"]["spam"] == 1


def test_a_decision_in_place_on_a_changed_comment_is_a_conflict_with_a_stable_code(moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "reject", reason="abuse")
    response = decide_in_place(moderator, comment, "approve", version=1)
    answer = response.get_json()
    assert response.status_code == 409 and answer["ok"] is False and answer["code"] == "conflict"
    assert "這則評論已由 mod 拒絕" in answer["card"] and "已拒絕" in answer["card"]
    assert reload(db, comment).status is REJECTED


def test_a_decision_in_place_needs_the_csrf_token(moderator, db):
    comment = make_comment(db)
    response = moderator.client.post(f"/moderation/comments/{comment.id}/decision.json",
                                     data={"decision": "approve", "version": 1})
    assert response.status_code == 400 and reload(db, comment).status is PENDING


STALE_TOKEN = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aZ0AAA.stale-signature"
FROM_THE_QUEUE = {"Sec-Fetch-Site": "same-origin"}


def test_a_decision_in_place_with_an_expired_token_gets_a_fresh_one_to_send_again(moderator, db):
    """A queue tab left open past the token's hour: nothing decided, and a token the script retries with."""
    comment = make_comment(db)
    response = moderator.client.post(f"/moderation/comments/{comment.id}/decision.json", headers=FROM_THE_QUEUE,
                                     data={"csrf_token": STALE_TOKEN, "decision": "approve", "version": 1})
    answer = response.get_json()
    assert response.status_code == 400 and answer["code"] == "form_expired" and reload(db, comment).status is PENDING
    again = moderator.client.post(f"/moderation/comments/{comment.id}/decision.json", headers=FROM_THE_QUEUE, data={
        "csrf_token": answer["csrf_token"], "decision": "approve", "version": 1, "back": "/moderation/"})
    assert again.get_json()["code"] == "decided" and reload(db, comment).status is APPROVED


def test_a_plain_decision_with_an_expired_token_comes_back_ready_to_send_again_with_its_note(moderator, db):
    comment = make_comment(db)
    sent = {"csrf_token": STALE_TOKEN, "decision": "reject", "reason": "other", "note": "請附上來源",
            "version": "1", "back": "/moderation/?tab=pending"}
    page = moderator.client.post(f"/moderation/comments/{comment.id}/decide", headers=FROM_THE_QUEUE, data=sent)
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "表單已逾時" in html and "再送出一次" in html and reload(db, comment).status is PENDING
    resend = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', resend[2]))
    assert fields["note"] == "請附上來源" and fields["reason"] == "other" and fields["csrf_token"] != STALE_TOKEN
    assert moderator.client.post(resend[1], data=fields).status_code == 303
    assert reload(db, comment).status is REJECTED


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://elsewhere.example"}, {}],
                         ids=["cross-site", "other-origin", "no-word"])
def test_a_form_from_elsewhere_with_a_bad_token_gets_nothing_to_press(moderator, db, headers):
    """A forged form must not come back as a page of ours holding a fresh token and its fields."""
    comment = make_comment(db)
    page = moderator.client.post(f"/moderation/comments/{comment.id}/decide", headers=headers, data={
        "csrf_token": STALE_TOKEN, "decision": "approve", "version": "1", "back": "/moderation/"})
    assert page.status_code == 400 and "<form" not in page.get_data(as_text=True).split("<main")[1]
    in_place = moderator.client.post(f"/moderation/comments/{comment.id}/decision.json", headers=headers, data={
        "csrf_token": STALE_TOKEN, "decision": "approve", "version": 1})
    assert in_place.status_code == 400 and not in_place.is_json and reload(db, comment).status is PENDING


def test_a_decision_in_place_with_nonsense_is_a_400_in_json(moderator, db):
    comment = make_comment(db)
    assert decide_in_place(moderator, comment, "delete").get_json()["code"] == "bad_request"
    assert decide_in_place(moderator, comment, "approve", version="x").status_code == 400


def test_pending_cards_say_how_long_the_comment_has_waited(moderator, db, clock):
    make_comment(db, created_at=clock() - timedelta(hours=3, minutes=5))
    assert "已等 3 小時" in moderator.queue()


def test_a_previous_page_link_and_the_page_count(moderator, db, app):
    app.config["QUEUE_PAGE_SIZE"] = 2
    base = make_comment(db).created_at
    for index in range(1, 5):
        make_comment(db, created_at=base + timedelta(minutes=index))
    first = moderator.queue()
    assert "第 1 頁，共 3 頁" in first and 'rel="prev"' not in first
    after = re.search(r'href="([^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = moderator.client.get(after).get_data(as_text=True)
    assert "第 2 頁，共 3 頁" in second
    before = re.search(r'href="([^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert card_ids(moderator.client.get(before).get_data(as_text=True)) == card_ids(first)


def test_links_made_before_a_page_was_cleared_lead_to_what_is_left(moderator, db, app):
    """The first page decided in place, then its 下一頁: that page is now the first (no 上一頁 to an
    empty page); a 上一頁 made before lands on the first page, and so does a 下一頁 past everything left."""
    app.config["QUEUE_PAGE_SIZE"] = 2
    base = make_comment(db).created_at
    comments = [db.session.scalars(select(Comment)).first()] + [
        make_comment(db, created_at=base + timedelta(minutes=index)) for index in range(1, 5)]
    first = moderator.queue()
    after = re.search(r'href="([^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = moderator.client.get(after).get_data(as_text=True)
    before = re.search(r'href="([^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
    for comment in comments[:2]:
        moderator.decide(comment, "approve")
    now_first = moderator.client.get(after).get_data(as_text=True)
    assert card_ids(now_first) == [comments[2].id, comments[3].id]
    assert 'rel="prev"' not in now_first and "第 1 頁，共 2 頁" in now_first
    assert card_ids(moderator.client.get(before).get_data(as_text=True)) == [comments[2].id, comments[3].id]
    last_link = re.search(r'href="([^"]*)" rel="next"', now_first).group(1).replace("&amp;", "&")
    moderator.decide(comments[4], "approve")
    last = moderator.client.get(last_link).get_data(as_text=True)
    assert card_ids(last) == [comments[2].id, comments[3].id] and "這個佇列目前沒有評論" not in last


# Reported comments --------------------------------------------------------------------------------

def report(db, comment, reason, reader):
    from moderation.models import CommentReport, ReportReason

    db.session.add(CommentReport(comment_id=comment.id, reason=ReportReason(reason), reporter_hash=reader * 64,
                                 reporter_ip_hash="9" * 64, created_at=comment.created_at))
    db.session.commit()


def test_a_reported_comment_can_be_kept_published_and_its_reports_closed(moderator, db):
    from moderation.models import CommentReport

    comment = make_comment(db, status=APPROVED)
    report(db, comment, "spam", "1")
    html = moderator.queue(tab="reported")
    assert "保留並結案" in html
    moderator.post(f"/moderation/comments/{comment.id}/keep", version=comment.version, back="/moderation/?tab=reported")
    assert reload(db, comment).status is APPROVED
    assert db.session.query(CommentReport).filter(CommentReport.resolved_at.is_(None)).count() == 0
    entry = db.session.query(AuditEntry).filter_by(comment_id=comment.id).one()
    assert (entry.actor, entry.action) == ("mod", "keep")
    html = moderator.queue(tab="reported")
    assert card_ids(html) == [] and "已保留並結案 1 則評論" in html


def test_keeping_a_comment_that_changed_meanwhile_is_refused(moderator, db):
    comment = make_comment(db, status=APPROVED)
    report(db, comment, "spam", "1")
    moderator.decide(comment, "reject", reason="abuse")
    moderator.post(f"/moderation/comments/{comment.id}/keep", version=1, back="/moderation/")
    assert reload(db, comment).status is REJECTED
    assert db.session.query(AuditEntry).filter_by(action="keep").count() == 0


def test_reports_are_grouped_by_reason_with_distinct_readers(moderator, db):
    comment = make_comment(db, status=APPROVED)
    for reader in "123":
        report(db, comment, "spam", reader)
    report(db, comment, "abuse", "4")
    html = moderator.queue(tab="reported")
    assert "讀者檢舉：垃圾廣告，3 位讀者" in html and "讀者檢舉：人身攻擊，1 位讀者" in html
    assert html.count("讀者檢舉：") == 2


def test_only_the_pending_tab_says_a_comment_was_held_by_pre_moderation(moderator, db):
    """Elsewhere it is history: on 已檢舉 readers reported it, on 已通過 it is published."""
    comment = make_comment(db, status=APPROVED)
    db.session.add(ScreeningReason(comment_id=comment.id, kind="pre_moderation", rule_id="", detail="", field="body"))
    db.session.commit()
    report(db, comment, "abuse", "1")
    assert "先審後發：新評論預設待審" not in moderator.queue(tab="reported")
    assert "先審後發：新評論預設待審" not in moderator.queue(tab="approved")
    waiting = make_comment(db)
    db.session.add(ScreeningReason(comment_id=waiting.id, kind="pre_moderation", rule_id="", detail="", field="body"))
    db.session.commit()
    assert "先審後發：新評論預設待審" in moderator.queue(tab="pending")


def test_a_comment_hidden_by_reports_is_pending_for_them_not_for_the_articles_mode(moderator, db):
    """Published, then hidden by readers' reports: back on 待審, its card says the reports, and not
    the 先審後發 it was held for before it was published."""
    comment = make_comment(db, status=PENDING, version=3)
    db.session.add(ScreeningReason(comment_id=comment.id, kind="pre_moderation", rule_id="", detail="", field="body"))
    db.session.commit()
    report(db, comment, "abuse", "1")
    html = moderator.queue(comment=comment.id)
    assert "讀者檢舉：人身攻擊" in html and "先審後發：新評論預設待審" not in html
    from moderation.models import CommentReport

    db.session.query(CommentReport).update({"created_at": comment.created_at + timedelta(minutes=30)})
    db.session.commit()  # posted an hour ago, hidden half an hour ago: it has waited since then
    card = moderator.queue(comment=comment.id)
    assert "已等 30 分鐘" in card and "已等 1 小時" not in card
    fresh = make_comment(db, status=PENDING, body="另一則待審評論")
    db.session.add(ScreeningReason(comment_id=fresh.id, kind="pre_moderation", rule_id="", detail="", field="body"))
    db.session.commit()
    assert "先審後發：新評論預設待審" in moderator.queue(comment=fresh.id)  # held by the mode: it says so


def test_masked_personal_data_is_worded_for_where_the_comment_stands_now(moderator, db):
    """Published masked under post-moderation, then taken down by reports: the card no longer says
    it is published masked."""
    comment = make_comment(db, status=APPROVED, version=1, body="請打 0912-345-678")
    db.session.add(ScreeningReason(comment_id=comment.id, kind="personal_data", rule_id="personal:phone",
                                   detail="phone", field="body", action=None))
    db.session.commit()
    assert "先發後審：公開時已遮蔽，待您決定" in moderator.queue(tab="approved", comment=comment.id)
    comment.status = PENDING
    db.session.commit()
    card = moderator.queue(comment=comment.id)
    assert "先發後審：公開時曾遮蔽，現已撤下待審" in card and "待您決定" not in card


# Filters ------------------------------------------------------------------------------------------

def test_a_mistyped_author_tag_is_refused_and_lists_nothing(moderator, db):
    make_comment(db)
    html = moderator.queue(author="bbbbxyz")
    assert "「bbbbxyz」不是作者標籤" in html and card_ids(html) == []
    assert 'aria-invalid="true"' in html and 'value="bbbbxyz"' in html
    assert 'id="bulk-form"' not in html  # nothing for 「本頁全部」 to act on


def test_a_filtered_queue_says_so_with_a_way_out(moderator, db):
    make_comment(db, author_hash="c" * 64)
    html = moderator.queue(author="cccccccc", q="評論")
    assert "篩選中" in html and "作者 cccccccc" in html and "內容含「評論」" in html
    assert re.search(r'<a href="/moderation/\?tab=pending">清除篩選', html)
    assert "篩選中" not in moderator.queue()


def test_a_comment_posted_by_a_reader_is_found_by_the_folded_search(moderator, page, db):
    page.post(nickname="讀者", body="這份检测报告很詳細")
    assert len(card_ids(moderator.queue(q="檢測報告"))) == 1


def test_keeping_a_reported_comment_in_place_closes_its_reports_without_an_undo(moderator, db):
    comment = make_comment(db, status=APPROVED)
    report(db, comment, "spam", "1")
    response = moderator.post(f"/moderation/comments/{comment.id}/decision.json?tab=reported", decision="keep",
                              version=comment.version, back="/moderation/?tab=reported")
    answer = response.get_json()
    assert response.status_code == 200 and answer["counts"]["reported"] == 0
    assert f"#{comment.id} 已保留並結案。" in answer["html"] and "data-undo" not in answer["html"]
    assert reload(db, comment).status is APPROVED
    again = moderator.post(f"/moderation/comments/{comment.id}/decision.json?tab=reported", decision="keep",
                           version=comment.version, back="/moderation/?tab=reported")
    assert again.status_code == 409 and again.get_json()["code"] == "not_allowed"  # no open report left


def test_a_rejection_starts_with_no_reason_chosen(moderator, db):
    """The reason is the moderator's to pick: a list that starts on 廣告 rejected harmless comments as ads."""
    comment = make_comment(db)
    html = moderator.queue()
    select = html[html.index(f'id="reason-{comment.id}"'):]
    select = select[:select.index("</select>")]
    assert re.findall(r"<option[^>]*>", select)[0] == '<option value="">'
    assert "selected" not in select
    bulk = html[html.index('id="bulk-reason"'):]
    assert re.findall(r"<option[^>]*>", bulk[:bulk.index("</select>")])[0] == '<option value="">'


def test_without_javascript_a_refused_decision_is_said_above_its_card_which_keeps_the_choice(moderator, db):
    comment = make_comment(db)
    refused = moderator.decide(comment, "reject", reason="other", note="", share_note="1")
    assert refused.status_code == 303 and refused.location.endswith(f"#result-{comment.id}")
    html = moderator.client.get(refused.location).get_data(as_text=True)
    result = html.index(f'id="result-{comment.id}"')
    assert result < html.index(f'id="card-{comment.id}"')
    assert "選「其他」時請填寫說明" in html[result:html.index(f'id="card-{comment.id}"')]
    assert html.count("選「其他」時請填寫說明。") == 1  # not again at the top of the list
    card = html[html.index(f'id="card-{comment.id}"'):]
    assert '<option value="other" selected>' in card
    assert re.search(r'name="share_note" value="1" checked', card)
    assert reload(db, comment).status is PENDING


def test_the_bulk_bar_offers_only_what_can_change_the_tabs_comments(moderator, db):
    for status in (PENDING, APPROVED, SPAM):
        make_comment(db, status=status)

    def offered(tab):
        html = moderator.queue(tab=tab)
        return re.findall(r'<button type="submit" name="decision" value="(\w+)" data-action=', html[html.index('id="bulk-form"'):])

    assert offered("pending") == ["approve", "reject", "spam"]
    assert offered("approved") == ["reject", "spam", "restore"]
    assert offered("spam") == ["approve", "reject", "restore"]
    # Enter in the note sends the hidden first button: a rejection, never the first one shown (通過).
    html = moderator.queue(tab="pending")
    bulk = html[html.index('id="bulk-form"'):]
    assert bulk.index("data-default-reject") < bulk.index('value="approve"')


def test_a_filter_that_finds_nothing_says_so_not_that_the_queue_is_empty(moderator, db):
    make_comment(db, body="一則評論")
    html = moderator.queue(q="找不到的字")
    assert "沒有符合這些條件的評論。" in html and "這個佇列目前沒有評論" not in html


def test_a_reported_comment_is_kept_with_the_a_key(moderator, db):
    from moderation.models import CommentReport, ReportReason

    comment = make_comment(db, status=APPROVED)
    db.session.add(CommentReport(comment_id=comment.id, reason=ReportReason.SPAM, reporter_hash="c" * 64,
                                 reporter_ip_hash="d" * 64, created_at=comment.created_at))
    db.session.commit()
    html = moderator.queue(tab="reported")
    assert re.search(r'data-action="keep" aria-keyshortcuts="a">保留並結案', html)
    assert "<kbd>a</kbd> 保留並結案" in html  # the hint line says what a does here


def test_an_undo_puts_back_the_reports_and_the_pick_the_decision_took(moderator, admin, db, clock):
    """Marking a reported editors' pick as spam closes its reports and takes it down; 復原 brings back
    the comment as it was: published, picked, its readers' reports open on 已檢舉. The audit says so."""
    from moderation.models import CommentReport

    comment = make_comment(db, status=APPROVED)
    make_comment(db, status=APPROVED, body="另一則精選", pinned_at=clock())
    db.session.get(Comment, comment.id).pinned_at = clock()
    db.session.commit()
    report(db, comment, "abuse", "1")
    report(db, comment, "spam", "2")
    answer = decide_in_place(moderator, comment, "spam", query="?tab=reported").get_json()
    assert answer["code"] == "decided"
    stored = reload(db, comment)
    assert stored.status is SPAM and stored.pinned_at is None
    assert db.session.query(CommentReport).filter(CommentReport.resolved_at.is_(None)).count() == 0
    undone = moderator.post(f"/moderation/comments/{comment.id}/decision.json?tab=reported", decision="approve",
                            version=2, undo="1", back="/moderation/?tab=reported").get_json()
    assert undone["code"] == "undone" and undone["counts"]["reported"] == 1
    stored = reload(db, comment)
    assert stored.status is APPROVED and stored.pinned_at is not None
    assert db.session.query(CommentReport).filter(CommentReport.resolved_at.is_(None)).count() == 2
    log = admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert "復原剛才的決定，重新開啟 2 則檢舉，恢復編輯精選" in log


def test_an_undo_of_another_moderators_decision_is_only_a_decision(app, moderator, db):
    """Only one's own last decision is taken back with what it changed; someone else's stays theirs."""
    from moderation.models import CommentReport

    make_moderator(db, "other")
    second = ModeratorBrowser(app.test_client())
    second.login("other")
    comment = make_comment(db, status=APPROVED)
    report(db, comment, "abuse", "1")
    decide_in_place(moderator, comment, "spam")
    decide_in_place(second, comment, "approve", version=2, undo="1")
    assert reload(db, comment).status is APPROVED
    assert db.session.query(CommentReport).filter(CommentReport.resolved_at.is_(None)).count() == 0


def test_a_bulk_decision_names_its_comments_and_can_be_undone_at_once(moderator, db, clock):
    from moderation.models import CommentReport

    first, second, third = (make_comment(db, status=APPROVED, body=f"批次復原{index}") for index in range(3))
    report(db, first, "spam", "1")
    response = moderator.post("/moderation/comments/bulk", decision="spam", scope="selected",
                              item=[f"{first.id}:1", f"{second.id}:1"], back="/moderation/?tab=approved")
    page = moderator.client.get(response.location).get_data(as_text=True)
    assert f"已標為垃圾 2 則評論。<span class=\"done-ids\">（#{first.id}、#{second.id}）</span>" in page
    undo = re.search(r'<form method="post" action="(/moderation/comments/bulk-undo)" class="undo">(.*?)</form>', page, re.S)
    items = re.findall(r'name="undo_item" value="([^"]+)"', undo[2])
    assert items == [f"{first.id}:2:approve", f"{second.id}:2:approve"] and "全部復原（2 則）" in undo[2]
    undone = moderator.post(undo[1], undo_item=items, back="/moderation/?tab=approved")
    assert "已復原 2 則評論。" in moderator.client.get(undone.location).get_data(as_text=True)
    assert [reload(db, each).status for each in (first, second, third)] == [APPROVED] * 3
    assert db.session.query(CommentReport).filter(CommentReport.resolved_at.is_(None)).count() == 1  # open again
    moderator.post(undo[1], undo_item=items, back="/moderation/")  # sent again (its answer lost): done once
    assert db.session.query(AuditEntry).filter_by(comment_id=first.id).count() == 2
    assert moderator.post(undo[1], undo_item=["x:y:z", "1:2", f"{third.id}:1:nonsense"]).status_code == 303


def test_a_whole_page_bulk_result_and_its_undo_fit_the_session_cookie(moderator, db):
    """Fifty comments decided at once: the result, their ids and the undo travel in the flashed session."""
    comments = [make_comment(db, body=f"整頁{index}") for index in range(50)]
    response = moderator.post("/moderation/comments/bulk", decision="approve", scope="page", confirmed="1",
                              page_item=[f"{each.id}:1" for each in comments], back="/moderation/")
    assert len(response.headers.get("Set-Cookie", "")) < 4000
    page = moderator.client.get(response.location).get_data(as_text=True)
    assert "已通過 50 則評論。" in page and page.count('name="undo_item"') == 50


@pytest.mark.committing  # builds, drops and migrates its own schema
def test_migration_0027_folds_again_the_search_text_of_comments_with_greek_look_alikes(database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from moderation.extensions import db as _db
    from tests.migrations import schema_at

    insert = ("INSERT INTO article (key, slug, title, column_name, body, body_html, comment_mode, created_at,"
              " approved_count, revision) VALUES ('a', 'a', 't', '', 'b', '', 'pre', '2026-11-01', 0, 1)")
    with schema_at("9e3b7c1d5a28", database_url, tmp_path) as directory:  # 0026
        _db.session.execute(_db.text(insert))
        for body, search_text in (("加我 wεchατ 聊", "\n加我wεchατ聊"), ("Ω 形的 τ 值", "old"), ("無關", "kept as stored")):
            _db.session.execute(_db.text(
                "INSERT INTO comment (article_id, is_anonymous, body, status, created_at, ip_hash, author_hash,"
                " fingerprint, version, search_text) VALUES (1, true, :body, 'pending', '2026-11-01', '', '', '', 1,"
                " :search_text)"), {"body": body, "search_text": search_text})
        _db.session.commit()
        upgrade(directory=directory)
        rows = _db.session.execute(_db.text("SELECT search_text FROM comment ORDER BY id")).scalars().all()
        assert rows == ["\n加我 wechat 聊", "\nw 形的 t 值", "kept as stored"]
        _db.session.close()
        downgrade(directory=directory, revision="9e3b7c1d5a28")


def test_only_a_protected_name_reason_links_to_the_articles_list_of_names(moderator, db):
    phone = make_comment(db, body="打 02-2345-6789")
    named = make_comment(db, body="王小明住這裡", created_at=phone.created_at + timedelta(minutes=1))
    db.session.add_all([
        ScreeningReason(comment_id=phone.id, kind="personal_data", action="hold", rule_id="personal:landline",
                        detail="landline", field="body", span_start=2, span_end=14),
        ScreeningReason(comment_id=named.id, kind="protected_name", action="hold", rule_id="name:1",
                        detail="王小明", field="body", span_start=0, span_end=3)])
    db.session.commit()
    html = moderator.queue()
    cards = {comment.id: html[html.index(f'id="card-{comment.id}"'):] for comment in (phone, named)}
    cards[phone.id] = cards[phone.id][:cards[phone.id].index("</article>")]
    cards[named.id] = cards[named.id][:cards[named.id].index("</article>")]
    assert "個人資料：市話號碼" in cards[phone.id] and "/protected-names" not in cards[phone.id]
    assert "/protected-names" in cards[named.id]


def test_a_match_in_the_nickname_is_marked_there_as_in_the_body(moderator, db):
    comment = make_comment(db, nickname="加微信小王", body="正常的內容")
    db.session.add(ScreeningReason(comment_id=comment.id, kind="word", action="spam", rule_id="word:1",
                                   detail="加微信", field="nickname", span_start=0, span_end=3))
    db.session.commit()
    html = moderator.queue()
    assert "<mark>加微信</mark>小王</span>" in html
