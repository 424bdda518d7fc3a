"""What a build reports while it works: typed events, passed to one callback.

:func:`initreport.build.build` calls ``on_event(event)`` with one of the classes below; the
command line renders them (a progress bar at a terminal, plain lines otherwise, a summary at
the end) and never parses text. The ``detail`` strings are for display only.

Order: ``StageStarted("runs")``, one ``RunsResolved`` (what the cache already held), one
``RunFinished`` per stack trained; ``StageStarted("figures")``, ``FiguresDone``;
``StageStarted("pages")``, ``PagesWritten``; ``StageStarted("site")``, ``SiteBuilt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

STAGES = ("runs", "figures", "pages", "site")   # in this order; "runs" comes once per step of the runs


@dataclass(frozen=True)
class StageStarted:
    """A stage begins; ``total`` counts its units of work (runs, figures; 1 for the site; None if unknown)."""

    stage: str                   # one of STAGES
    total: int | None
    detail: str = ""             # e.g. "141 runs of 40 experiments (profile quick)"


@dataclass(frozen=True)
class RunsResolved:
    """The cache was consulted: of ``count`` runs, ``cached`` have a valid result already."""

    count: int
    cached: int
    discarded: int = 0           # corrupt or invalid cache entries thrown away (they rerun)


@dataclass(frozen=True)
class RunFinished:
    """One stack of ``runs`` configurations (``members`` networks) trained and stored."""

    runs: int
    members: int
    seconds: float
    stack: str                   # display text naming the stack's shape


@dataclass(frozen=True)
class FiguresDone:
    """Figures (one per experiment and kind) rendered now, and reused from the cache."""

    rendered: int
    reused: int


@dataclass(frozen=True)
class PagesWritten:
    count: int


@dataclass(frozen=True)
class SiteBuilt:
    path: Path


Event = Union[StageStarted, RunsResolved, RunFinished, FiguresDone, PagesWritten, SiteBuilt]
Callback = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The callback used when the caller passes none."""
