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
    matrix: bool = False     # its "matrix" runs are the site's technique × activation matrix

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

    def verdict(self, results: dict) -> "Verdict":
        """Its rule's verdict on ``results`` ({Run: result}): :func:`initreport.catalogue.rules.judge`."""
        from .rules import judge
        return judge(self, results)

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles of its runs, in first-seen order."""
        return tuple(dict.fromkeys(r.role for r in self.runs))

    def counterpart(self, run: Run, role: str, *, ignore: tuple = ()) -> Run | None:
        """The run with ``role`` whose config equals ``run``'s in every field but ``ignore``."""
        def key(r: Run) -> dict:
            return {k: v for k, v in r.config.__dict__.items() if k not in ignore}
        found = [r for r in self.select(role) if key(r) == key(run)]
        return found[0] if found else None


# The verdict statuses, in the order the site lists them. "inconclusive": the measurements cannot
# separate what the claim separates (intervals that include no difference, a control that does
# not train), shown as such on the site.
STATUSES = ("confirmed", "partly confirmed", "refuted", "inconclusive")


@dataclass(frozen=True)
class Verdict:
    """What a rule concluded from the measurements.

    ``numbers`` is an instance of the frozen dataclass the rule declares (see
    :func:`initreport.catalogue.rules.rule`); templates read its fields by name.
    """
    status: str              # one of STATUSES
    measured: str            # the number behind the verdict, in one line
    detail: str              # what was compared, and the threshold the rule used
    numbers: object = None
    checks: tuple = ()       # ((what the rule required, whether it held), ...), in the rule's order
    comparisons: tuple = ()  # verdicts.json records of its comparisons (protocol.comparison_record)
    reason: str = ""         # how the comparisons decided the status (protocol.decide_claim)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"verdict status {self.status!r} is not one of {', '.join(STATUSES)}")
