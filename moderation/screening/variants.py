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
def _shape_rows() -> list[list[str]]:
    """形近字 derived from char-similar's shape data (`data/lookalikes.tsv`, Simplified): per character,
    its look-alikes rarer and commoner than it, and its shape class in two groupings."""
    text = resources.files("moderation").joinpath("data/lookalikes.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def _shapes() -> dict[str, tuple[str, str]]:
    """character → (look-alikes rarer than it, look-alikes commoner than it), commonest first."""
    return {row[0]: (row[1].strip("-"), row[2].strip("-")) for row in _shape_rows()}


def drawn_alike(written: str, meant: str) -> bool:
    """Whether `written` is a look-alike of `meant` (either way round in the table)."""
    return written in "".join(_shapes().get(meant, ())) or meant in "".join(_shapes().get(written, ()))


@lru_cache(maxsize=2)
def shape_classes(grouping: int) -> _Identity:
    """str.translate table: each character to its shape class in grouping 0 or 1 (a class is named
    by its commonest character). Nine look-alike pairs in ten share a class in one of the two; a
    text and a term that agree in a grouping may differ only by look-alikes, which `drawn_alike`
    then checks character by character."""
    return _Identity({ord(row[0]): row[3 + grouping] for row in _shape_rows() if row[3 + grouping] != row[0]})


class _Identity(dict):
    """str.translate table that learns the characters it leaves alone (no failed look-up per call)."""

    def __missing__(self, code: int) -> str:
        self[code] = char = chr(code)
        return char
