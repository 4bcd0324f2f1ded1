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


@pytest.mark.parametrize("nickname", ["編輯器愛好者", "编辑器爱好者", "編輯軟體控"])
def test_a_word_that_holds_a_staff_title_but_names_something_else_is_accepted(nickname):
    assert check(nickname).problem is None


@pytest.mark.parametrize("nickname", ["編輯器小編", "小編愛編輯器", "編輯", "本站編輯器", "網站編輯器", "責任編輯器",
                                      "總編", "主编小王"])
def test_a_staff_title_beside_such_a_word_is_still_refused(nickname):
    assert check(nickname).problem is NicknameProblem.RESERVED
