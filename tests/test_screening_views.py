"""The views a comment is searched in, built in fewer passes, say what the plain forms say: the
spoken view (one character per syllable) finds a reading where the separated reading finds it, and
the views the normaliser reads in its one pass are those worked out from the compact text."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.screening import matching, readings
from moderation.screening.characters import two_byte_form
from moderation.screening.normalize import normalize
from moderation.screening.variants import shape_classes

_PIECES = ["加", "微", "信", "家", "威", "jia", "wei1", "xin", "ㄐㄧㄚ", "ˊ", "7", "x", "。", "的", "徽", "薇", "一",
           "\u200b", "ﬁ", "&#21152;", "Ｗ", "發", " ", "\U00020000", "〇", "j1a"]
pieces = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


def _found(needle: str, haystack: str) -> list[int]:
    return [found.start() for found in re.finditer(f"(?={re.escape(needle)})", haystack)] if needle else []


def test_a_syllable_is_one_character_of_two_bytes_in_the_spoken_view():
    spoken = readings.spoken_key("加微信")
    assert len(spoken) == 3 and len(spoken.encode()) == 6
    assert readings.spoken_key("家") == spoken[0]  # the same syllable, the same character
    assert readings.spoken_key("a1") == readings.OTHER * 2  # no syllable: OTHER, which no term holds


@settings(max_examples=500, deadline=None)
@given(pieces, pieces)
def test_the_spoken_view_finds_a_reading_where_the_separated_reading_finds_it(text, term):
    compact, key = normalize(text).compact, normalize(term).compact
    if not key or readings.OTHER in readings.spoken_key(key):
        return
    view = readings.reading_view(compact)
    separated = readings.reading_key(compact)
    # Without typed runs the separated reading is the view's: each match, unit for unit.
    if not view.runs:
        units = [separated.count(readings.SEPARATOR, 0, start + 1) - 1
                 for start in _found(readings.reading_key(key), separated)]
        assert _found(readings.spoken_key(key), view.spoken) == units


@settings(max_examples=500, deadline=None)
@given(pieces)
def test_the_views_read_in_one_pass_are_those_of_the_compact_text(text):
    normalized = normalize(text)
    compact = normalized.compact
    assert normalized.spoken == readings.spoken_key(compact)
    assert normalized.shape_views == tuple(two_byte_form(compact.translate(shape_classes(grouping))) for grouping in (0, 1))
    assert normalized.filler_view == matching._NOT_FILLER_VIEW.sub("", compact)
    left_out = {found.start() for found in matching._NOT_FILLER_VIEW.finditer(compact)}
    assert list(normalized.filler_to_compact) == [index for index in range(len(compact)) if index not in left_out]
    kept = [index for index, char in enumerate(normalized.folded) if not re.match(r"[\W_]", char)]
    assert list(normalized.compact_to_folded) == kept
