"""Admins write, edit and close articles on a page of their own, and manage the newsroom's API keys."""

from __future__ import annotations

import re

from sqlalchemy import select

from moderation.models import ApiKey, Article, AuditEntry, CommentMode
from tests.conftest import ARTICLE_SLUG

NEW = "/moderation/admin/articles/new"
ARTICLE_FORM = {
    "headline": "實驗室開放日",
    "column": "活動",
    "body": "本週六開放參觀，歡迎網(wǎng)友報名。\n\n名額有限。",
    "slug": "lab-open-day",
    "published_at": "2026-11-24T10:00",
    "comment_mode": "post",
    "close_after_days": "",
}


def stored(db, slug: str) -> Article | None:
    db.session.expire_all()
    return db.session.scalar(select(Article).where(Article.slug == slug))


def test_an_admin_writes_an_article_that_readers_can_open(admin, client, db):
    response = admin.post(NEW, **ARTICLE_FORM)
    assert response.status_code == 303
    article = stored(db, "lab-open-day")
    assert response.location.endswith(f"/moderation/admin/articles/{article.id}/edit?saved=1")
    assert article.key == "lab-open-day" and article.comment_mode is CommentMode.POST_MODERATION
    assert article.published_at.isoformat() == "2026-11-24T02:00:00+00:00"  # 10:00 in Asia/Taipei
    page = client.get("/articles/lab-open-day").get_data(as_text=True)
    assert "實驗室開放日" in page and '網<rt lang="zh-Latn-pinyin">wǎng</rt>' in page
    edit = admin.client.get(response.location).get_data(as_text=True)
    assert "已儲存。" in edit and 'value="2026-11-24T10:00"' in edit
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "article_create"))
    assert entry.actor == "boss"


def test_an_article_given_neither_key_nor_slug_gets_its_url_from_the_headline(admin, client, db):
    """Only the headline and the body, as the form invites: the URL is the headline in pinyin, made
    unique; a headline with nothing to spell gets the moment instead."""
    form = {**ARTICLE_FORM, "slug": "", "headline": "中文標題 ＡＢＣ 二號"}
    first, second = admin.post(NEW, **form), admin.post(NEW, **form)
    assert first.status_code == second.status_code == 303
    assert stored(db, "zhong-wen-biao-ti-abc-er-hao").key == "zhong-wen-biao-ti-abc-er-hao"
    assert stored(db, "zhong-wen-biao-ti-abc-er-hao-2") is not None
    assert client.get("/articles/zhong-wen-biao-ti-abc-er-hao").status_code == 200
    assert admin.post(NEW, **{**form, "headline": "José 的來信"}).status_code == 303
    assert stored(db, "jose-de-lai-xin") is not None
    assert admin.post(NEW, **{**form, "headline": "🎉🎉"}).status_code == 303
    assert db.session.scalar(select(Article).where(Article.slug.like("article-%"))) is not None
    long = admin.post(NEW, **{**form, "headline": "檢驗" * 40})
    assert long.status_code == 303
    made = db.session.scalar(select(Article).where(Article.title == "檢驗" * 40))
    assert made.slug.startswith("jian-yan-jian-yan") and len(made.slug) <= 60


def test_editing_the_body_renders_it_once_and_the_cached_page_shows_the_new_text(admin, client, db):
    seed = stored(db, ARTICLE_SLUG)
    first = client.get(f"/articles/{ARTICLE_SLUG}")
    edit_url = f"/moderation/admin/articles/{seed.id}/edit"
    form = re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', admin.client.get(edit_url).get_data(as_text=True))
    fields = {name: value for name, value in form if name in ARTICLE_FORM}
    fields["body"] = "改版後的內文，檢(jiǎn)驗。"
    assert admin.post(edit_url, **fields, comment_mode="pre").status_code == 303
    again = client.get(f"/articles/{ARTICLE_SLUG}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    html = again.get_data(as_text=True)
    assert "改版後的內文" in html and '檢<rt lang="zh-Latn-pinyin">jiǎn</rt>' in html
    assert stored(db, ARTICLE_SLUG).body_html.count("<ruby>") == 1
    log = admin.client.get("/moderation/admin/audit?action=article_update").get_data(as_text=True)
    assert "改了內文" in log and ": body" not in log  # the fields in the page's words, not their codes


def test_a_refused_form_keeps_what_was_typed_and_says_why(admin, db):
    response = admin.post(NEW, **{**ARTICLE_FORM, "body": "<p>HTML 內文</p>", "slug": "bad slug"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "文章未儲存" in html and "不接受 HTML" in html and "網址代稱只能用" in html
    assert "實驗室開放日" in html and "&lt;p&gt;HTML 內文&lt;/p&gt;" in html
    assert 'aria-invalid="true" aria-describedby="body-hint body-error"' in html
    assert stored(db, "bad slug") is None
    timed = admin.post(NEW, **{**ARTICLE_FORM, "published_at": "昨天"}).get_data(as_text=True)
    assert "請填寫有效的發布日期與時間，例如 2026-12-03 09:00。" in timed and "含時區" not in timed  # a picker, not ISO


def test_the_days_before_closing_are_read_as_typed_in_either_width(admin, db):
    refused = admin.post(NEW, **{**ARTICLE_FORM, "close_after_days": "一週"})
    assert refused.status_code == 422
    assert "自動關閉天數須為 0 到 3650 的整數" in refused.get_data(as_text=True) and stored(db, "lab-open-day") is None
    assert admin.post(NEW, **{**ARTICLE_FORM, "close_after_days": " ７ "}).status_code == 303
    assert stored(db, "lab-open-day").close_after_days == 7


def test_a_key_taken_by_another_article_is_refused(admin, db):
    response = admin.post(NEW, **{**ARTICLE_FORM, "key": ARTICLE_SLUG, "slug": "another-slug"})
    assert response.status_code == 422 and "這個文章代號已被另一篇文章使用" in response.get_data(as_text=True)
    assert stored(db, "another-slug") is None


def test_a_taken_key_is_said_with_the_fields_problems_not_after_them(admin, db):
    response = admin.post(NEW, **{**ARTICLE_FORM, "key": ARTICLE_SLUG, "headline": "", "slug": "bad slug"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "這個文章代號已被另一篇文章使用" in html and "網址代稱只能用" in html
    assert re.search(r'id="article-key"[^>]*aria-invalid="true"', html)
    assert re.search(r'id="article-headline"[^>]*aria-invalid="true"', html)


def test_a_slug_taken_with_the_key_left_empty_is_said_of_the_slug(admin, db):
    """The key left empty is the slug's: the slug field says it is taken, not the empty key field."""
    response = admin.post(NEW, **{**ARTICLE_FORM, "key": "", "slug": ARTICLE_SLUG})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "這個網址代稱已被另一篇文章使用" in html
    assert "這個文章代號已被另一篇文章使用" not in html
    assert re.search(r'id="article-slug"[^>]*aria-invalid="true"', html)


def test_a_long_article_fits_the_form(admin, db):
    body = "長" * 30_000  # 270 KB percent-encoded: past MAX_CONTENT_LENGTH (64 KB)
    assert admin.post(NEW, **{**ARTICLE_FORM, "body": body}).status_code == 303
    assert len(stored(db, "lab-open-day").body) == 30_000


def test_closing_from_the_edit_page(admin, client, db):
    seed = stored(db, ARTICLE_SLUG)
    closed = admin.post(f"/moderation/admin/articles/{seed.id}/close")
    assert closed.status_code == 303
    assert "已關閉這篇文章的評論" in admin.client.get(closed.location).get_data(as_text=True)
    assert stored(db, ARTICLE_SLUG).comment_mode is CommentMode.CLOSED
    assert "評論已關閉" in client.get(f"/articles/{ARTICLE_SLUG}").get_data(as_text=True)


def test_the_edit_page_says_when_comments_close(admin, db):
    admin.post(NEW, **{**ARTICLE_FORM, "close_after_days": "3"})
    article = stored(db, "lab-open-day")
    html = admin.client.get(f"/moderation/admin/articles/{article.id}/edit").get_data(as_text=True)
    assert "評論將於 2026-11-27 10:00 自動關閉" in html
    assert admin.post(f"/moderation/admin/articles/{article.id}/close").status_code == 303
    closed = admin.client.get(f"/moderation/admin/articles/{article.id}/edit").get_data(as_text=True)
    assert "評論將於" not in closed  # already closed: no closing time to announce
    # Its protected names can be set before any comment arrives (the queue's cards linked there only).
    assert f'href="/moderation/articles/{article.id}/protected-names">受保護的姓名</a>' in html


def test_moderators_cannot_write_articles_or_see_keys(moderator, db):
    assert moderator.client.get(NEW).status_code == 403
    assert moderator.post(NEW, **ARTICLE_FORM).status_code == 403
    assert moderator.client.get("/moderation/admin/api-keys").status_code == 403


def test_the_articles_list_links_to_the_editor(admin, db):
    html = admin.client.get("/moderation/admin/articles").get_data(as_text=True)
    assert f'href="{NEW}"' in html and 'href="/moderation/admin/api-keys"' in html
    assert f'href="/moderation/admin/articles/{stored(db, ARTICLE_SLUG).id}/edit"' in html


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(admin, client, db):
    response = admin.post("/moderation/admin/api-keys", site="cms.example", scope=["articles:write", "comments:read"])
    html = response.get_data(as_text=True)
    key = re.search(r'<code class="secret">(mk_[^<]+)</code>', html).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    listed = admin.client.get("/moderation/admin/api-keys").get_data(as_text=True)
    assert key not in listed and key[:10] in listed and "cms.example" in listed
    put = client.put("/api/v1/articles/from-admin-key", json={"headline": "標題", "body": "內文"},
                     headers={"Authorization": f"Bearer {key}"})
    assert put.status_code == 201
    row = db.session.scalar(select(ApiKey))
    asked = admin.post(f"/moderation/admin/api-keys/{row.id}/revoke")  # first the confirmation: it cannot be undone
    assert asked.status_code == 200 and f"要撤銷 cms.example 的金鑰 {row.prefix} 嗎？" in asked.get_data(as_text=True)
    assert client.get("/api/v1/articles/from-admin-key", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert admin.post(f"/moderation/admin/api-keys/{row.id}/revoke", confirmed="1").status_code == 303
    said = admin.client.get("/moderation/admin/api-keys").get_data(as_text=True)
    assert f"已撤銷金鑰 {row.prefix}（cms.example）：用它的請求從現在起都會被拒絕。" in said
    assert client.get("/api/v1/articles/from-admin-key", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "boss")).all()
    assert "api_key_create" in actions and "api_key_revoke" in actions



def test_the_key_form_sent_again_makes_no_second_key(admin, db):
    page = admin.client.get("/moderation/admin/api-keys").get_data(as_text=True)
    form_id = re.search(r'name="form_id" value="([^"]+)"', page).group(1)
    first = admin.post("/moderation/admin/api-keys", site="cms.example", scope=["articles:write"], form_id=form_id)
    key = re.search(r'<code class="secret">(mk_[^<]+)</code>', first.get_data(as_text=True)).group(1)
    again = admin.post("/moderation/admin/api-keys", site="cms.example", scope=["articles:write"], form_id=form_id)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and 'class="secret"' not in html and key not in html
    assert f"這份表單已送出過，已建立的金鑰開頭為 {key[:10]}" in html
    assert db.session.query(ApiKey).count() == 1
    fresh = re.search(r'name="form_id" value="([^"]+)"', html).group(1)
    assert fresh != form_id and admin.post("/moderation/admin/api-keys", site="cms.example", scope=["articles:write"],
                                           form_id=fresh).status_code == 200
    assert db.session.query(ApiKey).count() == 2  # a new form makes a new key

def test_a_key_needs_a_site_name_and_a_scope(admin, db):
    response = admin.post("/moderation/admin/api-keys", site="Not A Name")
    assert response.status_code == 422 and "網站名稱須為" in response.get_data(as_text=True)
    response = admin.post("/moderation/admin/api-keys", site="cms.example")
    assert response.status_code == 422 and "請至少選一項權限" in response.get_data(as_text=True)
    both = admin.post("/moderation/admin/api-keys", site="").get_data(as_text=True)  # said at once, not one a try
    assert "網站名稱須為" in both and "請至少選一項權限" in both
    assert 'aria-describedby="key-error-site_name"' in both and 'aria-describedby="key-error-no_scope"' in both
    assert db.session.scalar(select(ApiKey)) is None
