"""The rule registry: every verdict rule is registered by name with the roles it reads and
the dataclass its numbers come in.

A rule is ``fn(exp, results) -> Verdict`` where ``results`` is ``{Run: result dict}`` in the
experiment's run order. It selects runs by role and config fields (``exp.select``,
``exp.one``, ``exp.counterpart``), never by their labels, which it only prints.
"""

from __future__ import annotations

from dataclasses import dataclass, is_dataclass
from typing import Callable

from ..model import Experiment, Verdict


@dataclass(frozen=True)
class RuleSpec:
    name: str
    fn: Callable[[Experiment, dict], Verdict]
    roles: tuple             # roles the rule reads: each must be present in an experiment using it
    numbers: type            # the frozen dataclass of Verdict.numbers


RULES: dict[str, RuleSpec] = {}


def rule(name: str, *, roles: tuple, numbers: type):
    """Register ``fn`` as the verdict rule ``name`` (reading runs of ``roles``)."""
    if not (is_dataclass(numbers) and numbers.__dataclass_params__.frozen):
        raise TypeError(f"rule {name!r}: numbers must be a frozen dataclass, got {numbers!r}")

    def register(fn):
        if name in RULES:
            raise ValueError(f"rule {name!r} is registered twice ({RULES[name].fn.__module__}, {fn.__module__})")
        RULES[name] = RuleSpec(name, fn, tuple(roles), numbers)
        return fn

    return register


def judge(exp: Experiment, results: dict) -> Verdict:
    """The verdict of ``exp``'s rule on ``results`` ({Run: result})."""
    spec = RULES[exp.rule]
    out = spec.fn(exp, results)
    if not isinstance(out.numbers, spec.numbers):
        raise TypeError(f"rule {spec.name!r} returned numbers of type {type(out.numbers).__name__}, "
                        f"declared {spec.numbers.__name__}")
    return out


def verdict(ok: bool, partial: bool, measured: str, detail: str, checks, numbers) -> Verdict:
    status = "confirmed" if ok else ("partly confirmed" if partial else "refuted")
    return Verdict(status, measured, detail, numbers, tuple((text, bool(held)) for text, held in checks))


def results_of(exp: Experiment, results: dict, role: str, **fields) -> dict:
    """{Run: result} of the runs with this role (and config fields), in run order."""
    return {r: results[r] for r in exp.select(role, **fields)}
