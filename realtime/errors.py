"""The one error type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Bad input or environment that the user can fix; str() is the whole message."""


def reason(exc: BaseException, limit: int = 160) -> str:
    """An exception in one line for a message: its first line (its type's name if it has no text)."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else type(exc).__name__
