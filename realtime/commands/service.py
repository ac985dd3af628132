"""`deepdream service install|status|remove`: a show that starts with the user's systemd (at boot, with
`loginctl enable-linger`), starts again when it ends, and that systemd watches through the loop's heartbeat.

`install` checks the config as `live` reads it (and its models) before writing anything, writes
~/.config/systemd/user/deepdream-NAME.service atomically (realtime.commands.service_unit), leaving a unit
it did not write alone unless --force, then runs `systemctl --user daemon-reload` and `enable` (and
`restart`, with --start), saying each. `systemctl --user enable` works on files alone: where no user
manager answers (a container, an ssh session without one) the unit is still enabled, and one line says
what to run once one does. On macOS and Windows it prints the launchd agent or the Task Scheduler command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from realtime.commands.service_unit import MARK, command, launchd_plist, schtasks, systemd_unit, unit_name
from realtime.errors import UserError, reason, shown
from realtime.files import write_atomic

DEFAULT_WATCHDOG_S = 30.0  # where the config sets no `watchdog`: a service is never unwatched
CARRIED = ("DEEPDREAM_MODELS",)  # where the models are, as this shell says: a service does not read its profile
NOT_FOUND = 4  # `status`, as systemctl: 0 active, 3 not active, 4 no such service


def unit_folder() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(config) if os.path.isabs(config) else Path.home() / ".config") / "systemd" / "user"


def install(config: str, name: str | None, force: bool = False, start: bool = False) -> int:
    path = Path(config).expanduser().absolute()
    unit = unit_name(path.stem if name is None else name)  # show.toml: deepdream-show
    watchdog = _checked_watchdog(path)
    argv, env = command(path, watchdog), {key: os.environ[key] for key in CARRIED if os.environ.get(key)}
    if sys.platform == "darwin":
        sys.stdout.buffer.write(launchd_plist(unit, argv, Path.cwd(), env))
        _say(
            f"save this as ~/Library/LaunchAgents/{unit}.plist, then: launchctl bootstrap gui/$(id -u) "
            f"~/Library/LaunchAgents/{unit}.plist"
        )
        return 0
    if sys.platform == "win32":
        print(schtasks(unit, argv, Path.cwd()))
        _say("run this in cmd.exe to start the show at each logon (the watchdog restarts a loop that stops)")
        return 0
    target = unit_folder() / f"{unit}.service"
    _refuse_foreign(target, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
    write_atomic(target, systemd_unit(unit, argv, Path.cwd(), watchdog, env).encode())
    _say(f"wrote {target}")
    return _enable(unit, target, start)


def _checked_watchdog(path: Path) -> float:
    """The config read and checked as `live --config` does (its models found), and its watchdog's seconds."""
    from realtime import config
    from realtime.parser import build_parser
    from realtime.store import find

    parser = build_parser()
    config.apply(parser.live_parser, path)
    config.check(path)
    args = parser.parse_args(["live", "--config", str(path)])
    for model in args.model or [None]:
        if not find(model).is_file():  # a path is taken as given; the show would stop at its first start
            raise UserError(f"{path}: model {shown(model)} not found (from {Path.cwd()})")
    _check_as_live(path, args)
    return args.watchdog or DEFAULT_WATCHDOG_S


def _check_as_live(path: Path, args: Any) -> None:
    """What `live` would refuse at its start, refused now: under Restart=always a show that cannot start would
    be started again every few seconds. The scenes' models, the schedule's still, a source file, the outputs."""
    from realtime.commands.live import options_from_args
    from realtime.commands.live_parts import models, playlist, schedule
    from realtime.commands.outputs import check_outputs
    from realtime.dream.settings import StreamSettings
    from realtime.files import check_writable
    from realtime.store import find

    options = options_from_args(args, tuple(find(m) for m in args.model or [None]))
    for model in models(options, playlist(options, StreamSettings.from_values(vars(args)))):
        if not Path(model).is_file():
            raise UserError(f"{path}: scene model {shown(str(model))} not found (from {Path.cwd()})")
    schedule(options)
    if options.source not in ("synthetic",) and not options.source.startswith("webcam:"):
        if not Path(options.source).exists() and not (options.fallback and Path(options.fallback).exists()):
            raise UserError(f"{path}: source {shown(options.source)} not found (from {Path.cwd()})")
    check_outputs(options)
    for output in (options.record, options.stats, options.log, options.event_log):
        if output is not None:
            check_writable(output, replacing="note: {path} exists; the show replaces it when it starts")


def _refuse_foreign(target: Path, force: bool) -> None:
    if target.exists() and not ours(target) and not force:
        raise UserError(f"{target} was not written by deepdream service install; --force replaces it")
    if target.exists():
        _say(f"replacing {target}")


def ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline(len(MARK) + 2).rstrip("\n") == MARK
    except OSError:
        return False


def _enable(unit: str, target: Path, start: bool) -> int:
    """Reload, enable, and with `start` restart (a running show takes the new unit); one line where systemd cannot."""
    then = f"systemctl --user daemon-reload && systemctl --user {'enable --now' if start else 'enable'} {unit}"
    if shutil.which("systemctl") is None:
        _say(f"systemctl is not on PATH (no systemd here): {target} is written; where systemd runs: {then}")
        return 1
    offline = _systemctl("daemon-reload")
    failed = _systemctl("enable", unit)
    if failed:
        _say(f"could not enable {unit} ({failed}); {target} is written: {then}")
        return 1
    if offline:
        _say(
            f"no systemd user manager answers here ({offline}): {unit} is enabled for its next start; "
            f"then: systemctl --user start {unit}"
        )
        return 1 if start else 0
    failed = _systemctl("restart", unit) if start else None
    if failed:
        _say(f"{unit} is enabled but did not start ({failed}): deepdream service status; journalctl --user -u {unit}")
        return 1
    _say(
        f"{unit} is enabled: it starts with your systemd user manager (at boot too after `loginctl enable-linger`)"
        + ("; started" if start else f"; start it now with systemctl --user start {unit}")
    )
    return 0


def status(name: str | None) -> int:
    """One line: the service's state, since when, its pid, systemd's restarts, and what the watchdog said last."""
    try:
        unit, target = _installed(name)
    except NotInstalled as exc:
        _say(str(exc))
        return NOT_FOUND
    if shutil.which("systemctl") is None:
        _say(f"{unit} is installed ({target}); systemctl is not on PATH, so whether it runs is unknown")
        return 1
    failed, said = _run(
        "show", unit, "--property=ActiveState,SubState,ActiveEnterTimestamp,MainPID,NRestarts,StatusText"
    )
    if failed:
        _say(f"{unit} is installed ({target}); no systemd user manager answers here ({failed})")
        return 1
    props = dict(line.split("=", 1) for line in said.splitlines() if "=" in line)
    state = props.get("ActiveState", "unknown")
    facts = [
        f"since {props['ActiveEnterTimestamp']}" if props.get("ActiveEnterTimestamp") else "",
        f"pid {props['MainPID']}" if props.get("MainPID", "0") != "0" else "",
        f"{props.get('NRestarts', '0')} restarts",
        props.get("StatusText", ""),
    ]
    print(f"{unit}: {state} ({props.get('SubState', '?')}), " + ", ".join(f for f in facts if f))
    return 0 if state == "active" else 3


def remove(name: str | None) -> int:
    """Stop, disable and delete a unit that `install` wrote (and none other), then reload."""
    unit, target = _installed(name)  # NotInstalled: a one-line error
    if not ours(target):
        raise UserError(f"{target} was not written by deepdream service install; it is left alone")
    if shutil.which("systemctl") is not None:
        stopped = _systemctl("stop", unit)
        failed = _systemctl("disable", unit)  # works on the files even where no user manager answers
        if failed:
            raise UserError(f"could not disable {unit} ({failed}); {target} is left in place")
        if stopped:
            _say(f"no systemd user manager answers here ({stopped}): nothing of it runs here to stop")
    target.unlink()
    _say(f"removed {target}")
    if shutil.which("systemctl") is not None:
        _systemctl("daemon-reload")
    return 0


class NotInstalled(UserError):
    """No unit of that name, or none that `install` wrote."""


def _installed(name: str | None) -> tuple[str, Path]:
    """The named unit, or the only one `install` wrote."""
    folder = unit_folder()
    if name is not None:
        unit = unit_name(name)
        if not (folder / f"{unit}.service").exists():
            raise NotInstalled(f"no service {unit} is installed (no {folder / f'{unit}.service'})")
        return unit, folder / f"{unit}.service"
    mine = sorted(p for p in folder.glob("deepdream-*.service") if ours(p))
    if not mine:
        raise NotInstalled(f"no deepdream service is installed (none in {folder})")
    if len(mine) > 1:
        names = ", ".join(p.stem for p in mine)
        raise UserError(f"{len(mine)} services are installed ({names}): choose one with --name")
    return mine[0].stem, mine[0]


def _systemctl(*args: str) -> str | None:
    """Run `systemctl --user ARGS`, saying so: None when it worked, else why not."""
    _say("systemctl --user " + " ".join(args))
    return _run(*args)[0]


def _run(*args: str) -> tuple[str | None, str]:
    """`systemctl --user ARGS`: (None, or why it failed in one line; what it printed)."""
    try:
        done = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return reason(exc), ""
    if done.returncode == 0:
        return None, done.stdout
    return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0][:160], done.stdout


def _say(line: str) -> None:
    print(f"deepdream service: {line}", file=sys.stderr, flush=True)
