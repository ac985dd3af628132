"""`deepdream service install|status|remove` (the unit file, its quoting, what systemctl is asked, launchd and
Task Scheduler) and sd_notify from the heartbeat. HOME and XDG_CONFIG_HOME point into tmp_path and systemctl is
a stand-in on PATH (or none): no test reaches the user's own systemd."""

import math
import os
import plistlib
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import spawn

from realtime.cli import main
from realtime.run.watchdog import DREAM_GRACE_S, FIRST_FRAME_S, RESTART_WAIT_MAX_S, Heartbeat, quiet_at_most

ANALYZE = shutil.which("systemd-analyze")
SHOW = 'source = "synthetic"\nheadless = true\nsize = "96x80"\n'  # the model: the store's only one
FAKE_SYSTEMCTL = """#!{python}
import os, sys
with open(os.environ["SYSTEMCTL_LOG"], "a") as fh:
    fh.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[2] in os.environ.get("SYSTEMCTL_FAIL", "").split(","):
    sys.exit("Failed to connect to bus: No medium found")
if sys.argv[2] == "show":
    print("ActiveState=active\\nSubState=running\\nActiveEnterTimestamp=Mon 2025-01-06 10:00:00 UTC\\nMainPID=42\\n"
          "NRestarts=2\\nStatusText=run 2 in 1 s: the loop exited with status 1")
"""


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A home of the test's own, and no systemctl on PATH: the unit folder is returned."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path / "config" / "systemd" / "user"


@pytest.fixture
def show(tmp_path, tiny_store, monkeypatch) -> Path:
    """show.toml in a folder whose name systemd would misread unquoted (a space, ", % and $), the current one."""
    folder = tmp_path / 'my "show" %h $HOME'
    folder.mkdir()
    (folder / "show.toml").write_text(SHOW)
    monkeypatch.chdir(folder)
    return folder / "show.toml"


@pytest.fixture
def systemctl(tmp_path, home, monkeypatch) -> Path:
    """A stand-in systemctl on PATH that logs its arguments (the log is returned) and fails the verbs in
    SYSTEMCTL_FAIL as systemctl does where no user manager answers."""
    fake = tmp_path / "bin" / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL.format(python=sys.executable))
    fake.chmod(0o755)
    monkeypatch.setenv("SYSTEMCTL_LOG", str(tmp_path / "systemctl.log"))
    return tmp_path / "systemctl.log"


def said(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_the_unit_runs_the_show_by_absolute_paths_quoted_for_systemd(show, home, capsys):
    assert main(["service", "install", "--config", "show.toml"]) == 1  # written, but no systemctl to enable it
    assert said(capsys)[-1].startswith("deepdream service: systemctl is not on PATH (no systemd here): ")
    unit = (home / "deepdream-show.service").read_text()
    folder = str(show.parent).replace('"', '\\"')
    assert (
        f'\nExecStart="{sys.executable}" "-m" "realtime.cli" "live" "--config" '
        f'"{folder.replace("%", "%%").replace("$", "$$")}/show.toml" "--watchdog" "30"\n' in unit
    )
    assert f"\nWorkingDirectory={show.parent}\n".replace("%", "%%") in unit
    assert f'\nEnvironment="DEEPDREAM_MODELS={os.environ["DEEPDREAM_MODELS"]}"\n' in unit
    for line in (
        "Type=notify",
        "NotifyAccess=all",
        "Restart=always",
        "WatchdogSignal=SIGTERM",
        f"WatchdogSec={math.ceil(quiet_at_most(30))}",
        "WantedBy=default.target",
    ):
        assert f"\n{line}\n" in unit
    # systemd's watchdog waits out deepdream's own: a hang noticed, the longest wait, the next run's first frame
    assert quiet_at_most(30) > 30 + RESTART_WAIT_MAX_S + FIRST_FRAME_S


def test_the_configs_watchdog_sets_the_units(show, home):
    show.write_text(SHOW + "watchdog = 12.5\n")
    main(["service", "install", "--config", str(show), "--name", "hall-2"])
    unit = (home / "deepdream-hall-2.service").read_text()
    assert '"--watchdog" "12.5"' in unit and f"\nWatchdogSec={math.ceil(quiet_at_most(12.5))}\n" in unit


@pytest.mark.child
@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
def test_systemd_reads_the_unit_without_a_complaint(show, home, tmp_path):
    main(["service", "install", "--config", "show.toml"])
    checked = subprocess.run(
        [ANALYZE, "verify", str(home / "deepdream-show.service")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": os.defpath},
    )
    assert checked.returncode == 0 and not checked.stdout + checked.stderr, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "flags, error",
    [
        (["--name", "my show"], "service name 'my show': use letters"),
        (["--name", "../x"], "service name '../x'"),
        (["--name=-x"], "service name '-x'"),
        (["--name", "a@b"], "service name 'a@b'"),
        (["--config", "missing.toml"], "config file not found"),
        (["--config", "broken.toml"], "is not valid TOML"),
        (["--config", "unknown.toml"], "unknown setting 'colour'"),
        (["--config", "nomodel.toml"], "no model named"),
        (["--config", "scene.toml"], "scene model '/nowhere/x.onnx' not found"),
        (["--config", "nosource.toml"], "source 'gone.mp4' not found"),
        (["--config", "nofolder.toml"], "cannot write nowhere/x.mp4"),
        (["--config", "nostill.toml"], "[schedule] still"),
    ],
)
def test_a_bad_name_or_config_is_one_line_and_writes_nothing(show, home, capsys, flags, error):
    Path("broken.toml").write_text("size = \n")
    Path("unknown.toml").write_text(SHOW + "colour = 3\n")
    Path("nomodel.toml").write_text(SHOW + 'model = "mixed9"\n')
    # what live would refuse at its start (a unit would restart it every few seconds), refused at install
    Path("scene.toml").write_text(SHOW + '[[scene]]\nname = "a"\nduration = 10\nmodel = "/nowhere/x.onnx"\n')
    Path("nosource.toml").write_text(SHOW.replace('"synthetic"', '"gone.mp4"'))
    Path("nofolder.toml").write_text(SHOW + 'record = "nowhere/x.mp4"\n')
    Path("nostill.toml").write_text(SHOW + '[schedule]\noutside = "still"\nstill = "closed.png"\n')
    argv = ["service", "install", *(flags if "--config" in flags else ["--config", "show.toml", *flags])]
    assert main(argv) == 2
    lines = said(capsys)
    assert len(lines) == 1 and lines[0].startswith("deepdream service: error: ") and error in lines[0], lines
    assert not home.exists()


def test_a_unit_not_written_here_is_replaced_only_with_force_and_never_removed(show, home, capsys):
    home.mkdir(parents=True)
    theirs = home / "deepdream-show.service"
    theirs.write_text("[Service]\nExecStart=/bin/true\n")
    assert main(["service", "install", "--config", "show.toml"]) == 2
    assert "not written by deepdream service install; --force replaces it" in said(capsys)[-1]
    assert main(["service", "remove", "--name", "show"]) == 2
    assert theirs.read_text() == "[Service]\nExecStart=/bin/true\n"
    main(["service", "install", "--config", "show.toml", "--force"])
    assert "realtime.cli" in theirs.read_text()


def test_remove_deletes_only_ours(show, home, capsys):
    main(["service", "install", "--config", "show.toml"])
    main(["service", "install", "--config", "show.toml", "--name", "other"])
    (home / "deepdream-theirs.service").write_text("[Service]\nExecStart=/bin/true\n")
    assert main(["service", "remove"]) == 2  # two of ours: which?
    assert "2 services are installed (deepdream-other, deepdream-show): choose one with --name" in said(capsys)[-1]
    assert main(["service", "remove", "--name", "show"]) == 0
    assert main(["service", "remove"]) == 0  # the only one of ours left
    assert sorted(p.name for p in home.iterdir()) == ["deepdream-theirs.service"]
    assert main(["service", "status"]) == 4
    assert said(capsys)[-1] == f"deepdream service: no deepdream service is installed (none in {home})"


def test_status_without_systemctl_says_so_in_one_line(show, home, capsys):
    assert main(["service", "status", "--name", "show"]) == 4
    assert said(capsys) == [
        (f"deepdream service: no service deepdream-show is installed (no {home / 'deepdream-show.service'})")
    ]
    main(["service", "install", "--config", "show.toml"])
    capsys.readouterr()
    assert main(["service", "status"]) == 1
    assert said(capsys) == [
        (
            f"deepdream service: deepdream-show is installed ({home / 'deepdream-show.service'}); "
            "systemctl is not on PATH, so whether it runs is unknown"
        )
    ]


@pytest.mark.child
def test_systemctl_is_asked_to_reload_enable_start_report_stop_and_disable(show, systemctl, home, capsys):
    assert main(["service", "install", "--config", "show.toml", "--start"]) == 0
    assert "deepdream service: systemctl --user restart deepdream-show" in said(capsys)
    assert main(["service", "status"]) == 0
    assert capsys.readouterr().out == (
        "deepdream-show: active (running), since Mon 2025-01-06 10:00:00 UTC, pid 42, "
        "2 restarts, run 2 in 1 s: the loop exited with status 1\n"
    )
    assert main(["service", "remove"]) == 0 and not home.joinpath("deepdream-show.service").exists()
    assert systemctl.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable deepdream-show",
        "--user restart deepdream-show",
        "--user show deepdream-show --property=ActiveState,SubState,ActiveEnterTimestamp,MainPID,NRestarts,StatusText",
        "--user stop deepdream-show",
        "--user disable deepdream-show",
        "--user daemon-reload",
    ]


@pytest.mark.child
def test_without_a_user_manager_the_unit_is_enabled_for_its_next_start(show, systemctl, home, capsys, monkeypatch):
    monkeypatch.setenv("SYSTEMCTL_FAIL", "daemon-reload,restart,show,stop")  # enable and disable work on files
    assert main(["service", "install", "--config", "show.toml"]) == 0
    assert said(capsys)[-1] == (
        "deepdream service: no systemd user manager answers here (Failed to connect to bus: "
        "No medium found): deepdream-show is enabled for its next start; then: "
        "systemctl --user start deepdream-show"
    )
    assert main(["service", "install", "--config", "show.toml", "--start"]) == 1  # asked to start: it could not
    assert main(["service", "status"]) == 1
    assert said(capsys)[-1].endswith("no systemd user manager answers here (Failed to connect to bus: No medium found)")
    assert main(["service", "remove"]) == 0 and not list(home.glob("*.service"))


def test_macos_gets_a_launchd_agent_printed(show, home, capsys, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert main(["service", "install", "--config", "show.toml"]) == 0
    agent = plistlib.loads(capsys.readouterr().out.encode())
    assert agent["ProgramArguments"] == [
        sys.executable,
        "-m",
        "realtime.cli",
        "live",
        "--config",
        str(show),
        "--watchdog",
        "30",
    ]
    assert agent["KeepAlive"] is True and agent["RunAtLoad"] is True and agent["Label"] == "deepdream-show"
    assert agent["WorkingDirectory"] == str(show.parent) and not home.exists()


def test_windows_gets_a_task_scheduler_command_printed(tmp_path, tiny_store, home, capsys, monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    (tmp_path / "hall 1").mkdir()
    monkeypatch.chdir(tmp_path / "hall 1")
    Path("show.toml").write_text(SHOW)
    assert main(["service", "install", "--config", "show.toml"]) == 0
    line = capsys.readouterr().out.strip()
    assert line == (
        f'schtasks /Create /TN deepdream-show /SC ONLOGON /TR "cmd /c cd /d \\"{tmp_path}/hall 1\\" && '
        f'\\"{sys.executable}\\" \\"-m\\" \\"realtime.cli\\" \\"live\\" \\"--config\\" '
        f'\\"{tmp_path}/hall 1/show.toml\\" \\"--watchdog\\" \\"30\\"" /F'
    )
    (tmp_path / "a&b").mkdir()
    monkeypatch.chdir(tmp_path / "a&b")
    Path("show.toml").write_text(SHOW)
    assert main(["service", "install", "--config", "show.toml"]) == 2  # cmd.exe would split the line at the &
    assert "which a Task Scheduler command line cannot carry" in said(capsys)[-1] and not home.exists()


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    """A datagram socket where systemd's would be (in the abstract namespace), named in NOTIFY_SOCKET."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(f"\0deepdream-test-{os.getpid()}-{tmp_path.name}")
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + sock.getsockname()[1:].decode())
        yield sock


def test_the_heartbeat_tells_systemd_ready_then_alive_but_not_while_a_dream_is_stuck(notify_socket, tmp_path):
    beat = tmp_path / "beat"
    beat.write_bytes(b"")
    dream = SimpleNamespace(updates=1, since=None)
    dream.dreaming_since = lambda: dream.since
    heart = Heartbeat(beat, every_s=0.0)
    heart.watch(dream)
    heart.write(None)
    heart.write(None)
    notify_socket.setblocking(False)  # a datagram is queued by the time sendto returns: none to wait for
    assert [notify_socket.recv(64) for _ in range(3)] == [b"READY=1", b"WATCHDOG=1", b"WATCHDOG=1"]
    dream.since = time.monotonic() - DREAM_GRACE_S - 30  # stuck: systemd hears nothing, as the supervisor sees
    heart.write(None)
    with pytest.raises(BlockingIOError):
        notify_socket.recv(64)
    heart.close()


def test_a_systemd_that_went_away_never_stops_the_heartbeat(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    beat = tmp_path / "beat"
    beat.write_bytes(b"")
    heart = Heartbeat(beat, every_s=0.0)
    heart.write(None)
    heart.write(None)
    assert caplog.text.count("cannot tell systemd READY") == 1 and "WATCHDOG" not in caplog.text  # said once


@pytest.mark.child
def test_the_units_command_runs_a_show_that_tells_systemd_it_is_up(show, home, notify_socket):
    main(["service", "install", "--config", "show.toml"])
    unit = (home / "deepdream-show.service").read_text()
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart=").replace("%%", "%").replace("$$", "$"))  # as systemd splits it
    folder = next(x for x in unit.splitlines() if x.startswith("WorkingDirectory=")).split("=", 1)[1]
    assert folder.replace("%%", "%") == str(show.parent)
    proc = spawn(argv, cwd=show.parent, stderr=subprocess.PIPE)
    try:
        notify_socket.settimeout(300)  # a wait for the message, not a guess at how long it takes
        assert notify_socket.recv(64) == b"READY=1"
        assert notify_socket.recv(64) == b"WATCHDOG=1"
    finally:
        proc.send_signal(signal.SIGTERM)  # systemctl stop
        rest = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130 and "Traceback" not in rest, rest
