"""The depth study's rule: at the deepest depth, He trains and √(1/n_in) stalls."""

from __future__ import annotations

from dataclasses import dataclass

from ...fmt import pct
from ..model import Experiment, Verdict
from ..readers import loss_drop
from .base import rule, verdict


@dataclass(frozen=True)
class Drops:
    he: float                # share of the initial training loss removed: ReLU, He
    lecun: float             # ReLU, √(1/n_in)
    glorot: float            # tanh, Glorot
    small: float             # tanh, small random


@dataclass(frozen=True)
class DepthNumbers:
    drops: Drops             # at the deepest depth
    depth: int               # the deepest depth


# Which run of the deepest depth each Drops field reads: (activation, initialiser).
_PAIRS = {"he": ("relu", "he_normal"), "lecun": ("relu", "lecun_normal"),
          "glorot": ("tanh", "glorot_normal"), "small": ("tanh", "small_random")}


@rule("depth", roles=("depth",), numbers=DepthNumbers)
def rule_depth(exp: Experiment, res: dict) -> Verdict:
    """The depth study: at the deepest depth, He trains and √(1/n_in) stalls."""
    deepest = max(r.config.depth for r in exp.select("depth"))
    d = Drops(**{k: loss_drop(res[exp.one("depth", activation=act, init=init, depth=deepest)])
                 for k, (act, init) in _PAIRS.items()})
    ok = d.he > 0.3 and d.lecun < 0.1
    measured = (f"{deepest} layers, share of the initial training loss removed: ReLU He {pct(d.he)}, "
                f"ReLU √(1/n_in) {pct(d.lecun)}; tanh Glorot {pct(d.glorot)}, tanh small random {pct(d.small)}")
    detail = (f"Rule: confirmed when at {deepest} layers He removes over 30% of the initial loss and √(1/n_in) "
              "under 10% (it stalls); partly when He trains but √(1/n_in) also does.")
    checks = ((f"{deepest} layers: He removes over 30% of the loss", d.he > 0.3),
              (f"{deepest} layers: √(1/n_in) removes under 10% (stalls)", d.lecun < 0.1))
    return verdict(ok, d.he > 0.3, measured, detail, checks, DepthNumbers(d, deepest))
