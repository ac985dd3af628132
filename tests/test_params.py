"""The parameter table: one rule per value, wherever it enters (flag, TOML key, scene, OSC, code)."""

import logging
import math
import shutil
import time

import numpy as np
import pytest
from PIL import Image

from realtime.cli import main
from realtime.dream.parameter import Param, table
from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STILL, STREAM
from realtime.dream.settings import StreamSettings
from realtime.dream.still import DreamSettings
from realtime.dream.stream import DreamStream
from realtime.flags import markdown

STREAM_BAD = [  # (key, value as text, words of the rule)
    ("zoom", "nan", "finite"),
    ("zoom", "inf", "finite"),
    ("zoom", "3", "within 0.5..2"),
    ("step-size", "nan", "finite"),
    ("step-size", "inf", "finite"),
    ("step-size", "-0.02", "within"),
    ("feedback", "1.5", "within 0..1"),
    ("steps-per-frame", "-1", "within 0..100"),
    ("steps-per-frame", "2.5", "whole number"),
    ("octave-scale", "0", "within 1.05..4"),
    ("octave-scale", "nan", "finite"),
    ("octave-scale", "0.5", "within"),
    ("octaves", "50", "within 1..8"),
    ("size", "99999x99999", "75..7680"),
    ("size", "10x10", "75..7680"),
    ("flow", "sideways", "one of"),
    ("zoom", "1" + "0" * 400, "finite"),
    ("steps-per-frame", "1" + "0" * 400, "within 0..100"),
]
STILL_BAD = [
    ("tile", "1", "within 128"),
    ("tile", "5", "or 0: off"),
    ("blur", "inf", "finite"),
    ("blur", "1e6", "within 0..50"),
    ("max-dim", "10", "within 75"),
    ("max-dim", "40", "within 75"),
    ("step-size", "nan", "finite"),
    ("step-size", "inf", "finite"),
    ("octave-scale", "0", "within"),
    ("octave-scale", "nan", "finite"),
    ("octave-scale", "0.5", "within"),
    ("octaves", "1e9", "within"),
    ("steps", "-3", "within"),
]
LIVE_BAD = [
    ("watchdog", "nan", "finite"),
    ("watchdog", "0.5", "within 1..86400"),
    ("frames", "-1", "within"),
    ("min-free-mb", "inf", "finite"),
    ("window", "99999x99999", "75..7680"),
    ("disparity", "1e9", "within"),
    ("crf", "52", "within 0..51"),
    ("crf", "nan", "finite"),
]


def _refused(capsys, argv, words):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and words in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("key, value, words", STREAM_BAD + LIVE_BAD)
def test_live_flags_refuse_bad_values(capsys, key, value, words):
    err = _refused(capsys, ["live", f"--{key}", value], words)
    assert f"argument --{key}" in err.splitlines()[-1]


@pytest.mark.parametrize("key, value, words", STREAM_BAD)
def test_render_flags_refuse_bad_values(capsys, key, value, words):
    _refused(capsys, ["render", "in.mp4", "-o", "out.mp4", f"--{key}", value], words)


@pytest.mark.parametrize("key, value, words", STILL_BAD)
def test_dream_flags_refuse_bad_values(capsys, key, value, words):
    _refused(capsys, ["dream", "in.png", "-o", "out.png", f"--{key}", value], words)


def _toml(value: str) -> str:
    if "x" in value:
        return f'"{value}"'
    return {"nan": "nan", "inf": "inf"}.get(value, value)


@pytest.mark.parametrize("key, value, words", [b for b in STREAM_BAD + LIVE_BAD if b[0] != "flow"])
def test_toml_keys_follow_the_same_rule(tmp_path, capsys, key, value, words):
    if value.isdigit() and int(value) >= 2**63:  # not TOML at all: its integers are 64-bit, said before any rule
        words = "64 bits"
    cfg = tmp_path / "show.toml"
    cfg.write_text(f"{key} = {_toml(value)}\n")
    assert main(["live", "--config", str(cfg), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err and key in err


def test_settings_built_in_code_are_checked_too():
    with pytest.raises(ValueError, match="zoom must be a finite number"):
        StreamSettings(zoom=math.nan)
    with pytest.raises(ValueError, match="tile must be within 128"):
        DreamSettings(tile=5)
    assert StreamSettings.from_values({"zoom": 1.02, "other": 1}).zoom == 1.02


def test_max_dim_that_leaves_a_side_under_75_says_what_would_do(tmp_path, capsys):
    photo = tmp_path / "wide.png"
    Image.fromarray(np.zeros((300, 451, 3), np.uint8)).save(photo)
    code = main(
        [
            "dream",
            str(photo),
            "-o",
            str(tmp_path / "out.png"),
            "--model",
            str(tmp_path / "none.onnx"),
            "--max-dim",
            "80",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "makes wide.png 80x53" in err and "use --max-dim 113 or more" in err
    assert not (tmp_path / "out.png").exists()


def _defaults(settings) -> dict:
    return {p.name: getattr(settings, p.name) for p in settings.PARAMS}


def test_settings_take_their_defaults_from_the_table_and_from_flags_by_name():
    """No dataclass restates a default: a command parsed with no flags builds each settings object with
    the table's defaults, and a changed table default shows in both (the parameters are looked up by name)."""
    from dataclasses import replace

    from realtime.commands.cluster import ClusterOptions
    from realtime.commands.live import options_from_args
    from realtime.commands.render import RenderJob
    from realtime.dream.chunks import ChunkPlan
    from realtime.dream.settings import settings_class
    from realtime.parser import build_parser

    parser = build_parser()
    live = vars(parser.parse_args(["live"]))
    render = vars(parser.parse_args(["render", "in.mp4", "-o", "out.mp4"]))
    assert (
        _defaults(StreamSettings.from_values(live))
        == _defaults(StreamSettings())
        == {p.name: p.default for p in STREAM}
    )
    assert _defaults(DreamSettings.from_values(vars(parser.parse_args(["dream", "a.png", "-o", "b.png"])))) == {
        p.name: p.default for p in STILL
    }
    options = options_from_args(parser.parse_args(["live"]), ())
    assert {p.name: getattr(options, p.name) for p in LIVE + OUTPUT} == {p.name: p.default for p in LIVE + OUTPUT}
    plan = ChunkPlan.from_values(render)
    assert plan == ChunkPlan() and plan.chunk_frames == table(CLUSTER)["chunk_frames"].default
    assert ClusterOptions.from_values(render).cpus_per_task == table(CLUSTER)["cpus_per_task"].default
    assert RenderJob(input=None, output=None, model=None).crf == table(OUTPUT)["crf"].default
    moved = tuple(replace(p, default=p.high) if p.name == "zoom" else p for p in STREAM)
    assert settings_class("Moved", moved, "").from_values({}).zoom == 2.0  # the default is the table's, read by name


def test_the_typed_declaration_of_stream_settings_names_the_tables_fields():
    """StreamFields (what a type checker knows of StreamSettings) cannot drift from STREAM: a declaration
    of a field the table lacks, or of another type or default, is refused when the class is made; one that
    names fewer fields (a live parameter just added to the table) is not."""
    from dataclasses import field

    from realtime.dream.dose import DoseScenes
    from realtime.dream.settings import StreamFields, settings_class

    extra = (("dose_scenes", DoseScenes, field(default_factory=DoseScenes)),)  # not a number: not the table's
    assert isinstance(StreamSettings(), StreamFields)
    assert set(StreamFields.__annotations__) - {"PARAMS", "dose_scenes"} <= {p.name for p in STREAM}
    with pytest.raises(TypeError, match="size, which is not a field of Fewer"):
        settings_class("Fewer", STREAM[1:], "", extra=extra, base=StreamFields)
    with pytest.raises(TypeError, match="dose_scenes, which is not a field of Bare"):
        settings_class("Bare", STREAM, "", base=StreamFields)
    added = Param("just_added", "float", 0.0, "a new live parameter", 0.0, 1.0, live=True)
    assert settings_class("More", (*STREAM, added), "", extra=extra, base=StreamFields)().just_added == 0.0

    class Drifted:
        zoom: int  # the table's zoom is a float

    class Defaulted:
        zoom: float = 2.0

    for base, words in ((Drifted, "zoom: <class 'int'>"), (Defaulted, "another default")):
        with pytest.raises(TypeError, match=words):
            settings_class("Checked", STREAM, "", base=base)


def test_settings_check_every_value_by_the_tables_rule():
    from realtime.dream.chunks import ChunkPlan

    for make, bad, words in (
        (StreamSettings, {"zoom": math.nan}, "finite"),
        (DreamSettings, {"tile": 5}, "or 0: off"),
        (ChunkPlan, {"warmup_frames": -1}, "within 0..10000"),
        (ChunkPlan, {"chunk_frames": 4, "blend_frames": 5}, "more than --chunk-frames"),
    ):
        with pytest.raises(ValueError, match=words):
            make(**bad)


def test_every_parameter_has_a_flag_and_a_readme_row():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for params in (STREAM, STILL, LIVE, OUTPUT, CLUSTER):
        assert markdown(params) in readme, "README's flag table is stale: python -m realtime.flags --markdown"
    live = {a.dest for a in __import__("realtime.parser", fromlist=["x"]).build_parser().live_parser._actions}
    assert {p.name for p in STREAM + LIVE} <= live


class _Remote:
    def __init__(self):
        self.replies = []

    def reply(self, sender, address, args):
        self.replies.append((sender, args))


@pytest.fixture(scope="module")
def show(tiny_model):
    from realtime.dream.engine import Engine
    from realtime.steer.show import Show

    return Show(DreamStream([Engine(tiny_model, "cpu")], StreamSettings(size=(96, 96))))


@pytest.mark.parametrize(
    "address, value",
    [
        ("/deepdream/zoom", math.nan),
        ("/deepdream/zoom", math.inf),
        ("/deepdream/step_size", -1.0),
        ("/deepdream/feedback", 50),
        ("/deepdream/steps_per_frame", 1e300),
        ("/deepdream/flow", "maybe"),
        ("/deepdream/status", 99999),
        ("/deepdream/status", math.inf),
        ("/deepdream/status", -5),
        ("/deepdream/model", math.nan),
    ],
)
def test_osc_values_follow_the_same_rule(show, caplog, address, value):
    from realtime.run.loop import LoopStats
    from realtime.steer import requests as control
    from realtime.steer.remote import Message
    from realtime.steer.requests import handle

    before, remote = show.status(), _Remote()
    with caplog.at_level(logging.WARNING):
        handle(Message(address, (value,), ("127.0.0.1", 9)), show, LoopStats(), remote)
    assert "(ignored)" in caplog.text and not remote.replies
    after = show.status()
    assert {k: after[k] for k in control.parameters() if k in after} == {
        k: before[k] for k in control.parameters() if k in before
    }


def test_osc_status_reply_goes_to_a_good_port(show):
    from realtime.run.loop import LoopStats
    from realtime.steer.remote import Message
    from realtime.steer.requests import handle

    remote = _Remote()
    handle(Message("/deepdream/status", (9001,), ("127.0.0.1", 9)), show, LoopStats(), remote)
    ((sender, args),) = remote.replies
    reply = dict(zip(args[::2], args[1::2]))
    assert sender == ("127.0.0.1", 9001) and reply["zoom"] == 1.0 and reply["flow"] == "dis"


def test_status_json_follows_model_switches(tiny_model, tmp_path):
    from realtime.dream.engine import Engine
    from realtime.media.serve import FrameHub
    from realtime.media.sinks import ListSink
    from realtime.media.sources import Frame
    from realtime.run.loop import run
    from realtime.steer.show import Show

    other = tmp_path / "second.onnx"
    shutil.copy(tiny_model, other)
    show = Show(DreamStream([Engine(tiny_model, "cpu"), Engine(other, "cpu")], StreamSettings(size=(96, 96))))
    hub, seen = FrameHub(), []
    frames = iter(Frame(np.zeros((96, 96, 3), np.uint8), time.monotonic(), i) for i in range(4))

    class Reader:
        def get(self):
            frame = next(frames, None)
            if frame is not None and frame.index == 2:
                show.key("next_model")
            return frame

    def publish(status):
        hub.publish_status(status)
        seen.append(hub.status["model"])

    run(Reader(), show, [ListSink()], publish=publish)
    assert seen == ["mixed3_mixed5", "mixed3_mixed5", "second", "second"]  # the store's one name, as `models` lists it


@pytest.mark.parametrize("value", ["-1", "4294967296", "x"])
def test_export_seed_follows_the_table(capsys, value):
    """A seed numpy cannot take was a traceback from deep in the export; the table's rule says it in one line."""
    _refused(capsys, ["export", "--weights", "random", "--seed", value, "-o", "never.onnx"], "--seed")


def test_model_mix_and_flow_are_rows_of_the_table_bounded_by_what_is_loaded():
    """`model` counts the models loaded from 1, `mix` a --mix model's layers (by number or name), and on/off
    switches `flow` between its off and the method in force: the rules are the rows', not the show's."""
    from realtime.dream.parameter import param
    from realtime.dream.params import SHOW

    model, mix, flow = param(SHOW, "model").within(("a", "b")), param(SHOW, "mix"), param(STREAM, "flow")
    assert model.check(2.0) == 2 and mix.within(("mixed3", "mixed5")).check("mixed5") == 1.0
    with pytest.raises(ValueError, match="model must be within 1..2, got 3"):
        model.check(3)
    assert "1..N (N: the models loaded)" in param(SHOW, "model").expects() and "the name of one" in mix.expects()
    assert (flow.switch("on", "farneback"), flow.switch(0, "dis"), flow.switch("dis", "farneback")) == (
        "farneback",
        "off",
        "dis",
    )
    with pytest.raises(ValueError, match="flow expects dis, farneback, on or off"):
        flow.switch("maybe", "dis")


def test_a_show_steers_model_and_flow_through_the_rows(tiny_model):
    from realtime.dream.engine import Engine
    from realtime.steer.requests import set_param
    from realtime.steer.show import Show

    engine = Engine(tiny_model, "cpu")
    show = Show(DreamStream([engine, engine], StreamSettings(size=(96, 96), flow="farneback")))
    assert set_param(show, "model", 2) == 2 and show.status()["model"] == 2
    show.key("next_model")
    assert show.status()["model"] == 1
    with pytest.raises(ValueError, match="model must be within 1..2"):
        set_param(show, "model", 3)
    show.key("flow")
    assert show.status()["flow"] == "off"
    assert set_param(show, "flow", "on") == "farneback"
    with pytest.raises(ValueError, match="has fixed layers"):
        set_param(show, "mix", 1)


def test_every_readme_table_row_has_as_many_cells_as_its_header():
    """A choice's `dis | farneback | off` once split its row into more cells than the header has."""
    import re

    from realtime.flags import readme_tables

    for line in readme_tables().splitlines():
        if line.startswith("|"):
            assert len(re.split(r"(?<!\\)\|", line)) == 6, line
