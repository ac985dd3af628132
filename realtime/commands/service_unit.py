"""What `deepdream service install` writes or prints: a systemd user unit, a launchd agent (macOS) or a
Task Scheduler command (Windows). Each runs `live --config /abs/FILE.toml --watchdog N` with this Python
and this installation, in the folder it was installed from (where the config's relative paths point),
and starts it again when it ends.

systemd splits ExecStart= into words by its own rules: each word is written double-quoted with C escapes
for \\ and ", `%%` for a % (a specifier otherwise) and `$$` for a $ (a variable otherwise). Text with a
control character is refused: no one-line setting holds it.
"""

from __future__ import annotations

import math
import plistlib
import re
import sys
from pathlib import Path

from realtime.errors import UserError, shown
from realtime.run.watchdog import quiet_at_most

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # a unit, a launchd label, a task and a file name alike
MARK = "# Written by `deepdream service install`; `deepdream service remove` stops and deletes it."
RESTART_S = 5  # between a show that ended and its next start
CMD_SPECIAL = set('"%&|<>^')  # what cmd.exe would read in a task's command line


def unit_name(name: str) -> str:
    """`deepdream-NAME`, once NAME is one that systemd, launchd and Task Scheduler all take."""
    if not NAME.fullmatch(name):
        raise UserError(
            f"service name {shown(name)}: use letters, digits, '.', '_' and '-' (at most 100, "
            "starting with a letter or digit); choose one with --name"
        )
    return f"deepdream-{name}"


def command(config: Path, watchdog: float) -> list[str]:
    """The show as the service starts it: this Python (a virtual environment's, if any) and the config's
    absolute path; deepdream's own watchdog restarts a loop that hangs."""
    if not sys.executable:
        raise UserError("this Python does not know its own path; run deepdream from an installed Python")
    argv = [sys.executable, "-m", "realtime.cli", "live", "--config", str(config), "--watchdog", f"{watchdog:g}"]
    for word in argv:
        _printable(word)
    return argv


def _printable(text: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UserError(f"{shown(text)} has a control character; a service cannot name it: rename or move it")
    return text


def _quoted(text: str, variables: bool = True) -> str:
    """One systemd word. `variables`: $ is special there (ExecStart=), not in Environment=."""
    text = _printable(text).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return '"' + (text.replace("$", "$$") if variables else text) + '"'


def systemd_unit(name: str, argv: list[str], folder: Path, watchdog: float, env: dict[str, str]) -> str:
    """The unit file's text. systemd's watchdog (WatchdogSec) backs deepdream's up: it steps in only where the
    heartbeat stayed away longer than deepdream's watchdog needs to restart a loop."""
    quiet = math.ceil(quiet_at_most(watchdog))
    lines = [
        MARK,
        "[Unit]",
        f"Description=deepdream live show ({name})",
        "",
        "[Service]",
        "Type=notify",
        "# the loop, a child of deepdream's watchdog, sends READY=1 and WATCHDOG=1",
        "NotifyAccess=all",
        "ExecStart=" + " ".join(_quoted(word) for word in argv),
        "WorkingDirectory=" + _printable(str(folder)).replace("%", "%%"),
        *(f"Environment={_quoted(f'{key}={value}', variables=False)}" for key, value in env.items()),
        "Restart=always",
        f"RestartSec={RESTART_S}",
        f"WatchdogSec={quiet}",
        f"TimeoutStartSec={quiet}",
        "# stopped by the watchdog as by `systemctl stop`: the recording is finished, not cut",
        "WatchdogSignal=SIGTERM",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def launchd_plist(name: str, argv: list[str], folder: Path, env: dict[str, str]) -> bytes:
    """A launchd agent for ~/Library/LaunchAgents: started at login, started again whenever it ends."""
    agent = {
        "Label": name,
        "ProgramArguments": argv,
        "WorkingDirectory": str(folder),
        "RunAtLoad": True,
        "KeepAlive": True,
        "StandardErrorPath": str(Path.home() / "Library" / "Logs" / f"{name}.log"),
    }
    if env:
        agent["EnvironmentVariables"] = env
    return plistlib.dumps(agent)


def schtasks(name: str, argv: list[str], folder: Path) -> str:
    """The `schtasks` command that starts the show at logon, in `folder` (cmd's `cd /d`: a task has no
    folder of its own). Every word is quoted, so `&&` is read once, when the task runs."""
    for word in (str(folder), *argv):
        if CMD_SPECIAL & set(word):
            raise UserError(
                f"{shown(word)} has one of {''.join(sorted(CMD_SPECIAL))}, which a Task Scheduler "
                "command line cannot carry: rename or move it"
            )
    words = ["cmd", "/c", "cd", "/d", str(folder), "&&", *argv]
    line = " ".join(w if w in ("&&", "cmd", "/c", "cd", "/d") else f'\\"{w}\\"' for w in words)
    return f'schtasks /Create /TN {name} /SC ONLOGON /TR "{line}" /F'
