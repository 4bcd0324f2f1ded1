"""Derive moderation/data/lookalikes.tsv (形近字) from the char-similar package's shape data.

Source: char-similar 0.0.2 on PyPI (github.com/yongzhuo/char-similar, Apache-2.0 licence file),
whose data files give, per character, its four-corner code (四角號碼), radical, stroke count,
components (拆字), structure (造字結構) and stroke order (筆順). The package itself is not a
dependency (it pins old versions of its own dependencies): this script reads its wheel, scores
pairs of characters on shape alone, and writes each common character's closest look-alikes.

    python -m pip download --no-deps -d /tmp/cs char-similar==0.0.2
    python scripts/derive_lookalikes.py /tmp/cs/char_similar-0.0.2-py2.py3-none-any.whl

Score: see `score` (a radical added, the same four-corner code, a radical swapped, near stroke
orders). Characters: the 6,290 with a frequency in char-similar's table (Simplified: screening
folds Traditional to Simplified first). Each keeps at most 8 look-alikes scoring at least 0.8.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "moderation" / "data" / "lookalikes.tsv"
MOST = 4
THRESHOLD = 0.8
CLASS_SIZE = 24


def load(wheel: Path) -> dict[str, dict]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: json.loads(archive.read(f"char_similar/data/char_{name}.dict"))
                for name in ("fourangle", "component", "frequency", "number", "order", "stroke", "struct")}


def score(data: dict[str, dict], a: str, b: str) -> float:
    """How alike two characters are drawn, 0..1: one inside the other with a radical added (加 伽,
    票 漂) 1.0; the same four-corner code (微 徽, 信 倍) 0.95; the same component beside another
    radical (場 湯, 賺 謙) 0.9; else the stroke orders' similarity, between characters of nearly the
    same stroke count (代 伐, 百 白). Each plus a hundredth of the stroke-order similarity."""
    parts_a, parts_b = set(data["stroke"].get(a) or ()), set(data["stroke"].get(b) or ())
    order_a, order_b = data["order"].get(a, ""), data["order"].get(b, "")
    order = SequenceMatcher(None, order_a, order_b).ratio() if order_a and order_b else 0
    count_a, count_b = len(order_a), len(order_b)
    corner_a, corner_b = data["fourangle"].get(a, ""), data["fourangle"].get(b, "")
    shared = {part for part in parts_a & parts_b if len(data["order"].get(part, "")) >= 2}
    close = min(count_a, count_b) >= 0.55 * max(count_a, count_b)  # 加 伽, not 加 力
    if close and ((a in parts_b and len(parts_b) == 2) or (b in parts_a and len(parts_a) == 2)):
        return 1.0 + order / 100
    if corner_a and corner_a[:4] == corner_b[:4] and abs(count_a - count_b) <= 4:
        return 0.95 + order / 100
    if shared and len(parts_a) == len(parts_b) and len(parts_a ^ parts_b) == 2 and close \
            and data["struct"].get(a) == data["struct"].get(b):
        return 0.9 + order / 100
    if abs(count_a - count_b) <= 1:
        return order * 0.9
    return 0.0


def candidates(data: dict[str, dict], chars: list[str]) -> dict[str, set[str]]:
    """Pairs worth scoring: three of the four corner figures alike, or a component in common among
    characters of close stroke counts, or one a component of the other."""
    by_corner: dict[str, set[str]] = defaultdict(set)
    by_part: dict[str, set[str]] = defaultdict(set)
    for char in chars:
        corner = data["fourangle"].get(char, "")[:4]
        for hidden in range(len(corner)):
            by_corner[corner[:hidden] + "?" + corner[hidden + 1:]].add(char)
        for part in data["stroke"].get(char) or ():
            by_part[part].add(char)
    known = set(chars)
    found: dict[str, set[str]] = defaultdict(set)
    for char in chars:
        corner = data["fourangle"].get(char, "")[:4]
        for hidden in range(len(corner)):
            found[char] |= by_corner[corner[:hidden] + "?" + corner[hidden + 1:]]
        count = int(data["number"].get(char, 0) or 0)
        for part in data["stroke"].get(char) or ():
            found[char] |= {other for other in by_part[part]
                            if abs(int(data["number"].get(other, 0) or 0) - count) <= 2}
            if part in known:
                found[char].add(part)
        found[char] |= by_part.get(char, set())
        found[char].discard(char)
    return found


def shape_classes(edges: list[tuple[float, str, str]], data: dict[str, dict]) -> dict[str, str]:
    """Characters grouped so that most look-alike pairs share a group, no group larger than
    CLASS_SIZE: the closest pairs joined first (agglomerative, union-find). Each character → its
    group's commonest character."""
    parent: dict[str, str] = {}
    size: dict[str, int] = {}

    def find(char: str) -> str:
        parent.setdefault(char, char)
        size.setdefault(char, 1)
        while parent[char] != char:
            parent[char] = parent[parent[char]]
            char = parent[char]
        return char

    for _, a, b in sorted(edges, reverse=True):
        root_a, root_b = find(a), find(b)
        if root_a != root_b and size[root_a] + size[root_b] <= CLASS_SIZE:
            parent[root_b] = root_a
            size[root_a] += size[root_b]
    members: dict[str, list[str]] = defaultdict(list)
    for char in list(parent):
        members[find(char)].append(char)
    named = {}
    for group in members.values():
        commonest = max(group, key=lambda char: float(data["frequency"].get(char) or 0))
        named.update({char: commonest for char in group})
    joined = sum(named[a] == named[b] for _, a, b in edges)
    print(f"{joined} of {len(edges)} look-alike pairs share a shape class")
    return named


def main(argv: list[str]) -> int:
    data = load(Path(argv[1]))
    chars = sorted((char for char, value in data["frequency"].items() if value and float(value) > 0
                    and "\u4e00" <= char <= "\u9fff"), key=lambda char: -float(data["frequency"][char]))
    lines = []
    kept: dict[str, list[str]] = {}
    edges = []
    for char, others in candidates(data, chars).items():
        scored = sorted(((score(data, char, other), other) for other in others), reverse=True)
        kept[char] = best = [other for value, other in scored[:MOST] if value >= THRESHOLD]
        edges += [(value, char, other) for value, other in scored[:MOST] if value >= THRESHOLD]
    first = shape_classes(edges, data)
    second = shape_classes([edge for edge in edges if first.get(edge[1]) != first.get(edge[2])], data)
    print(f"{sum(first[a] == first[b] or second.get(a, a) == second.get(b, b) for _, a, b in edges)} "
          f"of {len(edges)} pairs share one of the two")
    for char, best in kept.items():
        frequency = float(data["frequency"][char])
        by_frequency = sorted(best, key=lambda other: -float(data["frequency"].get(other) or 0))
        rarer = "".join(other for other in by_frequency if float(data["frequency"].get(other) or 0) < frequency)
        commoner = "".join(other for other in by_frequency if other not in rarer)
        if best:
            lines.append(f"{char}\t{rarer or '-'}\t{commoner or '-'}\t{first.get(char, char)}\t{second.get(char, char)}")
    header = ("# 形近字: each character's closest look-alikes by shape, derived by scripts/derive_lookalikes.py\n"
              "# from char-similar 0.0.2's data (four-corner codes, components, strokes; Apache-2.0). Simplified.\n"
              "# Columns: character, look-alikes rarer than it, look-alikes commoner than it ('-': none), each\n"
              "# by frequency, the commonest first; its shape class in two groupings (each class named by its\n"
              "# commonest character; the second groups the pairs the first left apart).\n")
    TARGET.write_text(header + "\n".join(sorted(lines)) + "\n", encoding="utf-8")
    print(f"{len(lines)} characters written to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
