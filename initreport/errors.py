"""The exception types the CLI turns into one-line messages, and terminal-safe text."""

from __future__ import annotations

import re
import signal


class InitReportError(Exception):
    """A problem the user can fix: bad input, a broken file, an unwritable directory.

    The message is one line that names the bad value and what is allowed.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so a build stops like it does on Ctrl-C.

    A subclass of KeyboardInterrupt, so every place that already cleans up after Ctrl-C
    (worker pools, threads, temporary site directories) does the same here.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum      # the shell's convention: 143 for SIGTERM, 129 for SIGHUP


def choice_error(kind: str, value: object, allowed) -> InitReportError:
    """An error for an unknown name, listing the names that exist."""
    names = ", ".join(sorted(allowed))
    return InitReportError(f"unknown {kind} {terminal_safe(repr(value))}; choose one of: {names}")


# C0 and C1 control characters, DEL, and the Unicode line/paragraph separators and bidi
# overrides that can rewrite what a terminal shows (ESC starts colour and cursor sequences).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``), so a file
    name or a CSV header cannot move the cursor, recolour the terminal or split a message."""
    def escape(m: re.Match) -> str:
        c = m.group()
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c) or (
            f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
    return _CONTROL.sub(escape, str(text))
