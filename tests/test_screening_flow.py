"""Screening through the comment form: where comments go, what readers are told, what is stored."""

import json

from moderation.models import Article, Comment, CommentMode, CommentStatus, ScreeningReason, WordRuleRow
from tests.conftest import make_page
from tests.test_comment_form import PENDING_NOTICE, stored


def test_spam_goes_to_the_spam_bin_silently(page, db):
    response = page.post(body="想賺錢請加 微 信 abc123")
    assert response.status_code == 303
    [comment] = stored(db)
    assert comment.status is CommentStatus.SPAM
    shown = page.client.get(response.location).get_data(as_text=True)
    assert PENDING_NOTICE in shown and "審核中" in shown


def test_blocked_text_is_refused_with_a_message_that_keeps_the_term_secret(page, db):
    response = page.post(body="歡迎光臨博彩網站")
    assert response.status_code == 422
    assert "您的評論含有不允許的內容，無法發表" in page.html and "歡迎光臨博彩網站" in page.html
    assert "博彩」" not in page.html
    [comment] = stored(db)
    assert comment.status is CommentStatus.REJECTED


def test_reasons_are_stored_with_spans_in_the_original_text(page, db):
    text = "請看 ｗｅｃｈａｔ 群組"
    page.post(body=text)
    [comment] = stored(db)
    [reason] = [r for r in comment.screening_reasons if r.kind == "word"]
    assert reason.action == "hold" and reason.detail == "wechat" and reason.field == "body"
    assert text[reason.span_start:reason.span_end] == "ｗｅｃｈａｔ"
    assert comment.status is CommentStatus.PENDING


def test_plain_comment_records_pre_moderation_as_its_reason(page, db):
    page.post(body="寫得很好")
    [comment] = stored(db)
    assert [r.kind for r in comment.screening_reasons] == ["pre_moderation"]


def test_post_moderated_article_publishes_clean_comments_at_once(page, db, app):
    article = db.session.query(Article).one()
    article.comment_mode = CommentMode.POST_MODERATION
    db.session.commit()
    response = page.post(body="立即公開的評論")
    assert response.status_code == 303
    [comment] = stored(db)
    assert comment.status is CommentStatus.APPROVED
    other = make_page(app)
    other.open()
    assert "立即公開的評論" in other.html


def test_duplicate_from_the_same_browser_is_spam(page, db, clock):
    page.post(body="同一段文字")
    clock.advance(minutes=2)
    page.open()
    page.post(body="同一段 文字！")
    first, second = stored(db)
    assert first.status is CommentStatus.PENDING and second.status is CommentStatus.SPAM
    assert any(r.kind == "duplicate" for r in second.screening_reasons)


def test_same_text_from_different_browsers_is_not_a_duplicate(page, db, app):
    page.post(body="我也這麼認為")
    other = make_page(app)
    other.post(body="我也這麼認為")
    assert [comment.status for comment in stored(db)] == [CommentStatus.PENDING, CommentStatus.PENDING]


def test_nickname_is_screened_too(page, db):
    page.post(nickname="代開發票小王", body="你好")
    [comment] = stored(db)
    assert comment.status is CommentStatus.SPAM
    assert any(r.field == "nickname" for r in comment.screening_reasons)


def test_new_rule_applies_to_the_next_comment(page, db, runner):
    result = runner.invoke(args=["rules", "add-word", "block", "違禁詞測試"])
    assert result.exit_code == 0, result.output
    page.post(body="這裡有違禁詞測試")
    assert stored(db)[0].status is CommentStatus.REJECTED
    runner.invoke(args=["rules", "remove", "違禁詞測試"])
    page.open()
    page.post(body="這裡有違禁詞測試喔")
    assert stored(db)[1].status is CommentStatus.PENDING


def test_rule_action_change_is_seen_by_the_cache(page, db, runner):
    runner.invoke(args=["rules", "add-word", "hold", "測試詞"])
    page.post(body="測試詞一")
    runner.invoke(args=["rules", "add-word", "spam", "測試詞"])
    page.open()
    page.post(body="測試詞二")
    assert [comment.status for comment in stored(db)] == [CommentStatus.PENDING, CommentStatus.SPAM]


def test_blocked_domain_via_cli(page, db, runner):
    runner.invoke(args=["rules", "add-domain", "block", "bad-links.com"])
    page.post(body="請看 bad-links [dot] com 超便宜")
    [comment] = stored(db)
    assert comment.status is CommentStatus.SPAM


def test_starter_rules_are_loaded_once_and_listed(db, runner):
    count = db.session.query(WordRuleRow).count()
    assert count > 10
    listing = runner.invoke(args=["rules", "list"]).output
    assert "加微信" in listing and "instrument.com.cn" in listing


def test_deleting_a_comment_removes_its_reasons(page, db):
    page.post(body="加微信")
    [comment] = stored(db)
    db.session.delete(comment)
    db.session.commit()
    assert db.session.query(ScreeningReason).count() == 0
    assert db.session.query(Comment).count() == 0


def test_rule_tester_prints_the_decision_as_json_and_stores_nothing(runner, db):
    text = "請 加 微 信 看看"
    result = runner.invoke(args=["screening", "check", text, "--nickname", "博彩王"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["status"] == "spam"
    body_reason = next(r for r in decision["reasons"] if r["term"] == "加微信")
    assert body_reason["kind"] == "word" and body_reason["rule"].startswith("word:")
    start, end = body_reason["span"]
    assert text[start:end] == "加 微 信"
    assert any(r["field"] == "nickname" and r["term"] == "博彩" for r in decision["reasons"])
    assert db.session.query(Comment).count() == 0


def test_rule_tester_on_clean_text(runner):
    decision = json.loads(runner.invoke(args=["screening", "check", "寫得很好"]).output)
    assert decision == {"status": "pending", "reasons": [
        {"rule": "mode", "kind": "pre_moderation", "action": None, "term": "pre", "field": None, "span": None}]}
    decision = json.loads(runner.invoke(args=["screening", "check", "寫得很好", "--post-moderation"]).output)
    assert decision["status"] == "published"


def test_rule_tester_screens_a_corpus_one_json_verdict_per_line(runner, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("寫得很好\n請 加 微 信 看看\n\n", encoding="utf-8")
    result = runner.invoke(args=["screening", "check", "--lines", str(corpus), "--post-moderation"])
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line) for line in result.output.splitlines()]
    assert [(verdict["text"], verdict["status"]) for verdict in verdicts] == [
        ("寫得很好", "published"), ("請 加 微 信 看看", "spam"), ("", "published")]


def test_rule_tester_wants_a_text_or_a_file_not_both(runner, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("一行\n", encoding="utf-8")
    assert runner.invoke(args=["screening", "check"]).exit_code != 0
    assert runner.invoke(args=["screening", "check", "兩者", "--lines", str(corpus)]).exit_code != 0


def test_rules_import_and_export_from_the_shell(runner, db, tmp_path):
    listing = tmp_path / "words.txt"
    listing.write_text("大量詞一\tspam\n大量詞二\tallow\n", encoding="utf-8")
    result = runner.invoke(args=["rules", "import", "word", str(listing)])
    assert result.exit_code == 0 and "imported 2" in result.output
    assert "大量詞一\tspam" in runner.invoke(args=["rules", "export", "word"]).output
    listing.write_text("好\tspam\n壞\tunknown\n", encoding="utf-8")
    result = runner.invoke(args=["rules", "import", "word", str(listing)])
    assert result.exit_code != 0 and "line 2" in result.output
    assert db.session.query(WordRuleRow).filter_by(term="好").count() == 0
