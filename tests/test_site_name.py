"""The site's name: 儀器網 in the reader's language by default; a newsroom running the service sets its own."""

import pytest

from moderation.services.nicknames import NicknameProblem, check_nickname
from tests.conftest import ARTICLE_SLUG

ARTICLE = f"/articles/{ARTICLE_SLUG}"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SITE_NAME": "台北日報"}


def test_a_site_name_set_by_the_operator_names_every_page_and_is_reserved(app, client):
    for language in ("zh-Hant", "en"):
        html = client.get(ARTICLE, query_string={"lang": language}).get_data(as_text=True)
        assert " - 台北日報</title>" in html and "儀器網</a>" not in html and "Instrument News" not in html
    assert "台北日報" in client.get("/embed/never-sent").get_data(as_text=True)  # the frame's pages too
    checked = check_nickname("台北日報小林", max_length=20, reserved=app.config["RESERVED_NICKNAMES"])
    assert checked.problem is NicknameProblem.RESERVED
