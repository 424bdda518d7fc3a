"""The contract between the catalogue, the rules, the figures and the pages.

An :class:`Experiment` holds :class:`Run` objects. A run is *what it is* (its ``role`` in the
experiment and its :class:`~initreport.runner.RunConfig`); its ``label`` is display text only
and no code may parse it. Rules, figures and pages receive results as ``{Run: result dict}``
in the experiment's run order and select runs with :meth:`Experiment.select` by role and/or
config fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..runner import RunConfig


@dataclass(frozen=True)
class Run:
    role: str                # what the run is in its experiment ("subject", "reference", "narrow", ...)
    config: RunConfig
    label: str               # display text only: never parsed

    def matches(self, role: str | None = None, **fields) -> bool:
        if role is not None and self.role != role:
            return False
        return all(getattr(self.config, name) == value for name, value in fields.items())


@dataclass(frozen=True, kw_only=True)
class Experiment:
    id: str
    title: str
    claim: str               # the notes' claim, in the report's words
    source: str              # where in the notes
    page: str                # the page (registry key) that shows it
    measure: str             # what is measured
    runs: tuple              # (Run, ...)
    rule: str                # name of a registered rule
    figures: tuple = ()      # registered figure kinds the site draws for it

    def select(self, role: str | None = None, **fields) -> list[Run]:
        """The runs with this role and these config field values, in run order."""
        return [r for r in self.runs if r.matches(role, **fields)]

    def one(self, role: str | None = None, **fields) -> Run:
        found = self.select(role, **fields)
        if len(found) != 1:
            raise LookupError(f"experiment {self.id!r}: {len(found)} runs match role={role!r} {fields}")
        return found[0]

    @property
    def configs(self) -> list[RunConfig]:
        return [r.config for r in self.runs]
