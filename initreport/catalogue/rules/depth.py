"""The depth study's rule: at the deepest depth, He trains and √(1/fan-in) stalls."""

from __future__ import annotations

from dataclasses import dataclass

from ...fmt import pct
from ..model import Experiment, Verdict
from ..readers import loss_drop
from .base import rule
from .compare import Spec, combine, comparison_verdict, decided, run_families


@dataclass(frozen=True)
class Drops:
    he: float                # share of the initial training loss removed: ReLU, He
    lecun: float             # ReLU, √(1/fan-in)
    glorot: float            # tanh, Glorot
    small: float             # tanh, small random


@dataclass(frozen=True)
class DepthNumbers:
    drops: Drops             # at the deepest depth
    depth: int               # the deepest depth


# Which run of the deepest depth each Drops field reads: (activation, initialiser).
_PAIRS = {"he": ("relu", "he_normal"), "lecun": ("relu", "lecun_normal"),
          "glorot": ("tanh", "glorot_normal"), "small": ("tanh", "small_random")}


def depth_specs(exp: Experiment) -> list[Spec]:
    """He against √(1/fan-in) (ReLU) and Glorot against small random (tanh) on the final training loss at
    every depth; those at the deepest depth decide, the others are context."""
    deepest = max(r.config.depth for r in exp.select("depth"))
    specs = []
    for depth in sorted({r.config.depth for r in exp.select("depth")}):
        for act, a_init, b_init in (("relu", "he_normal", "lecun_normal"), ("tanh", "glorot_normal", "small_random")):
            a = exp.one("depth", activation=act, init=a_init, depth=depth)
            b = exp.one("depth", activation=act, init=b_init, depth=depth)
            specs.append(Spec(a, b, "train_loss_after_budget", control=a, deciding=depth == deepest, depth=depth))
    return specs


@rule("depth", roles=("depth",), numbers=DepthNumbers)
def rule_depth(exp: Experiment, res: dict) -> Verdict:
    """The depth study: at the deepest depth, He trains and √(1/fan-in) stalls (and Glorot against small
    random with tanh), decided by paired intervals on the final training loss."""
    deepest = max(r.config.depth for r in exp.select("depth"))
    d = Drops(**{k: loss_drop(res[exp.one("depth", activation=act, init=init, depth=deepest)])
                 for k, (act, init) in _PAIRS.items()})
    made = run_families(res, depth_specs(exp))
    extra = (f"{deepest} layers, share of the initial training loss removed: ReLU He {pct(d.he)}, "
             f"ReLU √(1/fan-in) {pct(d.lecun)}; tanh Glorot {pct(d.glorot)}, tanh small random {pct(d.small)}")
    detail = (f"Rule: at {deepest} layers, He is compared with √(1/fan-in) (ReLU) and Glorot with small random "
              "weights (tanh) on the final training loss (one common learning rate, as in He et al. 2015); "
              "confirmed when both end lower and √(1/fan-in) removes under 10% of the initial loss (it stalls). "
              "The shallower depths are context.")
    checks = ((f"{deepest} layers: √(1/fan-in) removes under 10% of the loss (stalls)", d.lecun < 0.1),)
    status = combine(decided(made).status, d.lecun < 0.1)
    return comparison_verdict(made, extra, detail, DepthNumbers(d, deepest), status=status, checks=checks)
