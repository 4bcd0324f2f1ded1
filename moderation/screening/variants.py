"""Other ways of writing the characters of the word list: variant forms, look-alikes, split forms. Pure.

Variant forms are the same character (Japanese shinjitai through OpenCC's jp2t, and the table in
`data/character_variants.tsv`): they fold before matching. Look-alikes (形近字) and split forms
(拆字, 力口 for 加) are other characters: a term written with them is a fuzzy match.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import opencc

_japanese = opencc.OpenCC("jp2t")


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, tuple[str, ...]]]:
    text = resources.files("moderation").joinpath("data/character_variants.tsv").read_text(encoding="utf-8")
    table: dict[str, dict[str, tuple[str, ...]]] = {"variant": {}, "lookalike": {}, "split": {}}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, char, forms = line.split("\t")
            table[kind][char] = tuple(forms.split())
    return table


@lru_cache(maxsize=1)
def _variant_of() -> dict[str, str]:
    return {form: char for char, forms in _table()["variant"].items() for form in forms}


def standard_form(char: str) -> str:
    """The character a variant form stands for (one character in, one out)."""
    standard = _variant_of().get(char)
    if standard:
        return standard
    converted = _japanese.convert(char)
    return converted if len(converted) == 1 else char


def lookalikes(char: str) -> tuple[str, ...]:
    return _table()["lookalike"].get(char, ())


def split_forms(char: str) -> tuple[str, ...]:
    return _table()["split"].get(char, ())


@lru_cache(maxsize=1)
def _shapes() -> dict[str, tuple[str, str]]:
    """形近字 derived from char-similar's shape data (`data/lookalikes.tsv`, Simplified): character →
    (look-alikes rarer than it, look-alikes commoner than it), each commonest first (by char-similar's
    frequency table)."""
    text = resources.files("moderation").joinpath("data/lookalikes.tsv").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            char, rarer, commoner = line.split("\t")
            table[char] = (rarer.strip("-"), commoner.strip("-"))
    return table


def drawn_alike(written: str, meant: str) -> bool:
    """Whether `written` is a look-alike of `meant` (either way round in the table)."""
    return written in "".join(_shapes().get(meant, ())) or meant in "".join(_shapes().get(written, ()))


@lru_cache(maxsize=1)
def shape_classes() -> dict[int, str]:
    """str.translate table: each character to the commonest character it can be reached from by
    look-alikes that are ever commoner (徽 → 微): a text and a term that agree under it may differ
    only by look-alikes, which `drawn_alike` then checks character by character."""
    table = _shapes()

    def root(char: str) -> str:
        seen = set()
        while char in table and table[char][1] and char not in seen:
            seen.add(char)
            char = table[char][1][0]
        return char

    return {ord(char): root(char) for char in table if root(char) != char}
