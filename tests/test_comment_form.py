"""Posting a comment through the article page, as a reader would."""

import html as html_lib
import re

import pytest

from moderation.models import Comment, CommentStatus
from moderation.services.audit import SYSTEM
from moderation.services.decisions import Decision, decide
from tests.attack_inputs import EMPTY_TEXTS, HOSTILE_TEXTS, REFUSED_NICKNAMES, REORDERED_TEXTS
from tests.conftest import ARTICLE_SLUG, CAPTCHA_TEXT, challenge_id_of, csrf_token_of, make_page

PENDING_NOTICE = "您的評論已送出，審核通過後將會公開"
WRONG_CAPTCHA = "請輸入正確驗證碼"


def stored(db):
    db.session.expire_all()
    return db.session.query(Comment).order_by(Comment.id).all()


def test_successful_post_redirects_and_waits_for_review(page, db):
    response = page.post(nickname="讀者小林", body="第一則評論")
    assert response.status_code == 303
    assert response.location.endswith("#notice")  # the notice takes the focus
    [comment] = stored(db)
    assert comment.status is CommentStatus.PENDING
    assert comment.nickname == "讀者小林" and not comment.is_anonymous
    assert comment.body == "第一則評論"
    followed = page.client.get(response.location).get_data(as_text=True)
    assert PENDING_NOTICE in followed
    assert "第一則評論" in followed and "審核中" in followed


def test_pending_comment_is_invisible_to_other_readers(page, app):
    page.post(body="只有我看得到")
    other = make_page(app)
    other.open()
    assert "只有我看得到" not in other.html
    assert "審核中" not in other.html


def test_approved_comments_are_listed_newest_first_with_name_and_local_time(page, db, clock, app):
    page.post(nickname="第一位", body="較早的評論")
    clock.advance(minutes=5)
    page.open_form()
    page.post(anonymous="y", body="較晚的評論")
    for comment in stored(db):
        decide(db.session, comment.id, Decision.APPROVE, expected_version=comment.version, actor=SYSTEM, now=clock())
    other = make_page(app)
    other.open()
    assert other.html.index("較晚的評論") < other.html.index("較早的評論")
    assert "第一位" in other.html and "匿名網友" in other.html
    assert "2026-11-24 10:00" in other.html  # 02:00 UTC shown in Asia/Taipei
    assert "2 則評論" in other.html


def test_stored_comment_has_keyed_hashes_not_the_address(page, db):
    page.post()
    [comment] = stored(db)
    assert "127.0.0.1" not in comment.ip_hash
    assert len(comment.ip_hash) == 64 and len(comment.author_hash) == 64
    assert comment.created_at.tzinfo is not None


def test_same_browser_keeps_its_author_token(page, db):
    page.post(body="一")
    page.open()
    page.post(body="二")
    first, second = stored(db)
    assert first.author_hash == second.author_hash


def test_anonymous_with_a_typed_nickname_stores_no_nickname(page, db):
    page.post(anonymous="y", nickname="不該留下")
    [comment] = stored(db)
    assert comment.is_anonymous and comment.nickname is None


def test_missing_nickname_without_anonymous_is_refused_and_text_kept(page, db):
    response = page.post(nickname="", body="我的想法")
    assert response.status_code == 422
    assert "請填寫暱稱，或勾選「匿名」" in page.html
    assert "我的想法" in page.html
    assert stored(db) == []


def test_wrong_captcha_keeps_nickname_and_text_but_not_the_answer(page, db):
    response = page.post(nickname="小林", body="保留我的文字", answer="WRNG")
    assert response.status_code == 422
    assert WRONG_CAPTCHA in page.html
    assert 'value="小林"' in page.html and "保留我的文字" in page.html
    assert "WRNG" not in page.html
    assert stored(db) == []


def test_an_answer_to_a_captcha_whose_image_never_loaded_is_said_so_and_not_counted(page, db):
    """The image request failed (a 503, the image rate limit): the challenge was never issued, so the
    reader's answer cannot be right; it is no wrong guess either."""
    from moderation.models import CaptchaFailure

    page.open_form()  # the form's challenge id, whose image is never asked for
    response = page.post(solve=False, nickname="小林", body="圖片沒出來")
    assert response.status_code == 422
    assert "先前的驗證碼圖片沒有載入成功，請輸入這張新的驗證碼。" in page.html and WRONG_CAPTCHA not in page.html
    assert "圖片沒出來" in page.html and stored(db) == []
    assert db.session.query(CaptchaFailure).count() == 0
    assert page.post(nickname="小林", body="圖片沒出來").status_code == 303  # the new one, loaded, passes


def test_every_error_shows_a_new_captcha(page):
    page.open()
    first = page.challenge_id
    page.post(answer="WRNG")
    assert page.challenge_id != first


def test_a_form_sent_again_after_a_lost_reply_is_stored_once_and_said_received(page, db, app):
    page.open_form()
    page.load_captcha()
    challenge, token = page.challenge_id, page.csrf_token
    data = {"csrf_token": token, "captcha_id": challenge, "captcha_answer": "K7PX", "nickname": "小林", "body": "一次"}
    first = page.client.post(f"{page.url}/comments", data=data)
    assert first.status_code == 303
    page.client.delete_cookie("reader")  # the reply, and the cookie it set, never arrived
    again = page.client.post(f"{page.url}/comments", data=data)
    assert again.status_code == 303 and again.location == first.location
    assert len(stored(db)) == 1
    followed = page.client.get(again.location).get_data(as_text=True)
    assert PENDING_NOTICE in followed
    assert "一次" in followed and "審核中" in followed  # still theirs: the same author cookie again


def test_a_used_challenge_stays_used_for_another_browser(page, db, app):
    page.open_form()
    used = page.challenge_id
    page.post(body="第一則")
    other = make_page(app)
    data = {"csrf_token": other.csrf_token, "captcha_id": used, "captcha_answer": "K7PX", "nickname": "小陳", "body": "第二則"}
    response = other.client.post(f"{other.url}/comments", data=data)
    # The used challenge names the first sending: another text under it is a new sending, refused.
    assert response.status_code == 422 and ALREADY_SENT in response.get_data(as_text=True)
    assert [comment.body for comment in stored(db)] == ["第一則"]


ALREADY_SENT = "這份表單先前已送出另一段文字"


def submission_key_of(html: str) -> str:
    return re.search(r'name="submission_key" value="([^"]+)"', html).group(1)


def test_the_same_form_sent_again_with_another_text_comes_back_with_that_text_and_a_new_captcha(page, db):
    page.open_form()
    key = submission_key_of(page.html)
    page.load_captcha()
    data = {"csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_answer": "K7PX",
            "nickname": "小林", "body": "第一段", "submission_key": key}
    assert page.client.post(f"{page.url}/comments", data=data).status_code == 303

    changed = page.client.post(f"{page.url}/comments", data={**data, "body": "改過的第二段"})
    html = changed.get_data(as_text=True)
    assert changed.status_code == 422
    assert ALREADY_SENT in html and "改過的第二段" in html and 'value="小林"' in html
    assert challenge_id_of(html) != data["captcha_id"] and submission_key_of(html) != key
    assert [comment.body for comment in stored(db)] == ["第一段"]

    # Sent from the page it came back on, it is a new comment.
    page.html = html
    page.load_captcha()
    again = page.client.post(f"{page.url}/comments", data={
        **data, "body": "改過的第二段", "captcha_id": challenge_id_of(html), "submission_key": submission_key_of(html)})
    assert again.status_code == 303
    assert [comment.body for comment in stored(db)] == ["第一段", "改過的第二段"]


def test_the_submission_key_survives_a_wrong_captcha(page, db):
    page.open_form()
    key = submission_key_of(page.html)
    page.post(answer="WRNG", submission_key=key)
    assert submission_key_of(page.html) == key
    assert page.post(submission_key=key).status_code == 303
    assert len(stored(db)) == 1


def test_expired_captcha_is_refused(page, clock, db, app):
    page.open()
    page.load_captcha()
    clock.advance(seconds=app.config["CAPTCHA_EXPIRY_SECONDS"] + 1)
    response = page.post(solve=False)
    assert response.status_code == 422 and "驗證碼已過期" in page.html and WRONG_CAPTCHA not in page.html
    assert stored(db) == []


def test_captcha_solved_too_fast_is_refused(page, app, clock, db):
    app.config["CAPTCHA_MIN_SECONDS"] = 2
    page.open()
    page.load_captcha()
    assert page.post(solve=False).status_code == 422
    assert WRONG_CAPTCHA in page.html
    page.open()
    page.load_captcha()
    clock.advance(seconds=3)
    assert page.post(solve=False).status_code == 303


def test_captcha_issued_to_another_browser_is_refused(page, app, db):
    victim = make_page(app)
    victim.open()
    victim.load_captcha()
    page.open()
    response = page.post(solve=False, captcha_id=victim.challenge_id)
    assert response.status_code == 422 and WRONG_CAPTCHA in page.html
    assert stored(db) == []


def test_full_width_answer_is_accepted(page, db):
    assert page.post(answer="ｋ７ｐｘ").status_code == 303
    assert len(stored(db)) == 1


def test_missing_answer_is_a_wrong_captcha(page, db):
    assert page.post(answer="").status_code == 422
    assert WRONG_CAPTCHA in page.html


def test_repeated_wrong_answers_get_429_with_a_message(page, app, db):
    for _ in range(app.config["CAPTCHA_MAX_FAILURES"]):
        page.post(answer="WRNG")
    response = page.post(body="還是我的文字")
    assert response.status_code == 429
    assert "嘗試次數過多" in page.html and "還是我的文字" in page.html
    assert int(response.headers["Retry-After"]) > 0
    assert stored(db) == []


@pytest.mark.parametrize("nickname, problem", REFUSED_NICKNAMES)
def test_refused_nicknames_say_why_and_keep_the_text(page, db, nickname, problem):
    response = page.post(nickname=nickname, body="內容保留")
    assert response.status_code == 422
    assert "內容保留" in page.html
    expected = {"reserved": "本站人員", "invisible": "看不見的字元", "too_long": "最多 20 個字"}[problem]
    assert expected in page.html
    assert stored(db) == []


def test_the_error_summary_links_each_refused_field_in_the_pages_language(page, db):
    """The status that takes the focus names every refused field and leads to it, so that a reader
    who hears it need not look for the fields."""
    page.open_form()
    html = page.post(nickname="", body="", captcha_answer="WRNG").get_data(as_text=True)
    summary = re.search(r'<div class="form-error" role="alert" id="form-status".*?</div>', html, re.S).group()
    assert re.findall(r'<a href="(#[a-z_]+)">([^<]*)</a>', summary) == [
        ("#nickname", "暱稱：請填寫暱稱，或勾選「匿名」"), ("#body", "評論內容：請輸入評論內容")]
    page.open_form()
    html = page.post(captcha_answer="WRNG").get_data(as_text=True)
    assert re.findall(r'<a href="(#[a-z_]+)">([^<]*)</a>', html) == [("#captcha_answer", "驗證碼：請輸入正確驗證碼")]
    # Said once: the field's own message is tied to it (aria-describedby), not a second alert.
    shown_alerts = [tag for tag in re.findall(r'<[^>]*role="alert"[^>]*>', html) if not re.search(r"\shidden\b", tag)]
    assert len(shown_alerts) == 1 and 'id="captcha_answer-error">請輸入正確驗證碼' in html
    page.open_form()
    english = page.client.post(f"{page.url}/comments?lang=en", data={
        "csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_answer": CAPTCHA_TEXT,
        "nickname": "讀者", "body": "", "action": "post"})
    assert re.findall(r'<a href="#body">([^<]*)</a>', english.get_data(as_text=True)) == [
        "Comment: Please write a comment"]
    assert stored(db) == []


def test_a_reserved_nickname_is_said_at_the_first_step_without_javascript(page, db):
    """The shared page's form goes to the form page for its captcha: a nickname that cannot be used
    is said there at once, beside the captcha, not after it was solved."""
    response = page.client.post(f"/articles/{ARTICLE_SLUG}/comment", data={"nickname": "本站 編輯", "body": "內容保留"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "本站人員" in html and "內容保留" in html
    assert "評論尚未送出，請修正標示的欄位。" in html and "您輸入的內容已保留。請輸入驗證碼" not in html
    assert re.search(r'id="nickname"[^>]*aria-invalid="true"', html)
    kept = page.client.post(f"/articles/{ARTICLE_SLUG}/comment", data={"nickname": "老讀者", "body": "內容保留"})
    assert "您輸入的內容已保留。請輸入驗證碼" in kept.get_data(as_text=True)
    assert stored(db) == []


@pytest.mark.parametrize("form_url", [f"/articles/{ARTICLE_SLUG}/comment", f"/embed/{ARTICLE_SLUG}/comment"])
def test_a_text_with_reordering_controls_is_said_at_the_first_step_too(page, db, form_url):
    """A reader told after solving the captcha (in the embedded frame too) had to solve a second one."""
    response = page.client.post(form_url, data={"nickname": "老讀者", "body": "看\u202e反過來"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "改變文字顯示順序" in html and "看\u202e反過來" in html
    assert re.search(r'id="body"[^>]*aria-invalid="true"', html)
    assert "您輸入的內容已保留。請輸入驗證碼" not in html
    assert stored(db) == []


@pytest.mark.parametrize("body", EMPTY_TEXTS)
def test_empty_text_is_refused(page, db, body):
    assert page.post(body=body).status_code == 422
    assert "請輸入評論內容" in page.html
    assert re.search(r"<title>錯誤：發表評論", page.html)  # the title says so first, as a screen reader reads it
    assert stored(db) == []


def test_text_of_2000_characters_is_accepted_and_2001_refused(page, db):
    assert page.post(body="評" * 2000).status_code == 303
    page.open()
    assert page.post(body="論" * 2001, nickname="小林").status_code == 422
    assert "評論最多 2000 個字，目前有 2001 個字" in page.html
    assert 'value="小林"' in page.html
    assert len(stored(db)) == 1


def test_astral_characters_count_as_one(page, db):
    assert page.post(body="𠀀" * 2000).status_code == 303


@pytest.mark.parametrize("body", REORDERED_TEXTS)
def test_text_reordered_by_bidi_controls_is_refused_and_kept(page, db, body):
    response = page.post(body=body)
    assert response.status_code == 422
    assert "改變文字顯示順序的控制字元" in page.html and html_lib.escape(body) in page.html
    assert stored(db) == []


def test_direction_marks_are_allowed(page, db):
    assert page.post(body="עברית\u200f 與中文").status_code == 303
    assert stored(db)[0].body == "עברית\u200f 與中文"


@pytest.mark.parametrize("body, shown", HOSTILE_TEXTS)
def test_hostile_text_is_stored_as_typed_and_shown_escaped(page, db, body, shown):
    page.post(body=body, nickname="<b>粗體</b>")
    [comment] = stored(db)
    assert comment.body == body
    html = page.client.get(page.url).get_data(as_text=True)
    assert shown in html or html_lib.escape(shown, quote=True) in html
    assert "<script>alert" not in html
    assert "<b>粗體</b>" not in html and "&lt;b&gt;粗體&lt;/b&gt;" in html
    assert 'href="javascript:' not in html and 'href="data:' not in html
    assert 'href="https://spam.example' not in html


def test_line_breaks_are_kept_and_direction_is_automatic(page, db):
    page.post(body="第一行\r\n第二行")
    [comment] = stored(db)
    assert comment.body == "第一行\n第二行"
    html = page.client.get(page.url).get_data(as_text=True)
    assert '<div class="comment-body" dir="auto">第一行\n第二行</div>' in html


def test_missing_csrf_token_is_refused_with_input_kept(page, db):
    response = page.post(csrf_token=None, body="沒有權杖的評論")
    assert response.status_code == 400
    assert "表單已逾時" in page.html and "沒有權杖的評論" in page.html
    assert stored(db) == []


def test_csrf_token_of_another_session_is_refused(page, app, db):
    other = make_page(app)
    other.open()
    response = page.post(csrf_token=other.csrf_token)
    assert response.status_code == 400
    assert stored(db) == []


def test_no_javascript_new_captcha_keeps_what_was_typed(page, db):
    page.open()
    first = page.challenge_id
    response = page.client.post(
        f"{page.url}/comments",
        data={"csrf_token": page.csrf_token, "captcha_id": first, "nickname": "小林", "body": "草稿", "action": "new_captcha"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "草稿" in html and 'value="小林"' in html
    assert csrf_token_of(html)
    assert challenge_id_of(html) != first
    assert stored(db) == []


def test_no_javascript_audio_switch_offers_an_audio_challenge(page):
    page.open()
    response = page.client.post(
        f"{page.url}/comments",
        data={"csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "body": "草稿", "action": "audio"},
    )
    html = response.get_data(as_text=True)
    assert '<audio controls preload="none"' in html and "草稿" in html
    # Without JavaScript nothing can say when the limit is hit: the page says what 0:00 means.
    assert "<noscript><p class=\"hint\">播放器停在 0:00、聽不到語音時，表示播放次數已達上限" in html


def test_the_audio_captcha_stays_chosen_across_a_wrong_answer_and_a_new_challenge(page):
    page.open()
    page.html = page.client.post(f"{page.url}/comments", data={
        "csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "body": "草稿", "action": "audio"}).get_data(as_text=True)
    assert 'name="captcha_medium" value="audio"' in page.html
    assert page.client.get(f"/captcha/{page.challenge_id}.wav").status_code == 200
    response = page.client.post(f"{page.url}/comments", data={
        "csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_medium": "audio",
        "captcha_answer": "WRONG", "nickname": "小林", "body": "草稿"})
    page.html = response.get_data(as_text=True)
    assert response.status_code == 422 and WRONG_CAPTCHA in page.html
    assert '<audio controls preload="none"' in page.html and "改看圖片" in page.html
    page.html = page.client.post(f"{page.url}/comments", data={
        "csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_medium": "audio",
        "body": "草稿", "action": "new_captcha"}).get_data(as_text=True)
    assert '<audio controls preload="none"' in page.html
    page.html = page.client.post(f"{page.url}/comments", data={
        "csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "captcha_medium": "audio",
        "body": "草稿", "action": "image"}).get_data(as_text=True)
    assert "<audio" not in page.html and 'name="captcha_medium" value="image"' in page.html


def test_form_page_is_accessible_and_not_cached(page):
    response = page.open_form()
    assert response.headers["Cache-Control"] == "no-store"
    for field in ("nickname", "anonymous", "body", "captcha_answer"):
        assert f'<label for="{field}"' in page.html
    assert 'loading="lazy"' in page.html
    assert 'name="viewport"' in page.html


def test_field_errors_are_announced_and_linked(page):
    page.post(nickname="", answer="WRNG")
    assert 'role="alert"' in page.html
    assert 'aria-describedby="nickname-hint nickname-error"' in page.html
    assert 'aria-invalid="true"' in page.html


def test_a_form_refused_for_its_fields_keeps_its_challenge_and_counts_no_failure(page, db):
    from moderation.models import CaptchaChallenge, CaptchaFailure

    page.open_form()
    challenge = page.challenge_id
    response = page.post(nickname="", body="我的想法", answer="K7PX")
    assert response.status_code == 422
    assert "請填寫暱稱，或勾選「匿名」" in page.html and WRONG_CAPTCHA not in page.html
    assert page.challenge_id == challenge  # the same image, still answerable
    assert 'name="captcha_answer" type="text" autocomplete="off" value="K7PX"' in page.html
    db.session.expire_all()
    assert db.session.get(CaptchaChallenge, challenge).used_at is None
    assert db.session.query(CaptchaFailure).count() == 0
    assert page.post(solve=False, nickname="小林", body="我的想法").status_code == 303
    assert [comment.body for comment in stored(db)] == ["我的想法"]


@pytest.mark.parametrize("fields, said", [
    ({"body": ""}, "請輸入評論內容"),
    ({"body": "論" * 2001}, "評論最多 2000 個字，目前有 2001 個字"),
    ({"nickname": "管理員"}, "本站人員"),
], ids=["empty", "2001-characters", "reserved-nickname"])
def test_other_fields_are_reported_before_the_captcha_is_judged(page, db, fields, said):
    from moderation.models import CaptchaFailure

    response = page.post(answer="", **fields)  # the captcha not solved yet
    assert response.status_code == 422
    assert said in page.html and WRONG_CAPTCHA not in page.html
    assert db.session.query(CaptchaFailure).count() == 0


@pytest.mark.parametrize("nickname, problem", [
    ("讀者小林", None), ("管理員", "reserved"), ("ＡＤＭＩＮ", "reserved"), ("", "missing"),
    ("字" * 21, "too_long"), ("\u3164", "invisible_characters"),
])
def test_the_form_asks_the_server_s_own_nickname_rules(client, nickname, problem):
    response = client.get("/nickname-check", query_string={"nickname": nickname})
    assert response.status_code == 200 and response.json == {"problem": problem}
    assert "Set-Cookie" not in response.headers


def test_the_browser_checks_length_and_presence_before_sending(page):
    page.open_form()
    # no maxlength on the text: it cut a longer paste without a word (the script holds the form back)
    assert re.search(r'<textarea id="body" name="body"[^>]* required', page.html)
    assert not re.search(r'<textarea id="body"[^>]*maxlength', page.html)
    assert re.search(r'<input id="nickname"[^>]* maxlength="20" enterkeyhint="next"', page.html)
    assert re.search(r'<input id="captcha_answer"[^>]* required', page.html)
    # The captcha's own buttons and the language switch's are not held back by the other fields.
    assert page.html.count("formnovalidate") == 4
    assert len(re.findall(r'<button type="submit" form="comment-form" formaction="[^"]+" formmethod="post" '
                          r'formnovalidate name="switch_language"', page.html)) == 2


def test_after_too_many_failures_the_form_says_when_instead_of_a_captcha(page, app, db):
    for _ in range(app.config["CAPTCHA_MAX_FAILURES"] - 1):
        assert page.post(answer="WRNG").status_code == 422
    assert "<img src=\"/captcha/" in page.html  # still answerable
    assert page.post(answer="WRNG").status_code == 422
    assert "嘗試次數過多，請於 10 分鐘後再試" in page.html
    assert "<img src=\"/captcha/" not in page.html and "data-captcha-live hidden" in page.html
    page.html = page.client.get(f"{page.url}/comment").get_data(as_text=True)
    assert "嘗試次數過多" in page.html and "<img src=\"/captcha/" not in page.html


def test_a_trusted_returning_author_posts_without_a_captcha(page, db, app, clock):
    from moderation.models import CaptchaFailure

    for index in range(app.config["SCREENING_TRUST_AFTER"]):
        assert page.post(body=f"第{index}則好評論").status_code == 303
        clock.advance(minutes=5)
    for comment in stored(db):
        decide(db.session, comment.id, Decision.APPROVE, expected_version=comment.version, actor=SYSTEM, now=clock())
    page.open_form()
    assert "這次不需要輸入驗證碼" in page.html and 'id="captcha_answer"' not in page.html
    assert page.client.get("/form-token").json["captcha_needed"] is False
    form = {"csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "nickname": "讀者小林", "body": "常客不必再解驗證碼"}
    assert page.client.post(f"{page.url}/comments", data=form).status_code == 303
    again = page.client.post(f"{page.url}/comments", data=form)  # the same form sent again: stored once
    assert again.status_code == 303
    assert [comment.body for comment in stored(db)].count("常客不必再解驗證碼") == 1
    assert db.session.query(CaptchaFailure).count() == 0


def test_a_newcomer_and_a_refused_author_still_need_the_captcha(page, db, clock):
    assert page.client.get("/form-token").json["captcha_needed"] is True
    page.post(body="第一則")
    [comment] = stored(db)
    decide(db.session, comment.id, Decision.REJECT, expected_version=comment.version, actor=SYSTEM, now=clock())
    page.open_form()
    assert 'id="captcha_answer"' in page.html
    assert page.post(solve=False, answer="", body="沒有驗證碼").status_code == 422
