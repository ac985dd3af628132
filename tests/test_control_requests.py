"""A control request's name and value on a real show, whoever sends them (the control page's API, OSC): TOML's
spelling of a name is the table's, a refused value is logged cut short, and whatever an operator holds can be
given back with `release`, with a playlist or without."""

import logging
import threading

import pytest
from conftest import wait_until

from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream


@pytest.fixture
def show(tiny_model):
    from realtime.dream.engine import Engine
    from realtime.steer.show import Show

    return Show(DreamStream([Engine(tiny_model, "cpu")], StreamSettings(size=(96, 96))))


def submit(show, kind: str, name: str, value=None):
    """As the control page asks: from an HTTP thread, answered between frames (here: whenever the test applies)."""
    from realtime.steer.controls import Controls

    controls, answers = Controls(), []
    asker = threading.Thread(target=lambda: answers.append(controls.submit(kind, name, value)), daemon=True)
    asker.start()
    wait_until(lambda: (controls.apply(show, None), answers)[1], what="the request answered")
    asker.join(timeout=60)
    return answers[0]


def osc(show, address: str, *args) -> None:
    from realtime.run.loop import LoopStats
    from realtime.steer.remote import Message
    from realtime.steer.requests import handle

    handle(Message(address, args, ("127.0.0.1", 9)), show, LoopStats(), remote=None)


@pytest.mark.parametrize("name", ["step-size", "step_size"])
def test_a_name_is_taken_as_toml_or_the_table_spells_it(show, name):
    ok, answer = submit(show, "set", name, 0.03)
    assert ok and answer["value"] == 0.03
    osc(show, f"/deepdream/{name}", 0.04)
    assert show.status()["step_size"] == 0.04
    osc(show, "/deepdream/set", name, 0.05)
    assert show.status()["step_size"] == 0.05
    assert show.held == {"step_size"}


def test_a_refused_value_is_logged_cut_short_with_its_length(show, caplog):
    caplog.set_level(logging.WARNING, logger="deepdream.live")
    assert not submit(show, "set", "zoom", "x" * 65536)[0]
    ok, why = submit(show, "set", "y" * 65536, 1)
    assert not ok and len(why) < 300 and "65538 characters" in why
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2 and all(len(line) < 500 for line in said), [line[:300] for line in said]
    assert "65538 characters" in said[0] and "'xxxx" in said[0]


def test_what_an_operator_holds_is_released_without_a_playlist(show):
    """The sound moves feedback; a slider takes it; `release` gives it back to the sound."""
    assert show.playlist is None and show.status()["held"] == ""
    assert submit(show, "set", "feedback", 0.3)[0]
    show.modulate({"feedback": 0.9})
    assert (show.status()["feedback"], show.status()["held"]) == (0.3, "feedback")
    assert submit(show, "command", "release") == (True, {"value": True, "frame": None})
    show.modulate({"feedback": 0.9})
    assert (show.status()["feedback"], show.status()["held"]) == (0.9, "")


def test_release_with_a_name_gives_back_only_that_parameter(show):
    """The page's per-row release: feedback goes back to the sound, zoom stays held; a name that is no
    parameter is refused and releases nothing."""
    assert submit(show, "set", "feedback", 0.3)[0] and submit(show, "set", "zoom", 1.02)[0]
    ok, answer = submit(show, "command", "release", "not-a-parameter")
    assert not ok and "release takes a parameter's name" in str(answer)
    assert set(show.status()["held"].split()) == {"feedback", "zoom"}
    assert submit(show, "command", "release", "feedback")[0]
    show.modulate({"feedback": 0.9, "zoom": 1.0})
    status = show.status()
    assert (status["feedback"], status["zoom"], status["held"]) == (0.9, 1.02, "zoom")
