"""MIDI (mido's in-memory ports, no hardware) and sound (generated tracks) steering the show: a knob through its
range, a pad's command, the bands and onsets heard, parameters following them in the frame log and in a render
that repeats byte for byte, a live input that stops, and bad [midi] / [[modulate]] tables in one line each."""

import csv
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import PERTURB, deepdream, run_perturbed

from realtime.cli import main
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.errors import UserError
from realtime.steer.controls import Controls
from realtime.steer.show import Show

mido = pytest.importorskip("mido", reason="the MIDI tests need mido (the test extra)")


class Engine:
    """What Show and DreamStream read of an engine; it never dreams here."""

    info = SimpleNamespace(mix_layers=(), name="stand-in", path="stand-in.onnx")
    provider, fell_back, last_loss = "CPUExecutionProvider", None, 0.0


class Recorder:
    recording, snapshots = False, 0

    def snapshot(self):
        self.snapshots += 1

    def toggle(self):
        self.recording = not self.recording


def a_show():
    return Show(DreamStream([Engine()], StreamSettings(size=(96, 96))), recorder=Recorder())


def test_a_knob_sweeps_its_parameter_through_the_mapped_range_and_a_pad_takes_a_snapshot():
    from realtime.steer.midi import MidiInput, parse_mapping

    port = mido.ports.EchoPort()
    mapping = parse_mapping(
        {"cc21": ["zoom", 0.98, 1.05], "cc7": ["steps-per-frame", 1, 4], "note36": "snapshot", "note37": "pause"},
        "show.toml",
    )
    controls, show = Controls(midi=MidiInput(port, mapping)), a_show()
    seen = []
    for value in (0, 32, 64, 96, 127):
        port.send(mido.Message("control_change", control=21, value=value))
        controls.apply(show, None)
        seen.append(show.status()["zoom"])
    assert seen == pytest.approx([0.98 + 0.07 * v / 127 for v in (0, 32, 64, 96, 127)])
    assert seen[0] == pytest.approx(0.98) and seen[-1] == pytest.approx(1.05) and seen == sorted(seen)
    for value in (10, 40, 64):  # a fader moved within one frame: only where it stopped counts
        port.send(mido.Message("control_change", control=7, value=value))
    port.send(mido.Message("note_on", note=36, velocity=90))
    port.send(mido.Message("note_on", note=36, velocity=0))  # a note off as many controllers send it
    port.send(mido.Message("control_change", control=99, value=1))  # not mapped: said once, ignored
    controls.apply(show, None)
    assert show.status()["steps_per_frame"] == 3 and show.recorder.snapshots == 1
    assert {"zoom", "steps_per_frame"} <= show.held  # MIDI holds a parameter as OSC does


@pytest.mark.parametrize(
    "table, words",
    [
        ({"cc21": ["volume", 0, 1]}, "unknown parameter 'volume'"),
        ({"cc21": ["zoom", 0.1, 1.05]}, "zoom must be within 0.5..2, got 0.1"),
        ({"cc21": ["zoom", float("nan"), 1.05]}, "finite"),
        ({"cc21": "zoom"}, 'expects ["PARAM", LOW, HIGH]'),
        ({"cc200": ["zoom", 1, 1.05]}, "cc0..cc127"),
        ({"knob": ["zoom", 1, 1.05]}, "cc0..cc127"),
        ({"note36": "dance"}, "unknown command 'dance'"),
        ({"note36": 5}, "expects a command"),
    ],
)
def test_a_bad_midi_table_is_one_line(table, words):
    from realtime.steer.midi import parse_mapping

    with pytest.raises(UserError, match="show.toml: \\[midi\\] ") as refused:
        parse_mapping(table, "show.toml")
    assert words in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.child
def test_midi_without_a_midi_system_is_one_line_at_start(tiny_model, tmp_path):
    result = deepdream(
        "live",
        "--source",
        "synthetic",
        "--model",
        str(tiny_model),
        "--headless",
        "--frames",
        "2",
        "--midi",
        "no such port",
        timeout=300,
    )
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "Traceback" not in result.stderr and "ALSA lib" not in result.stderr
    assert last.startswith("deepdream live: error: ") and "MIDI" in last


RATE = 48000


def tone_track(seconds=3.0):
    """Silence, a 60 Hz burst at 1.0 s, a 4 kHz burst at 2.0 s (each 0.4 s, with 10 ms ramps: no click)."""
    t = np.arange(int(seconds * RATE)) / RATE
    track = np.zeros_like(t)
    for start, freq in ((1.0, 60.0), (2.0, 4000.0)):
        inside = (t >= start) & (t < start + 0.4)
        ramp = np.clip(np.minimum(t - start, start + 0.4 - t) / 0.01, 0, 1)
        track += np.where(inside, 0.5 * np.sin(2 * np.pi * freq * t) * ramp, 0.0)
    return track.astype(np.float32)


def write_wav(path, samples):
    import av

    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE)
        stream.layout = "mono"
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format="flt", layout="mono")
            frame.sample_rate, frame.pts = RATE, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_the_bands_and_onsets_are_heard_where_they_are():
    from realtime.media.sound import SoundTrack
    from realtime.steer.features import WINDOW, Listener

    track, listener = SoundTrack(tone_track(), "tones"), Listener()
    heard = {t: listener.hear(track.window(t, WINDOW)) for t in np.arange(0, 3.0, 1 / 30)}
    at = lambda t: heard[min(heard, key=lambda k: abs(k - t))]  # noqa: E731
    assert at(0.5) == {"level": 0, "bass": 0, "mid": 0, "treble": 0, "onset": 0}
    assert at(1.2)["bass"] > 0.8 and at(1.2)["treble"] < 0.05 and at(1.2)["mid"] < 0.05
    assert at(2.2)["treble"] > 0.8 and at(2.2)["bass"] < 0.05
    assert max(at(t)["onset"] for t in (1.0, 1.0333, 1.0667)) > 0.5 > at(1.2)["onset"]  # new, then steady


MODULATE = """[[modulate]]
param = "step-size"
source = "bass"
range = [0.01, 0.05]
curve = "exponential"
attack = 0.0
release = 0.05
[[modulate]]
param = "zoom"
source = "treble"
range = [1.0, 1.05]
attack = 0.0
release = 0.05
"""


@pytest.mark.child
def test_live_parameters_follow_their_band_within_two_frames_and_the_other_stays(tiny_model, tmp_path):
    (tmp_path / "show.toml").write_text(MODULATE)
    wav, log = write_wav(tmp_path / "tones.wav", tone_track()), tmp_path / "frames.csv"
    clip = tmp_path / "clip.mp4"
    make_clip(clip, 90)  # 3 s at 30 fps: the frames' times match the track's
    result = deepdream(
        "live",
        "--source",
        str(clip),
        "--seed",
        "0",
        "--model",
        str(tiny_model),
        "--size",
        "96x80",
        "--headless",
        "--config",
        str(tmp_path / "show.toml"),
        "--audio",
        str(wav),
        "--log",
        str(log),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(log, newline="")))
    assert len(rows) == 90 and float(rows[36]["sound_bass"]) > 0.8  # the features are logged
    steps = [float(r["step_size"]) for r in rows]
    zooms = [float(r["zoom"]) for r in rows]
    # The frame at t shows what was heard up to t, in wall-clock time: within two frames of the burst.
    assert steps[20] == pytest.approx(0.01) and zooms[20] == pytest.approx(1.0)  # silence
    assert all(s > 0.03 for s in steps[33:42]) and all(z < 1.003 for z in zooms[25:55])  # bass: step size only
    assert all(z > 1.03 for z in zooms[63:72]) and all(s < 0.012 for s in steps[58:88])  # treble: zoom only


def make_clip(path, frames, sound=None):
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 96, 80, "yuv420p"
        audio = out.add_stream("aac", rate=RATE) if sound is not None else None
        if audio is not None:
            audio.layout = "mono"
        for i in range(frames):
            picture = av.VideoFrame.from_ndarray(np.full((80, 96, 3), (i * 7) % 255, np.uint8), format="rgb24")
            picture.pts = i
            out.mux(video.encode(picture))
        if audio is not None:
            for start in range(0, len(sound), 1024):
                frame = av.AudioFrame.from_ndarray(sound[None, start : start + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = RATE, start
                out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
        out.mux(video.encode(None))
    return path


@pytest.mark.child
@pytest.mark.exact
def test_a_render_follows_its_own_soundtrack_and_repeats_byte_for_byte(tiny_model, tmp_path):
    (tmp_path / "render.toml").write_text("feedback = 0.7\nosc = 9000\n" + MODULATE)  # osc: a live key, passed over
    clip = make_clip(tmp_path / "clip.mp4", 90, tone_track())
    outs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for out, perturb in zip(outs, PERTURB):  # two processes, two heaps
        said = run_perturbed(
            ["render", clip, "-o", out, "--model", tiny_model, "--config", tmp_path / "render.toml"], perturb
        )
    assert "osc steer a live show; deepdream render leaves them" in said
    assert outs[0].read_bytes() == outs[1].read_bytes()
    plain = tmp_path / "plain.mp4"
    assert main(["render", str(clip), "-o", str(plain), "--model", str(tiny_model), "--feedback", "0.7"]) == 0
    assert plain.read_bytes() != outs[0].read_bytes()  # the sound did move the dream


def test_a_render_schedule_gives_each_frame_the_rows_values_at_its_time():
    import tomllib

    from realtime.commands.steering import Steering
    from realtime.media.sound import SoundTrack
    from realtime.steer.modulate import parse_rows

    rows = parse_rows(tomllib.loads(MODULATE)["modulate"], "t")
    steering = Steering(rows, SoundTrack(tone_track(), "tones"), fps=30)
    at = [steering.values(i) for i in range(90)]
    assert at[15] == {"step_size": pytest.approx(0.01), "zoom": pytest.approx(1.0)}
    assert at[36]["step_size"] > 0.035 and at[66]["zoom"] > 1.04  # a half-scale burst: 0.85 of its band
    again = Steering(rows, SoundTrack(tone_track(), "tones"), fps=30)
    assert again.values(89) == at[89] and len(again._values) == 90  # computed in order, the same numbers


class StoppingInput:
    """A live input that answers for `frames` windows, then is unplugged."""

    def __init__(self, frames):
        self.left, self.name = frames, "stand-in input"

    @property
    def lost(self):
        return None if self.left > 0 else "no sound from the stand-in input for 1 s"

    def window(self, t, n):
        self.left -= 1
        return 0.5 * np.sin(2 * np.pi * 60 * np.arange(n) / RATE).astype(np.float32)

    def close(self):
        pass


def test_a_live_input_that_stops_is_one_line_and_the_parameters_return(caplog):
    import tomllib

    from realtime.steer.modulate import Sound, parse_rows

    show = a_show()
    sound = Sound(StoppingInput(3), parse_rows(tomllib.loads(MODULATE)["modulate"], "t"))
    controls = Controls(sound=sound)
    frame = lambda i: SimpleNamespace(index=i, time=0.0)  # noqa: E731
    for i in range(3):
        controls.modulate(show, frame(i), 30, 0.0)
    assert show.status()["step_size"] > 0.035 and show.status()["sound_bass"] > 0.8
    for i in range(3, 6):
        controls.modulate(show, frame(i), 30, 0.0)
    assert show.status()["step_size"] == pytest.approx(0.02) and show.status()["zoom"] == 1.0  # back to the flags'
    assert caplog.text.count("sound input stopped") == 1 and "the show goes on" in caplog.text


@pytest.mark.parametrize(
    "row, words",
    [
        ({"param": "volume", "source": "bass", "range": [0, 1]}, "param 'volume' is not one"),
        ({"param": "zoom", "source": "drums", "range": [1, 1.1]}, "source 'drums'"),
        ({"param": "zoom", "source": "bass", "range": [0.1, 1.1]}, "zoom must be within 0.5..2, got 0.1"),
        ({"param": "zoom", "source": "bass", "range": [float("nan"), 1.1]}, "finite"),
        ({"param": "zoom", "source": "bass", "range": 1.1}, "range is [LOW, HIGH]"),
        ({"param": "feedback", "source": "bass", "range": [0, 1], "curve": "exponential"}, "above 0"),
        ({"param": "zoom", "source": "bass", "range": [1, 1.1], "attack": -1}, "attack is seconds"),
        ({"param": "zoom", "source": "bass", "range": [1, 1.1], "speed": 2}, "unknown key 'speed'"),
    ],
)
def test_a_bad_modulate_row_is_one_line(row, words):
    from realtime.steer.modulate import parse_rows

    with pytest.raises(UserError, match="show.toml: \\[\\[modulate\\]\\] row 1: ") as refused:
        parse_rows([row], "show.toml")
    assert words in str(refused.value) and "\n" not in str(refused.value)


def test_modulating_live_without_a_sound_says_what_to_give(tiny_model, tmp_path, capsys):
    (tmp_path / "show.toml").write_text(MODULATE)
    assert (
        main(
            [
                "live",
                "--source",
                "synthetic",
                "--model",
                str(tiny_model),
                "--headless",
                "--frames",
                "2",
                "--config",
                str(tmp_path / "show.toml"),
            ]
        )
        == 2
    )
    assert "give --audio" in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_request_given_up_on_is_not_applied_later(monkeypatch):
    """A control-page request that timed out was answered 503; applied afterwards, a retried pause would toggle
    twice. It is dropped instead."""
    import threading

    from realtime.steer import controls as module

    monkeypatch.setattr(module, "ANSWER_S", 0.05)
    controls, show, answers = Controls(), a_show(), []
    asker = threading.Thread(target=lambda: answers.append(controls.submit("command", "pause")))
    asker.start()
    asker.join(30)  # nobody applies it within 0.05 s: the loop is stuck in a long frame
    assert answers == [(False, "the show did not answer within 0 s")]  # (0.05 s, rounded)
    controls.apply(show, None)  # the loop comes back
    assert show.paused is False
    monkeypatch.setattr(module, "ANSWER_S", 30.0)
    asker = threading.Thread(target=lambda: answers.append(controls.submit("command", "pause")))
    asker.start()
    import time

    deadline = time.monotonic() + 30
    while asker.is_alive() and time.monotonic() < deadline:
        controls.apply(show, None)
    assert answers[-1] == (True, {"value": True, "frame": None}) and show.paused is True


def test_messages_due_now_pass_however_many_wait_for_later(monkeypatch, caplog):
    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import build_msg

    from realtime.steer import remote as module
    from realtime.steer.remote import Remote

    monkeypatch.setattr(module, "WAITING", 3)
    remote = Remote("127.0.0.1", 0)
    try:
        import socket
        import time

        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(5):  # a flood timed half an hour ahead
            bundle = OscBundleBuilder(time.time() + 1800)
            bundle.add_content(build_msg("/deepdream/zoom", [1.5]))
            sender.sendto(bundle.build().dgram, remote.address[:2])
        sender.sendto(build_msg("/deepdream/pause", [1]).dgram, remote.address[:2])
        from conftest import wait_until

        got = wait_until(remote.messages, what="the message due now")
        assert [m.address for m in got] == ["/deepdream/pause"]
        import re

        dropped = [
            int(n) for n in re.findall(r"3 messages timed for later already wait; (\d+) more dropped", caplog.text)
        ]
        assert sum(dropped) == 2  # said once a call, not once a message
    finally:
        remote.close()


def test_a_sound_file_is_not_an_output_and_a_mistyped_one_is_not_a_device(tiny_model, tmp_path, capsys):
    (tmp_path / "show.toml").write_text(MODULATE)
    wav = write_wav(tmp_path / "tones.wav", tone_track(0.5))
    kept = wav.read_bytes()
    show = ["live", "--source", "synthetic", "--model", str(tiny_model), "--headless", "--frames", "2"]
    show += ["--config", str(tmp_path / "show.toml")]
    assert main([*show, "--audio", str(wav), "--log", str(wav)]) == 2
    assert "--log" in capsys.readouterr().err and wav.read_bytes() == kept
    assert main([*show, "--audio", str(tmp_path / "tones.wa")]) == 2
    assert "no such file" in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("pad", ["scene 0", "scene -1", "scene ²"])
def test_a_pad_for_a_scene_that_cannot_be_is_refused_at_start(pad):
    from realtime.steer.midi import parse_mapping

    with pytest.raises(UserError, match="note36"):
        parse_mapping({"note36": pad}, "show.toml")


def test_pitch_bend_program_change_and_channels_map_as_the_table_says():
    from realtime.steer.midi import MidiInput, parse_mapping

    port = mido.ports.EchoPort()
    table = {"cc21": ["zoom", 0.98, 1.05], "cc21-ch2": ["zoom", 1.5, 2.0], "bend": ["feedback", 0.2, 0.6]}
    mapping = parse_mapping({**table, "program5-ch3": "pause", "note36-ch10": "snapshot"}, "show.toml")
    controls, show = Controls(midi=MidiInput(port, mapping)), a_show()
    seen = []
    for message in (
        mido.Message("control_change", channel=0, control=21, value=127),  # channel 1: the key without one
        mido.Message("control_change", channel=1, control=21, value=0),  # channel 2: its own key wins
        mido.Message("pitchwheel", channel=5, pitch=-8192),
        mido.Message("pitchwheel", channel=5, pitch=8191),
        mido.Message("note_on", channel=0, note=36, velocity=90),  # channel 1: note36-ch10 is not for it
        mido.Message("program_change", channel=0, program=5),  # channel 1: not for program5-ch3 either
        mido.Message("program_change", channel=2, program=5),
    ):
        port.send(message)
        controls.apply(show, None)
        seen.append((show.status()["zoom"], show.status()["feedback"], show.paused, show.recorder.snapshots))
    assert seen == [
        (pytest.approx(1.05), 0.9, False, 0),
        (pytest.approx(1.5), 0.9, False, 0),
        (pytest.approx(1.5), pytest.approx(0.2), False, 0),
        (pytest.approx(1.5), pytest.approx(0.6), False, 0),
        (pytest.approx(1.5), pytest.approx(0.6), False, 0),
        (pytest.approx(1.5), pytest.approx(0.6), False, 0),
        (pytest.approx(1.5), pytest.approx(0.6), True, 0),
    ]


@pytest.mark.parametrize(
    "key", ["bend5", "cc21-ch0", "cc21-ch17", "program128", "note36-ch", "cc-ch2", "pitchbend", "cc21ch2"]
)
def test_a_bad_midi_key_names_the_rule(key):
    from realtime.steer.midi import parse_mapping

    with pytest.raises(UserError, match=f"show.toml: \\[midi\\] {key}: keys are cc0..cc127, .* -ch1..-ch16"):
        parse_mapping({key: "pause"}, "show.toml")


def test_the_same_control_on_the_same_channel_twice_is_refused():
    from realtime.steer.midi import parse_mapping

    with pytest.raises(UserError, match="cc21-ch2 and cc021-ch02 are the same control"):
        parse_mapping({"cc21-ch2": ["zoom", 1, 2], "cc021-ch02": ["zoom", 1, 2]}, "show.toml")
    assert len(parse_mapping({"cc21": ["zoom", 1, 2], "cc21-ch2": ["zoom", 1, 2]}, "show.toml")) == 2


def played(tmp_path, text):
    """The environment in which deepdream's mido plays `text` (tests/midi_backend.py) on its one port."""
    from pathlib import Path

    (tmp_path / "messages.txt").write_text(text)
    tests = str(Path(__file__).parent)
    return {"MIDO_BACKEND": "midi_backend", "PYTHONPATH": tests, "DEEPDREAM_TEST_MIDI": str(tmp_path / "messages.txt")}


SWEEPS = """control_change channel=0 control=21 value=0

control_change channel=0 control=21 value=64
control_change channel=0 control=21 value=127

pitchwheel channel=1 pitch=-8192
pitchwheel channel=0 pitch=8191

pitchwheel channel=1 pitch=8191

program_change channel=2 program=5
"""


def changes(values):
    """The values in order, each once where it repeats: what a parameter went through."""
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


@pytest.mark.child
def test_live_follows_the_cc_bend_and_program_change_it_is_sent(tiny_model, tmp_path):
    (tmp_path / "show.toml").write_text(
        '[midi]\ncc21 = ["zoom", 0.98, 1.05]\nbend-ch2 = ["feedback", 0.2, 0.6]\nprogram5-ch3 = "pause"\n'
    )
    log = tmp_path / "frames.csv"
    args = ["--source", "synthetic", "--model", tiny_model, "--size", "96x96", "--headless", "--frames", "10"]
    steered = ["--midi", "Test Controller", "--config", tmp_path / "show.toml", "--log", log]
    result = deepdream("live", *args, *steered, env=played(tmp_path, SWEEPS))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(log, newline="")))
    assert len(rows) == 10
    assert changes([float(r["zoom"]) for r in rows]) == [1.0, 0.98, 1.05]  # the flag's, then the knob's
    assert changes([float(r["feedback"]) for r in rows]) == [0.9, 0.2, 0.6]  # channel 1's bend left it alone
    assert changes([r["paused"] for r in rows]) == ["False", "True"]
    assert "bend on channel 1 is not mapped" in result.stderr


LEARN = """control_change channel=0 control=21 value=0
control_change channel=0 control=21 value=40
control_change channel=0 control=21 value=127
pitchwheel channel=1 pitch=-8192
pitchwheel channel=1 pitch=8191
note_on channel=9 note=36 velocity=100
note_on channel=9 note=36 velocity=0
control_change channel=3 control=21 value=5
control_change channel=3 control=21 value=6
program_change channel=2 program=5
"""


def learning(tmp_path, *args):
    """`deepdream midi-learn ARGS` on LEARN, stopped with Ctrl-C once its five lines are out: (code, out, err)."""
    import subprocess
    import sys
    import threading

    from conftest import spawn, wait_until

    argv = [sys.executable, "-m", "realtime.cli", "midi-learn", *args]
    proc = spawn(argv, env=played(tmp_path, LEARN), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: len(lines) >= 5 or proc.poll() is not None, what="a line per control")
        proc.send_signal(__import__("signal").SIGINT)
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    reader.join(30)
    return proc.returncode, lines, err


@pytest.mark.child
def test_midi_learn_says_one_line_per_control_moved_with_its_channel_and_kind(tmp_path):
    import tomllib

    from realtime.steer.midi import parse_mapping

    (tmp_path / "show.toml").write_text("feedback = 0.8\n")
    code, lines, err = learning(tmp_path, "--write", tmp_path / "show.toml")
    assert code == 0, err
    said = [line.split() for line in lines[:5]]
    assert [s[:4] for s in said] == [
        ["ch", "1", "CC", "21"],
        ["ch", "2", "pitch", "bend"],
        ["ch", "10", "note", "36"],
        ["ch", "4", "CC", "21"],
        ["ch", "3", "program", "5"],
    ]
    assert [s[s.index("=") - 1] for s in said] == ["cc21", "bend", "note36", "cc21-ch4", "program5"]
    assert '["steps-per-frame", 0, 2]' in lines[0] and '["step-size", 0.01, 0.04]' in lines[1]  # params in turn
    written = tomllib.loads((tmp_path / "show.toml").read_text())
    assert written["feedback"] == 0.8 and len(parse_mapping(written["midi"], "show.toml")) == 5  # kept, added to


@pytest.mark.child
def test_midi_learn_offers_the_named_parameter_and_never_replaces_a_midi_table(tmp_path):
    code, lines, _ = learning(tmp_path, "--param", "zoom")
    assert code == 0 and all('["zoom", 0.625, 1.38]' in line for line in (lines[0], lines[1], lines[3]))
    config = tmp_path / "show.toml"
    config.write_text('[midi]\ncc1 = ["zoom", 1, 2]\n')
    refused = deepdream("midi-learn", "--write", config, env=played(tmp_path, LEARN), timeout=60)
    assert refused.returncode == 2 and "has a [midi] table already" in refused.stderr.splitlines()[-1]
    assert config.read_text() == '[midi]\ncc1 = ["zoom", 1, 2]\n'


@pytest.mark.child
@pytest.mark.parametrize("virtual, said", [("yes", "MIDI from deepdream"), ("no", "has no virtual ports")])
def test_a_virtual_port_opens_where_the_backend_has_them_and_is_one_line_elsewhere(tiny_model, tmp_path, virtual, said):
    env = {**played(tmp_path, ""), "DEEPDREAM_TEST_MIDI_VIRTUAL": virtual}
    args = ["--source", "synthetic", "--model", tiny_model, "--size", "96x96", "--headless", "--frames", "2"]
    result = deepdream("live", "--midi", "virtual", *args, env=env)
    assert result.returncode == (0 if virtual == "yes" else 2) and said in result.stderr
    assert "Traceback" not in result.stderr and (virtual == "yes" or said in result.stderr.splitlines()[-1])


def test_a_pad_takes_its_scene_number_however_it_is_spaced():
    from realtime.steer.midi import parse_mapping

    (target,) = parse_mapping({"note36": "scene  2 "}, "show.toml").values()
    assert target == ("scene", 2)


@pytest.mark.parametrize("target, says", [("/dev/zero", "not a regular file"), ("nowhere/x.toml", "cannot write")])
def test_midi_learn_refuses_a_write_target_before_it_listens(tmp_path, monkeypatch, target, says):
    """A device would be read without end, a missing folder found only when the session is over."""
    from realtime.steer import midi_learn

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(midi_learn, "open_port", lambda name: pytest.fail("listened before the target was checked"))
    with pytest.raises(UserError, match=says):
        midi_learn.learn("any", write=target)
