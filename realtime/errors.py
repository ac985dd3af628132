"""The one error type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Bad input or environment that the user can fix; str() is the whole message."""


def shown(value, limit: int = 80) -> str:
    """A value as a message or log line quotes it: its repr (one line, control characters escaped), cut to
    `limit` characters and a count, since a request, a TOML value or a name may be 64 KB or 5000 characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def reason(exc: BaseException, limit: int = 160) -> str:
    """An exception in one line for a message: its first line (its type's name if it has no text)."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else type(exc).__name__
