"""`deepdream live --config FILE.toml` and `--print-config`."""
import subprocess
import sys

import pytest


def _live(*args):
    return subprocess.run([sys.executable, "-m", "realtime.cli", "live", *args], capture_output=True, text=True,
                          timeout=60)


def test_config_sets_flags_and_flags_win(tmp_path):
    cfg = tmp_path / "show.toml"
    cfg.write_text('size = [320, 240]\nfeedback = 0.5\nflow = "off"\nmodel = ["a.onnx", "b.onnx"]\ncalm = true\n'
                   'steps-per-frame = 2\n')
    out = _live("--config", str(cfg), "--feedback", "0.7", "--print-config")
    assert out.returncode == 0, out.stderr
    lines = set(out.stdout.splitlines())
    assert {'size = "320x240"', "feedback = 0.7", 'flow = "off"', 'model = ["a.onnx", "b.onnx"]', "calm = true",
            "steps-per-frame = 2"} <= lines
    only = _live("--config", str(cfg), "--model", "c.onnx", "--print-config")
    assert 'model = ["c.onnx"]' in only.stdout.splitlines()


def test_printed_config_reads_back_the_same(tmp_path):
    first = _live("--size", "200x150", "--zoom", "1.02", "--stereo", "--print-config")
    saved = tmp_path / "saved.toml"
    saved.write_text(first.stdout)
    again = _live("--config", str(saved), "--print-config")
    assert again.returncode == 0 and again.stdout == first.stdout


@pytest.mark.parametrize("text, needle", [
    ("sise = 3\n", "unknown setting 'sise'"), ('flow = "fast"\n', "must be one of dis, farneback, off"),
    ("feedback = 2.0\n", "feedback"), ("calm = 1\n", "true or false"), ("size = [\n", "not valid TOML"),
    ('size = "big"\n', "WIDTHxHEIGHT")])
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
    cfg.write_text('feedback = 0.8\ncrossfade = 2.0\n[[scene]]\nname = "one"\nduration = 5\nstep-size = 0.01\n'
                   '[[scene]]\nname = "two"\nduration = 4\n')
    first = _live("--config", str(cfg), "--print-config")
    assert first.returncode == 0, first.stderr
    assert "crossfade = 2.0" in first.stdout and first.stdout.count("[[scene]]") == 2
    saved = tmp_path / "saved.toml"
    saved.write_text(first.stdout)
    again = _live("--config", str(saved), "--print-config")
    assert again.returncode == 0 and again.stdout == first.stdout
