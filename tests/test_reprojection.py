"""The display path's pieces (realtime.dream.reproject, realtime.dream.flow): the shortcuts it takes for
speed show the same picture as the plain way."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.dream.chain import Chain
from realtime.dream.flow import Flow
from realtime.dream.reproject import UNIT, carrier, compose, fit, padded, rgb


def texture(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 3)


def detail(h, w, seed=1):
    return (np.random.default_rng(seed).standard_normal((h, w, 3)) * 0.2).astype(np.float32)


def plain_compose(camera8, d, size):
    """The definition: the camera scaled to the display size, plus the detail scaled to it."""
    return cv2.add(fit(camera8, size), fit(d * UNIT, size), dtype=cv2.CV_8U)


@pytest.mark.parametrize(
    "camera, proc", [((320, 240), (640, 360)), ((640, 360), (320, 180)), ((1280, 720), (640, 360))]
)
def test_compose_shows_the_same_picture_whatever_the_camera_size(camera, proc):
    cam, d = texture(camera[1], camera[0]), detail(proc[1], proc[0])
    shown = compose(cam, d, (1280, 720))
    assert shown.shape == (720, 1280, 3) and shown.dtype == np.uint8
    diff = np.abs(shown.astype(int) - plain_compose(cam, d, (1280, 720)).astype(int))
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 4  # bilinear twice vs once: rounding, not a shift
    assert np.array_equal(compose(cam, padded(d), (1280, 720)), shown)  # 4 channels show as their 3
    assert np.array_equal(compose(cam, d, (1280, 720), scaled=fit(cam, proc)), shown)  # the display path's own


def test_four_channel_details_carry_as_their_three_channels_do():
    d = detail(90, 160)
    four = padded(d)
    assert four.shape == (90, 160, 4) and np.array_equal(rgb(four), d)
    flow = Flow("dis")
    frames = [texture(90, 200)[:, k : k + 160].copy() for k in (6, 0)]  # content moves 6 px right
    move = carrier(flow.between(*frames))
    assert np.allclose(rgb(move(four)), move(d), atol=1e-6)


def test_flow_reuses_the_previous_frame_and_measures_as_a_fresh_one():
    frames = [texture(360, 700)[:, k : k + 640].copy() for k in (8, 4, 0)]
    reused = Flow("dis")
    reused.between(frames[0], frames[1])
    second = reused.between(frames[1], frames[2])  # frames[1]'s small gray comes from the last call
    fresh = Flow("dis").between(frames[1], frames[2])
    assert np.array_equal(second.backward, fresh.backward) and np.array_equal(second.occluded, fresh.occluded)
    assert float(np.median(second.backward[60:300, 100:540, 0])) == pytest.approx(-4, abs=0.5)
    assert float(np.median(second.magnitude)) == pytest.approx(4, abs=0.5)  # made when read


def test_a_chain_composes_the_motions_in_order_and_breaks_where_one_is_unknown():
    h, w = 30, 40
    xs = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w))
    zoom = np.dstack([0.02 * xs, np.zeros((h, w), np.float32)])  # frame 1 from frame 0: x -> 1.02 x
    pan = np.dstack([np.full((h, w), -5, np.float32), np.full((h, w), 2, np.float32)])  # frame 2 from 1
    frames = [np.zeros((h, w, 3), np.uint8) for _ in range(5)]
    chain = Chain(frames=4)
    chain.push(frames[0], None)
    chain.push(frames[1], zoom)
    chain.push(frames[2], pan)
    field = chain.since(frames[0])
    # Frame 2's pixel x was at x - 5 in frame 1, which was at (x - 5) + 0.02 (x - 5) in frame 0.
    inner = (slice(2, h - 4), slice(6, w - 2))
    assert np.allclose(field[inner][..., 0], (-5 + 0.02 * (xs - 5))[inner], atol=1e-3)
    assert np.allclose(field[inner][..., 1], 2, atol=1e-3)
    assert np.allclose(chain.since(frames[1]), pan)
    assert chain.since(frames[2]) is None and chain.since(frames[0].copy()) is None  # newest; not kept
    assert chain.since(frames[0], beyond=2) is None and chain.since(frames[0], beyond=1) is not None
    chain.push(frames[3], None)  # flow off for a frame
    chain.push(frames[4], pan)
    assert chain.since(frames[2]) is None and np.allclose(chain.since(frames[3]), pan)
    assert chain.since(frames[0]) is None  # pushed out (4 kept)


def test_a_seeded_flow_follows_a_move_beyond_one_measurement():
    big = texture(120, 240)
    before, after = big[:, 50:210].copy(), big[:, 10:170].copy()  # content moves 40 px right: 25 % of the width
    far = Flow("dis", far=True)
    alone = far.between(before, after)
    seeded = Flow("dis", far=True).between(before, after, seed=np.full((120, 160, 2), (-36, 3), np.float32))
    inner = (slice(10, 110), slice(50, 150))  # seen in both frames
    assert float(np.median(seeded.backward[inner][..., 0])) == pytest.approx(-40, abs=0.5)
    assert seeded.occluded[inner].mean() < 0.05
    assert alone.occluded[inner].mean() > 0.3  # what the seed is for


@pytest.mark.parametrize("size", [(640, 360), (320, 240), (640, 480), (960, 540), (200, 700)])
def test_fit_shrinks_a_camera_frame_as_an_area_average_would(size):
    photo = cv2.cvtColor(cv2.imread(str(Path(__file__).parent / "data" / "chelsea.png")), cv2.COLOR_BGR2RGB)
    frame = cv2.resize(photo, (1280, 720), interpolation=cv2.INTER_CUBIC)  # a 720p camera frame, with grain:
    grain = np.random.default_rng(0).integers(-24, 25, frame.shape)  # a shrink that skips pixels shows it
    frame = np.clip(frame + grain, 0, 255).astype(np.uint8)
    shrunk = fit(frame, size)
    assert shrunk.shape == (size[1], size[0], 3) and shrunk.dtype == np.uint8
    area = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(shrunk - area).mean() < 2.0  # halved first, then linear: the same picture, faster
    assert np.abs(cv2.resize(frame, size, interpolation=cv2.INTER_NEAREST) - area).mean() > 5.0  # (grain enough)
    assert fit(frame, (1280, 720)) is frame
