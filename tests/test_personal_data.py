"""The doxxing shield's pure part: personal data found with its check digits, spans and masks."""

from datetime import UTC, datetime

import pytest

from moderation.screening.matching import Action
from moderation.screening.normalize import normalize
from moderation.screening.personal_data import (
    PersonalKind,
    cn_id_valid,
    find_personal_data,
    hk_id_valid,
    masked,
    tw_id_valid,
)
from moderation.screening.pipeline import AuthorFacts, Outcome, ReasonKind, Rules, Submission, screen
from moderation.services.protected_names import matcher_for, parse_names

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def found(text: str) -> list[tuple[str, str]]:
    return [(match.kind.value, text[match.start:match.end]) for match in find_personal_data(normalize(text))]


@pytest.mark.parametrize(("text", "kind", "span"), [
    ("我的身分證 A123456789 喔", "tw_id", "A123456789"),
    ("身分證字號ａ１２３４５６７８９", "tw_id", "ａ１２３４５６７８９"),  # full width
    ("A 1 2 3-4 5 6.7 8 9", "tw_id", "A 1 2 3-4 5 6.7 8 9"),  # spaced to dodge
    ("舊居留證 AB12345677", "tw_id", "AB12345677"),
    ("新居留證 A800000014", "tw_id", "A800000014"),
    ("HKID: A123456(3)", "hk_id", "A123456(3"),
    ("身份证110101199003074477", "cn_id", "110101199003074477"),
    ("電話0912-345-678", "phone", "0912-345-678"),
    ("打 +886 912 345 678 找他", "phone", "886 912 345 678"),
    ("+852 9123 4567", "phone", "852 9123 4567"),
    ("WhatsApp：6123 4567", "phone", "6123 4567"),
    ("+853 6612 3456", "phone", "853 6612 3456"),
    ("他手機是13812345678", "phone", "13812345678"),
    ("１３８ １２３４ ５６７８", "phone", "１３８ １２３４ ５６７８"),
    ("他家電話 02-2345-6789", "landline", "02-2345-6789"),
    ("打 (04)2234-5678 找他", "landline", "(04)2234-5678"),
    ("打 03-1234567", "landline", "03-1234567"),
    ("苗栗 037-123456", "landline", "037-123456"),
    ("0223456789", "landline", "0223456789"),  # no separator: each way of cutting the area code is tried
    ("tel:+886 2 2345 6789", "landline", "+886 2 2345 6789"),
    ("電話 02-2345-6789 (10:00-18:00)", "landline", "02-2345-6789"),  # the hours beside it are no part of it
    ("北京 010-12345678", "landline", "010-12345678"),
    ("傳真：０１０—６５０９２８２４。", "landline", "０１０—６５０９２８２４"),  # an em dash
    ("深圳 ０７５５－１２３４５６７８", "landline", "０７５５－１２３４５６７８"),
    ("+86 21 1234 5678", "landline", "+86 21 1234 5678"),
    ("家裡 02/2345/6789", "landline", "02/2345/6789"),
    ("傳真 (04)/2234/5678", "landline", "(04)/2234/5678"),
    ("寫信到 Foo.Bar@Example.com 罵他", "email", "Foo.Bar@Example.com"),
    ("他住台北市中山北路二段45巷3弄7號", "address", "台北市中山北路二段45巷3弄7號"),
    ("就在彌敦道123號樓上", "address", "就在彌敦道123號"),
])
def test_personal_data_is_found_with_its_span(text, kind, span):
    assert found(text) == [(kind, span)]


@pytest.mark.parametrize("text", [
    "a123456788",  # check digit wrong
    "AB12345678",
    "11010119900307447X",
    "110101199013074477",  # month 13
    "HKID A123456(4)",
    "價格 91234567 元",  # eight figures without a country code or a word for a phone
    "人口 61234567 人",
    "訂單號碼 12345678901",  # 12… is no mainland mobile prefix
    "我知道3号会来",
    "12月3號見",
    "2023年12月31日，成交量 1,234,567,890 股",
    "總額13,800,000,000元",  # eleven figures from 13: an amount, not a mainland mobile
    "總額１３，８００，０００，０００元",
    "ISBN 978-7-111-12345-6",
    "客服專線 0800-123-456",  # toll-free: an office's published number
    "0809-123-456",
    "0800123456",
    "+886 800 123 456",
    # As many figures as a landline once what stands between them is left out, not written like one:
    "03/12/2026 10:30 見",
    "05/12/2024、06/01/2025 兩次",
    "比分 0/1234/5 與 03/123/45",
    "圖在 https://example.com/uploads/2024/07/12345678.jpg",
    "見 https://example.com/2025/03/1234567",
    "03-12-2026 10-30",
    "03.12.2026 10.30",
    "三次量測結果 0.35、0.42、0.51、0.38",
    "誤差分別為 0.5, 0.3, 0.4, 0.6, 0.7",
    "比特幣 0.35123456 BTC",
    "v0.4.12345678",
    "大樂透開獎號碼 05、12、33、41、28、19",
    "房號 0302、0305、0308",
    "班次 0830、0930、1030",
    "ISBN 0-306-40615-2",
    "快遞單號 862345678901",  # 86 without + or 00 is no country code
    "email 寫成 foo at example dot com",
])
def test_ordinary_numbers_and_words_are_not_personal_data(text):
    assert found(text) == []


def test_check_digits():
    assert tw_id_valid("a123456789") and not tw_id_valid("a123456780")
    assert hk_id_valid("a", "123456", "3") and not hk_id_valid("a", "123456", "4")
    assert cn_id_valid("110101199003074477") and not cn_id_valid("110101199003074478")


def test_mask_keeps_the_first_three_figures_and_what_was_typed_between():
    text = "身分證 A123456789，電話 0912-345-678"
    assert masked(text, find_personal_data(normalize(text))) == "身分證 A12*******，電話 091*-***-***"


def test_personal_data_is_held_with_its_span_under_pre_moderation():
    verdict = screen(Submission("快打 0912345678 騷擾他"), AuthorFacts(), Rules(), now=NOW)
    [reason] = [reason for reason in verdict.reasons if reason.kind is ReasonKind.PERSONAL_DATA]
    assert verdict.outcome is Outcome.PENDING and reason.action is Action.HOLD
    assert (reason.start, reason.end, reason.detail) == (3, 13, PersonalKind.PHONE.value)


def test_personal_data_is_published_under_post_moderation_with_its_reason_kept():
    verdict = screen(Submission("快打 0912345678", post_moderation=True), AuthorFacts(), Rules(), now=NOW)
    assert verdict.outcome is Outcome.PUBLISHED
    assert [reason.kind for reason in verdict.reasons] == [ReasonKind.PERSONAL_DATA]


@pytest.mark.parametrize("text", ["王小明好可憐", "王小明好可怜", "wang xiao ming 好可憐", "wangxiaoming"])
def test_a_protected_name_is_held_in_any_script_or_reading(text):
    submission = Submission(text, protected_names=matcher_for(("王小明",)))
    verdict = screen(submission, AuthorFacts(), Rules(), now=NOW)
    assert verdict.outcome is Outcome.PENDING
    assert any(reason.kind is ReasonKind.PROTECTED_NAME for reason in verdict.reasons)


def test_protected_names_are_checked_as_a_list():
    assert parse_names("王小明\n\n 王小明 \n李 四") == (["王小明", "李 四"], [])
    assert parse_names("王")[1] == [("name_too_short", "王")]
    assert parse_names("王" * 41)[1] == [("name_too_long", "王" * 41)]
    assert parse_names("\n".join(f"名字{index:02d}" for index in range(51)))[1] == [("too_many_names", None)]
    assert parse_names("王\n陳大文\n李")[1] == [("name_too_short", "王"), ("name_too_short", "李")]  # all at once


def test_personal_data_in_a_nickname_is_held_even_under_post_moderation():
    verdict = screen(Submission("你好", nickname="0912345678", post_moderation=True), AuthorFacts(), Rules(), now=NOW)
    assert verdict.outcome is Outcome.PENDING
    [reason] = verdict.reasons
    assert (reason.kind, reason.field, reason.action) == (ReasonKind.PERSONAL_DATA, "nickname", Action.HOLD)
