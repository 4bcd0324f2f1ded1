"""Admins keep the word lists; moderators flag wrong hits; reasons show on queue cards."""

import re

import pytest
from sqlalchemy import delete, select

from moderation.jobs.long_work import run_long_job_in_app
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    DecisionTimeHour,
    DomainRuleRow,
    ScreeningReason,
    WordRuleRow,
)
from tests.conftest import make_comment, make_page


@pytest.fixture
def app_config(app_config):
    """Re-screening is a job: the tests run it themselves (tests/test_long_jobs.py: the runners)."""
    return {**app_config, "JOBS_RUNNER": "off"}

RULES = "/moderation/admin/rules/"


def stored(db):
    db.session.expire_all()
    return db.session.query(Comment).order_by(Comment.id).all()


def test_moderators_cannot_reach_the_rules_pages(moderator):
    assert moderator.client.get(RULES).status_code == 403
    assert moderator.post(RULES + "words", term="x", action="hold").status_code == 403
    assert moderator.client.get(RULES + "export/word.txt").status_code == 403


def test_admin_adds_a_word_and_the_next_comment_is_held(admin, app, db):
    response = admin.post(RULES + "words", term="測試黑話", action="hold", note="新出現的暗語")
    assert response.status_code == 303
    assert db.session.query(WordRuleRow).filter_by(term="測試黑話").one().action == "hold"
    entry = db.session.query(AuditEntry).filter_by(action="rule_add").one()
    assert entry.actor == "boss" and entry.details["term"] == "測試黑話"
    make_page(app).post(body="這裡有測試 黑話喔")
    assert stored(db)[0].status is CommentStatus.PENDING
    assert any(r.detail == "測試黑話" for r in stored(db)[0].screening_reasons)


def test_a_saved_rule_is_worded_in_the_page_language(admin):
    from moderation.web.languages import LANGUAGE_COOKIE

    admin.post(RULES + "words", term="收費", action="hold")
    assert "已儲存字詞規則：「收費」，待審。" in admin.client.get(RULES).get_data(as_text=True)
    admin.post(RULES + "domains", domain="spam-shop.example", action="block")
    assert "已儲存網域規則：spam-shop.example，封鎖（垃圾）。" in admin.client.get(RULES).get_data(as_text=True)
    admin.client.set_cookie(LANGUAGE_COOKIE, "en")
    admin.post(RULES + "words", term="代開", action="spam")
    page = admin.client.get(RULES).get_data(as_text=True)
    assert "Word rule saved: “代開”, " in page and " hold" not in page.split("Word rule saved", 1)[1][:40]


def test_a_bad_rule_is_refused_with_a_message_and_the_input_kept(admin, db):
    response = admin.post(RULES + "words", term="，，，", action="block")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "字詞不能只有空白或標點" in html and 'value="，，，"' in html
    response = admin.post(RULES + "words", term="好詞", action="explode")
    assert response.status_code == 422 and "未知的動作" in response.get_data(as_text=True)
    response = admin.post(RULES + "domains", domain="not a domain", action="block")
    assert response.status_code == 422 and "不是有效的網域" in response.get_data(as_text=True)
    # The action chosen is kept with the domain typed: sent again as shown, a blocked domain stays blocked.
    assert '<option value="block" selected>' in response.get_data(as_text=True)
    response = admin.post(RULES + "domains", domain="not a domain", action="allow")
    assert '<option value="allow" selected>' in response.get_data(as_text=True)


@pytest.mark.parametrize(("first", "second"), [(("賭博", "spam"), ("赌博", "allow")), (("ＶＩＰ 會員", "allow"), ("vip會員", "hold"))])
def test_an_allow_rule_and_a_blocking_twin_in_another_script_or_width_are_refused(admin, db, first, second):
    admin.post(RULES + "words", term=first[0], action=first[1])
    response = admin.post(RULES + "words", term=second[0], action=second[1])
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f"篩選時與規則「{first[0]}」是同一個詞" in html and f'value="{second[0]}"' in html
    assert [row.term for row in db.session.query(WordRuleRow).filter(WordRuleRow.term.in_([first[0], second[0]]))] == [first[0]]
    assert admin.post(RULES + "words", term=second[0], action=first[1]).status_code == 303  # the same kind: no conflict



def test_an_import_refuses_twins_of_the_other_kind_in_the_file_or_stored_and_names_the_lines(admin, db):
    admin.post(RULES + "words", term="賭博", action="spam")
    before = db.session.query(WordRuleRow).count()
    response = admin.post(RULES + "import", kind="word", text="新詞\tblock\n赌博\tallow\nＶＩＰ會員\tallow\nvip 會員\thold\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and db.session.query(WordRuleRow).count() == before
    assert "第 2 行：篩選時與規則「賭博」是同一個詞" in html
    assert "第 3 行：篩選時與規則「vip 會員」是同一個詞" in html and "第 4 行：篩選時與規則「ＶＩＰ會員」是同一個詞" in html
    assert "第 1 行" not in html
    # A stored rule the file itself replaces is no twin: 賭博 becomes an allow rule with its twin.
    assert admin.post(RULES + "import", kind="word", text="賭博\tallow\n赌博\tallow\n").status_code == 303
    assert {row.term: row.action for row in db.session.query(WordRuleRow).filter(WordRuleRow.term.in_(["賭博", "赌博"]))} \
        == {"賭博": "allow", "赌博": "allow"}


def test_allowing_a_phrase_that_is_the_blocking_term_itself_in_another_script_is_refused(db, clock):
    from moderation.models import ScreeningReason
    from moderation.services.audit import COMMAND_LINE
    from moderation.services.rulebook.edits import RuleError, allow_phrase, save_word_rule

    save_word_rule(db.session, "賭博", "spam", actor=COMMAND_LINE, now=clock())
    comment = make_comment(db)
    reason = ScreeningReason(comment_id=comment.id, kind="word", detail="賭博", rule_id="word:1")
    with pytest.raises(RuleError) as refused:
        allow_phrase(db.session, reason, "赌 博", actor=COMMAND_LINE, now=clock())
    assert refused.value.value == "賭博"
    assert allow_phrase(db.session, reason, "打擊賭博", actor=COMMAND_LINE, now=clock()).term == "打擊賭博"

def test_rule_changes_are_stored_as_codes_and_worded_in_each_language(admin, db):
    from moderation.web.languages import LANGUAGE_COOKIE

    admin.post(RULES + "words", term="收費", action="hold")
    entry = db.session.query(AuditEntry).filter_by(action="rule_add").one()
    assert entry.details == {"kind": "word", "term": "收費", "action": "hold", "fuzzy": "hold"} and entry.note == ""
    assert "字詞「收費」：待審" in admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    admin.client.set_cookie(LANGUAGE_COOKIE, "en")
    assert "word 收費 hold" not in admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    admin.client.set_cookie(LANGUAGE_COOKIE, "zh-Hant")
    admin.post(RULES + "domains", domain="spam-shop.com", action="block")
    log = admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert "網域 spam-shop.com：封鎖（垃圾）" in log  # what it does: spam, not a rejection


def test_admin_blocks_a_domain_and_removes_a_rule(admin, db):
    admin.post(RULES + "domains", domain="https://Spam-Links.com/path", action="block")
    assert db.session.query(DomainRuleRow).filter_by(domain="spam-links.com").one().action == "block"
    asked = admin.post(RULES + "remove", value="spam-links.com").get_data(as_text=True)
    assert "要移除規則「spam-links.com」嗎？" in asked
    assert db.session.query(AuditEntry).filter_by(action="rule_remove").count() == 0  # only asked
    admin.post(RULES + "remove", value="spam-links.com", confirmed="1")
    assert db.session.query(DomainRuleRow).filter_by(domain="spam-links.com").count() == 0
    assert db.session.query(AuditEntry).filter_by(action="rule_remove").one().details == {
        "term": "spam-links.com", "removed": 1}


@pytest.mark.parametrize("typed", ["http://exa mple .com/path", "*.evil.com", "spam,shop.com"])
def test_a_domain_no_link_could_have_is_refused(admin, db, typed):
    """A rule with a space, a * or a comma in its host can never match a link: refused, not saved."""
    before = db.session.query(DomainRuleRow).count()
    response = admin.post(RULES + "domains", domain=typed, action="block")
    assert response.status_code == 422 and "不是有效的網域" in response.get_data(as_text=True)
    assert db.session.query(DomainRuleRow).count() == before


def test_a_domain_typed_in_full_width_is_folded(admin, db):
    admin.post(RULES + "domains", domain="ＳＰＡＭ－ＳＨＯＰ．ＣＯＭ", action="block")
    assert db.session.query(DomainRuleRow).filter_by(domain="spam-shop.com").one().action == "block"


def test_export_then_import_round_trips(admin, db):
    exported = admin.client.get(RULES + "export/word.txt").get_data(as_text=True)
    assert "加微信\tspam\thold\t" in exported  # the starter rule, its note after
    response = admin.post(RULES + "import", kind="word", text="新詞一\tblock\n新詞二\thold\n# comment\n\n")
    assert response.status_code == 303
    assert {r.term: r.action for r in db.session.query(WordRuleRow).filter(WordRuleRow.term.like("新詞%"))} == {
        "新詞一": "block", "新詞二": "hold"}
    assert "新詞一\tblock" in admin.client.get(RULES + "export/word.txt").get_data(as_text=True)


def test_notes_go_out_with_the_list_and_come_back_and_a_line_without_one_keeps_the_stored_note(admin, db):
    admin.post(RULES + "words", term="代刷好評", action="spam", note="網購刷單\t廣告\n三月起常見")
    admin.post(RULES + "words", term="刷單兼職", action="hold", note="求職詐騙")
    exported = admin.client.get(RULES + "export/word.txt").get_data(as_text=True)
    assert "代刷好評\tspam\thold\t網購刷單 廣告 三月起常見\n" in exported
    db.session.query(WordRuleRow).filter(WordRuleRow.term.in_(["代刷好評", "刷單兼職"])).delete()
    db.session.commit()
    assert admin.post(RULES + "import", kind="word", text=exported).status_code == 303
    notes = {row.term: row.note for row in db.session.query(WordRuleRow).filter(WordRuleRow.note != "")}
    assert notes["代刷好評"] == "網購刷單 廣告 三月起常見" and notes["刷單兼職"] == "求職詐騙"
    assert admin.post(RULES + "import", kind="word", text="刷單兼職\tspam\n").status_code == 303
    kept = db.session.query(WordRuleRow).filter_by(term="刷單兼職").one()
    assert (kept.action, kept.note) == ("spam", "求職詐騙")


def test_an_import_with_a_bad_line_saves_nothing_and_says_which_line(admin, db):
    before = db.session.query(WordRuleRow).count()
    response = admin.post(RULES + "import", kind="word", text="好詞\tblock\n壞詞\tnuke\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "第 2 行" in html and "好詞\tblock" in html
    assert db.session.query(WordRuleRow).count() == before


def test_an_import_says_every_bad_line_at_once_and_a_line_without_its_tab_as_such(admin, db):
    admin.post(RULES + "words", term="賭博", action="spam")
    response = admin.post(RULES + "import", kind="word", text="沒有動作的行\n赌博\tallow\n好詞\tnuke\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 1 行：每行須為「詞語或網域、Tab 或空格、動作」，這一行找不到動作：沒有動作的行" in html
    assert "第 2 行：篩選時與規則「賭博」是同一個詞" in html  # with the others, not after they are mended
    assert "第 3 行：未知的動作：nuke" in html


def test_lines_typed_in_the_box_may_separate_the_action_with_spaces(admin, db):
    """Tab moves on in a text box: a line typed there ends with its action after spaces, and a term
    may hold spaces of its own."""
    text = "加我私聊 spam\n博 彩  block\n代開發票 hold action\n"
    assert admin.post(RULES + "import", kind="word", text=text).status_code == 303
    saved = {row.term: (row.action, row.fuzzy) for row in db.session.query(WordRuleRow)}
    assert saved["加我私聊"] == ("spam", "hold") and saved["代開發票"] == ("hold", "action")
    assert any(action == "block" for term, (action, _) in saved.items() if term.replace(" ", "") == "博彩")
    assert admin.post(RULES + "import", kind="domain", text="bad-two.com block\n").status_code == 303
    assert db.session.query(DomainRuleRow).filter_by(domain="bad-two.com").one().action == "block"


def test_domain_import(admin, db):
    admin.post(RULES + "import", kind="domain", text="bad-one.com\tblock\nexample.gov.tw\tallow\n")
    assert db.session.query(DomainRuleRow).filter_by(domain="bad-one.com").one().action == "block"


def test_the_admin_tester_shows_the_decision_and_the_matched_text(admin, db):
    html = admin.post(RULES + "test", text="請 加 微 信 聊", nickname="").get_data(as_text=True)
    assert "結果：<strong>垃圾</strong>" in html and "<mark>加 微 信</mark>" in html
    assert "字詞規則：「加微信」" in html and "word:" not in html.split("</ul>", 1)[0].rsplit("test-result", 1)[-1]
    # What it reads is bounded in the browser too: a long paste stops at the box, not at a 400 page.
    assert 'id="test-text" name="text" rows="3" dir="auto" maxlength="4000"' in html
    assert db.session.query(Comment).count() == 0
    personal = admin.post(RULES + "test", text="電話 0912-345-678，信箱 lin@example.com，家裡 02-2345-6789",
                          nickname="").get_data(as_text=True)
    assert "個人資料：手機號碼" in personal and "個人資料：電子郵件地址" in personal and "個人資料：phone" not in personal
    assert "個人資料：市話號碼" in personal and "個人資料：landline" not in personal


def test_rescreen_moves_pending_comments_the_new_rules_catch(admin, app, db):
    make_page(app).post(body="這是新型廣告詞")
    assert stored(db)[0].status is CommentStatus.PENDING
    admin.post(RULES + "words", term="新型廣告詞", action="spam")
    response = admin.post(RULES + "rescreen")
    assert response.status_code == 303 and response.location.startswith("/moderation/admin/jobs/")
    assert run_long_job_in_app(app, int(response.location.rsplit("/", 1)[1])) == "done"
    db.session.expire_all()
    [comment] = stored(db)
    assert comment.status is CommentStatus.SPAM
    assert any(r.detail == "新型廣告詞" for r in comment.screening_reasons)
    entries = {e.action: e for e in db.session.query(AuditEntry)}
    # The move is the rules' decision, not the admin's: the dashboard's decisions per moderator leave it out.
    assert entries["spam"].actor == "system" and entries["spam"].moderator_id is None
    assert entries["spam"].details == {"by": "rescreen"}
    assert db.session.query(DecisionTimeHour).count() == 0
    assert entries["rescreen"].actor == "boss"
    assert entries["rescreen"].details == {"checked": 1, "moved": {"spam": 1}} and entries["rescreen"].note == ""
    log = admin.client.get("/moderation/admin/audit").get_data(as_text=True)
    assert "檢查了 1 則待審評論；移出待審：垃圾 1" in log and "重新篩選時依規則處理" in log
    assert "<td>系統</td>" in log and "<td>system</td>" not in log  # the service, worded, not its code
    assert "字詞「新型廣告詞」：垃圾" in log and "checked" not in log


def test_rule_hit_counts_show_hits_and_approvals_per_rule(admin, app, db):
    make_page(app).post(body="請看 wechat 群")
    [comment] = stored(db)
    admin.decide(comment, "approve")
    html = admin.client.get(RULES).get_data(as_text=True)
    row = re.search(r"<tr><td>wechat</td>.*?</tr>", html, re.S).group(0)
    assert re.findall(r"<td>(\d+)(?:（(\d+)%）)?</td>", row)[:2] == [("1", ""), ("1", "100")]


def test_card_lets_a_moderator_flag_a_wrong_rule_once(moderator, app, db):
    make_page(app).post(body="請看 wechat 群")
    [comment] = stored(db)
    html = moderator.queue()
    assert "此規則在這裡誤判" in html and "允許此詞語" not in html  # allow-listing is for admins
    reason = next(r for r in comment.screening_reasons if r.kind == "word")
    url = f"/moderation/comments/{comment.id}/reasons/{reason.id}/wrong"
    moderator.post(url, back="/moderation/")
    moderator.post(url, back="/moderation/")
    assert db.session.query(AuditEntry).filter_by(action="rule_wrong").count() == 1
    assert moderator.post(f"/moderation/comments/{comment.id}/reasons/{reason.id}/allow", phrase="wechat").status_code == 403


def test_a_reason_whose_rule_was_deleted_says_so_and_can_no_longer_be_judged(moderator, admin, app, db, clock):
    from zoneinfo import ZoneInfo

    from moderation.services import dashboard
    from moderation.services.audit import COMMAND_LINE
    from moderation.services.rulebook.edits import remove_rule

    make_page(app).post(body="請看 wechat 群")
    [comment] = stored(db)
    reason = next(r for r in comment.screening_reasons if r.kind == "word")
    assert remove_rule(db.session, "wechat", actor=COMMAND_LINE, now=clock()) == 1
    db.session.commit()
    card = moderator.queue()
    assert "「wechat」（待審）（規則已刪除）" in card and "此規則在這裡誤判" not in card
    response = moderator.post(f"/moderation/comments/{comment.id}/reasons/{reason.id}/wrong", back="/moderation/")
    assert response.status_code == 303 and "規則「wechat」已刪除，無法再記錄它的誤判。" in moderator.queue()
    assert db.session.query(AuditEntry).filter_by(action="rule_wrong").count() == 0
    period = dashboard.period(dashboard.Span.DAY, now=clock(), zone=ZoneInfo(app.config["DISPLAY_TIMEZONE"]))
    assert [row.term for row in dashboard.top_rules(db.session, period, limit=10)] == ["wechat"]  # not word:N


def test_admin_allows_a_phrase_from_the_card(admin, app, db):
    make_page(app).post(body="支持政府打擊博彩產業")  # 打擊博彩 is allowed already: pending for mode only
    make_page(app).post(body="澳門博彩業新聞")
    comment = stored(db)[1]
    assert comment.status is CommentStatus.REJECTED
    reason = next(r for r in comment.screening_reasons if r.kind == "word")
    html = admin.queue(tab="rejected")
    assert f'id="allow-{reason.id}"' in html and 'value="澳門博彩業新"' in html
    url = f"/moderation/comments/{comment.id}/reasons/{reason.id}/allow"
    admin.post(url, phrase="不相干", back="/moderation/?tab=rejected")
    assert "允許的詞語必須包含「博彩」" in admin.queue(tab="rejected")
    admin.post(url, phrase="澳門博彩業", back="/moderation/?tab=rejected")
    assert db.session.query(WordRuleRow).filter_by(term="澳門博彩業").one().action == "allow"
    assert db.session.query(AuditEntry).filter_by(action="allow_term").one().comment_id == comment.id
    make_page(app).post(body="澳門博彩業的報導")
    assert stored(db)[2].status is CommentStatus.PENDING


def test_the_phrase_offered_to_allow_stops_at_punctuation_and_spaces(admin, app, db):
    make_page(app).post(body="好消息：博彩 網站")
    reason = next(r for r in stored(db)[0].screening_reasons if r.kind == "word")
    html = admin.queue(tab="rejected")
    assert f'id="allow-{reason.id}" name="phrase" type="text" maxlength="200"\n                   value="博彩">' in html


def test_reason_actions_refuse_a_reason_of_another_comment(moderator, app, db):
    make_page(app).post(body="請看 wechat 群")
    [comment] = stored(db)
    reason = db.session.query(ScreeningReason).filter_by(kind="word").first()
    assert moderator.post(f"/moderation/comments/{comment.id + 1}/reasons/{reason.id}/wrong").status_code == 404


def test_the_page_and_the_command_line_log_a_rule_change_alike(admin, db, runner):
    """One function saves and logs a rule for both: the details name the domain as stored."""
    admin.post(RULES + "domains", domain="https://Spam-Links.com/path", action="block")
    assert runner.invoke(args=["rules", "add-domain", "block", "HTTPS://Other-Spam.com/x"]).exit_code == 0
    db.session.expire_all()
    entries = db.session.query(AuditEntry).filter_by(action="rule_add").order_by(AuditEntry.id).all()
    assert [(entry.actor, entry.details) for entry in entries] == [
        ("boss", {"kind": "domain", "term": "spam-links.com", "action": "block"}),
        ("cli", {"kind": "domain", "term": "other-spam.com", "action": "block"})]


def test_every_audit_row_names_a_known_action(admin, moderator, db, runner, app):
    from moderation.services.audit import AuditAction

    assert moderator.login().status_code == 303  # through the form: a sign-in is logged
    admin.post(RULES + "words", term="新詞", action="hold")
    admin.post(RULES + "remove", value="新詞", confirmed="1")
    runner.invoke(args=["retention"])
    admin.client.get("/moderation/admin/audit.csv")
    db.session.expire_all()
    actions = {entry.action for entry in db.session.query(AuditEntry)}
    assert actions >= {"login", "rule_add", "rule_remove", "retention", "audit_export"}
    assert actions <= {action.value for action in AuditAction}


def post_moderated(db):
    from moderation.models import Article, CommentMode

    article = db.session.query(Article).one()
    article.comment_mode = CommentMode.POST_MODERATION
    db.session.commit()
    return article


def test_a_dry_run_tells_what_a_new_word_would_hold_and_saves_nothing(admin, db, clock):
    from datetime import timedelta

    from tests.conftest import make_comment

    post_moderated(db)
    make_comment(db, body="這家店的芝麻湯圓很好吃", created_at=clock() - timedelta(days=2))
    make_comment(db, body="芝麻湯圓配豆漿", created_at=clock() - timedelta(days=3))
    make_comment(db, body="芝麻湯圓是去年的事", created_at=clock() - timedelta(days=40))  # outside 30 days
    make_comment(db, body="沒有關係的評論", created_at=clock() - timedelta(days=1))
    words_before = db.session.query(WordRuleRow).count()
    response = admin.post(RULES + "dry-run", term="芝麻湯圓", action="hold")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "最近 30 天的 3 則評論中，會多攔下 2 則、放行 0 則" in html and "規則尚未儲存" in html
    assert "篩選的結果，現在 → 規則改變後（不是評論目前的狀態）：" in html  # what the arrows compare
    assert db.session.query(WordRuleRow).count() == words_before
    assert db.session.query(AuditEntry).filter_by(action="rule_add").count() == 0


def test_a_term_saved_again_with_another_action_is_asked_naming_both(admin, db):
    assert admin.post(RULES + "words", term="博彩", action="block").status_code == 303
    asked = admin.post(RULES + "words", term="博彩", action="allow", note="放行")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "「博彩」目前的規則是「拒絕」，要改為「允許」嗎？" in html and "改為「允許」" in html
    assert db.session.query(WordRuleRow).filter_by(term="博彩").one().action == "block"
    assert admin.post(RULES + "words", term="博彩", action="allow", confirmed="1").status_code == 303
    db.session.expire_all()
    assert db.session.query(WordRuleRow).filter_by(term="博彩").one().action == "allow"
    assert admin.post(RULES + "words", term="博彩", action="allow", note="同樣").status_code == 303  # same: no question


def test_removing_a_rule_from_its_page_says_it_was_removed(admin, db):
    assert "要移除規則「wechat」嗎？" in admin.post(RULES + "remove", value="wechat").get_data(as_text=True)
    removed = admin.post(RULES + "remove", value="wechat", confirmed="1")
    page = admin.client.get(removed.location).get_data(as_text=True)
    assert "已移除：wechat" in page and "無法再記錄它的誤判" not in page
    assert db.session.query(WordRuleRow).filter_by(term="wechat").count() == 0


def test_a_rule_of_one_character_is_asked_once_more_with_the_dry_run_offered(admin, db):
    before = db.session.query(WordRuleRow).count()
    asked = admin.post(RULES + "words", term=" 的 ", action="hold", note="試試")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "「的」只有一個字" in html and "仍要加入「的」" in html
    assert 'formaction="/moderation/admin/rules/dry-run#dry-run"' in html and 'name="note" value="試試"' in html
    assert db.session.query(WordRuleRow).count() == before
    assert admin.post(RULES + "words", term="的", action="hold", confirmed="1").status_code == 303
    assert db.session.query(WordRuleRow).filter_by(term="的").one().action == "hold"
    assert admin.post(RULES + "words", term="的的", action="hold").status_code == 303  # two: no question
    assert admin.post(RULES + "words", term="嗯", action="allow").status_code == 303  # an exception: no question


def test_a_dry_run_of_a_removal_tells_what_it_would_release(admin, db, clock):
    from datetime import timedelta

    from tests.conftest import make_comment

    post_moderated(db)
    make_comment(db, body="有需要私訊我", created_at=clock() - timedelta(days=1))
    html = admin.post(RULES + "dry-run", term="私訊我", action="remove").get_data(as_text=True)
    assert "會多攔下 0 則、放行 1 則" in html
    assert db.session.query(WordRuleRow).filter_by(term="私訊我").count() == 1


def test_a_dry_run_counts_only_what_would_change_under_each_articles_comment_mode(admin, db, clock):
    from datetime import timedelta

    from tests.conftest import make_comment

    # The seed article is pre-moderated: every new comment is held anyway.
    make_comment(db, body="芝麻湯圓很好吃", created_at=clock() - timedelta(days=2))
    held = admin.post(RULES + "dry-run", term="芝麻湯圓", action="hold").get_data(as_text=True)
    assert "1 則評論中，會多攔下 0 則、放行 0 則" in held
    spam = admin.post(RULES + "dry-run", term="芝麻湯圓", action="spam").get_data(as_text=True)
    assert "1 則評論中，會多攔下 1 則、放行 0 則" in spam  # spam is a change even where all is held


def test_a_dry_run_of_a_bad_rule_says_why(admin):
    response = admin.post(RULES + "dry-run", term="，，，", action="hold")
    assert response.status_code == 422 and "字詞不能只有空白或標點" in response.get_data(as_text=True)


def test_a_rule_may_take_its_action_on_fuzzy_matches_or_match_exactly_only(admin, app, db, runner):
    from moderation.models import CommentStatus as Status

    assert admin.post(RULES + "words", term="加微信", action="spam", fuzzy="action").status_code == 303
    make_page(app).post(body="請 jia wei xin 聊聊")
    assert stored(db)[-1].status is Status.SPAM
    assert runner.invoke(args=["rules", "add-word", "spam", "加微信", "--fuzzy", "off"]).exit_code == 0
    make_page(app).post(body="請 jia wei xin 再聊")
    reasons = {(reason.detail, reason.how) for reason in stored(db)[-1].screening_reasons}
    assert ("加微信", "reading") not in reasons
    assert "加微信\tspam\toff" in runner.invoke(args=["rules", "export", "word"]).output


def test_a_fuzzy_match_holds_and_the_card_says_how_it_matched(admin, app, db):
    make_page(app).post(body="歡迎 jiā wēi xìn 了解")
    [comment] = stored(db)
    assert comment.status is CommentStatus.PENDING
    reason = next(reason for reason in comment.screening_reasons if reason.detail == "加微信")
    assert reason.how == "reading" and reason.action == "hold"
    html = admin.queue()
    assert "拼音或同音字：" in html and "jiā wēi xìn</span> → 「加微信」" in html
    assert "<mark>jiā wēi xìn</mark>" in html


def test_an_exact_match_written_otherwise_says_how_it_was_written_and_a_plain_one_does_not(admin, app, db, runner):
    assert runner.invoke(args=["rules", "add-word", "hold", "bet365"]).exit_code == 0
    make_page(app).post(body="來 bεt365 玩玩")  # a Greek epsilon for the e
    make_page(app).post(body="我只看 BET365 的賠率")  # only case: the same writing
    first, second = stored(db)[-2:]
    assert {(reason.detail, reason.how) for reason in first.screening_reasons} >= {("bet365", "exact")}
    html = admin.queue()
    assert "寫作：<span dir=\"auto\">bεt365</span> → 「bet365」" in html
    assert "寫作：<span dir=\"auto\">BET365" not in html and "<mark>BET365</mark>" in html


def test_a_database_from_an_earlier_release_gets_the_starter_rules_it_lacks_but_not_those_an_admin_removed(db, runner):
    assert runner.invoke(args=["rules", "remove", "加line"]).output == "removed 1\n"  # an admin's choice
    db.session.execute(delete(WordRuleRow).where(WordRuleRow.term.in_(["增加line", "追加line"])))  # not in that release
    db.session.execute(delete(DomainRuleRow).where(DomainRuleRow.domain == "gov.tw"))
    db.session.commit()
    dry = runner.invoke(args=["rules", "add-starter", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[0].startswith("would add 3: ") and "增加line" in dry.output
    assert "left out 1 removed earlier (the audit log's rule removals): 加line; `rules add-word`" in dry.output
    db.session.expire_all()
    assert db.session.scalar(select(WordRuleRow).where(WordRuleRow.term == "增加line")) is None  # nothing kept
    done = runner.invoke(args=["rules", "add-starter"])
    assert done.exit_code == 0 and done.output.startswith("added 3: ")
    db.session.expire_all()
    terms = set(db.session.scalars(select(WordRuleRow.term)))
    assert {"增加line", "追加line"} <= terms and "加line" not in terms
    assert db.session.scalar(select(DomainRuleRow.action).where(DomainRuleRow.domain == "gov.tw")) is not None
    assert runner.invoke(args=["rules", "add-starter"]).output.startswith("added 0\n")  # the second run adds nothing


def test_the_command_line_words_every_refusal_for_the_operator(runner, tmp_path):
    from moderation.cli.rules import PROBLEMS
    from moderation.services.rulebook.edits import RuleProblem

    assert set(PROBLEMS) == set(RuleProblem)  # a new problem gets its words here too
    refused = runner.invoke(args=["rules", "add-domain", "block", "not a domain"])
    assert refused.exit_code != 0 and "'not a domain' is not a domain name" in refused.output
    runner.invoke(args=["rules", "add-word", "spam", "賭博"])
    listed = tmp_path / "words.txt"
    listed.write_text("好詞\tnuke\n", encoding="utf-8")
    assert "line 1: unknown action 'nuke': block, hold, spam or allow" in runner.invoke(
        args=["rules", "import", "word", str(listed)]).output
    listed.write_text("新詞\tblock\n赌博\tallow\n", encoding="utf-8")
    twin = runner.invoke(args=["rules", "import", "word", str(listed)])
    assert twin.exit_code != 0 and "line 2: screening reads this as the same term as the rule '賭博'" in twin.output
