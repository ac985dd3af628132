"""MP4 output: H.264 through PyAV with exact frame timing, odd sizes padded, the clip's sound kept,
360-degree metadata read back by FFmpeg's ffprobe (a parser we did not write)."""

import json
import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

av = pytest.importorskip("av")

from conftest import PERTURB, deepdream, run_perturbed  # noqa: E402

from realtime.cli import main  # noqa: E402
from realtime.errors import UserError  # noqa: E402
from realtime.media.video import VideoFormat, VideoWriter, choose_encoder  # noqa: E402

FFPROBE = shutil.which("ffprobe")
VALGRIND = shutil.which("valgrind")
WRITE = (  # python -c WRITE CLIP OUT N: the clip's first N frames at 100x76 through the exact writer
    "import sys, cv2; from realtime.media.video import VideoFormat, VideoWriter; clip = cv2.VideoCapture(sys.argv[1]); "
    "writer = VideoWriter(sys.argv[2], 30, (100, 76), VideoFormat(exact=True)); "
    "[writer.write(cv2.resize(clip.read()[1], (100, 76), interpolation=cv2.INTER_AREA))"
    " for _ in range(int(sys.argv[3]))]; "
    "writer.close()"
)


def _decoded(path):
    """(codec, pix_fmt, rate, frames as RGB arrays, sound stream or None) as PyAV's decoder sees them."""
    with av.open(str(path)) as c:
        video = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        sound = c.streams.audio[0].codec_context.codec.canonical_name if c.streams.audio else None
        codec, pix_fmt, rate = video.codec_context.name, video.codec_context.pix_fmt, video.average_rate
    if sound:  # how long the sound plays: its decoded samples (Matroska states no stream duration)
        with av.open(str(path)) as c:
            sound = (sound, sum(f.samples / f.sample_rate for f in c.decode(audio=0)))
    return codec, pix_fmt, rate, frames, sound


def _side_data(path):
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {d["side_data_type"]: d for d in json.loads(out)["streams"][0].get("side_data_list", [])}


def _clip_with_sound(path, codec="aac", frames=15, fps=30, size=(96, 80), rate=48000):
    """A short clip with a 440 Hz tone, made with PyAV (no binary test file); the container is the name's."""
    with av.open(str(path), "w") as c:
        video = c.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        sound = c.add_stream(codec, rate=rate)
        sound.layout = "mono"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 40 + 10 * i, np.uint8), format="rgb24")
            frame.pts = i
            c.mux(video.encode(frame))
        tone = (np.sin(2 * np.pi * 440 * np.arange(rate * frames // fps) / rate) * 0.3).astype(np.float32)[None]
        for start in range(0, tone.shape[1], 1024):  # PyAV converts to the encoder's own sample format
            chunk = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono"
            )
            chunk.sample_rate, chunk.pts = rate, start
            c.mux(sound.encode(chunk))
        c.mux(video.encode(None))
        c.mux(sound.encode(None))
    return path


@pytest.mark.parametrize("size, rate", [((96, 64), Fraction(30)), ((101, 77), Fraction(30000, 1001))])
def test_h264_with_exact_count_rate_and_size_odd_sizes_padded(tmp_path, size, rate):
    images = [np.random.default_rng(i).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8) for i in range(12)]
    images = [np.repeat(np.repeat(im[::8, ::8], 8, 0), 8, 1)[: size[1], : size[0]] for im in images]  # coarse blocks
    writer = VideoWriter(tmp_path / "out.mp4", float(rate), size)
    for image in images:
        writer.write(image)
    writer.close()
    codec, pix_fmt, got_rate, frames, sound = _decoded(tmp_path / "out.mp4")
    assert (codec, pix_fmt, got_rate, len(frames), sound) == ("h264", "yuv420p", rate, 12, None)
    assert frames[0].shape == (size[1] + size[1] % 2, size[0] + size[0] % 2, 3)  # padded to even
    assert np.abs(frames[5][: size[1], : size[0]].astype(int) - images[5]).mean() < 6  # the picture, at crf 18
    assert not list(tmp_path.glob(".out.*"))  # no temporary left


def test_an_aborted_or_empty_writer_leaves_nothing_and_a_bad_folder_is_one_error(tmp_path):
    (tmp_path / "keep.mp4").write_bytes(b"the user's file")
    writer = VideoWriter(tmp_path / "keep.mp4", 30, (64, 64))
    writer.write(np.zeros((64, 64, 3), np.uint8))
    writer.abort()
    VideoWriter(tmp_path / "empty.mp4", 30, (64, 64)).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]
    assert (tmp_path / "keep.mp4").read_bytes() == b"the user's file"
    with pytest.raises(UserError, match="cannot write"):
        VideoWriter(tmp_path / "missing" / "x.mp4", 30, (64, 64))
    with pytest.raises(UserError, match="crf"):
        VideoWriter(tmp_path / "x.mp4", 30, (64, 64), VideoFormat(crf=99))


def test_the_nvidia_encoder_is_used_where_it_opens_else_libx264(monkeypatch):
    real_create = av.CodecContext.create

    class OpensFine:  # an NVIDIA machine's h264_nvenc: takes the settings and opens
        def open(self):
            pass

    monkeypatch.setattr(
        av.CodecContext, "create", lambda name, mode: OpensFine() if name == "h264_nvenc" else real_create(name, mode)
    )
    assert choose_encoder((64, 64), Fraction(30), 18) == "h264_nvenc"

    def no_nvidia(name, mode):  # what FFmpeg says without an NVIDIA device or driver
        if name == "h264_nvenc":
            raise av.error.PermissionError(1, "Operation not permitted")
        return real_create(name, mode)

    monkeypatch.setattr(av.CodecContext, "create", no_nvidia)
    assert choose_encoder((64, 64), Fraction(30), 18) == "libx264"
    assert choose_encoder((64, 64), Fraction(30), 18, ("no_such_h264_encoder", "libx264")) == "libx264"
    with pytest.raises(UserError, match="no H.264 encoder"):
        choose_encoder((64, 64), Fraction(30), 18, ("no_such_h264_encoder", "h264_nvenc"))


@pytest.mark.parametrize(
    "codec, name, rate, kept, kept_rate",
    [
        ("aac", "in.mp4", 48000, "aac", 48000),
        ("pcm_s16le", "in.mov", 48000, "aac", 48000),
        ("libmp3lame", "in.mp4", 44100, "mp3", 44100),  # copied: the decoder is mp3float, the codec mp3
        ("pcm_s16le", "in.mov", 192000, "aac", 48000),  # AAC takes 96 kHz at most: resampled, not a traceback
        ("libopus", "in.mkv", 48000, "aac", 48000),
    ],
)  # Matroska states no frame count: no false "truncated"
def test_render_keeps_the_sound_copied_or_as_aac(tmp_path, capfd, tiny_model, codec, name, rate, kept, kept_rate):
    clip = _clip_with_sound(tmp_path / name, codec, rate=rate)
    out = tmp_path / "out.mp4"
    assert main(["render", str(clip), "-o", str(out), "--model", str(tiny_model), "--crf", "23"]) == 0
    assert "decoded" not in capfd.readouterr().err
    _, _, fps, frames, (sound, duration) = _decoded(out)
    _, _, _, source, (_, source_duration) = _decoded(clip)
    assert (fps, len(frames), sound) == (30, len(source), kept)
    with av.open(str(out)) as written:
        assert written.streams.audio[0].rate == kept_rate
    assert abs(duration - source_duration) < 0.03  # within one AAC frame: the sound stays as long as the clip
    if codec in ("aac", "libmp3lame"):  # copied, not re-encoded: the very same packets
        with av.open(str(clip)) as a, av.open(str(out)) as b:
            assert [bytes(p) for p in a.demux(audio=0) if p.size] == [bytes(p) for p in b.demux(audio=0) if p.size]


@pytest.mark.child
@pytest.mark.skipif(FFPROBE is None, reason="needs ffprobe (apt-get install ffmpeg; .ci/run does)")
def test_wrap_render_and_recording_carry_equirectangular_metadata(tmp_path, tiny_model):
    clip = _clip_with_sound(tmp_path / "in.mp4", frames=6, size=(160, 80))
    flat, wrapped, recorded = tmp_path / "flat.mp4", tmp_path / "wrapped.mp4", tmp_path / "rec.mp4"
    args = ["--model", str(tiny_model), "--flow", "off"]
    assert main(["render", str(clip), "-o", str(flat), *args]) == 0
    assert main(["render", str(clip), "-o", str(wrapped), "--wrap", *args]) == 0
    result = deepdream(
        "live",
        "--source",
        "synthetic",
        *args,
        "--size",
        "160x80",
        "--headless",
        "--frames",
        "3",
        "--wrap",
        "--stereo",
        "--record",
        recorded,
    )
    assert result.returncode == 0, result.stderr
    assert "Spherical Mapping" not in _side_data(flat)
    for path, stereo in ((wrapped, "2D"), (recorded, "side by side")):
        side = _side_data(path)
        assert side["Spherical Mapping"]["projection"] == "equirectangular"
        assert side["Stereo 3D"]["type"] == stereo
    assert len(_decoded(recorded)[3]) == 3 and _decoded(wrapped)[4][0] == "aac"  # still whole files


@pytest.mark.child
@pytest.mark.skipif(FFPROBE is None, reason="needs ffprobe (apt-get install ffmpeg; .ci/run does)")
def test_each_metadata_form_is_read_on_its_own(tmp_path):
    """V1 (the XML uuid box, what YouTube reads) and V2 (sv3d/st3d) both parse, apart from each other."""
    from realtime.media import spherical

    writer = VideoWriter(tmp_path / "plain.mp4", 30, (64, 32))
    writer.write(np.zeros((32, 64, 3), np.uint8))
    writer.close()
    data = (tmp_path / "plain.mp4").read_bytes()
    with open(tmp_path / "plain.mp4", "rb") as fh:
        _, start, size = next(t for t in spherical._top_level(fh, len(data)) if t[0] == b"moov")
    for name, depth, payload in (("v1", 2, spherical.v1_box(False)), ("v2", None, spherical.v2_boxes(False))):
        moov = bytearray(data[start : start + size])
        spherical._append(moov, spherical._video_chain(moov)[:depth], payload)
        (tmp_path / f"{name}.mp4").write_bytes(data[:start] + bytes(moov) + data[start + size :])
        assert _side_data(tmp_path / f"{name}.mp4")["Spherical Mapping"]["projection"] == "equirectangular"
        assert len(_decoded(tmp_path / f"{name}.mp4")[3]) == 1
    assert "Spherical Mapping" not in _side_data(tmp_path / "plain.mp4")


@pytest.mark.child
@pytest.mark.exact
def test_the_exact_writer_gives_the_same_bytes_under_any_heap(tmp_path, testdata):
    outs = [tmp_path / f"{perturb}.mp4" for perturb in PERTURB]
    for out, perturb in zip(outs, PERTURB):
        run_perturbed([testdata / "pan_coffee_320x240.mp4", out, 60], perturb, python=("-c", WRITE))
    assert len({out.read_bytes() for out in outs}) == 1


@pytest.mark.child
@pytest.mark.exact
@pytest.mark.slow
@pytest.mark.skipif(VALGRIND is None, reason="needs valgrind (apt-get install valgrind)")
def test_the_exact_writer_reads_no_uninitialised_memory_in_x264(tmp_path, testdata):
    """What different heaps catch only where the garbage happens to differ, valgrind sees on any machine: a
    value libx264 computes from uninitialised memory (x264's macroblock tree did, on these very frames)."""
    log = tmp_path / "valgrind.log"
    result = subprocess.run(
        [
            VALGRIND,
            f"--log-file={log}",
            sys.executable,
            "-c",
            WRITE,
            testdata / "pan_coffee_320x240.mp4",
            tmp_path / "o.mp4",
            "20",
        ],
        env={**os.environ, "PYTHONMALLOC": "malloc"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    errors = re.split(r"^==\d+== $", log.read_text(), flags=re.M)  # one block per error
    in_x264 = [e for e in errors if "uninitialised" in e and "libx264" in e]
    assert not in_x264, f"{len(in_x264)} errors in libx264, the first:{in_x264[0]}"


LOSSLESS_WRITE = (  # python -c LOSSLESS_WRITE OUT: 8 random 101x77 frames through the lossless writer
    "import sys, numpy as np; from realtime.media.video import VideoFormat, VideoWriter; "
    "writer = VideoWriter(sys.argv[1], 30, (101, 77), VideoFormat(lossless=True)); "
    "[writer.write(np.random.default_rng(i).integers(0, 256, (77, 101, 3), dtype=np.uint8)) for i in range(8)]; "
    "writer.close()"
)


def _lossless(path, images, fps=30):
    writer = VideoWriter(path, fps, images[0].shape[1::-1], VideoFormat(lossless=True))
    for image in images:
        writer.write(image)
    writer.close()
    return path


@pytest.mark.parametrize("size", [(64, 48), (101, 77), (1, 1)])
def test_the_lossless_writer_gives_back_every_rgb_byte_at_any_size(tmp_path, size):
    images = [np.random.default_rng(i).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for i in range(6)]
    codec, pix_fmt, rate, frames, sound = _decoded(_lossless(tmp_path / "out.mkv", images))
    assert (codec, pix_fmt, rate, len(frames), sound) == ("ffv1", "bgr0", Fraction(30), 6, None)
    for image, frame in zip(images, frames, strict=True):
        assert frame.shape == image.shape and np.array_equal(frame, image)  # no padding, no colour conversion
    with av.open(str(tmp_path / "out.mkv")) as c:
        assert c.format.name.startswith("matroska")
        assert c.streams.video[0].codec_context.colorspace == 2  # AVCOL_SPC_UNSPECIFIED: no YUV to describe
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mkv"]  # no temporary left


def test_the_lossless_writer_repeats_its_bytes_on_any_thread_count(tmp_path, monkeypatch):
    from realtime.media import lossless

    images = [np.random.default_rng(i).integers(0, 256, (77, 101, 3), dtype=np.uint8) for i in range(4)]
    first = _lossless(tmp_path / "a.mkv", images).read_bytes()
    assert _lossless(tmp_path / "b.mkv", images).read_bytes() == first  # no date, no random segment UID
    monkeypatch.setitem(lossless.FFV1, "threads", "1")
    assert _lossless(tmp_path / "c.mkv", images).read_bytes() == first  # one thread or a machine's worth: same bytes


def test_a_lossless_recording_started_by_key_is_an_mkv(tmp_path):
    from realtime.media.recorder import Recorder

    image = np.random.default_rng(0).integers(0, 256, (21, 33, 3), dtype=np.uint8)
    recorder = Recorder(tmp_path, 30, (33, 21), None, 0, VideoFormat(lossless=True))
    recorder.toggle()
    recorder.write(image)
    recorder.close()
    (kept,) = tmp_path.iterdir()
    codec, _, _, frames, _ = _decoded(kept)
    assert (kept.suffix, codec) == (".mkv", "ffv1") and np.array_equal(frames[0], image)


@pytest.mark.child
@pytest.mark.exact
def test_the_lossless_writer_gives_the_same_bytes_under_any_heap(tmp_path):
    outs = [tmp_path / f"{perturb}.mkv" for perturb in PERTURB]
    for out, perturb in zip(outs, PERTURB):
        run_perturbed([out], perturb, python=("-c", LOSSLESS_WRITE))
    assert len({out.read_bytes() for out in outs}) == 1
