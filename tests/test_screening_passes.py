"""The faster forms screening's passes take find what the plain forms find: the regular expressions
written to begin with one character class, the reading view that also gives the reading fingerprint's
text, the translate tables learnt a block at a time, the Latin-edge check that looks at neighbours
only for a span with a Latin end, and the word reasons made without the dataclass's __init__."""

import hashlib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.screening import links, matching, personal_data, pipeline, readings
from moderation.screening.characters import HAN_CLASS, CharacterTable
from moderation.screening.normalize import fold_char, normalize
from moderation.screening.pipeline import Reason, ReasonKind, reading_fingerprint

# Each rewritten pattern beside the plain form it stands for.
_PLAIN = {
    "typed run": (re.compile(r"[a-z0-9]*[a-z][a-z0-9]*|[\u3105-\u312f\u31a0-\u31bfˉˊˇˋ˙]+"), readings.TYPED_RUN),
    "typed run or mask": (re.compile("[a-z0-9]+|[\u3105-\u312f]+|〇"), matching._TYPED_RUN),
    "Latin word": (re.compile(r"(?<![a-z0-9])[a-z][a-z0-9]{2,}(?![a-z0-9])"), matching._LATIN_WORD),
    "not in the filler view": (re.compile(f"[^{HAN_CLASS}]|[{matching.FILLER_HAN}]"), matching._NOT_FILLER_VIEW),
    "figure run": (re.compile(rf"(?:[a-z]{personal_data._SEPARATOR}*){{0,2}}\d(?:{personal_data._SEPARATOR}*\d)*"
                              rf"(?:{personal_data._SEPARATOR}*[xa])?"), personal_data._FIGURE_RUN),
}
_PIECES = ["a", "h", "x", "z", "0", "1", "9", "٣", "ㄅ", "ㆠ", "ˉ", "〇", "加", "的", "一", "微", " ", ".", "。", "-", "_",
           "\n", "(", ":", "/", "http://", "hxxps://", "com", " dot ", "[.]", "点", "\U00020000"]
texts = st.lists(st.sampled_from(_PIECES), max_size=16).map("".join)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_rewritten_patterns_match_what_their_plain_forms_match(text):
    for name, (plain, rewritten) in _PLAIN.items():
        assert [found.span() for found in rewritten.finditer(text)] == [found.span() for found in plain.finditer(text)], name


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_link_runs_are_found_where_the_plain_pattern_finds_them(text):
    plain = re.compile(rf"(?:(?:https?|hxxps?)\s*:\s*/\s*/\s*)?(?P<run>{links.LABEL}(?:{links.DOT}{links.LABEL})+)")
    expected = [(found.start(), found.start("run"), found.end()) for found in plain.finditer(text)]
    assert [(found.start(), found.start() if found["run"] is None else found.start("run"), found.end())
            for found in links.RUN.finditer(text)] == expected


def test_the_filler_view_class_leaves_out_exactly_non_han_characters_and_fillers():
    plain = re.compile(f"[^{HAN_CLASS}]|[{matching.FILLER_HAN}]")
    for code in [*range(0x3000, 0xA000), *range(0xF900, 0xFB00), 0x20000, 0x2A6D6, 0x3FFFF, 0x40000]:
        char = chr(code)
        assert bool(matching._NOT_FILLER_VIEW.match(char)) == bool(plain.match(char)), hex(code)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["加", "微", "信", "jia", "wei1", "xin", "ㄐㄧㄚ", "ˊ", "7", "x", "。", "家"]), max_size=12))
def test_the_reading_view_gives_the_reading_the_fingerprint_always_hashed(pieces):
    compact = normalize("".join(pieces)).compact
    assert readings.reading_view(compact).plain == readings.reading_key(compact)
    assert readings.reading_view(compact, prefer_letters=True).plain == readings.reading_key(compact)
    assert readings.reading_view(compact).plain_utf8() == readings.reading_key(compact).encode()


def _cut_one_at_a_time(run: str, offset: int) -> list[tuple[str, int, int]]:
    """Typed runs cut as the trie's regular expression must: from the left, the longest syllable (six
    letters, four bopomofo at most) else one character as OTHER; a tone joins the syllable before."""
    syllables, longest = ((readings._pinyin_syllables(), 6) if run[0].isascii()
                          else (readings._bopomofo_syllables(), 4))
    units: list[tuple[str, int, int]] = []
    index = 0
    while index < len(run):
        if run[index].isdigit() or run[index] in readings.BOPOMOFO_TONE_MARKS:
            if units:
                units[-1] = (units[-1][0], units[-1][1], offset + index + 1)
            index += 1
            continue
        size = next((size for size in range(min(longest, len(run) - index), 0, -1)
                     if run[index:index + size] in syllables), 0)
        units.append((syllables[run[index:index + size]] if size else readings.OTHER, offset + index,
                      offset + index + max(size, 1)))
        index += max(size, 1)
    return units


_SOME_SYLLABLES = ["a", "ai", "an", "ang", "e", "er", "n", "ng", "zhuang", "xian", "xi", "jia", "wei", "xin", "qu"]


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.lists(st.sampled_from(_SOME_SYLLABLES + list("aegnuvxz")), min_size=1, max_size=40).map("".join),
    st.lists(st.sampled_from(_SOME_SYLLABLES + ["a1", "9"]), min_size=1, max_size=40).map(lambda parts: "a" * 65 + "".join(parts)),  # over 64 with figures: cut, not weighed
    st.lists(st.sampled_from(["ㄐㄧㄚ", "ㄨㄟ", "ㄒㄧㄣ", "ㄧ", "ㄚ", "ˊ", "ˇ", "ㄅ", "ㄩㄝ"]), min_size=1, max_size=20).map("".join),
), st.integers(0, 50))
def test_typed_runs_are_cut_into_the_longest_syllables_from_the_left(run, offset):
    assert readings._typed_units(run, offset) == _cut_one_at_a_time(run, offset)


def test_a_reading_fingerprint_is_what_it_was_before_the_shared_read():
    # sha256 of reading_key(compact), as stored in comment.reading_fingerprint
    for text in ("請加 微 信 看 abc [dot] com", "加weixin 123", "ㄐㄧㄚ 微信"):
        compact = normalize(text).compact
        assert reading_fingerprint(text) == hashlib.sha256(readings.reading_key(compact).encode()).hexdigest()


def test_a_character_table_learns_each_block_once_and_translates_like_its_values():
    asked = []

    def value_of(code):
        asked.append(code)
        return fold_char(chr(code))

    table = CharacterTable(value_of)
    text = "Ｈｅｌｌｏ 加微信 \u200b ﬁ \U0001f600 \U00020000"
    assert table.translate(text) == "".join(fold_char(char) for char in text)
    learnt = len(asked)
    assert learnt == 256 * len({ord(char) >> 8 for char in text})
    assert table.translate(text + "加") == "".join(fold_char(char) for char in text + "加")
    assert len(asked) == learnt  # nothing new: no block learnt again
    assert table[ord("信")] == fold_char("信")


def test_irregular_foldings_still_map_spans_back():
    text = "加\u200b微ﬁ信"  # a zero-width space folds to nothing, ﬁ to two letters
    normalized = normalize(text)
    assert normalized.compact == "加微fi信"
    assert normalized.original_span(0, 5) == (0, len(text))


def _latin_edges_free_by_neighbours(text, start, end):
    before, first, last, after = matching._neighbours(text, start, end)
    letter = matching._is_latin_letter
    return not ((letter(first) and letter(before)) or (letter(last) and letter(after)))


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_the_latin_edge_check_says_what_the_neighbours_say(text):
    normalized = normalize(text)
    size = len(normalized.compact)
    for start in range(size):
        for end in range(start + 1, size + 1):
            assert matching._latin_edges_free(normalized, start, end) == \
                _latin_edges_free_by_neighbours(normalized, start, end), (start, end)


def test_a_word_reason_is_the_reason_the_dataclass_makes():
    rule = matching.WordRule("w1", "加微信", matching.Action.SPAM)
    for how, action in ((matching.MatchKind.EXACT, matching.Action.SPAM), (matching.MatchKind.READING, matching.Action.HOLD)):
        made = pipeline._word_reason("nickname", matching.WordMatch(rule, 3, 6, how))
        expected = Reason(ReasonKind.WORD, action, "w1", "加微信", "nickname", 3, 6, how.value)
        assert made == expected and hash(made) == hash(expected)
        assert vars(made) == vars(expected)  # every field set, none more
