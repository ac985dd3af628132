"""Objective strings and combinators (pure Python, no TensorFlow)."""

import pytest

from export.objectives import Objective, ObjectiveError, channel, layer, parse


def test_parse_weights_and_channels():
    obj = parse("mixed3:0.5, mixed5/12,mixed8:-1")
    assert [(t.layer, t.weight, t.channel) for t in obj.terms] == [
        ("mixed3", 0.5, None),
        ("mixed5", 1.0, 12),
        ("mixed8", -1.0, None),
    ]
    assert obj.layers == ("mixed3", "mixed5", "mixed8")


def test_combinators_match_the_string_form():
    assert 0.5 * layer("mixed3") + channel("mixed5", 12) == parse("mixed3:0.5,mixed5/12")
    assert str(-layer("mixed0")) == "mixed0:-1"


def test_round_trips():
    obj = parse("mixed4/97:2,mixed10:0.25")
    assert parse(str(obj)) == obj
    assert Objective.from_json(obj.to_json()) == obj
    assert obj.slug() == "mixed4-97_mixed10"


@pytest.mark.parametrize(
    "text, needle",
    [
        ("mixed11", "unknown layer 'mixed11'"),
        ("conv2d", "valid layers: mixed0"),
        ("", "no layers"),
        ("mixed3:x", "LAYER[/CHANNEL][:WEIGHT]"),
        ("mixed3/-1", "out of range"),
        ("mixed9/2048", "0..2047"),
    ],
)
def test_bad_objectives_say_what_is_wrong(text, needle):
    with pytest.raises(ObjectiveError, match=None) as info:
        parse(text)
    assert needle in str(info.value)
