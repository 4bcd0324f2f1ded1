"""Readers and moderators in zh-Hant (default), zh-Hans and English: negotiation, the remembered
switch, the article in Simplified, caching per language, and catalogues that cover every string."""

from __future__ import annotations

import importlib.util
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from moderation.article_text import GLOSS_LANGUAGE
from moderation.web.languages import LANGUAGE_COOKIE, language_of_tag, negotiate
from tests.conftest import ARTICLE_SLUG, ModeratorBrowser

ARTICLE = f"/articles/{ARTICLE_SLUG}"
ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "moderation" / "translations"
HANT = "zh-TW,zh;q=0.9"
HANS = "zh-CN,zh;q=0.9,en;q=0.5"
EN = "en-GB,en;q=0.9"


def html_of(response) -> str:
    return response.get_data(as_text=True)


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh-MO", "zh-Hant"), ("zh-Hant", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"), ("zh", "zh-Hant"),
        ("zh-CN", "zh-Hans"), ("zh-SG", "zh-Hans"), ("zh-Hans", "zh-Hans"), ("zh-Hans-CN", "zh-Hans"),
        ("zh_CN", "zh-Hans"), ("en", "en"), ("en-US", "en"), ("EN-gb", "en"),
    ],
)
def test_each_tag_maps_onto_one_of_three_languages(header, expected):
    assert language_of_tag(header).tag == expected


def test_negotiation_takes_the_best_quality_we_serve_else_zh_hant():
    assert negotiate([("fr", 1.0), ("en", 0.8), ("zh-CN", 0.5)]).tag == "en"
    assert negotiate([("zh-CN", 0.3), ("en", 0.9)]).tag == "en"
    assert negotiate([("fr", 1.0), ("de", 0.9)]).tag == "zh-Hant"
    assert negotiate([("en", 0.0), ("zh-SG", 0.2)]).tag == "zh-Hans"
    assert negotiate([]).tag == "zh-Hant"
    assert language_of_tag("ja") is None


def test_zh_hant_is_the_default_with_todays_exact_texts(client):
    html = html_of(client.get(ARTICLE))
    assert html_lang(html) == "zh-Hant"
    assert "所有評論僅代表網友意見,與本站立場無關" in html
    form = html_of(client.get(f"{ARTICLE}/comment"))
    for text in ("暱稱", "匿名", "驗證碼"):  # Taiwan and Hong Kong write 暱稱
        assert text in form


@pytest.mark.parametrize(("header", "lang"), [(HANT, "zh-Hant"), (HANS, "zh-Hans"), (EN, "en")])
def test_accept_language_picks_the_page_language(client, header, lang):
    response = client.get(ARTICLE, headers={"Accept-Language": header})
    assert html_lang(html_of(response)) == lang
    assert response.headers["Content-Language"] == lang
    assert "Accept-Language" in response.vary and "Cookie" not in response.vary


def test_zh_hans_reader_sees_simplified_ui_and_article_with_the_same_glosses(client):
    hant = html_of(client.get(ARTICLE))
    hans = html_of(client.get(ARTICLE, headers={"Accept-Language": HANS}))
    assert "所有评论仅代表网友意见,与本站立场无关" in hans
    assert "检验检测是国家质量基础设施的重要组成部分" in hans
    assert "檢驗檢測" not in hans
    assert f'<rt lang="{GLOSS_LANGUAGE}">' in hans

    def glosses(html):
        return re.findall(r"<rt[^>]*>([^<]+)</rt>", html)

    assert glosses(hans) == glosses(hant) and len(glosses(hans)) == 333
    assert "<ruby>网<rt" in hans and "<ruby>網<rt" in hant
    form = html_of(client.get(f"{ARTICLE}/comment", headers={"Accept-Language": HANS}))
    for text in ("昵称", "匿名", "验证码", "所有评论仅代表网友意见,与本站立场无关"):
        assert text in form


def test_english_reader_gets_the_english_ui_and_the_article_as_written(client):
    html = html_of(client.get(ARTICLE, headers={"Accept-Language": EN}))
    assert "Comments are the views of their authors" in html
    assert "Post comment" in html and "Nickname" in html
    # The article is not translated: its text keeps its language for screen readers.
    assert '<h1 id="article-title" lang="zh-Hant">檢驗檢測是國家質量基礎設施的重要組成部分</h1>' in html


def test_wrong_captcha_is_worded_in_the_page_language(app, page):
    page.client.set_cookie(LANGUAGE_COOKIE, "zh-Hans")
    response = page.post(answer="WRONG", body="我的评论")
    html = html_of(response)
    assert response.status_code == 422
    assert "请输入正确验证码" in html and html_lang(html) == "zh-Hans"
    assert "我的评论" in html  # the reader's text is kept


def test_english_form_errors_and_notice(app, page):
    page.client.set_cookie(LANGUAGE_COOKIE, "en")
    refused = html_of(page.post(answer="WRONG"))
    assert "Please enter the correct captcha" in refused
    page.html = ""
    posted = page.post()
    assert posted.status_code == 303
    followed = html_of(page.client.get(posted.location))
    assert "Your comment was sent and will be published once it is approved" in followed
    assert 'id="notice"' in followed


def test_the_switch_remembers_the_choice_and_returns_to_the_page(client):
    response = client.get(f"/language/zh-Hans?next={ARTICLE}%3Flang%3Den%26before%3Dx")
    assert response.status_code == 303
    assert response.location == f"{ARTICLE}?before=x"
    assert "lang=zh-Hans" in response.headers["Set-Cookie"]
    assert response.headers["Cache-Control"] == "no-store"
    html = html_of(client.get(ARTICLE, headers={"Accept-Language": EN}))
    assert html_lang(html) == "zh-Hans"  # the remembered choice wins over the browser's


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example/x", "javascript:alert(1)", "x", "/a\r\nSet-Cookie: x=1"]
)
def test_the_switch_never_leaves_the_site(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.location == "/"


def test_an_unknown_language_changes_nothing(client):
    response = client.get("/language/fr?next=/moderation/login")
    assert response.location == "/moderation/login"
    assert "Set-Cookie" not in response.headers


def test_every_page_offers_the_switch_in_each_language_own_name(client):
    html = html_of(client.get(ARTICLE))
    for name in ("繁體中文", "简体中文", "English"):
        assert name in html
    assert 'aria-current="true" lang="zh-Hant">繁體中文' in html


def test_a_url_per_language_is_cacheable_alone_and_keeps_its_language_in_links(client):
    response = client.get(f"{ARTICLE}?lang=zh-Hans", headers={"Accept-Language": EN})
    html = html_of(response)
    assert html_lang(html) == "zh-Hans"
    assert "Accept-Language" not in response.vary and "public" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert f"/articles/{ARTICLE_SLUG}/comment?lang=zh-Hans" in html  # the form page stays in it
    for lang in ("zh-Hant", "zh-Hans", "en"):
        assert f'hreflang="{lang}" href="http://localhost{ARTICLE}?lang={lang}"' in html


def test_each_language_has_its_own_validator_and_the_cache_holds_three_variants(app, client):
    pages = app.extensions["article_pages"]
    pages.clear()
    etags = {}
    for header in (HANT, HANS, EN, "zh-HK", "en-US", "zh-SG"):
        response = client.get(ARTICLE, headers={"Accept-Language": header})
        etags.setdefault(response.headers["Content-Language"], set()).add(response.headers["ETag"])
    assert {lang: len(tags) for lang, tags in etags.items()} == {"zh-Hant": 1, "zh-Hans": 1, "en": 1}
    assert len(set().union(*etags.values())) == 3
    assert len(pages._pages) == 3
    hans_etag = next(iter(etags["zh-Hans"]))
    again = client.get(ARTICLE, headers={"Accept-Language": HANS, "If-None-Match": hans_etag})
    assert again.status_code == 304
    other = client.get(ARTICLE, headers={"Accept-Language": EN, "If-None-Match": hans_etag})
    assert other.status_code == 200


def test_error_pages_speak_the_reader_language(client):
    response = client.get("/articles/nope", headers={"Accept-Language": EN})
    assert response.status_code == 404 and "Page not found" in html_of(response)
    response = client.get("/articles/nope", headers={"Accept-Language": HANS})
    assert "找不到页面" in html_of(response)


def test_moderation_pages_in_english(app, client, moderator_account, db):
    from tests.conftest import make_comment

    make_comment(db, author_hash="b" * 64)  # an author whose history there is to read
    client.set_cookie(LANGUAGE_COOKIE, "en")
    browser = ModeratorBrowser(client)
    refused = html_of(browser.login(password="wrong password!"))
    assert "Wrong account name or password." in refused
    browser.login()
    html = browser.queue()
    assert html_lang(html) == "en"
    assert "Review queue" in html and "Keyboard shortcuts" in html
    # Column heads name one article, and a count of comments, not the navigation's "Articles".
    dashboard = client.get("/moderation/dashboard/?range=7d").get_data(as_text=True)
    assert '<th scope="col">Article</th><th scope="col">Comments</th>' in dashboard
    history = client.get("/moderation/authors/bbbbbbbb").get_data(as_text=True)
    assert '<th scope="col">Article</th><th scope="col">Text</th>' in history


def test_chinese_written_by_people_is_marked_chinese_on_english_pages(app, client, admin, db):
    """A screen reader reads a comment, a nickname or a rule's note in Chinese only if the page says
    it is Chinese: on an English page such text is `lang="zh"`; English text and Chinese pages are left alone."""
    from moderation.models import CommentStatus
    from tests.conftest import make_comment

    make_comment(db, body="報導很有參考價值", nickname="老讀者", status=CommentStatus.APPROVED)
    make_comment(db, body="Nice report", nickname="reader", status=CommentStatus.APPROVED)
    make_comment(db, body="一則待審")
    english = client.get(f"/articles/{ARTICLE_SLUG}?lang=en").get_data(as_text=True)
    assert '<div class="comment-body" dir="auto" lang="zh">報導很有參考價值</div>' in english
    assert '<span class="author" dir="auto" lang="zh">老讀者</span>' in english
    assert '<div class="comment-body" dir="auto">Nice report</div>' in english
    assert '<span class="author" dir="auto">reader</span>' in english
    chinese = client.get(f"/articles/{ARTICLE_SLUG}").get_data(as_text=True)
    assert '<div class="comment-body" dir="auto">報導很有參考價值</div>' in chinese
    admin.client.set_cookie(LANGUAGE_COOKIE, "en")
    assert re.search(r'<div class="comment-body" dir="auto" lang="zh">\s*一則待審', admin.queue())
    rules = admin.client.get("/moderation/admin/rules/").get_data(as_text=True)
    assert '<td lang="zh">加微信</td>' in rules and '<td lang="zh">聯絡方式廣告</td>' in rules


def test_the_label_tables_follow_each_page_language(app, client, moderator_account, db):
    """labels.html is built once per process; its words must still be those of each page."""
    from tests.conftest import make_comment

    make_comment(db, body="一則待審")
    browser = ModeratorBrowser(client)
    browser.login()
    for lang, pending, approve in (("zh-Hant", "待審核", "通過"), ("en", "Pending", "Approve"),
                                   ("zh-Hans", "待审核", "通过"), ("zh-Hant", "待審核", "通過")):
        client.set_cookie(LANGUAGE_COOKIE, lang)
        html = browser.queue()
        assert re.search(rf'aria-current="page">{pending} <span class="count"[^>]*>1</span>', html), lang
        assert re.search(rf'data-action="approve"[^>]*>{approve}<span class="visually-hidden"> #\d+</span>', html), lang


def test_a_word_in_the_nickname_is_said_with_each_languages_word_for_nickname(app, client, moderator_account, db):
    from moderation.models import ScreeningReason
    from tests.conftest import make_comment

    comment = make_comment(db, nickname="加微信")
    db.session.add(ScreeningReason(comment_id=comment.id, kind="word", action="hold", rule_id="word:1",
                                   detail="微信", field="nickname", span_start=1, span_end=3))
    db.session.commit()
    browser = ModeratorBrowser(client)
    browser.login()
    for lang, words in (("zh-Hant", "出現在暱稱"), ("zh-Hans", "出现在昵称"), ("en", "in the nickname")):
        client.set_cookie(LANGUAGE_COOKIE, lang)
        assert words in browser.queue(), lang


# Catalogues ---------------------------------------------------------------------------------------

LOCALES = ("zh_Hant", "zh_Hans", "en")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalogue(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=locale)


def extracted_ids(tmp_path) -> set:
    """What `make translations` would extract now (scripts/translations.py, the same invocation)."""
    spec = importlib.util.spec_from_file_location("translation_script", ROOT / "scripts" / "translations.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return {(message.context, message.id) for message in script.extract(tmp_path / "messages.pot") if message.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_of_the_templates_and_code_is_translated(tmp_path, locale):
    wanted = extracted_ids(tmp_path)
    assert len(wanted) > 300
    found = catalogue(locale)
    have = {(message.context, message.id) for message in found if message.id}
    assert wanted - have == set(), "run `make translations`"
    for message in found:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(strings), f"{locale}: untranslated {ids[0]!r}"
        assert "fuzzy" not in message.flags
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids[0])), (locale, ids[0], text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogues_are_those_of_the_po_files(locale):
    buffer = BytesIO()
    write_mo(buffer, catalogue(locale))
    compiled = (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert compiled == buffer.getvalue(), "run `make translations`"


def test_the_simplified_catalogue_has_the_required_reader_texts():
    strings = {message.id: message.string for message in catalogue("zh_Hans") if message.id}
    assert strings["暱稱"] == "昵称"
    assert strings["驗證碼"] == "验证码"
    assert strings["請輸入正確驗證碼"] == "请输入正确验证码"
    assert strings["所有評論僅代表網友意見,與本站立場無關"] == "所有评论仅代表网友意见,与本站立场无关"
    assert "匿名" in strings["匿名（顯示為「匿名網友」）"]


def test_the_simplified_fill_counts_comments_with_tiao_and_writes_nickname_the_mainland_way():
    """OpenCC keeps Taiwan's 則 and 暱; the script's own fixes make them mainland usage."""
    import opencc

    spec = importlib.util.spec_from_file_location("translation_script", ROOT / "scripts" / "translations.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    from babel.messages.catalog import Catalog

    new = Catalog(locale="zh_Hans")
    new.add(("%(num)s 則評論", "%(num)s 則評論"))
    for msgid in ("這則回覆已刪除", "會多攔下 %(n)s 則、放行 %(m)s 則。規則尚未儲存。", "暱稱", "否則請重新輸入"):
        new.add(msgid)
    assert script.fill("zh_Hans", new, opencc.OpenCC("tw2sp")) == []
    filled = {message.id if isinstance(message.id, str) else message.id[0]: message.string for message in new if message.id}
    assert filled["%(num)s 則評論"] == ("%(num)s 条评论", "%(num)s 条评论")
    assert filled["這則回覆已刪除"] == "这条回复已删除"
    assert filled["會多攔下 %(n)s 則、放行 %(m)s 則。規則尚未儲存。"] == "会多拦下 %(n)s 条、放行 %(m)s 条。规则尚未保存。"
    assert filled["暱稱"] == "昵称"
    assert filled["否則請重新輸入"] == "否则请重新输入"  # 則 as "otherwise" stays


def test_in_english_the_sign_in_field_is_an_account_name_and_the_accounts_column_an_account(client, admin):
    html = client.get("/moderation/login", query_string={"lang": "en"}).get_data(as_text=True)
    assert '<label for="name">Account name</label>' in html
    listed = admin.client.get("/moderation/admin/moderators", query_string={"lang": "en"}).get_data(as_text=True)
    assert '<th scope="col">Account</th>' in listed and '>Accounts</a>' in listed


def test_the_simplified_catalogue_uses_mainland_words_where_opencc_keeps_taiwan_ones():
    """帐号 → 账号, 检举 → 举报, 纪录 → 记录, 重设 → 重置, records counted with 条: in the catalogue as it
    stands, and in what scripts/translations.py fills in for new strings."""
    import importlib.util
    from pathlib import Path

    import opencc
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    with open(root / "moderation/translations/zh_Hans/LC_MESSAGES/messages.po", "rb") as handle:
        catalogue = read_po(handle)
    texts = [text for message in catalogue if message.id
             for text in (message.string if isinstance(message.string, tuple) else (message.string,))]
    assert not [text for text in texts if any(word in text for word in ("帐号", "检举", "纪录", "重设", "笔", "「", "」"))]
    spec = importlib.util.spec_from_file_location("translations", root / "scripts/translations.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    converted = script.to_mainland("重設帳號的密碼；檢舉紀錄共 %(n)s 筆", opencc.OpenCC("tw2sp"))
    assert converted == "重置账号的密码；举报记录共 %(n)s 条"
    assert script.to_mainland("按「送出」；『引文』", opencc.OpenCC("tw2sp")) == "按“送出”；‘引文’"


def test_the_form_page_switch_sends_the_draft_and_the_page_comes_back_in_that_language(page, db):
    from moderation.models import CaptchaFailure, Comment

    page.open_form()
    buttons = re.findall(r'<button type="submit" form="comment-form" formaction="([^"]+)" formmethod="post" '
                         r'formnovalidate name="switch_language" value="([^"]+)"', page.html)
    assert [value for _, value in buttons] == ["zh-Hans", "en"]
    # A form's default button (Enter in a field) is its first in the page: the comment's, not a language.
    first = re.search(r'<button type="submit" form="comment-form"[^>]*>', page.html).group()
    assert 'name="action" value="post"' in first
    action = buttons[1][0]
    response = page.client.post(action, data={"csrf_token": page.csrf_token, "captcha_id": page.challenge_id,
                                               "captcha_answer": "", "nickname": "讀者小林", "body": "換了語言還在",
                                               "switch_language": "en"})
    html = html_of(response)
    assert response.status_code == 200 and html_lang(html) == "en"
    assert "換了語言還在</textarea>" in html and 'value="讀者小林"' in html
    assert "What you typed is kept." in html  # said, and focused, at the form
    assert "lang=en" in response.headers["Set-Cookie"] and "lang=" not in action
    assert db.session.query(Comment).count() == 0 and db.session.query(CaptchaFailure).count() == 0
    assert html_lang(html_of(page.client.get(ARTICLE))) == "en"  # remembered


def test_a_language_switch_with_an_empty_form_or_an_unknown_language(page):
    page.open_form()
    action = re.search(r'formaction="([^"]+)" formmethod="post" formnovalidate name="switch_language"', page.html)[1]
    empty = page.client.post(action, data={"body": "", "switch_language": "zh-Hans"})
    assert html_lang(html_of(empty)) == "zh-Hans" and 'id="form-status"' not in html_of(empty)
    unknown = page.client.post(action, data={"body": "草稿", "switch_language": "fr"})
    assert unknown.status_code == 200 and html_lang(html_of(unknown)) == "zh-Hans"  # the cookie set just now
    assert "Set-Cookie" not in unknown.headers or "lang=" not in unknown.headers["Set-Cookie"]
    assert "草稿</textarea>" in html_of(unknown)


def test_where_no_form_is_shown_the_switch_stays_links(client, db):
    from sqlalchemy import select

    from moderation.models import Article, CommentMode

    assert 'name="switch_language"' not in html_of(client.get(ARTICLE))  # the shared page: links
    article = db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))
    article.comment_mode = CommentMode.CLOSED
    article.revision += 1
    db.session.commit()
    html = html_of(client.get(f"{ARTICLE}/comment"))
    assert 'name="switch_language"' not in html and 'href="/language/en?next=' in html



def test_a_switch_after_a_refused_post_says_the_refusal_again_in_the_other_language(page, db):
    from moderation.models import Comment

    refused = page.post(nickname="讀者小林", body="歡迎來玩博彩")  # a starter rule blocks 博彩
    html = html_of(refused)
    assert refused.status_code == 422 and "您的評論含有不允許的內容" in html
    assert '<input type="hidden" name="shown_error" value="body:body_refused">' in html
    action = re.search(r'formaction="([^"]+)" formmethod="post" formnovalidate name="switch_language"', html)[1]
    stored = db.session.query(Comment).count()  # a blocked comment is kept, rejected, for the log
    form = {"csrf_token": page.csrf_token, "captcha_id": page.challenge_id, "nickname": "讀者小林",
            "body": "歡迎來玩博彩", "shown_error": ["body:body_refused", "body:captcha_wrong", "x:y", "nickname"],
            "switch_language": "en"}
    switched = html_of(page.client.post(action.split("#")[0], data=form))
    assert html_lang(switched) == "en" and "Your comment contains something that is not allowed" in switched
    assert "What you typed is kept." not in switched and "歡迎來玩博彩</textarea>" in switched
    assert switched.count('name="shown_error"') == 1  # what was said, carried on; nothing forged or unknown
    assert db.session.query(Comment).count() == stored



def test_without_a_site_name_the_default_is_said_in_the_readers_language(client):
    assert " - Instrument News</title>" in client.get(f"/articles/{ARTICLE_SLUG}?lang=en").get_data(as_text=True)
    assert " - 儀器網</title>" in client.get(f"/articles/{ARTICLE_SLUG}").get_data(as_text=True)
