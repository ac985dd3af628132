"""The README's commands against the parser: every flag a `deepdream` command there uses exists for its
subcommand, every concrete example parses, a default a synopsis shows (`[--steps 100]`) is the parser's,
and the models its examples name are ones it tells how to export. (The flag tables: test_params.py.)"""

import re
import shlex
from pathlib import Path

import pytest

from realtime.parser import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands() -> list[str]:
    """Each `deepdream ...` command of the README: fenced lines (a synopsis's continuation lines joined to
    it), and inline code spans, comments and shell pipes cut off."""
    found = []
    for block in re.findall(r"^\s*```[a-z]*\n(.*?)^\s*```", README, re.S | re.M):
        command = None
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("deepdream "):
                found.append(line)
                command = len(found) - 1
            elif command is not None and line.startswith(("[", "--")):
                found[command] += " " + line  # a synopsis goes on over several lines
    found += re.findall(r"`(deepdream [^`]+)`", README)
    return [c.split(" | ")[0].split(" && ")[0] for c in found]


COMMANDS = _commands()
SYNOPSES = [c for c in COMMANDS if "[" in c or "..." in c or "|" in c]
# Whole commands, not a synopsis with FILE or NAME in it, nor a span naming a command (`deepdream render --ray`)
EXAMPLES = [c for c in COMMANDS if c not in SYNOPSES and not re.search(r"[A-Z]{3,}", c) and len(c.split()) >= 4]


def _subparser(command: str):
    words = command.split()
    parser = build_parser().commands[words[1]]
    verbs = next((a.choices for a in parser._actions if isinstance(a.choices, dict)), {})  # subcommands
    return verbs.get(words[2], parser) if len(words) > 2 else parser  # `service install`: the verb's flags


def test_the_readme_has_commands_to_check():
    assert len(SYNOPSES) >= 6 and len(EXAMPLES) >= 5


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_the_readme_uses_exists(command):
    known = {s for a in _subparser(command)._actions for s in a.option_strings}
    used = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", command))
    assert used <= known, f"{command!r}: {sorted(used - known)} not a flag of deepdream {command.split()[1]}"


@pytest.mark.parametrize("command", EXAMPLES)
def test_every_example_parses(command):
    build_parser().parse_args(shlex.split(command)[1:])  # argparse exits (a failure here) on a bad one


def _default(action) -> str | None:
    """The parser's default as the README writes it; a --model's from its help (the store picks it later)."""
    if action.default is None:
        named = re.search(r"\(default: ([\w.]+)", action.help or "")
        return named.group(1) if named else None
    value = action.default
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def _same(default: str, value: str) -> bool:
    if re.fullmatch(r"[0-9.]+", value) and re.fullmatch(r"[0-9.]+", default):
        return float(default) == float(value)
    return default == value


@pytest.mark.parametrize("command", SYNOPSES)
def test_a_default_a_synopsis_shows_is_the_parsers(command):
    actions = {s: a for a in _subparser(command)._actions for s in a.option_strings}
    for flag, value in re.findall(r"(--[a-z][a-z0-9-]*) ([a-z0-9][a-z0-9_.,:]*)(?=[\]\s]|$)", command):
        if flag in actions and not isinstance(actions[flag].default, bool) and _default(actions[flag]) is not None:
            default = _default(actions[flag])
            assert _same(default, value), (
                f"{command!r}: the README shows {flag} {value}, the parser's default is {default}"
            )


def test_the_playlist_example_names_models_the_readme_exports():
    toml = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    for name in re.findall(r'^\s*model = "([^"]+)"', toml, re.M):
        layers = name.replace("_", ",")
        assert f"deepdream export --layers {layers}" in README, f"the playlist's model {name} is made nowhere"
