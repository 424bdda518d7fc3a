"""Build and preview the static MkDocs + Material site.

* :func:`build_site` builds with MkDocs' Python API into a temporary sibling directory and only
  then swaps it into place, so a failed or interrupted build never leaves a half-written site
  and the previous site survives a failure.
* :func:`serve` runs MkDocs' live-reloading preview server.

Publishing the built site is :mod:`initreport.publish`.

Every user-fixable failure is raised as a one-line :class:`~initreport.errors.InitReportError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import InitReportError

__all__ = ["build_site", "serve", "looks_like_site", "check_site_dir"]

CONFIG_NAME = "mkdocs.yml"
_MKDOCS_LOGGER = "mkdocs"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _mkdocs_env() -> None:
    # Material >= 9.7 prints a multi-line MkDocs-2.0 banner on import unless this is set.
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


class _Capture(logging.Handler):
    """Keeps every WARNING-or-worse record MkDocs logs, for one-line error messages."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> list[str]:
        out = []
        for r in self.records:
            if r.levelno >= level:
                try:
                    out.append(_one_line(r.getMessage()))
                except Exception:  # a plugin's malformed log call must not hide the real error
                    out.append(_one_line(r.msg))
        return out


@contextmanager
def _mkdocs_logging(quiet: bool) -> Iterator[_Capture]:
    """Route MkDocs' logger to a capture handler (and to stderr unless quiet), then restore."""
    logger = logging.getLogger(_MKDOCS_LOGGER)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    capture = _Capture()
    logger.addHandler(capture)
    logger.propagate = False
    stream = None
    if quiet:
        # WARNING must still reach the logger: strict mode counts warnings with a handler.
        logger.setLevel(logging.WARNING)
    else:
        logger.setLevel(logging.INFO)
        if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                   for h in saved[2]):
            stream = logging.StreamHandler(sys.stderr)
            stream.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
            logger.addHandler(stream)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        if stream is not None:
            logger.removeHandler(stream)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _nav() -> list:
    """The site's nav, from the page registry (mkdocs.yml has none)."""
    from .pages import nav
    return nav()


def looks_like_site(path: Path) -> bool:
    """True if ``path`` holds a MkDocs build (``sitemap.xml`` or the search index)."""
    return (path / "sitemap.xml").is_file() or (path / "search" / "search_index.json").is_file()


def _is_within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_site_dir(project_dir: Path, site_dir: Path | None = None) -> Path:
    """The resolved site directory, or an InitReportError if a build may not write there.

    Called before any work starts, so a refused site directory costs nothing.
    """
    project_dir = Path(project_dir).resolve()
    site_dir = Path(site_dir) if site_dir is not None else project_dir / "site"
    if not site_dir.is_absolute():
        site_dir = Path.cwd() / site_dir
    site_dir = site_dir.resolve()
    _check_site_dir(site_dir, project_dir, project_dir / "docs")
    return site_dir


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(site_dir: Path) -> None:
    """Remove build/backup directories left by a build that was killed (their writer is gone)."""
    for kind in ("building", "old"):
        for path in site_dir.parent.glob(f".{site_dir.name}.{kind}-*"):
            pid = path.name.split(f".{kind}-", 1)[1].split("-", 1)[0]
            # Never through a link: a planted ".site.old-1-x -> /elsewhere" is left alone.
            if pid.isdigit() and not _pid_alive(int(pid)) and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)


def _check_site_dir(site_dir: Path, project_dir: Path, docs_dir: Path) -> None:
    if _is_within(project_dir, site_dir):
        raise InitReportError(
            f"site directory {site_dir} contains the project {project_dir}; choose a separate directory"
        )
    if _is_within(site_dir, docs_dir) or _is_within(docs_dir, site_dir):
        raise InitReportError(
            f"site directory {site_dir} overlaps the docs directory {docs_dir}; choose a separate directory"
        )
    if site_dir.exists() or site_dir.is_symlink():
        if not site_dir.is_dir() or site_dir.is_symlink():
            raise InitReportError(f"site path {site_dir} exists and is not a directory; move it away")
        if any(site_dir.iterdir()) and not looks_like_site(site_dir):
            raise InitReportError(
                f"refusing to replace {site_dir}: it is not empty and does not look like a MkDocs "
                "site (no sitemap.xml or search/search_index.json); move it away or pick another site directory"
            )


def _build_error(exc: BaseException, capture: _Capture, strict: bool) -> InitReportError:
    from mkdocs.exceptions import Abort, ConfigurationError

    errors = capture.messages(logging.ERROR)
    warnings = [m for m in capture.messages() if m not in errors]
    if isinstance(exc, ConfigurationError) or (errors and errors[0].startswith("Config value")):
        detail = errors[0] if errors else _one_line(exc)
        return InitReportError(f"invalid mkdocs configuration: {detail}")
    if errors:
        more = f" (+{len(errors) - 1} more errors)" if len(errors) > 1 else ""
        return InitReportError(f"site build failed: {errors[0]}{more}")
    if isinstance(exc, Abort) and strict and warnings:
        more = f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""
        return InitReportError(
            f"site build failed in strict mode (warnings are errors): {warnings[0]}{more}"
        )
    text = _one_line(exc) or type(exc).__name__
    if not isinstance(exc, (Abort, InitReportError)):
        text = f"{type(exc).__name__}: {text}"
    return InitReportError(f"site build failed: {text}")


def build_site(
    project_dir: Path, site_dir: Path | None = None, *, strict: bool = True, quiet: bool = True
) -> Path:
    """Build the site described by ``project_dir/mkdocs.yml`` and return the site directory.

    ``site_dir`` defaults to the config's ``site_dir`` (``site`` next to mkdocs.yml). The build
    goes into a fresh temporary sibling of ``site_dir``; only a complete build replaces the old
    site (old -> backup, new -> ``site_dir``, backup removed). Only directories created here are
    ever deleted, and an existing non-empty ``site_dir`` that is not a MkDocs site is refused.
    With ``strict`` every MkDocs warning fails the build. MkDocs' log stays silent unless
    ``quiet`` is False.
    """
    _mkdocs_env()
    project_dir = Path(project_dir).resolve()
    config_file = project_dir / CONFIG_NAME
    if not config_file.is_file():
        raise InitReportError(f"no {CONFIG_NAME} in {project_dir}; run this from the project directory")

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    tmp: Path | None = None
    with _mkdocs_logging(quiet) as capture:
        try:
            config = load_config(config_file=str(config_file), strict=strict, nav=_nav())
            if strict and capture.records:
                raise _build_error(RuntimeError("configuration warnings"), capture, strict)
            site_dir = Path(site_dir if site_dir is not None else config.site_dir)
            if not site_dir.is_absolute():
                site_dir = Path.cwd() / site_dir
            site_dir = site_dir.resolve()
            _check_site_dir(site_dir, project_dir, Path(config.docs_dir).resolve())
            site_dir.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temporaries(site_dir)
            tmp = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.building-{os.getpid()}-", dir=site_dir.parent))
            tmp.chmod(0o755)  # mkdtemp makes 0700; a published site must be world-readable
            config.site_dir = str(tmp)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                # Markdown extensions resolve relative paths (pymdownx.snippets' base_path:
                # the glossary in includes/) against the working directory.
                with contextlib.chdir(project_dir):
                    build(config, dirty=False)
            finally:
                config.plugins.on_shutdown()
        except InitReportError as exc:
            _discard(tmp)
            if capture.messages(logging.ERROR):  # e.g. bad LaTeX: MkDocs' record names the page
                raise _build_error(exc, capture, strict) from exc
            raise
        except OSError as exc:
            _discard(tmp)
            raise InitReportError(f"site build failed: {_one_line(exc)}") from exc
        except Exception as exc:
            _discard(tmp)
            raise _build_error(exc, capture, strict) from exc
        except BaseException:  # KeyboardInterrupt, SystemExit: clean up, keep the old site
            _discard(tmp)
            raise
    try:
        _swap_into_place(tmp, site_dir)
    except BaseException as exc:
        _discard(tmp)
        if isinstance(exc, OSError):
            raise InitReportError(f"could not move the new site into {site_dir}: {_one_line(exc)}") from exc
        raise
    return site_dir


def _discard(path: Path | None) -> None:
    """Remove a directory this module created (never anything else)."""
    if path is not None and path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _swap_into_place(new: Path, site_dir: Path) -> None:
    if not (site_dir.exists() or site_dir.is_symlink()):
        os.replace(new, site_dir)
        return
    backup_root = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.old-{os.getpid()}-", dir=site_dir.parent))
    old = backup_root / "site"
    os.replace(site_dir, old)
    try:
        os.replace(new, site_dir)
    except BaseException:
        os.replace(old, site_dir)  # put the previous site back
        backup_root.rmdir()
        raise
    shutil.rmtree(backup_root, ignore_errors=True)


def serve(project_dir: Path, dev_addr: str = "127.0.0.1:8000") -> None:
    """Live preview of ``project_dir/mkdocs.yml`` (rebuilds on change) until Ctrl-C."""
    _mkdocs_env()
    project_dir = Path(project_dir).resolve()
    config_file = project_dir / CONFIG_NAME
    if not config_file.is_file():
        raise InitReportError(f"no {CONFIG_NAME} in {project_dir}; run this from the project directory")
    from mkdocs.commands.serve import serve as mkdocs_serve

    with _mkdocs_logging(quiet=False) as capture:
        try:
            with contextlib.chdir(project_dir):  # relative snippet paths, as in build_site
                mkdocs_serve(config_file=str(config_file), dev_addr=dev_addr, livereload=True, nav=_nav())
        except (KeyboardInterrupt, SystemExit):
            raise
        except OSError as exc:
            raise InitReportError(f"cannot serve on {dev_addr}: {_one_line(exc)}") from exc
        except Exception as exc:
            raise _build_error(exc, capture, strict=False) from exc
