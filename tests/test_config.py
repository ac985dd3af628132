"""`deepdream live --config FILE.toml` and `--print-config`."""

import os
import tomllib
from pathlib import Path

import pytest
from conftest import cli


def _live(*args):
    return cli("live", *args)  # in this process: the words and exit code are the point (the fast tier)


def test_config_sets_flags_and_flags_win(tmp_path):
    cfg = tmp_path / "show.toml"
    cfg.write_text(
        'size = [320, 240]\nfeedback = 0.5\nflow = "off"\nmodel = ["a.onnx", "b.onnx"]\ncalm = true\n'
        "steps-per-frame = 2\n"
    )
    out = _live("--config", str(cfg), "--feedback", "0.7", "--print-config")
    assert out.returncode == 0, out.stderr
    assert (
        tomllib.loads(out.stdout).items()
        >= {
            "size": "320x240",
            "feedback": 0.7,
            "flow": "off",
            "calm": True,
            "model": ["a.onnx", "b.onnx"],
            "steps-per-frame": 2,
        }.items()
    )
    only = _live("--config", str(cfg), "--model", "c.onnx", "--print-config")
    assert tomllib.loads(only.stdout)["model"] == ["c.onnx"]


def test_printed_config_reads_back_the_same(tmp_path):
    first = _live("--size", "200x150", "--zoom", "1.02", "--stereo", "--print-config")
    saved = tmp_path / "saved.toml"
    saved.write_text(first.stdout)
    again = _live("--config", str(saved), "--print-config")
    assert again.returncode == 0 and again.stdout == first.stdout


@pytest.mark.parametrize(
    "text, needle",
    [
        ("sise = 3\n", "unknown setting 'sise'"),
        ('flow = "fast"\n', "must be one of dis, farneback, off"),
        ("feedback = 2.0\n", "feedback"),
        ("calm = 1\n", "true or false"),
        ("size = [\n", "not valid TOML"),
        ('size = "big"\n', "WIDTHxHEIGHT"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path, text, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    out = _live("--config", str(cfg), "--print-config")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("deepdream live: error:") and needle in line


def test_missing_config_file(tmp_path):
    out = _live("--config", str(tmp_path / "nope.toml"))
    assert out.returncode == 2 and "config file not found" in out.stderr


def test_printed_config_keeps_the_playlist(tmp_path):
    cfg = tmp_path / "show.toml"
    cfg.write_text(
        'feedback = 0.8\ncrossfade = 2.0\n[[scene]]\nname = "one"\nduration = 5\nstep-size = 0.01\n'
        '[[scene]]\nname = "two"\nduration = 4\n'
    )
    first = _live("--config", str(cfg), "--print-config")
    assert first.returncode == 0, first.stderr
    assert "crossfade = 2.0" in first.stdout and first.stdout.count("[[scene]]") == 2
    saved = tmp_path / "saved.toml"
    saved.write_text(first.stdout)
    again = _live("--config", str(saved), "--print-config")
    assert again.returncode == 0 and again.stdout == first.stdout


def test_printed_config_is_toml_whatever_the_names_hold(tmp_path):
    """Names with control characters, quotes and backslashes: the printed file parses back to the same values."""
    cfg = tmp_path / "show.toml"
    cfg.write_text(
        'snapshots = "shots\\\\night \\"one\\""\ncrossfade = 1.5\n'
        '[[scene]]\nname = "calm\\u0001\\nthen \\u007f loud"\nduration = 5\nzoom = 1.01\n'
        '[[scene]]\nname = "tab\\there"\nduration = 2\n'
        '[midi]\ncc21 = ["zoom", 0.98, 1.05]\nnote36 = "scene 2"\n'
        '[[modulate]]\nparam = "feedback"\nsource = "bass"\nrange = [0.5, 0.9]\n'
    )
    given = tomllib.loads(cfg.read_text())
    out = _live("--config", str(cfg), "--print-config")
    assert out.returncode == 0, out.stderr
    printed = tomllib.loads(out.stdout)
    assert {key: printed[key] for key in given} == given


HUGE = "9" * 5000
SHOW = 'cc21 = ["zoom", 0.98, 1.05]'


@pytest.mark.parametrize(
    "text, needle",
    [
        (f"feedback = {HUGE}\n", "thousands of digits"),
        (f'[midi]\ncc21 = ["zoom", {HUGE}, 1.05]\n', "thousands of digits"),
        (f'[[modulate]]\nparam = "zoom"\nsource = "bass"\nrange = [1, 1.1]\nattack = {HUGE}\n', "thousands of digits"),
        (f'[midi]\nnote36 = "scene {HUGE}"\n', "scenes count from 1"),
        ('[midi]\ncc21 = ["zoom", 100000000000000000000, 1]\n', "midi.cc21[1]: an integer beyond 64 bits"),
        ("frames = 100000000000000000000\n", "frames: an integer beyond 64 bits"),
        ("model = " + "[" * 3000 + "]" * 3000 + "\n", "nested more than"),
        ("[midi]\ncc1 = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "nested more than"),
        ("[[scene]]\nduration = 1\nname = " + "[" * 20 + "]" * 20 + "\n", "scene[0].name"),
        (f'[midi]\n{SHOW}\ncc021 = ["feedback", 0.5, 0.9]\n', "cc21 and cc021 are the same control"),
        ('[midi]\nnote36 = "pause"\nnote036 = "snapshot"\n', "note36 and note036"),
        (
            '[[modulate]]\nparam = "zoom"\nsource = "bass"\nrange = [1, 1.1]\n'
            '[[modulate]]\nparam = "zoom"\nsource = "mid"\nrange = [1, 1.05]\n',
            "rows 1 and 2 both move zoom",
        ),
        ("step-size = 0.1\nstep_size = 0.2\n", "'step-size' and 'step_size' are one setting"),
        ("[[scene]]\nduration = 3\nstep_size = 0.1\nstep-size = 0.2\n", "'step_size' and 'step-size' are one setting"),
        ("[[scene]]\nduration = 3\nname = 7\n", "name must be text"),
        ('feedback = "0.5"\n', "feedback: expects a number"),
    ],
)
def test_a_config_no_setting_can_hold_is_one_line(tmp_path, text, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    out = _live("--config", str(cfg), "--print-config")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("deepdream live: error:") and needle in out.stderr, out.stderr


@pytest.mark.parametrize("key", ["snapshots", "record", "log", "stats", "event-log"])
def test_a_nul_in_a_path_is_one_line(tmp_path, key):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'{key} = "out\\u0000.mp4"\n')
    out = _live("--config", str(cfg), "--print-config")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert f"{key}: a NUL character" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def _fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "fifo")  # nobody writes: a reader without a bound would wait for ever
    return tmp_path / "fifo"


@pytest.mark.parametrize(
    "kind, needle", [("/dev/zero", "not a regular file"), ("fifo", "not a regular file"), ("big", "at most 1048576")]
)
def test_a_config_that_is_not_a_small_file_is_one_line(tmp_path, kind, needle):
    if kind == "big":
        path = tmp_path / "big.toml"
        path.write_text("# " + "x" * (1 << 20) + "\n")
    else:
        path = _fifo(tmp_path) if kind == "fifo" else Path(kind)
        if not path.exists():
            pytest.skip(f"no {kind} here")
    out = _live("--config", str(path), "--print-config")
    assert out.returncode == 2 and "Traceback" not in out.stderr and needle in out.stderr, out.stderr


def test_a_config_takes_exactly_the_flags_a_command_is_built_from():
    """One list makes a command's flags and the keys its --config takes (none read from argparse's insides)."""
    from realtime.config import settings
    from realtime.parser import build_parser

    parser = build_parser()
    for command in ("live", "render"):
        built = parser.commands[command]
        flags = {a.dest for a in built._actions if a.option_strings and not a.required} - {
            "help",
            "config",
            "print_config",
            "heartbeat",
            "run",
        }  # the last two: the watchdog's
        assert set(settings(built)) == flags, command
