"""What an automaton's key stands for is decoded once while the key keeps turning up, and the
decoded keys kept stay few."""

from moderation.screening import matching
from moderation.screening.matching import Action, MatchKind, WordMatcher, WordRule


def test_a_key_found_again_is_not_decoded_again():
    rule = WordRule("w1", "加微信", Action.SPAM)
    values = WordMatcher.build([rule])._blocking.rules
    first = values[0]
    assert first == ((rule, MatchKind.EXACT),)
    assert values[0] is first


def test_the_decoded_keys_kept_stay_few():
    rules = [WordRule(f"w{index}", f"term{index:05d}", Action.HOLD) for index in range(matching._RECENT_KEYS + 10)]
    automaton = WordMatcher.build(rules)._blocking
    for index in range(len(automaton.keys)):
        assert automaton.rules[index] == ((rules[int(automaton.keys[index][4:])], MatchKind.EXACT),)
    assert len(automaton.rules._recent) <= matching._RECENT_KEYS
