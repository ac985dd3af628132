"""Show hours: the [schedule] table, open and closed at injected times, and the loop outside hours."""

import csv
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from conftest import ListFrames

from realtime import config
from realtime.cli import main
from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.errors import UserError
from realtime.media.sinks import ListSink
from realtime.media.sources import Latest, SyntheticSource
from realtime.run.loop import run
from realtime.run.rest import Hours
from realtime.run.steps import BesideDisplay
from realtime.steer import schedule as schedule_module
from realtime.steer.playlist import Playlist, Scene
from realtime.steer.schedule import Schedule, parse
from realtime.steer.show import Show

LONDON = ZoneInfo("Europe/London")
SIZE = (96, 80)


def at(*when, zone=LONDON) -> float:
    return datetime(*when, tzinfo=zone).timestamp()


def london(**days) -> Schedule:
    return parse({"timezone": "Europe/London", **days}, "show.toml")


def test_ranges_past_midnight_run_into_the_next_day():
    s = london(monday="10:00-18:00", sunday="20:00-02:00")  # 2024-01-01 is a Monday, 2024-01-07 a Sunday
    assert [s.open_at(at(2024, 1, 1, h, m)) for h, m in ((9, 59), (10, 0), (17, 59), (18, 0))] == [0, 1, 1, 0]
    assert [s.open_at(at(2024, 1, 7, h, m)) for h, m in ((19, 59), (20, 0), (23, 59))] == [0, 1, 1]
    assert [s.open_at(at(2024, 1, 8, h, m)) for h, m in ((0, 0), (1, 0), (1, 59), (2, 0))] == [1, 1, 1, 0]
    assert not s.open_at(at(2024, 1, 2, 12, 0))  # Tuesday: not named, no daily


def test_daily_fills_the_days_not_named_and_several_ranges_a_day():
    s = london(daily="00:00-24:00", saturday="closed", friday="10:00-13:00, 14:00-22:00")
    assert s.open_at(at(2024, 1, 3, 0, 0)) and s.open_at(at(2024, 1, 3, 23, 59))
    assert not s.open_at(at(2024, 1, 6, 12, 0))  # Saturday closed
    assert [s.open_at(at(2024, 1, 5, h, 30)) for h in (12, 13, 14)] == [1, 0, 1]


def test_summer_time_is_the_zones():
    s = london(daily="09:00-17:00")  # London goes to UTC+1 on 2024-03-31
    assert not s.open_at(datetime(2024, 3, 30, 8, 30, tzinfo=UTC).timestamp())  # 08:30 GMT
    assert s.open_at(datetime(2024, 4, 1, 8, 30, tzinfo=UTC).timestamp())  # 09:30 BST
    assert not s.open_at(datetime(2024, 4, 1, 16, 30, tzinfo=UTC).timestamp())  # 17:30 BST
    tokyo = parse({"timezone": "Asia/Tokyo", "daily": "09:00-17:00"}, "show.toml")
    assert tokyo.open_at(datetime(2024, 4, 1, 0, 30, tzinfo=UTC).timestamp())  # 09:30 in Tokyo


@pytest.mark.parametrize(
    "table, says",
    [
        ({"mondays": "10:00-18:00"}, "unknown key 'mondays'"),
        ({"monday": "25:00-26:00"}, "monday: '25:00' is not a time"),
        ({"monday": "10:00"}, "monday: '10:00' is not a range"),
        ({"monday": "\u0661\u0660:00-12:00"}, "is not a time"),  # Arabic-Indic digits: no clock reads them
        ({"monday": "10:00-10:00"}, "monday: '10:00-10:00' is empty"),
        ({"monday": 10}, "monday: expected"),
        ({"timezone": "Mars/Olympus"}, "timezone: no time zone 'Mars/Olympus'"),
        ({"timezone": "../../etc/passwd"}, "timezone: no time zone"),
        ({"outside": "grey"}, "outside: 'grey' is not one of black, still, camera"),
        ({"outside": "still"}, "still: give an image"),
        ({"still": "closed.png"}, "still: give an image"),
    ],
)
def test_a_bad_table_is_refused_in_one_line_naming_the_file_and_key(tmp_path, table, says):
    path = tmp_path / "show.toml"
    lines = [f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in table.items()]
    path.write_text("[schedule]\n" + "\n".join(lines) + "\n")
    with pytest.raises(UserError) as caught:
        config.check(path)
    assert str(caught.value).startswith(f"{path}: [schedule]") and says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_still_that_cannot_be_read_stops_live_before_the_source_opens(tmp_path, tiny_model, capsys):
    path = tmp_path / "show.toml"
    (tmp_path / "closed.png").write_text("not an image")
    path.write_text('[schedule]\noutside = "still"\nstill = "closed.png"\ndaily = "10:00-18:00"\n')
    argv = ["live", "--config", path, "--source", "webcam:99", "--headless", "--model", tiny_model]
    assert main([str(a) for a in argv]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "[schedule] still:" in err and "closed.png" in err and "webcam" not in err


def test_print_config_writes_the_schedule_back(tmp_path, capsys):
    path = tmp_path / "show.toml"
    path.write_text('[schedule]\ntimezone = "Europe/London"\nsunday = "20:00-02:00"\n')
    assert main(["live", "--config", str(path), "--print-config"]) == 0
    again = tmp_path / "again.toml"
    again.write_text(capsys.readouterr().out)
    assert config.schedule(again) == config.schedule(path)


class Clock:
    """The schedule's clock, one time per frame (the loop asks it once a frame), and the show's, which
    reads the time the schedule was last asked."""

    def __init__(self, times):
        self.times, self.now = list(times), times[0]

    def schedule(self) -> float:
        self.now = self.times.pop(0)
        return self.now

    def show(self) -> float:
        return self.now


class Counting(DreamStream):
    def __init__(self, *args):
        super().__init__(*args)
        self.calls: list[tuple[float, float]] = []  # (the clock then, the step size in force)

    def __call__(self, rgb, *args, **kwargs):
        self.calls.append((self.clock.now, self._live.values["step_size"]))
        return super().__call__(rgb, *args, **kwargs)


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(tiny_model, "cpu")


def frames(count: int) -> list[np.ndarray]:
    return [SyntheticSource(SIZE).render(i) for i in range(count)]


MONDAY_NOON = at(2024, 1, 1, 12, 0)


def live(engine, times, outside="black", still=None, playlist=None, **settings):
    """The loop inline on len(times) frames, the schedule open Monday 10:00-18:00 (London) by the clock."""
    clock = Clock(times)
    stream = Counting([engine], StreamSettings(size=SIZE, **settings))
    stream.clock = clock
    hours = Schedule(london(monday="10:00-18:00").hours, LONDON, outside, None, clock.schedule)
    show, sink, status = Show(stream, playlist, clock=clock.show), ListSink(), []
    reader = Latest(ListFrames(frames(len(times))), lockstep=True)
    try:
        run(reader, show, [sink], publish=status.append, hours=Hours(hours, SIZE, still), max_frames=len(times))
    finally:
        reader.close()
    return stream, sink.frames, [s["open"] for s in status], [s["scene"] for s in status]


HOURS = [MONDAY_NOON, MONDAY_NOON + 1, at(2024, 1, 1, 18, 0), at(2024, 1, 1, 23, 0), at(2024, 1, 8, 10, 0)]


def test_closed_the_sinks_get_black_and_the_stream_is_not_called(engine):
    stream, shown, opened, scenes = live(engine, HOURS, steps_per_frame=1)
    assert len(stream.calls) == 3 and opened == [True, True, False, False, True]
    assert scenes[2:4] == ["closed", "closed"]
    assert all(not frame.any() and frame.shape == (80, 96, 3) for frame in shown[2:4])
    assert all(frame.any() for frame in shown[:2] + shown[4:])


def test_closed_shows_the_still_fitted_or_the_camera_undreamed(engine):
    red = np.zeros((10, 40, 3), np.uint8)
    red[..., 0] = 255
    _, shown, _, _ = live(engine, HOURS[1:4], outside="still", still=red, steps_per_frame=1)
    assert (shown[1][40, 48] == (255, 0, 0)).all() and not shown[1][0, 0].any()  # wide: bars above and below
    _, shown, _, _ = live(engine, HOURS[1:4], outside="camera", steps_per_frame=1)
    assert np.array_equal(shown[2], frames(3)[2])


def test_the_first_dream_after_opening_carries_nothing_from_before(engine):
    settings = {"steps_per_frame": 1, "feedback": 0.9, "flow": "off"}
    stream, shown, _, _ = live(engine, HOURS, **settings)
    fresh = DreamStream([engine], StreamSettings(size=SIZE, **settings))
    assert np.array_equal(shown[4], fresh(frames(5)[4]))
    carried = DreamStream([engine], StreamSettings(size=SIZE, **settings))
    carried(frames(5)[1])
    assert not np.array_equal(carried(frames(5)[4]), shown[4])  # what the feedback would have made


def test_a_stop_mid_crossfade_rests_at_once_and_the_playlist_goes_on_by_the_clock(engine):
    scenes = [Scene(10.0, (("step_size", 0.01),)), Scene(10.0, (("step_size", 0.05),))]
    playlist = Playlist(scenes, 8.0, {"step_size": 0.01})  # the fade: 2..10 s into the first scene
    start = at(2024, 1, 1, 17, 59, 54)  # the stop at 18:00 falls 6 s in: mid-fade
    times = [start, start + 5, start + 6, start + 7, at(2024, 1, 8, 10, 0, 15)]  # the next Monday
    stream, shown, opened, _ = live(engine, times, playlist=playlist, steps_per_frame=1)
    assert opened == [True, True, False, False, True] and not shown[2].any()
    sizes = [size for _, size in stream.calls]
    assert sizes[0] == pytest.approx(0.01) and 0.01 < sizes[1] < 0.05  # fading when it stopped
    started = start  # the show's clock starts with the first time asked
    assert sizes[2] == pytest.approx(playlist.at(times[4] - started)[0]["step_size"])  # where the time of day is


class Offers(list):
    def __call__(self, frame, motion=None):
        self.append(frame)


def test_beside_the_display_the_worker_is_offered_nothing_while_closed(engine):
    from realtime.run.display import DisplayPath
    from realtime.run.worker import DreamWorker, StreamProxy

    stream = DreamStream([engine], StreamSettings(size=SIZE, steps_per_frame=1))
    proxy = StreamProxy(stream)
    step = BesideDisplay(DreamWorker(stream, proxy), DisplayPath(SIZE, SIZE, 2, stream.settings.flow))
    first, told = step.worker, []
    step.worker.offer = offers = Offers()
    step.watchers.append(told.append)
    clock = Clock(HOURS)
    hours = Hours(Schedule(london(monday="10:00-18:00").hours, LONDON, "black", None, clock.schedule), SIZE)
    reader = Latest(ListFrames(frames(5)), lockstep=True)
    try:
        run(reader, Show(proxy), [ListSink()], step=step, hours=hours, max_frames=5)
    finally:
        reader.close()
        step.close()
    assert [f.index for f in offers] == [0, 1]  # frames 2 and 3 fell outside the hours
    assert step.worker is not first and told == [step.worker]  # at opening a fresh one, and the watchdog told


def test_live_from_a_config_rests_outside_its_hours(tmp_path, tiny_model, monkeypatch):
    path, log = tmp_path / "show.toml", tmp_path / "frames.csv"
    path.write_text('[schedule]\ntimezone = "Europe/London"\nmonday = "10:00-18:00"\n')
    asked = []  # the loop asks once a frame: two frames open, then closed
    monkeypatch.setattr(schedule_module, "now", lambda: MONDAY_NOON + 7 * 3600 * (len(asked.append(0) or asked) > 2))
    argv = ["live", "--config", path, "--source", "synthetic", "--model", tiny_model, "--size", "96x80"]
    argv += ["--headless", "--sync", "--frames", "4", "--log", log, "--record", tmp_path / "out.mp4"]
    assert main([str(a) for a in argv]) == 0
    with open(log, newline="") as fh:
        assert [row["scene"] for row in csv.DictReader(fh)][2:] == ["closed", "closed"]
    cap = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    pictures = [cap.read()[1] for _ in range(4)]
    assert pictures[1].mean() > 20 and pictures[3].max() < 20  # dreamed, then black (the codec's noise aside)
