"""Keep the catalogues in step with the templates: `make translations`.

1. Extract every marked string (templates and Python) into moderation/translations/messages.pot.
2. Merge it into the zh_Hant, zh_Hans and en catalogues (new strings added, gone ones dropped).
3. zh_Hant's msgstr is its msgid (the templates are written in it); zh_Hans entries still empty are
   filled by OpenCC tw2sp (Taiwan phrasing to mainland phrasing: 匯入 → 导入, 網路 → 网络), then put
   right where OpenCC keeps Taiwan usage (`MAINLAND_FIXES`: 则 → 条 as the measure word of comments,
   暱 → 昵), and printed for review; en entries still empty
   are printed and must be translated by hand (the tests fail until they are).
4. Compile every catalogue to its .mo (committed, so an installed wheel needs no build step).

`--into DIR` does all of it on a copy of the catalogues in DIR and leaves the repository's as they
are (the test suite's smoke run).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import sys
from pathlib import Path

import opencc
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "moderation" / "translations"
TEMPLATE = FOLDER / "messages.pot"
LOCALES = ("zh_Hant", "zh_Hans", "en")
# Besides Babel's own (_, gettext, ngettext, pgettext…): the lazy texts of moderator/labels.html.
KEYWORDS = ("-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2")


# What OpenCC tw2sp leaves in Taiwan usage, put right after it. 則 counts comments and replies in
# Taiwan; the mainland counts them with 条 (3 条评论, 这条回复); 则 elsewhere (规则, 否则) stays.
MAINLAND_FIXES = (
    (re.compile(r"则(评论|回复|留言|回应|举报|通知|消息)"), r"条\1"),
    (re.compile(r"(这|那|每|该|哪|几|多少|上一|下一)则"), r"\1条"),
    (re.compile(r"(%\(\w+\)s|\d+)(\s?)则"), r"\1\2条"),  # "%(n)s 则", "3 则": a count
    (re.compile("暱"), "昵"),  # 暱稱 → 昵称 (OpenCC writes 暱称)
    (re.compile("帐号"), "账号"),
    (re.compile("检举"), "举报"),  # a reader's report: 举报 on the mainland
    (re.compile("纪录"), "记录"),  # logs and histories (纪录 is a sports record there)
    (re.compile("重设"), "重置"),  # 重置密码
    (re.compile(r"(%\(\w+\)s|\d+|一)(\s?)笔"), r"\1\2条"),  # records counted: "%(n)s 笔", 一笔 → 条
    # Quotation marks: the mainland writes “” and ‘’ where Taiwan writes 「」 and 『』.
    (re.compile("「"), "“"), (re.compile("」"), "”"), (re.compile("『"), "‘"), (re.compile("』"), "’"),
)


def to_mainland(text: str, to_simplified) -> str:
    """Taiwan Traditional to mainland Simplified: OpenCC, then `MAINLAND_FIXES`."""
    converted = to_simplified.convert(text)
    for pattern, replacement in MAINLAND_FIXES:
        converted = pattern.sub(replacement, converted)
    return converted


def catalogue_path(locale: str, suffix: str = ".po", folder: Path = FOLDER) -> Path:
    return folder / locale / "LC_MESSAGES" / f"messages{suffix}"


def extract(output: Path = TEMPLATE) -> Catalog:
    """Every marked string into `output` (the tests extract into a folder of their own)."""
    with contextlib.chdir(ROOT):  # locations relative to the repository
        CommandLineInterface().run(
            ["pybabel", "--quiet", "extract", "-F", "babel.cfg", *KEYWORDS, "--sort-output", "--no-wrap",
             "--omit-header", "--project", "moderation", "-o", str(output), "."]
        )
    with output.open("rb") as file:
        return read_po(file)


def template(path: Path = TEMPLATE) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def load(locale: str, folder: Path = FOLDER) -> Catalog:
    path = catalogue_path(locale, folder=folder)
    if not path.exists():
        return Catalog(locale=locale, project="moderation")
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def fill(locale: str, catalogue: Catalog, to_simplified) -> list[str]:
    """Fill what can be filled mechanically; return the msgids still needing a person."""
    todo = []
    for message in catalogue:
        if not message.id or (message.string and not message.fuzzy and message.string != ("",) * 2):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if locale == "zh_Hant":
            message.string = ids if len(ids) > 1 else ids[0]
        elif locale == "zh_Hans":
            converted = tuple(to_mainland(text, to_simplified) for text in ids)
            message.string = converted if len(converted) > 1 else converted[0]
            print(f"zh_Hans, please review: {ids[0]} → {converted[0]}")
        else:
            todo.append(ids[0])
        message.flags.discard("fuzzy")
    return todo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, help="work on a copy of the catalogues in this folder")
    args = parser.parse_args(argv)
    folder = FOLDER
    if args.into:
        folder = args.into
        shutil.copytree(FOLDER, folder, dirs_exist_ok=True)
    pot = folder / TEMPLATE.name
    extract(pot)
    to_simplified = opencc.OpenCC("tw2sp")
    missing = []
    for locale in LOCALES:
        catalogue = load(locale, folder)
        catalogue.update(template(pot), no_fuzzy_matching=True)  # a fresh copy: update shares messages
        catalogue.obsolete.clear()
        missing += [f"{locale}: {msgid}" for msgid in fill(locale, catalogue, to_simplified)]
        path = catalogue_path(locale, folder=folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalogue, width=0, sort_output=True)
        with catalogue_path(locale, ".mo", folder).open("wb") as file:
            write_mo(file, catalogue)
    for line in missing:
        print(f"to translate: {line}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
