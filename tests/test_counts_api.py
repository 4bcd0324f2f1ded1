"""A newsroom's list pages show comment counts, and its front page the most commented articles:
public answers from the stored counts, cached briefly, readable by scripts on other sites."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from moderation.models import Article, CommentStatus
from moderation.services import api_keys
from moderation.services.audit import COMMAND_LINE
from moderation.services.listing import listing_changed
from tests.conftest import ARTICLE_SLUG, make_comment


def add_article(db, client, clock, key: str) -> Article:
    _, api_key = api_keys.create_key(db.session, "cms.example", ["articles:write"], actor=COMMAND_LINE, now=clock())
    db.session.commit()
    response = client.put(f"/api/v1/articles/{key}", json={"headline": f"文章 {key}", "body": "內文。"},
                          headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 201
    return db.session.scalar(select(Article).where(Article.key == key))


def approve(db, article: Article, **overrides):
    return make_comment(db, article_id=article.id, status=CommentStatus.APPROVED, **overrides)


def seed(db) -> Article:
    return db.session.scalar(select(Article).where(Article.slug == ARTICLE_SLUG))


def test_counts_of_several_articles_in_one_answer(client, db, clock):
    other = add_article(db, client, clock, "story-1")
    approve(db, seed(db))
    approve(db, seed(db))
    make_comment(db, status=CommentStatus.PENDING)  # not published: not counted
    response = client.get("/api/v1/counts", query_string={"keys": f"story-1,{ARTICLE_SLUG},never-sent"})
    assert response.status_code == 200
    assert response.json == {"counts": {ARTICLE_SLUG: 2, "story-1": 0}}  # unknown keys left out
    assert other.approved_count == 0


def test_counts_take_one_query_whatever_the_number_of_keys(app, client, db):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    keys = ",".join([ARTICLE_SLUG] + [f"k{number}" for number in range(99)])
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/counts", query_string={"keys": keys}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    selects = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "comment" not in selects[0].split("FROM", 1)[1].lower()


def test_counts_are_public_briefly_cached_and_validated(client, db):
    response = client.get("/api/v1/counts", query_string={"keys": ARTICLE_SLUG})
    assert response.cache_control.public and response.cache_control.max_age == 30
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers
    again = client.get("/api/v1/counts", query_string={"keys": ARTICLE_SLUG},
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    approve(db, seed(db))
    changed = client.get("/api/v1/counts", query_string={"keys": ARTICLE_SLUG},
                         headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["counts"][ARTICLE_SLUG] == 1


def test_the_order_of_keys_does_not_change_the_answer(client, db, clock):
    add_article(db, client, clock, "b")
    first = client.get("/api/v1/counts?keys=b," + ARTICLE_SLUG)
    second = client.get(f"/api/v1/counts?keys={ARTICLE_SLUG},b,b")
    assert first.get_data() == second.get_data() and first.headers["ETag"] == second.headers["ETag"]


@pytest.mark.parametrize(("keys", "code"), [
    ("", "keys_missing"), (",,,", "keys_missing"), (",".join(f"k{n}" for n in range(101)), "too_many_keys"),
])
def test_too_many_or_no_keys_get_a_json_400(client, keys, code):
    response = client.get("/api/v1/counts", query_string={"keys": keys})
    assert response.status_code == 400 and response.json["error"]["code"] == code


def test_keys_that_cannot_be_article_keys_are_left_out(client):
    response = client.get("/api/v1/counts", query_string={"keys": f"a b,{ARTICLE_SLUG},\x7f"})
    assert response.status_code == 200 and list(response.json["counts"]) == [ARTICLE_SLUG]


# -- most commented --------------------------------------------------------------------------------

def test_the_most_commented_articles_of_the_last_24_hours(client, db, clock):
    busy, quiet, old_news = (add_article(db, client, clock, key) for key in ("busy", "quiet", "old-news"))
    recent = clock.now - timedelta(hours=2)
    for _ in range(3):
        approve(db, busy, created_at=recent)
    approve(db, quiet, created_at=recent)
    for _ in range(5):
        approve(db, old_news, created_at=clock.now - timedelta(hours=30))
    make_comment(db, article_id=quiet.id, status=CommentStatus.PENDING, created_at=recent)
    response = client.get("/api/v1/most-commented")
    assert response.status_code == 200
    listed = [(item["key"], item["comments"]) for item in response.json["articles"]]
    assert listed == [("busy", 3), ("quiet", 1)]
    assert response.json["articles"][0]["url"].endswith("/articles/busy")
    assert response.json["articles"][0]["headline"] == "文章 busy"
    assert response.cache_control.public and response.cache_control.max_age == 60
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    wider = client.get("/api/v1/most-commented", query_string={"hours": 48, "limit": 1}).json["articles"]
    assert [item["key"] for item in wider] == ["old-news"]


def test_answers_within_a_minute_are_the_same_bytes(client, db, clock):
    first = client.get("/api/v1/most-commented")
    clock.advance(seconds=1)
    second = client.get("/api/v1/most-commented", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304
    clock.advance(minutes=1)
    assert client.get("/api/v1/most-commented", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


@pytest.mark.parametrize("query", [{"hours": "0"}, {"hours": "169"}, {"hours": "x"}, {"limit": "51"},
                                   {"limit": "-1"}, {"hours": "1e3"}])
def test_bad_parameters_get_a_json_400(client, query):
    response = client.get("/api/v1/most-commented", query_string=query)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_parameter"


def test_counts_follow_decisions_and_hidden_reports(client, db):
    """approved_count is what listing_changed keeps; the endpoint reads nothing else."""
    article = seed(db)
    listing_changed(db.session, article.id, approved_delta=4)
    db.session.commit()
    assert client.get("/api/v1/counts", query_string={"keys": ARTICLE_SLUG}).json["counts"][ARTICLE_SLUG] == 4
