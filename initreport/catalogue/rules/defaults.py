"""Rule for the frameworks' default initialisations against the recommended heuristic."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...fmt import num, pct
from ..model import Experiment, Verdict
from ..readers import final, layer_means
from .base import rule, verdict

TOLERANCE = 0.03         # accuracy points a default may lose against the heuristic and still count as "as well"


@dataclass(frozen=True)
class DefaultsNumbers:
    accuracies: dict         # {Run: final test accuracy} of every run
    gaps: dict               # {Run: reference accuracy − its accuracy} of the pytorch and keras runs
    last_std: dict           # {Run: activation std of the last hidden layer at initialisation}
    tolerance: float


@rule("framework_defaults", roles=("pytorch", "keras", "reference"), numbers=DefaultsNumbers)
def rule_framework_defaults(exp: Experiment, res: dict) -> Verdict:
    """Each default within TOLERANCE of the heuristic trained at the same activation."""
    accs = {r: final(res[r]) for r in res}
    last_std = {r: (layer_means(res[r], "activation_std") or [math.nan])[-1] for r in res}
    gaps = {}
    for r in exp.select("pytorch") + exp.select("keras"):
        ref = exp.one("reference", activation=r.config.activation)
        gaps[r] = accs[ref] - accs[r]
    held = {r: math.isfinite(g) and g <= TOLERANCE for r, g in gaps.items()}
    parts = []
    for act in dict.fromkeys(r.config.activation for r in exp.runs):
        shown = [r for r in exp.runs if r.config.activation == act]
        parts.append(", ".join(f"{r.label} {pct(accs[r])}" for r in shown))
    measured = "test accuracy: " + "; ".join(parts) + (
        "; last hidden layer's activation std at initialisation: " +
        ", ".join(f"{r.label} {num(v)}" for r, v in last_std.items()))
    detail = (f"Rule: confirmed when every default's final test accuracy is within {pct(TOLERANCE, 0)} points of "
              "the recommended heuristic with the same activation; partly when some are.")
    checks = tuple((f"{r.label}: within {pct(TOLERANCE, 0)} points of the heuristic", ok) for r, ok in held.items())
    return verdict(all(held.values()), any(held.values()), measured, detail, checks,
                   DefaultsNumbers(accs, gaps, last_std, TOLERANCE))
