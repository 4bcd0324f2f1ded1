"""Nickname rules, without Flask."""

import pytest

from moderation.config import DEFAULTS
from moderation.services.nicknames import NicknameProblem, check_nickname
from tests.attack_inputs import ACCEPTED_NICKNAMES, REFUSED_NICKNAMES

PROBLEM = {
    "reserved": NicknameProblem.RESERVED,
    "invisible": NicknameProblem.INVISIBLE_CHARACTERS,
    "too_long": NicknameProblem.TOO_LONG,
}


def check(name):
    return check_nickname(name, max_length=20, reserved=DEFAULTS["RESERVED_NICKNAMES"])


@pytest.mark.parametrize("nickname, problem", REFUSED_NICKNAMES)
def test_refused_nicknames(nickname, problem):
    assert check(nickname).problem is PROBLEM[problem]


@pytest.mark.parametrize("nickname, stored", ACCEPTED_NICKNAMES)
def test_accepted_nicknames_are_normalised(nickname, stored):
    result = check(nickname)
    assert result.problem is None
    assert result.value == stored


@pytest.mark.parametrize("blank", ["", "   ", "\u3000"])
def test_blank_nickname_is_missing(blank):
    assert check(blank).problem is NicknameProblem.MISSING
