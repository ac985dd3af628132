"""A perception lab's protocol file (realtime.lab.protocol): the example parses, and every bad value, unknown
key or missing key is refused in one line naming the file and the line of the key at fault."""

from pathlib import Path

import pytest

from realtime.errors import UserError
from realtime.lab.protocol import DEFAULT_INSTRUCTIONS, read_protocol

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "protocol.toml"
BASE = """\
# a protocol for the tests
[experiment]
name = "doses"
instructions = '''
Look at the screen.
rest = 5 is not a key here, nor is [[block]]
Press space.'''
rest = 1.0

[dose]
zero = { feedback = 0.0 }
full = { step-size = 0.02 }

[[block]]
name = "first"
doses = [0.0, 1.0]
duration = 5.0

[[block]]
name = "second"
doses = [0.0, 0.5, 1.0]
duration = 6.0
order = "fixed"
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "protocol.toml"
    path.write_text(text)
    return path


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def refused(tmp_path, text: str) -> str:
    with pytest.raises(UserError) as caught:
        read_protocol(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def line_of(text: str, written: str) -> int:
    """The line of the last `written` (a key given twice is at fault where it is given again)."""
    lines = text.splitlines()
    return len(lines) - lines[::-1].index(written)


def test_the_example_parses():
    protocol = read_protocol(EXAMPLE)
    assert protocol.name == "doseresponse" and protocol.rest_screen == "cross"
    assert [b.name for b in protocol.blocks] == ["practice", "main", "extremes"]
    assert [b.order for b in protocol.blocks] == ["fixed", "balanced", "random"]
    assert protocol.blocks[1].doses == (0.0, 0.25, 0.5, 0.75, 1.0) and protocol.blocks[1].repeats == 4
    assert [b.rating_scale for b in protocol.blocks] == ["keys", "keys", "vas"]
    assert protocol.blocks[0].rating is None and protocol.blocks[2].rating.startswith("How pleasant")
    assert dict(protocol.zero) == {"step_size": 0.0, "zoom": 1.0}
    assert protocol.text == EXAMPLE.read_text()


def test_defaults_and_the_dose_ends(tmp_path):
    protocol = read_protocol(write(tmp_path, "[[block]]\ndoses = [0.5]\nduration = 2\n"))
    assert (protocol.name, protocol.instructions, protocol.rest, protocol.rest_screen) == (
        "dream",
        DEFAULT_INSTRUCTIONS,
        2.0,
        "grey",
    )
    assert (protocol.rating_scale, protocol.patch, protocol.patch_frames, protocol.video) == (
        "keys",
        "onset",
        3,
        "exact",
    )
    block = protocol.blocks[0]
    assert (block.name, block.repeats, block.order, block.rating, block.duration) == ("block1", 1, "fixed", None, 2.0)
    live = {"steps_per_frame": 2, "step_size": 0.03, "feedback": 0.7, "zoom": 1.02}
    zero, full = protocol.ends(live)
    assert zero == {"step_size": 0.0, "zoom": 1.0}  # no ascent, no zoom (the feedback then keeps nothing)
    assert full == {"step_size": 0.03, "zoom": 1.02}  # the live settings in force


def test_zero_overrides_the_defaults_and_full_the_live_settings(tmp_path):
    protocol = read_protocol(write(tmp_path, BASE.replace("full = { step-size = 0.02 }", "full = { zoom = 1.5 }")))
    zero, full = protocol.ends({"steps_per_frame": 1, "step_size": 0.03, "feedback": 0.9, "zoom": 1.0})
    assert zero == {"step_size": 0.0, "feedback": 0.0, "zoom": 1.0}
    assert full == {"step_size": 0.03, "feedback": 0.9, "zoom": 1.5}
    assert protocol.instructions.splitlines()[1].startswith("rest = 5")


def test_keys_take_dashes_or_underscores(tmp_path):
    text = edited("rest = 1.0", 'rest = 1.0\nrest-screen = "camera"\npatch_frames = 5')
    protocol = read_protocol(write(tmp_path, text))
    assert (protocol.rest_screen, protocol.patch_frames) == ("camera", 5)


def test_a_bad_order_names_the_file_the_line_and_the_block(tmp_path):
    text = edited('order = "fixed"', 'order = "shuffle"')
    path = write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        read_protocol(path)
    line = line_of(text, 'order = "shuffle"')
    assert (
        str(caught.value) == f'{path} line {line}: [[block]] 2 order must be fixed, random or balanced, got "shuffle"'
    )


BAD = [  # (line as written, the line that replaces it, words the message must hold)
    ('name = "doses"', 'name = "dose response"', "letters and digits"),
    ("rest = 1.0", "rest = -1", "rest must be seconds >= 0"),
    ("rest = 1.0", "rest = nan", "rest must be seconds"),
    ("rest = 1.0", 'rest_screen = "black"', "grey, cross or camera"),
    ("rest = 1.0", 'rating_scale = "stars"', "keys or vas"),
    ("rest = 1.0", 'patch = "blink"', "onset or toggle"),
    ("rest = 1.0", "patch_frames = 0", "patch_frames must be a whole number"),
    ("rest = 1.0", "patch-frames = 2.5", "whole number"),
    ("rest = 1.0", 'video = "raw"', "exact or lossless"),
    ("rest = 1.0", "instructions2 = 1", 'has no key "instructions2"; it takes name, instructions'),
    ("zero = { feedback = 0.0 }", "zero = { feedback = 1.5 }", "[dose] zero feedback must be within 0..1"),
    ("full = { step-size = 0.02 }", "full = { step-size = 0.0 }", "[dose] full step-size must be within"),
    ("full = { step-size = 0.02 }", "full = { flow = 1 }", 'no live number "flow"; it takes steps-per-frame'),
    ("full = { step-size = 0.02 }", "full = 3", "[dose] full must be a table"),
    ("full = { step-size = 0.02 }", "half = { zoom = 1.0 }", '[dose] has no key "half"'),
    ("duration = 6.0", "duration = 0", "[[block]] 2 duration must be seconds > 0"),
    ("duration = 6.0", 'duration = "6"', "[[block]] 2 duration must be seconds"),
    (
        "doses = [0.0, 0.5, 1.0]",
        "doses = [0.0, 1.5]",
        "[[block]] 2 doses must each be a number 0..1 (0: the source, 1: the full dream), got 1.5",
    ),
    ("doses = [0.0, 0.5, 1.0]", "doses = []", "[[block]] 2 doses must be a list"),
    ("doses = [0.0, 0.5, 1.0]", "doses = [true]", "got true"),
    ('order = "fixed"', "repeats = 0", "[[block]] 2 repeats must be a whole number 1..1000"),
    ('order = "fixed"', "rating = 5", "[[block]] 2 rating must be text"),
    ('order = "fixed"', 'rating = "   "', "[[block]] 2 rating must be text"),
    ('order = "fixed"', 'rating_scale = "slider"', "[[block]] 2 rating_scale must be keys or vas"),
    ('order = "fixed"', "shuffle = true", '[[block]] 2 has no key "shuffle"; it takes name, doses'),
    ('name = "second"', 'name = "a\\tb"', "[[block]] 2 name must be one line"),
    ('name = "second"', 'name = "first"', '[[block]] 2 name "first" is block 1\'s too'),
    ("# a protocol for the tests", "[extra]", 'unknown table "extra"'),
]


@pytest.mark.parametrize(("old", "new", "words"), BAD, ids=[case[1] for case in BAD])
def test_a_bad_value_names_the_line_of_its_key(tmp_path, old, new, words):
    text = edited(old, new)
    message = refused(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'protocol.toml'} line {line_of(text, new)}: "), message
    assert words in message


def test_a_bad_value_in_a_sub_table_names_its_own_line(tmp_path):
    text = edited("zero = { feedback = 0.0 }\n", "").replace("\n[[block]]", "\n[dose.zero]\nzoom = 9\n\n[[block]]", 1)
    assert f"line {line_of(text, 'zoom = 9')}: [dose] zero zoom must be within" in refused(tmp_path, text)


@pytest.mark.parametrize("key", ["doses", "duration"])
def test_a_missing_key_names_its_block(tmp_path, key):
    text = edited("duration = 6.0\n" if key == "duration" else "doses = [0.0, 0.5, 1.0]\n", "")
    second = [i for i, line in enumerate(text.splitlines(), 1) if line == "[[block]]"][1]
    assert refused(tmp_path, text).endswith(f"line {second}: [[block]] 2 needs {key}")


def test_a_protocol_needs_a_block(tmp_path):
    assert "no [[block]]" in refused(tmp_path, BASE[: BASE.index("\n[[block]]")])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            'experiment = "x"\n[[block]]\ndoses = [1]\nduration = 1\n',
            'experiment must be a table ([experiment]), got "x"',
        ),
        ("\n\nblock = 3\n", "block must be [[block]] tables"),
        ("\nblock = []\n", "block must be [[block]] tables"),
    ],
)
def test_a_table_given_as_a_value_names_its_line(tmp_path, text, words):
    assert f"line {text.count(chr(10), 0, text.index('= ')) + 1}: {words}" in refused(tmp_path, text)


def test_a_syntax_error_and_a_missing_file_are_one_line(tmp_path):
    assert "line 3" in refused(tmp_path, edited('name = "doses"', "name = doses"))
    with pytest.raises(UserError, match="protocol not found"):
        read_protocol(tmp_path / "nothing.toml")
    with pytest.raises(UserError, match="is not a regular file"):
        read_protocol(tmp_path)


def test_a_dose_scene_cannot_hold_the_dose_itself(tmp_path):
    path = write(tmp_path, edited("zero = { feedback = 0.0 }", "zero = { dose = 0.5 }"))
    with pytest.raises(UserError, match=r'\[dose\] zero has no live number "dose"') as caught:
        read_protocol(path)
    assert "dose," not in str(caught.value).split("it takes")[1]
