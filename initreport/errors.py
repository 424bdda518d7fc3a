"""The one exception type the CLI turns into a one-line message."""


class InitReportError(Exception):
    """A problem the user can fix: bad input, a broken file, an unwritable directory.

    The message is one line that names the bad value and what is allowed.
    """


def choice_error(kind: str, value: object, allowed) -> InitReportError:
    """An error for an unknown name, listing the names that exist."""
    names = ", ".join(sorted(allowed))
    return InitReportError(f"unknown {kind} {value!r}; choose one of: {names}")
