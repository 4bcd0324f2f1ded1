"""Malformed and hostile requests get a clear 400 page in Chinese, never a 500."""

import pytest

from moderation.models import Comment


def count(db):
    return db.session.query(Comment).count()


def form_post(page, body: bytes, content_type="application/x-www-form-urlencoded"):
    page.open()
    return page.client.post(f"{page.url}/comments", data=body, content_type=content_type)


UNREADABLE = "送出的文字中有無法讀取的字元，已換成 � 或刪除。您輸入的其他內容已保留，請檢查後再送出。"


def test_nul_character_comes_back_as_the_form_with_what_was_typed(page, db):
    page.open()
    body = f"csrf_token={page.csrf_token}&nickname=%E5%B0%8F%00%E6%9E%97&body=%E9%80%99%E6%AE%B5%E6%96%87%E5%AD%97".encode()
    response = form_post(page, body)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="小林"' in html and "這段文字</textarea>" in html
    assert f'<p class="field-error" id="nickname-error">{UNREADABLE}</p>' in html  # the field that lost one
    assert 'id="body-error"' not in html
    assert count(db) == 0


def test_raw_nul_byte_is_refused(page, db):
    response = form_post(page, b"nickname=a\x00b&body=x")
    assert response.status_code == 400
    assert 'value="ab"' in response.get_data(as_text=True)


@pytest.mark.parametrize(("body", "shown"), [(b"body=%FF%FE%E5%A5%BD", "\ufffd\ufffd好</textarea>"),
                                              (b"body=\xff\xfe", "\ufffd\ufffd</textarea>"),
                                              (b"nickname=%E5%B0", 'value="\ufffd"')], ids=["percent", "raw", "truncated"])
def test_invalid_utf8_comes_back_as_the_form_with_the_bytes_replaced(page, db, body, shown):
    response = form_post(page, body)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert shown in html and UNREADABLE in html
    assert count(db) == 0


def test_unreadable_bytes_in_the_captcha_answer_are_said_there_not_on_the_text(page, db):
    response = form_post(page, b"body=%E5%A5%BD&captcha_answer=AC%FFE")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "好</textarea>" in html
    assert 'id="captcha_answer-error"' in html and 'id="body-error"' not in html


def test_a_malformed_body_elsewhere_gets_the_page_that_says_so(page, db):
    page.open()
    response = page.client.post(f"{page.url}/comments/1/report", data=b"reason=%FF", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "無效的字元" in response.get_data(as_text=True)


def test_oversized_body_is_refused(page, db, app):
    response = form_post(page, b"body=" + b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert response.status_code == 400
    assert "送出的內容過大" in response.get_data(as_text=True)
    assert count(db) == 0


def test_max_content_length_is_set():
    from moderation.config import DEFAULTS

    assert 0 < DEFAULTS["MAX_CONTENT_LENGTH"] <= 1024 * 1024


def test_nul_in_multipart_is_refused(page):
    page.open()
    response = page.client.post(
        f"{page.url}/comments",
        data={"csrf_token": page.csrf_token, "body": "a\x00b"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "ab</textarea>" in response.get_data(as_text=True)


def test_unknown_article_is_a_chinese_404(client):
    response = client.get("/articles/no-such-story")
    assert response.status_code == 404
    assert "找不到頁面" in response.get_data(as_text=True)


def test_get_on_the_post_url_is_405(client):
    response = client.get("/articles/inspection-testing-excellent-cases/comments")
    assert response.status_code == 405


def test_unexpected_errors_get_the_chinese_500_page(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "系統發生錯誤" in response.get_data(as_text=True)


def test_the_favicon_is_served_where_browsers_look_for_it(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert 'rel="icon"' in client.get("/articles/inspection-testing-excellent-cases").get_data(as_text=True)
