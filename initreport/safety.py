"""Safety rails: containment of every path the tool writes, the project lock, resource bounds.

* :func:`inside` is the one way to name a file the tool writes, replaces or deletes: a plain
  relative path under a root, where no component is ``..``, absolute, or a symbolic link
  that leads out of the root. Every write site (docs/ pages, figures and data, the cache,
  the figure cache, the lock) goes through it.
* :class:`ProjectLock` holds ``.initreport-cache/lock`` (``fcntl.flock``) for the length of a
  build, with the holder's PID in it, so a second build in the same project refuses at once.
* :func:`available_memory` and :func:`check_budget` refuse a job that cannot fit in memory
  and announce a long one before it starts.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import InitReportError, terminal_safe

LOCK_NAME = "lock"
# A job estimated to take longer than this is announced (and, at a terminal, confirmed).
LONG_JOB_SECONDS = 10 * 60


class UnsafePath(InitReportError):
    """A path that would lead a write, replace or delete out of its root."""


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def inside(root: Path, rel: str | PurePosixPath) -> Path:
    """``root / rel``, refused unless every component stays under ``root``.

    ``rel`` must be relative and plain (no ``..``, ``.``, empty or NUL components). A
    component that exists as a symbolic link is allowed only if it resolves inside ``root``;
    one that points out (``docs/figures -> /elsewhere``) raises :class:`UnsafePath` naming it.
    """
    root = Path(root)
    text = str(rel)
    parts = text.split("/")
    if text.startswith("/") or "\x00" in text or any(p in ("..", ".", "") for p in parts):
        raise UnsafePath(f"refusing the path {terminal_safe(repr(text))}: not a plain relative path under {root}")
    real_root = root.resolve()
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if not _within(target, real_root):
                raise UnsafePath(
                    f"{terminal_safe(current)} is a symbolic link to {terminal_safe(target)}, outside "
                    f"{terminal_safe(real_root)}; initreport writes there and will not follow it: "
                    "replace the link with a folder")
    return current


def check_folders(root: Path, rels) -> None:
    """Refuse, before any work, folders under ``root`` that lead out of it or are not folders."""
    for rel in rels:
        path = inside(root, rel)
        if path.exists() and not path.is_dir():
            raise InitReportError(f"{terminal_safe(path)} is not a folder; initreport writes generated files there")


# Names the tool itself generates: letters, digits, '_', '-', '.', never starting with a dot.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
FIGURE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.(svg|png)")
SHA256 = re.compile(r"[0-9a-f]{64}")


def plain_relative(text: object) -> bool:
    """True for 'a/b.md'-style paths made only of plain names (what a manifest may list)."""
    if not isinstance(text, str) or not text or len(text) > 512:
        return False
    parts = text.split("/")
    return all(_PLAIN_NAME.fullmatch(p) and ".." not in p for p in parts)


def plain_figure_name(text: object) -> bool:
    return isinstance(text, str) and ".." not in text and FIGURE_NAME.fullmatch(text) is not None


# ---------------------------------------------------------------------------------------
# The project lock


class ProjectLock:
    """An exclusive ``flock`` on ``<cache>/lock`` for one build; refuses at once if held.

    The lock belongs to the open file, so it is released by the kernel however the holder
    ends (kill -9 included); a stale file is never a problem. The file keeps the holder's
    PID while held, for the message of a refused second build.
    """

    def __init__(self, project_dir: Path, cache_name: str):
        self.project_dir = Path(project_dir)
        self.path = inside(self.project_dir, f"{cache_name}/{LOCK_NAME}")
        self.fd: int | None = None

    def __enter__(self) -> "ProjectLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise InitReportError(f"cannot create the lock file {terminal_safe(self.path)}: "
                                  f"{exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise InitReportError(f"cannot lock {terminal_safe(self.path)}: {exc.strerror}") from None
            who = f"PID {holder}" if holder else "another process"
            raise InitReportError(
                f"another initreport build ({who}) is running in {terminal_safe(self.project_dir)}; "
                f"wait for it to finish or stop it (lock: {terminal_safe(self.path)})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> bool:
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)
            except OSError:
                pass
            os.close(self.fd)                # closing releases the flock
            self.fd = None
        return False


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


# ---------------------------------------------------------------------------------------
# Resource bounds


def available_memory() -> int | None:
    """Bytes a new job may use: MemAvailable, capped by a cgroup (container) limit; None if unknown."""
    candidates = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError):
        pass
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            candidates.append(max(int(limit) - usage, 0))
        break
    return min(candidates) if candidates else None


def human_bytes(n: float) -> str:
    if n >= 2**60:
        try:
            return f"{n / 2**40:.2g} TiB"
        except OverflowError:
            return "10^300+ TiB"
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{max(n, 0) / 2**10:.0f} KiB"


def human_seconds(s: float) -> str:
    if s >= 1000 * 365 * 86400:
        return "over a thousand years"
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"
    return f"{s / 86400:.1f} days"


@dataclass(frozen=True)
class Plan:
    """What a job is estimated to need before it starts."""

    what: str              # "this run (100000 seeds × width 8 …)"
    bytes: int             # peak memory of all processes together
    seconds: float         # wall time
    hint: str = "use fewer seeds, a smaller width or depth"


def check_budget(plan: Plan, ask=None, available: int | None = None) -> None:
    """Refuse a plan that cannot fit in memory; announce (and ask about) a long one.

    ``ask(message) -> bool`` is called for a plan longer than :data:`LONG_JOB_SECONDS`
    (the CLI asks at a terminal, or prints the message and goes on); False stops the job.
    """
    available = available_memory() if available is None else available
    if available is not None and plan.bytes > available:
        raise InitReportError(
            f"{plan.what} needs about {human_bytes(plan.bytes)} of memory (estimated from the "
            f"configuration), more than the {human_bytes(available)} available; {plan.hint}")
    if plan.seconds > LONG_JOB_SECONDS and ask is not None:
        message = (f"{plan.what} is estimated to take about {human_seconds(plan.seconds)} "
                   f"and {human_bytes(plan.bytes)} of memory")
        if not ask(message):
            raise InitReportError(f"not started: {message}; pass --yes to start it without asking")
