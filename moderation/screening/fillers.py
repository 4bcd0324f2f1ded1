"""Fillers: characters spammers put inside a term that readers skip over (代開各類發票, 加一下微信,
加好友微信), and the filler view that leaves them out. Pure."""

from __future__ import annotations

import re

from moderation.screening.characters import HAN_CLASS

FILLER_HAN = "的了各类种个一点之和与哦啊呀嘛吧呢啦喔哈下好友人位们"
# Structural particles stand between a modifier and its noun (免費的機場接送): alone they are in
# place, not fillers; a filler match needs at least one other filler.
IN_PLACE_FILLERS = frozenset("的地得之")


def _han_class_without(chars: str) -> str:
    """HAN_CLASS (a class body of ranges) with `chars` cut out of its ranges."""
    body = []
    for first, last in re.findall("(.)-(.)", HAN_CLASS):
        low = ord(first)
        for cut in sorted(ord(char) for char in set(chars) if first <= char <= last):
            if low < cut:
                body.append(f"{chr(low)}-{chr(cut - 1)}")
            low = cut + 1
        if low <= ord(last):
            body.append(f"{chr(low)}-{last}")
    return "".join(body)


# What the filler view leaves out: all but Han characters, and the fillers. One class (not an
# alternation), so that the regular-expression engine skips to each by its character set.
NOT_IN_FILLER_VIEW = re.compile(f"[^{_han_class_without(FILLER_HAN)}]")
