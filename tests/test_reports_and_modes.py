"""Readers report comments; admins set each article's comment mode; the audit log and its export."""

import csv
import io
import re

from moderation.models import Article, AuditEntry, Comment, CommentReport, CommentStatus
from tests.conftest import ARTICLE_SLUG, csrf_token_of, make_comment, make_page

ARTICLE_URL = f"/articles/{ARTICLE_SLUG}"


def report(client, comment, reason="spam", note=None, **headers):
    """The report page without JavaScript: its form carries this browser's token."""
    url = f"{ARTICLE_URL}/comments/{comment.id}/report"
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "reason": reason} | ({"note": note} if note is not None else {})
    return client.post(url, data=data, headers=headers)


def reload(db, comment):
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


def test_approved_comments_have_one_report_control_per_page(client, db):
    comments = [make_comment(db, status=CommentStatus.APPROVED) for _ in range(3)]
    html = client.get(ARTICLE_URL).get_data(as_text=True)
    for comment in comments:
        assert f'href="{ARTICLE_URL}/comments/{comment.id}/report"' in html
    assert html.count("data-report-form") == 1 and html.count('value="abuse"') == 1
    assert 'name="csrf_token" value=""' in html  # the shared page carries no token


def test_the_report_page_works_without_javascript(client, db):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="要檢舉的評論")
    page = client.get(f"{ARTICLE_URL}/comments/{comment.id}/report")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "要檢舉的評論" in page.get_data(as_text=True)
    assert client.get(f"{ARTICLE_URL}/comments/{comment.id + 1}/report").status_code == 404


def test_without_javascript_the_report_is_acknowledged_beside_the_comment_reported(client, db):
    """Back on the article at #notice, which stands under the comment reported (not at the top of the
    comments, out of sight of it); a comment the page does not show has its notice at the top."""
    first, reported = (make_comment(db, status=CommentStatus.APPROVED, body=body) for body in ("第一則", "被檢舉的"))
    response = report(client, reported)
    assert response.status_code == 303 and response.location.endswith("#notice")
    html = client.get(response.location).get_data(as_text=True)
    item = html[html.index(f'<li id="comment-{reported.id}"'):]
    item = item[:item.index("</li>")]
    assert 'id="notice"' in item and "已收到您的檢舉，我們會盡快處理" in item
    assert html.count('id="notice"') == 1
    hidden = make_comment(db, status=CommentStatus.APPROVED, body="另一頁的")
    db.session.query(Comment).filter_by(id=hidden.id).update({"listed": False})  # not on the page
    db.session.commit()
    html = client.get(report(client, hidden).location).get_data(as_text=True)
    assert html.index('id="notice"') < html.index('id="comment-list"' if 'id="comment-list"' in html else "data-comment-list")


def test_no_report_reason_is_chosen_for_the_reader_and_one_is_asked_for(client, db):
    """A reason ticked already was sent as the reader's by a hurried tap (垃圾廣告, on the first radio)."""
    from moderation.models import CommentReport

    comment = make_comment(db, status=CommentStatus.APPROVED, body="要檢舉的評論")
    page = client.get(f"{ARTICLE_URL}/comments/{comment.id}/report").get_data(as_text=True)
    radios = re.findall(r'<input type="radio" name="reason"[^>]*>', page)
    assert len(radios) == 4 and not any("checked" in radio for radio in radios)
    assert all(" required" in radio for radio in radios)
    refused = report(client, comment, "", note="我的說明")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="report-reason-error" role="alert">請選擇檢舉原因' in html
    assert 'value="我的說明"' in html  # the words typed stay
    assert db.session.query(CommentReport).count() == 0
    answer = report(client, comment, "", Accept="application/json")
    assert answer.status_code == 422 and answer.get_json() == {"outcome": "refused", "problem": "reason_missing"}
    shared = client.get(ARTICLE_URL).get_data(as_text=True)
    assert not re.search(r'name="reason" value="[a-z_]+" required checked', shared)


def test_a_report_puts_the_comment_in_the_reported_queue_and_it_stays_visible(client, db, moderator):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="有爭議的評論")
    response = report(client, comment, "abuse")
    assert response.status_code == 303
    assert "已收到您的檢舉" in client.get(response.location).get_data(as_text=True)
    assert "有爭議的評論" in client.get(ARTICLE_URL).get_data(as_text=True)
    html = moderator.queue(tab="reported")
    assert f'id="card-{comment.id}"' in html and "讀者檢舉：人身攻擊" in html
    assert re.search(r'已檢舉 <span class="count"[^>]*>1</span>', html)


def test_the_readers_own_page_says_which_comments_they_reported_and_no_one_elses_does(app, client, db):
    reported, other = (make_comment(db, status=CommentStatus.APPROVED, body=body) for body in ("檢舉過的", "沒檢舉的"))
    assert report(client, reported, "spam").status_code == 303
    html = client.get(ARTICLE_URL).get_data(as_text=True)  # this browser's page (it holds our session)
    assert f'href="{ARTICLE_URL}/comments/{reported.id}/report"' not in html
    assert '<span class="reported">已檢舉</span>' in html
    assert f'href="{ARTICLE_URL}/comments/{other.id}/report"' in html
    shared = app.test_client().get(ARTICLE_URL).get_data(as_text=True)  # any other reader's
    assert f'href="{ARTICLE_URL}/comments/{reported.id}/report"' in shared and "已檢舉</span>" not in shared


def test_other_carries_the_readers_own_words_to_the_moderators_card(client, db, moderator):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="看似正常的評論")
    response = report(client, comment, "other", note="  冒用<b>本站記者</b>的名義  ")
    assert response.status_code == 303
    stored = db.session.query(CommentReport).one()
    assert stored.reason.value == "other" and stored.note == "冒用<b>本站記者</b>的名義"
    html = moderator.queue(tab="reported")
    assert "讀者檢舉：其他" in html
    assert "「冒用&lt;b&gt;本站記者&lt;/b&gt;的名義」" in html and "<b>本站記者" not in html


def test_a_report_without_words_stores_none(client, db):
    report(client, make_comment(db, status=CommentStatus.APPROVED), "other")
    assert db.session.query(CommentReport).one().note == ""


def test_words_with_hidden_characters_or_too_many_are_refused_and_kept(client, db, app):
    comment = make_comment(db, status=CommentStatus.APPROVED)
    hidden = "看\u202e信微加"
    response = report(client, comment, "other", note=hidden)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and response.headers["Cache-Control"] == "no-store"
    assert "其他原因含有看不見的字元或控制字元" in html and 'aria-invalid="true"' in html
    assert f'value="{hidden}"' in html and re.search(r'value="other"[^>]*checked', html)
    long = "長" * (app.config["REPORT_NOTE_MAX_LENGTH"] + 1)
    response = report(client, comment, "other", note=long)
    assert response.status_code == 422 and "其他原因最多 200 個字" in response.get_data(as_text=True)
    assert db.session.query(CommentReport).count() == 0
    assert report(client, comment, "other", note="長" * 200).status_code == 303  # the limit itself is fine


def test_refused_words_in_place_get_a_code_for_the_script(client, db):
    comment = make_comment(db, status=CommentStatus.APPROVED)
    response = report(client, comment, "other", note="a\x07b", Accept="application/json")
    assert response.status_code == 422
    assert response.get_json() == {"outcome": "refused", "problem": "note_invisible_characters"}
    assert db.session.query(CommentReport).count() == 0


def test_the_shared_page_offers_the_words_for_other_with_its_messages_in_the_page_language(client, db):
    make_comment(db, status=CommentStatus.APPROVED)
    html = client.get(ARTICLE_URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="note"' in html and 'maxlength="200"' in html
    assert "Other reason (optional)" in html and "The other reason can be at most 200 characters long" in html


def test_the_same_reader_counts_once(client, db):
    comment = make_comment(db, status=CommentStatus.APPROVED)
    report(client, comment)
    response = report(client, comment)
    assert "您已檢舉過這則評論" in client.get(response.location).get_data(as_text=True)
    assert db.session.query(CommentReport).count() == 1


def reader_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_three_readers_at_distinct_addresses_hide_the_comment_until_a_moderator_decides(app, db, moderator):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="被多人檢舉的評論")
    for index in range(3):
        report(reader_at(app, f"10.0.0.{index}"), comment)
    comment = reload(db, comment)
    assert comment.status is CommentStatus.PENDING
    assert "被多人檢舉的評論" not in app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    system = db.session.query(AuditEntry).filter_by(comment_id=comment.id).one()
    assert system.actor == "system" and system.note == "reports:3"
    assert "3 位讀者檢舉，暫時隱藏待審" in moderator.queue(tab="reported")  # worded in the card's history
    assert f'id="card-{comment.id}"' in moderator.queue(tab="reported")
    moderator.decide(comment, "approve")
    assert reload(db, comment).status is CommentStatus.APPROVED
    assert db.session.query(CommentReport).filter(CommentReport.resolved_at.is_(None)).count() == 0
    assert f'id="card-{comment.id}"' not in moderator.queue(tab="reported")


def test_one_address_without_cookies_counts_once(app, db):
    comment = make_comment(db, status=CommentStatus.APPROVED, body="不該被一個人藏起來")
    for _ in range(5):
        client = reader_at(app, "10.5.5.5")  # a fresh client each time: no cookie kept
        url = f"{ARTICLE_URL}/comments/{comment.id}/report"
        client.get(url)
        token = csrf_token_of(client.get(url).get_data(as_text=True))
        client.delete_cookie("reader")
        answer = client.post(url, data={"csrf_token": token, "reason": "spam"})
    assert reload(db, comment).status is CommentStatus.APPROVED
    assert db.session.query(CommentReport).count() == 1
    # The last may be a colleague behind the same address: not told that they reported it themselves.
    page = client.get(answer.location).get_data(as_text=True)
    said = re.search(r'<p class="notice"[^>]*>([^<]*)</p>', page).group(1)
    assert said == "這則評論已有人從您所在的網路檢舉過，我們會盡快處理"


def test_readers_sharing_an_office_address_each_report_but_count_once_toward_hiding(app, db):
    from moderation.web.reader_identity import set_reader_cookie

    comment = make_comment(db, status=CommentStatus.APPROVED, body="辦公室同事都檢舉了")
    for index in range(3):
        client = reader_at(app, "10.6.6.6")
        with app.test_request_context():
            from flask import make_response

            response = make_response("")
            set_reader_cookie(response, f"colleague-token-{index}")
        client.set_cookie("reader", response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
        report(client, comment)
    assert db.session.query(CommentReport).count() == 3
    assert reload(db, comment).status is CommentStatus.APPROVED


def test_the_threshold_is_a_setting(app, db):
    app.config["REPORT_HIDE_THRESHOLD"] = 1
    comment = make_comment(db, status=CommentStatus.APPROVED)
    report(app.test_client(), comment)
    assert reload(db, comment).status is CommentStatus.PENDING


def test_reports_are_rate_limited_per_reader(client, db, app):
    app.config["REPORTS_PER_HOUR"] = 2
    comments = [make_comment(db, status=CommentStatus.APPROVED) for _ in range(3)]
    report(client, comments[0])
    report(client, comments[1])
    response = report(client, comments[2])
    assert "您的檢舉次數過多" in client.get(response.location).get_data(as_text=True)
    assert db.session.query(CommentReport).count() == 2


def test_only_published_comments_of_this_article_can_be_reported(client, db):
    pending = make_comment(db)
    assert client.get(f"{ARTICLE_URL}/comments/{pending.id}/report").status_code == 404
    published = make_comment(db, status=CommentStatus.APPROVED)
    token = csrf_token_of(client.get(f"{ARTICLE_URL}/comments/{published.id}/report").get_data(as_text=True))
    refused = client.post(f"{ARTICLE_URL}/comments/{pending.id}/report", data={"csrf_token": token, "reason": "spam"})
    assert refused.status_code == 404
    assert client.post(f"{ARTICLE_URL}/comments/999/report").status_code in (400, 404)


def test_pre_moderation_is_the_default_mode(page, db):
    page.post(body="預設先審後發")
    assert db.session.query(Comment).one().status is CommentStatus.PENDING


def test_admin_sets_post_moderation_and_comments_publish_at_once_but_stay_reviewable(admin, app, db):
    article = db.session.query(Article).one()
    assert admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="post").status_code == 303
    page = make_page(app)
    page.post(body="先發後審的評論")
    comment = db.session.query(Comment).one()
    assert comment.status is CommentStatus.APPROVED
    assert "先發後審的評論" in app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert f'id="card-{comment.id}"' in admin.queue(tab="approved")
    entry = db.session.query(AuditEntry).filter_by(action="mode_change").one()
    assert (entry.from_status, entry.to_status, entry.actor) == ("pre", "post", "boss")


def test_closed_article_replaces_the_form_and_keeps_comments_visible(admin, app, db):
    make_comment(db, status=CommentStatus.APPROVED, body="關閉前的評論")
    article = db.session.query(Article).one()
    admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="closed")
    html = app.test_client().get(ARTICLE_URL).get_data(as_text=True)
    assert "本文評論已關閉" in html and "關閉前的評論" in html and 'id="comment-form"' not in html


def test_unknown_mode_is_a_400(admin, db):
    article = db.session.query(Article).one()
    assert admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="chaos").status_code == 400
    assert admin.post("/moderation/admin/articles/999/mode", mode="post").status_code == 404


def test_admin_sees_the_whole_log_with_filters(admin, moderator, db):
    comment = make_comment(db)
    assert moderator.login().status_code == 303  # through the form: a sign-in is logged
    moderator.decide(comment, "spam")
    html = admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert "標為垃圾" in html and "登入" in html
    filtered = admin.client.get("/moderation/admin/audit?action=spam").get_data(as_text=True)
    assert f"#{comment.id}" in filtered and "<td>登入</td>" not in filtered


def test_audit_csv_export(admin, moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "reject", reason="other", note="=HYPERLINK(\"x\")")
    response = admin.client.get("/moderation/admin/audit.csv?action=reject")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    # Named for when it was taken (the display time zone), not a bare audit.csv each time.
    assert re.fullmatch(r"attachment; filename=audit-\d{8}-\d{4}\.csv", response.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["action"], row["from_status"], row["to_status"], row["reason"]) == (
        "mod", "reject", "pending", "rejected", "other")
    assert row["note"].startswith("'=")  # a spreadsheet does not run it as a formula
    assert (row["action_label"], row["from_label"], row["to_label"], row["reason_label"]) == (
        "拒絕", "待審核", "已拒絕", "其他")
    assert row["at_utc"].endswith("+00:00") and row["at_local"] and row["at_local"] != row["at_utc"]
    assert db.session.query(AuditEntry).filter_by(action="audit_export").count() == 1


def test_the_audit_csv_words_its_labels_in_the_chosen_language(admin, moderator, db):
    from moderation.web.languages import LANGUAGE_COOKIE

    comment = make_comment(db)
    moderator.decide(comment, "spam")
    admin.client.set_cookie(LANGUAGE_COOKIE, "en")
    text = admin.client.get("/moderation/admin/audit.csv?action=spam").get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert (row["action"], row["action_label"], row["to_label"]) == ("spam", "Mark as spam", "Spam")


def test_audit_rows_link_to_their_comment_on_the_tab_it_is_on(admin, moderator, db):
    comment = make_comment(db)
    moderator.decide(comment, "approve")
    log = admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert f'<a href="/moderation/comments/{comment.id}">#{comment.id}</a>' in log
    response = admin.client.get(f"/moderation/comments/{comment.id}")
    assert response.status_code == 303 and "tab=approved" in response.location and f"comment={comment.id}" in response.location
    html = admin.client.get(response.location).get_data(as_text=True)
    assert f'id="card-{comment.id}"' in html and f"評論 #{comment.id}" in html
    assert admin.client.get("/moderation/comments/999999").status_code == 404


def test_one_address_dropping_its_cookie_cannot_publish_the_same_text_again(admin, app, db):
    article = db.session.query(Article).one()
    admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="post")
    for _ in range(5):
        make_page(app).post(body="換個瀏覽器再貼一次", nickname="同一個人")  # a new browser: no cookie
    copies = db.session.query(Comment).filter(Comment.body == "換個瀏覽器再貼一次").order_by(Comment.id).all()
    assert len(copies) == 5
    assert [copy.status for copy in copies].count(CommentStatus.APPROVED) == 1
    assert all(copy.status is CommentStatus.PENDING for copy in copies[1:])  # held for a moderator


def test_colleagues_with_their_own_cookies_may_write_the_same_words(admin, app, db):
    article = db.session.query(Article).one()
    admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="post")
    colleagues = [make_page(app) for _ in range(3)]
    for colleague in colleagues:
        colleague.post(body="第一次來留言")  # each browser gets its own author cookie
    for colleague in colleagues:
        colleague.open_form()
        colleague.post(body="謝謝分享")
    copies = db.session.query(Comment).filter(Comment.body == "謝謝分享").all()
    assert [copy.status for copy in copies] == [CommentStatus.APPROVED] * 3


def test_saving_a_comment_mode_says_so(admin, db):
    from moderation.models import Article

    article = db.session.query(Article).first()
    response = admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="post")
    html = admin.client.get(response.location).get_data(as_text=True)
    assert "已儲存：" in html and "改為先發後審" in html
    response = admin.post(f"/moderation/admin/articles/{article.id}/mode", mode="post")
    assert "維持先發後審" in admin.client.get(response.location).get_data(as_text=True)


def test_every_audit_action_has_a_label_in_the_pages_language(app):
    """The audit log's filter, rows and CSV name each action in words (four of them showed their codes)."""
    from moderation.services.audit import AuditAction

    with app.test_request_context():
        labels = app.jinja_env.get_template("moderator/labels.html").module.AUDIT_ACTION
    assert {action.value for action in AuditAction} <= set(labels)


def test_the_audit_filters_read_a_comment_as_the_log_shows_it_and_a_name_in_any_case(admin, db, clock):
    from moderation.services.accounts import find_moderator
    from moderation.services.audit import Actor, AuditAction, record

    boss = find_moderator(db.session, "boss")
    shown, other = make_comment(db), make_comment(db)
    for comment in (shown, other):
        record(db.session, Actor.moderator(boss), AuditAction.APPROVE, now=clock(), comment_id=comment.id)
    db.session.commit()

    def rows(**query) -> tuple[str, list[str]]:
        html = admin.client.get("/moderation/admin/audit", query_string=query).get_data(as_text=True)
        return html, re.findall(r'>#(\d+)</a>', html)

    assert rows(comment=f"#{shown.id}")[1] == [str(shown.id)]
    assert rows(comment=f" {shown.id} ")[1] == [str(shown.id)]
    html, found = rows(comment="abc")
    assert found == [] and "評論編號請填數字，例如 43 或 #43。" in html and 'value="abc"' in html
    html, found = rows(comment="9" * 23)  # digits, but no comment can have the number
    assert found == [] and "沒有這個編號的評論：編號太大。" in html and "請填數字" not in html
    assert len(rows(actor="BOSS", action="approve")[1]) == 2
    html, found = rows(action="bogus")  # no action of the log: no filter, as the menu's 全部 shows, and said
    assert len(found) == 2 and '<option value="">全部</option>' in html and "selected" not in html.split('id="audit-action"')[1].split("</select>")[0]
    assert "沒有「bogus」這種操作，以下是全部的紀錄。" in html
    # An actor typed as the log shows it: API：site (either colon, any case), 系統, 命令列.
    record(db.session, Actor("api:news.example"), AuditAction.APPROVE, now=clock(), comment_id=shown.id)
    record(db.session, Actor("system"), AuditAction.APPROVE, now=clock(), comment_id=other.id)
    db.session.commit()
    for typed in ("API：news.example", "api: news.example"):
        assert rows(actor=typed)[1] == [str(shown.id)], typed
    assert rows(actor="系統")[1] == [str(other.id)] and rows(actor="System")[1] == [str(other.id)]
