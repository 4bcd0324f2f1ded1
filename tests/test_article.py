"""The seed article: glosses become ruby, damage is repaired, the form words are not article text."""

import pytest

from moderation.article_text import (
    Gloss,
    bundled_seed,
    form_lines_of_seed,
    parse_body,
    parse_seed,
    plain_text,
    repair_seed,
    segments,
)


@pytest.fixture(scope="module")
def seed():
    return parse_seed(bundled_seed())


@pytest.fixture(scope="module")
def paragraphs(seed):
    return parse_body(seed.body)


def test_bundled_seed_is_the_shared_seed():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article.txt"
    if not shared.exists():
        pytest.skip("../shared/seed is not beside this checkout")
    assert shared.read_text(encoding="utf-8") == bundled_seed()


def test_column_line_split_over_two_lines_is_joined(seed):
    assert seed.column == "儀器網 時事聚焦"


def test_headline_is_the_first_clause(seed):
    assert seed.title == "檢驗檢測是國家質量基礎設施的重要組成部分"


def test_body_has_ten_paragraphs_ending_with_the_source_line(paragraphs):
    assert len(paragraphs) == 10
    assert plain_text(paragraphs[-1]) == "(資料參考來源:市場監管總局、新華社、經濟參考網等)"


def test_every_gloss_is_counted(paragraphs):
    glosses = [part for paragraph in paragraphs for part in paragraph if isinstance(part, Gloss)]
    assert len(glosses) == 333
    assert Gloss("網", "wǎng") in glosses
    assert Gloss("測", "cè") in glosses


def test_no_pinyin_is_left_in_parentheses(paragraphs):
    text = "".join(part for paragraph in paragraphs for part in paragraph if isinstance(part, str))
    assert "(wǎng)" not in text and "(cè)" not in text


def test_source_line_keeps_its_ordinary_parentheses_and_glosses_inside(paragraphs):
    source = paragraphs[-1]
    assert source[0] == "(資料參考來源:市"
    assert source[1] == Gloss("場", "chǎng")
    assert source[-1] == "等)"


def test_broken_line_is_one_phrase(seed):
    assert "智能及新能源汽車" in plain_text(segments(seed.body))
    assert "新\n能源" not in seed.body


def test_mojibake_is_repaired_both_times(seed):
    text = plain_text(segments(seed.body))
    assert text.count("向專業化") == 2
    assert "?" not in text


def test_repairs_apply_to_the_raw_seed_not_the_file():
    raw = bundled_seed()
    assert "向?qū)I(yè)化" in raw
    assert "向?qū)I(yè)化" not in repair_seed(raw)


def test_form_words_are_split_off_not_article_text(seed):
    assert form_lines_of_seed(bundled_seed()) == (
        "昵稱 驗證碼",
        "請輸入正確驗證碼",
        "匿名",
        "所有評論僅代表網友意見,與本站立場無關",
    )
    assert "請輸入正確驗證碼" not in plain_text(segments(seed.body))
    assert "昵稱" not in seed.body


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("中心(CNAS)", ("中心(CNAS)",), id="acronym-not-gloss"),
        pytest.param("(資料)", ("(資料)",), id="han-in-parentheses"),
        pytest.param("2022(年)", ("2022(年)",), id="after-digit"),
        pytest.param("abc(wǎng)", ("abc(wǎng)",), id="after-latin"),
        pytest.param("網(wǎng)站", (Gloss("網", "wǎng"), "站"), id="gloss"),
        pytest.param("綠(lǜ)", (Gloss("綠", "lǜ"), ), id="umlaut"),
        pytest.param("網（wǎng）", (Gloss("網", "wǎng"),), id="fullwidth-parentheses"),
        pytest.param("網(hello world)", ("網(hello world)",), id="english-phrase"),
    ],
)
def test_gloss_is_told_from_ordinary_parentheses(text, expected):
    assert segments(text) == expected


def test_article_page_renders_ruby_not_parentheses(client):
    html = client.get("/articles/inspection-testing-excellent-cases").get_data(as_text=True)
    assert html.count("<ruby>") == 333
    assert '<ruby>網<rt lang="zh-Latn-pinyin">wǎng</rt></ruby>' in html
    assert "(wǎng)" not in html
    assert '<html lang="zh-Hant">' in html
    assert "【儀器網 時事聚焦】" in html


def test_front_page_redirects_to_the_article(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.endswith("/articles/inspection-testing-excellent-cases")


def test_form_words_are_a_real_form_not_paragraphs(client):
    html = client.get("/articles/inspection-testing-excellent-cases").get_data(as_text=True)
    assert '<label for="nickname">暱稱</label>' in html
    assert '<label for="anonymous">匿名' in html
    assert "<p>昵稱" not in html and "<p>請輸入正確驗證碼" not in html
    assert html.count("所有評論僅代表網友意見,與本站立場無關") == 1


def test_pinyin_toggle_is_remembered_without_javascript(client):
    from tests.conftest import ArticlePage

    page = ArticlePage(client)
    page.open()
    assert 'class="pinyin-hidden"' not in page.html
    response = client.post("/preferences/pinyin", data={"slug": page.slug})
    assert response.status_code == 303
    page.open()
    assert 'class="pinyin-hidden"' in page.html
    client.post("/preferences/pinyin", data={"slug": page.slug})
    page.open()
    assert 'class="pinyin-hidden"' not in page.html


def test_simplified_characters_of_the_seed_are_repaired_on_import_and_the_file_kept():
    import opencc

    from moderation.article_text import bundled_seed, parse_seed

    delivered = bundled_seed()
    assert "制造業" in delivered and "勇于" in delivered  # the file stays as delivered
    source = parse_seed(delivered)
    to_traditional = opencc.OpenCC("s2t")
    simplified = {char for char in source.body if to_traditional.convert(char) != char} - {"游"}  # 上下游 is right
    assert simplified == set()
    for repaired in ("製造業", "示範", "範圍", "徵集", "徵求", "勇於", "萬(wàn)餘"):
        assert repaired in source.body


def test_the_simplified_article_writes_the_particle_zhe_as_mainland_text_does():
    from moderation.article_text import bundled_seed, parse_seed, simplified_text, strip_glosses

    text = strip_glosses(simplified_text(parse_seed(bundled_seed()).body))
    assert "发挥着重要" in text and "发挥著" not in text
    assert simplified_text("顯著") == "显著" and simplified_text("擁有著作權") == "拥有著作权"
