"""The comment section embedded in a newsroom's page (/embed/<key>): framed only by the origins its
site allows, every link and form inside the frame, and usable by a reader whose browser keeps no
cookie for the frame (third-party cookies blocked)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from moderation.extensions import db as _db
from moderation.models import Article, AuditEntry, CommentStatus, EmbedSite
from moderation.services import api_keys, embed_sites
from moderation.services.audit import COMMAND_LINE
from tests.conftest import ARTICLE_SLUG, CAPTCHA_TEXT, make_comment
from tests.migrations import schema_at

HOST = "https://news.example"
OTHER_HOST = "https://other.example"


def add_article(db, client, clock, key: str, site: str = "news") -> Article:
    _, api_key = api_keys.create_key(db.session, site, ["articles:write"], actor=COMMAND_LINE, now=clock())
    db.session.commit()
    response = client.put(f"/api/v1/articles/{key}", json={"headline": f"文章 {key}", "body": "本文不應出現在嵌入的評論區。"},
                          headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 201
    return db.session.scalar(select(Article).where(Article.key == key))


def allow(db, clock, site: str, *origins: str) -> None:
    embed_sites.set_origins(db.session, site, origins, actor=COMMAND_LINE, now=clock())
    db.session.commit()


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]+)", policy).group(1)


def links_of(html: str) -> list[str]:
    return [url.replace("&amp;", "&") for url in re.findall(r'(?:href|action|formaction|src)="([^"]*)"', html)]


def comment_form_of(html: str) -> dict:
    action = re.search(r'<form class="comment-form"[^>]*action="([^"]*)"', html).group(1).replace("&amp;", "&")
    return {
        "action": action.split("#")[0],
        "captcha_id": re.search(r'name="captcha_id" value="([^"]*)"', html).group(1),
        "submission_key": re.search(r'name="submission_key" value="([^"]*)"', html).group(1),
        "image": re.search(r'<img src="([^"]*)"', html).group(1).replace("&amp;", "&"),
    }


class Frame:
    """A reader in the frame whose browser keeps no cookie for it (third-party cookies blocked)."""

    def __init__(self, app, key: str, *, base_url: str = "http://localhost"):
        self.client = app.test_client(use_cookies=False)
        self.key, self.base_url = key, base_url
        self.set_cookies: list[str] = []

    def get(self, url: str, **kwargs):
        response = self.client.get(url, base_url=self.base_url, **kwargs)
        self.set_cookies += response.headers.getlist("Set-Cookie")
        return response

    def post(self, url: str, **kwargs):
        response = self.client.post(url, base_url=self.base_url, **kwargs)
        self.set_cookies += response.headers.getlist("Set-Cookie")
        return response

    def write(self, body: str = "在嵌入的評論區留言。", *, answer: str = CAPTCHA_TEXT):
        """As without JavaScript: the shared frame's form, then the form page with its captcha."""
        form_page = self.post(f"/embed/{self.key}/comment", data={"nickname": "讀者小林", "body": body})
        assert form_page.status_code == 200
        form = comment_form_of(form_page.get_data(as_text=True))
        assert self.get(form["image"]).status_code == 200  # the browser loads the captcha: the challenge is made
        return self.post(form["action"], data={
            "nickname": "讀者小林", "body": body, "captcha_id": form["captcha_id"], "captcha_answer": answer,
            "submission_key": form["submission_key"], "captcha_medium": "image", "action": "post"})


def test_the_frame_shows_the_comment_section_alone_for_the_sites_origins(client, db, clock):
    add_article(db, client, clock, "story-1")
    allow(db, clock, "news", HOST, "https://www.news.example")
    make_comment(db, article_id=db.session.scalar(select(Article.id).where(Article.key == "story-1")),
                 status=CommentStatus.APPROVED, body="已公開的評論")
    response = client.get("/embed/story-1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert frame_ancestors(response) == f"{HOST} https://www.news.example"
    assert "X-Frame-Options" not in response.headers
    assert "所有評論僅代表網友意見,與本站立場無關" in html and "已公開的評論" in html
    assert "本文不應出現在嵌入的評論區" not in html  # the article itself is the host page's
    assert 'class="comment-form"' in html and "reader.js" not in html and "embed-frame.js" in html


def test_every_other_page_still_refuses_every_frame(client, db, clock):
    add_article(db, client, clock, "story-1")
    allow(db, clock, "news", HOST)
    for url in (f"/articles/{ARTICLE_SLUG}", "/articles/story-1", "/moderation/login", "/api/v1/counts?keys=story-1"):
        response = client.get(url)
        assert frame_ancestors(response) == "'none'", url
    assert client.get("/articles/story-1").headers["X-Frame-Options"] == "DENY"


def test_an_article_no_site_allows_is_framed_by_nobody(client, db, clock):
    add_article(db, client, clock, "story-1")
    allow(db, clock, "elsewhere", OTHER_HOST)
    for url in (f"/embed/{ARTICLE_SLUG}", "/embed/story-1"):
        response = client.get(url)
        assert response.status_code == 200
        assert frame_ancestors(response) == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_the_operators_origins_frame_every_article(app, client, db, clock):
    app.config["EMBED_ALLOWED_ORIGINS"] = ["http://operator.example"]
    add_article(db, client, clock, "story-1")
    allow(db, clock, "news", HOST)
    assert frame_ancestors(client.get(f"/embed/{ARTICLE_SLUG}")) == "http://operator.example"
    assert frame_ancestors(client.get("/embed/story-1")) == f"http://operator.example {HOST}"


def test_no_sites_origins_ride_on_a_cached_page(client, db, clock):
    """The page comes from the page cache (same ETag), its frame-ancestors from this request."""
    add_article(db, client, clock, "story-1", site="news")
    add_article(db, client, clock, "story-2", site="rival")
    allow(db, clock, "news", HOST)
    allow(db, clock, "rival", OTHER_HOST)
    first = client.get("/embed/story-1")
    assert frame_ancestors(client.get("/embed/story-2")) == OTHER_HOST
    allow(db, clock, "news", "https://new-domain.example")
    again = client.get("/embed/story-1")
    assert again.headers["ETag"] == first.headers["ETag"]
    assert frame_ancestors(first) == HOST and frame_ancestors(again) == "https://new-domain.example"
    allow(db, clock, "news")  # none left: nobody
    assert frame_ancestors(client.get("/embed/story-1")) == "'none'"


def test_the_height_goes_only_to_an_allowed_parent_origin(client, db, clock):
    add_article(db, client, clock, "story-1")
    allow(db, clock, "news", HOST)
    allowed = client.get("/embed/story-1", query_string={"origin": HOST}).get_data(as_text=True)
    refused = client.get("/embed/story-1", query_string={"origin": "https://evil.example"}).get_data(as_text=True)
    assert f'data-parent-origin="{HOST}"' in allowed
    assert "data-parent-origin" not in refused
    assert all("origin=" not in url for url in links_of(refused))
    assert any(f"origin={HOST}" in url for url in links_of(allowed))  # kept on the frame's own pages


def test_every_link_and_form_stays_in_the_frame(app, client, db, clock):
    add_article(db, client, clock, "story-1")
    allow(db, clock, "news", HOST)
    article_id = db.session.scalar(select(Article.id).where(Article.key == "story-1"))
    top = make_comment(db, article_id=article_id, status=CommentStatus.APPROVED, body="第一則")
    for number in range(3):
        make_comment(db, article_id=article_id, status=CommentStatus.APPROVED, body=f"回覆 {number}", thread_id=top.id,
                     reply_to_id=top.id)
    app.config["COMMENTS_PAGE_SIZE"] = 1
    make_comment(db, article_id=article_id, status=CommentStatus.APPROVED, body="第二則")
    frame = Frame(app, "story-1")
    pages = [frame.get("/embed/story-1?origin=" + HOST)]
    pages.append(frame.post("/embed/story-1/comment", data={"body": "草稿"}))
    pages.append(frame.get(f"/embed/story-1/comments/{top.id}/report"))
    html = pages[0].get_data(as_text=True)
    older = next(url for url in links_of(html) if "before=" in url)
    pages.append(frame.get(older))
    for response in pages:
        assert response.status_code == 200
        for url in links_of(response.get_data(as_text=True)):
            assert url.startswith(("/embed/story-1", "/static/", "#")), url



def test_the_frames_language_switch_sends_the_draft_and_the_frame_goes_on_in_that_language(app, client, db, clock):
    """The form page's language buttons send the form (without JavaScript a link would drop the
    draft); a frame may keep no cookie, so the page it gets back carries the language in its URLs."""
    add_article(db, client, clock, "story-1")
    frame = Frame(app, "story-1")
    html = frame.post("/embed/story-1/comment", data={"body": "草稿"}).get_data(as_text=True)
    button = re.search(r'<button type="submit" form="comment-form" formaction="([^"]+)"[^>]*name="switch_language" '
                       r'value="en"', html)
    assert button and button.group(1).startswith("/embed/story-1/comment?") and "state=" in button.group(1)
    switched = frame.post(button.group(1).replace("&amp;", "&").split("#")[0],
                          data={"nickname": "讀者小林", "body": "草稿", "switch_language": "en"})
    english = switched.get_data(as_text=True)
    assert switched.status_code == 200 and '<html lang="en"' in english and "草稿</textarea>" in english
    assert 'value="讀者小林"' in english
    links = [url for url in links_of(english) if url.startswith("/embed/story-1")]
    assert links and [url for url in links if "lang=" not in url] == []
    form = comment_form_of(english)
    assert "lang=en" in form["action"]


def test_a_reader_without_cookies_posts_and_sees_their_comment_in_review(app, client, db, clock):
    add_article(db, client, clock, "story-1")
    frame = Frame(app, "story-1")
    posted = frame.write("只有作者看得到的待審評論")
    assert posted.status_code == 303
    after = urlsplit(posted.location)
    assert after.path == "/embed/story-1" and parse_qs(after.query)["notice"] == ["comment_pending"]
    page = frame.get(posted.location)
    html = page.get_data(as_text=True)
    assert "只有作者看得到的待審評論" in html and "data-own-comments" in html
    assert "您的評論已送出，審核通過後將會公開" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert frame.set_cookies == []  # over HTTP nothing was even offered: it all rode in the frame's URLs
    assert "只有作者看得到的待審評論" not in Frame(app, "story-1").get("/embed/story-1").get_data(as_text=True)


def test_over_https_the_reader_cookie_is_partitioned_for_the_frame(app, client, db, clock):
    add_article(db, client, clock, "story-1")
    frame = Frame(app, "story-1", base_url="https://localhost")
    assert frame.write().status_code == 303
    [cookie] = [cookie for cookie in frame.set_cookies if cookie.startswith("reader=")]
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie and "HttpOnly" in cookie
    assert not any(cookie.startswith("session=") for cookie in frame.set_cookies)


def test_a_wrong_captcha_keeps_the_text_in_the_frame(app, client, db, clock):
    add_article(db, client, clock, "story-1")
    response = Frame(app, "story-1").write("留著的文字", answer="WRONG")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "留著的文字" in html
    assert comment_form_of(html)["action"].startswith("/embed/story-1/comments?")


def test_a_post_without_the_frames_state_or_from_another_site_is_refused(app, client, db, clock):
    add_article(db, client, clock, "story-1")
    frame = Frame(app, "story-1")
    form = comment_form_of(frame.post("/embed/story-1/comment", data={"body": "草稿"}).get_data(as_text=True))
    data = {"body": "偽造的評論", "captcha_id": form["captcha_id"], "captcha_answer": CAPTCHA_TEXT, "action": "post"}
    no_state = frame.post("/embed/story-1/comments", data=data)
    forged = frame.post(form["action"].split("state=")[0] + "state=forged", data=data)
    cross_site = frame.post(form["action"], data=data, headers={"Sec-Fetch-Site": "cross-site"})
    for response in (no_state, forged, cross_site):
        assert response.status_code == 400
        assert "偽造的評論" in response.get_data(as_text=True)  # the text is kept
    assert db.session.scalar(select(Article.approved_count).where(Article.key == "story-1")) == 0


def shared_frame_link(app, client, db, clock, ending: str):
    """A reader without cookies on the shared frame of story-1 with one published comment, and the
    frame's link (or form action) for that comment that ends with `ending` (`report`, `like`)."""
    add_article(db, client, clock, "story-1")
    article_id = db.session.scalar(select(Article.id).where(Article.key == "story-1"))
    comment = make_comment(db, article_id=article_id, status=CommentStatus.APPROVED, body="一則公開的評論")
    frame = Frame(app, "story-1")
    html = frame.get("/embed/story-1").get_data(as_text=True)
    return frame, comment, next(url for url in links_of(html) if url.endswith(f"/comments/{comment.id}/{ending}"))


def test_a_reader_without_cookies_reports_a_comment(app, client, db, clock):
    frame, comment, report_link = shared_frame_link(app, client, db, clock, "report")
    form_html = frame.get(report_link).get_data(as_text=True)
    back = re.search(r'<a href="([^"]*)">← 回到評論</a>', form_html)  # the frame holds no article: its comments
    assert back and back.group(1).replace("&amp;", "&").startswith("/embed/story-1?") and "回到文章" not in form_html
    assert back.group(1).endswith(f"#comment-{comment.id}")
    action = re.search(r'<form class="report" method="post" action="([^"]*)"', form_html).group(1).replace("&amp;", "&")
    assert action.startswith(f"/embed/story-1/comments/{comment.id}/report?state=")
    response = frame.post(action, data={"reason": "spam"})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.location).query)["notice"] == ["report_recorded"]
    assert parse_qs(urlsplit(response.location).query)["about"] == [str(comment.id)]
    back_in_frame = frame.get(response.location).get_data(as_text=True)
    item = back_in_frame[back_in_frame.index(f'<li id="comment-{comment.id}"'):]
    assert "已收到您的檢舉" in item[:item.index("</li>")] and 'id="notice"' in item[:item.index("</li>")]
    assert frame.set_cookies == []


def test_an_unknown_key_is_a_404_in_the_frames_language(client, db, clock):
    response = client.get("/embed/never-sent", query_string={"lang": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Page not found" in html and 'lang="en"' in html
    assert all(url.startswith(("/embed/never-sent", "/static/", "#")) for url in links_of(html))
    malformed = client.get("/embed/never-sent", query_string={"lang": "<x>"}, headers={"Accept-Language": ""})
    assert malformed.status_code == 404 and "找不到頁面" in malformed.get_data(as_text=True)
    # What the newsroom has to do, naming the key it asked for (escaped: it comes from the URL).
    assert "PUT /api/v1/articles/never-sent" in malformed.get_data(as_text=True)
    escaped = client.get("/embed/%3Cb%3E").get_data(as_text=True)
    assert "articles/&lt;b&gt;" in escaped and "<b>" not in escaped
    assert client.get("/embed/a%2Cb").status_code == 404  # not a key at all


def test_an_unknown_keys_404_may_be_framed_by_the_page_asking_and_names_no_other_site(client, db, clock):
    allow(db, clock, "news", HOST)
    allow(db, clock, "other", OTHER_HOST)
    asked_from_news = client.get("/embed/never-sent", query_string={"origin": HOST})
    assert asked_from_news.status_code == 404 and frame_ancestors(asked_from_news) == HOST
    assert frame_ancestors(client.get("/embed/never-sent")) == "'none'"
    assert frame_ancestors(client.get("/embed/never-sent", query_string={"origin": "https://evil.example"})) == "'none'"


def test_the_frame_follows_the_language_it_is_given(client, db, clock):
    response = client.get(f"/embed/{ARTICLE_SLUG}", query_string={"lang": "zh-Hans"})
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html and "所有评论仅代表网友意见" in html


def test_a_site_that_fixes_the_language_gets_a_frame_without_the_switch_and_it_stays_so(client, db, clock):
    """embed.js's data-language-switch="off": the frame's URL says `switch=off`, and every URL of
    the frame carries it on (its form page, its posts, its report page), as the origin is carried."""
    make_comment(db, status=CommentStatus.APPROVED, body="固定語言的評論")
    plain = client.get(f"/embed/{ARTICLE_SLUG}", query_string={"lang": "zh-Hans"}).get_data(as_text=True)
    assert 'class="language-switch"' in plain
    fixed = client.get(f"/embed/{ARTICLE_SLUG}", query_string={"lang": "zh-Hans", "switch": "off"})
    html = fixed.get_data(as_text=True)
    assert fixed.status_code == 200 and 'class="language-switch"' not in html and '<html lang="zh-Hans">' in html
    framed = [url for url in links_of(html) if url.startswith(f"/embed/{ARTICLE_SLUG}")]
    assert framed and all("switch=off" in url for url in framed)
    form_page = client.get(next(url for url in framed if url.split("?")[0].endswith("/comment")))
    assert 'class="language-switch"' not in form_page.get_data(as_text=True)
    assert 'name="action" value="post" class="visually-hidden"' in form_page.get_data(as_text=True)  # Enter posts


def test_the_api_gives_an_article_its_site(client, db, clock):
    article = add_article(db, client, clock, "story-1", site="news")
    assert article.site == "news"


def test_origins_are_checked_and_normalised(db, clock):
    assert embed_sites.parse_origins(["HTTPS://News.Example:443/", "http://localhost:8080\nhttps://news.example"]) == [
        "http://localhost:8080", "https://news.example"]
    for bad in ("news.example", "https://news.example/path", "https://*.example", "javascript:alert(1)",
                "https://a b.example", "https://user@news.example", "ftp://news.example", "https://news.example;x"):
        with pytest.raises(embed_sites.OriginError):
            embed_sites.parse_origins([bad])


def test_the_command_line_allows_and_lists_origins(runner, db):
    result = runner.invoke(args=["embed", "allow", "news", "https://news.example", "http://localhost:8080"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["embed", "list"])
    assert "news\thttp://localhost:8080 https://news.example" in listed.output
    refused = runner.invoke(args=["embed", "allow", "news", "news.example/path"])
    assert refused.exit_code != 0 and "not an origin" in refused.output
    assert runner.invoke(args=["embed", "allow", "news"]).exit_code == 0
    assert db.session.scalars(select(EmbedSite)).all() == []


def test_an_admin_allows_a_site_on_the_keys_page(admin, db):
    page = admin.client.get("/moderation/admin/api-keys").get_data(as_text=True)
    assert "可嵌入評論區的網站" in page
    refused = admin.post("/moderation/admin/embed-sites", site="news", origins="https://news.example/path")
    assert refused.status_code == 422 and "https://news.example/path" in refused.get_data(as_text=True)
    refused = admin.post("/moderation/admin/embed-sites", site="news",
                         origins="ftp://a.example\nhttps://ok.example\nnews.example")
    assert "<code>ftp://a.example</code> <code>news.example</code>" in refused.get_data(as_text=True)  # each one
    saved = admin.post("/moderation/admin/embed-sites", site="news", origins="https://news.example\r\n")
    assert saved.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(EmbedSite.origins).where(EmbedSite.site == "news")) == "https://news.example"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "embed_origins")) is not None
    page = admin.client.get(saved.location).get_data(as_text=True)
    assert "已儲存：news 的文章可嵌入 1 個來源的頁面。" in page
    assert "news 還沒有有效的 API 金鑰" in page  # origins for a site with no key: said, not refused
    admin.post("/moderation/admin/api-keys", site="news", scope="articles:write")
    admin.post("/moderation/admin/embed-sites", site="news", origins="https://news.example\nhttps://m.news.example")
    page = admin.client.get(saved.location).get_data(as_text=True)
    assert "可嵌入 2 個來源的頁面。" in page and "還沒有有效的 API 金鑰" not in page
    admin.post("/moderation/admin/embed-sites", site="News ", origins="")
    assert "已儲存：news 的文章不再能嵌入其他網站。" in admin.client.get(saved.location).get_data(as_text=True)


@pytest.mark.committing  # builds, drops and migrates its own schema
def test_migration_0023_adds_the_sites_origins_and_goes_back_down(database_url, tmp_path):
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with schema_at("4b8d2f6a0c31", database_url, tmp_path) as directory:  # 0022
        _db.session.execute(_db.text(
            "INSERT INTO article (key, slug, title, column_name, body, body_html, comment_mode, created_at, "
            "approved_count, revision, protected_names) VALUES ('old', 'old', '舊文', '', '內文', '<p>內文</p>', "
            "'pre', :at, 0, 1, '')"), {"at": at})
        _db.session.commit()
        upgrade(directory=directory)
        assert _db.session.execute(_db.text("SELECT site FROM article")).scalar_one() is None
        _db.session.close()
        downgrade(directory=directory, revision="4b8d2f6a0c31")
        assert "site" not in {column["name"] for column in _db.inspect(_db.engine).get_columns("article")}
        assert "embed_site" not in _db.inspect(_db.engine).get_table_names()


def test_a_reader_without_cookies_likes_from_the_shared_frame(app, client, db, clock):
    frame, comment, like = shared_frame_link(app, client, db, clock, "like")
    response = frame.post(like)
    assert response.status_code == 303
    assert response.location.startswith("/embed/story-1?") and response.location.endswith("#notice")
    assert parse_qs(urlsplit(response.location).query)["notice"] == ["like_recorded"]
    liked = frame.get(response.location).get_data(as_text=True)
    assert re.search(rf'comments/{comment.id}/like[^"]*" data-like><button aria-pressed="true"', liked)
    item = liked[liked.index(f'<li id="comment-{comment.id}"'):]
    assert "已按讚。" in item[:item.index("</li>")]
    assert frame.post(like, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
