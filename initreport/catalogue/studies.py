"""Two studies that go further than the notes: the weight-scale sweep and the depth study."""

from __future__ import annotations

import math

from .configs import digits
from .ids import ExpId
from .model import Experiment, Run
from .profiles import Profile


# The heuristics' gains: 1 (LeCun, the notes' "Xavier normal") and √2 (He). Where the sweep has them,
# they run with the comparison seeds, since the page compares √2 with 1 with intervals (explain.py).
HEURISTIC_GAINS = (1.0, math.sqrt(2.0))


def _sweep_seeds(p: Profile, gain: float) -> tuple:
    return p.cmp_seeds if any(math.isclose(gain, h, rel_tol=1e-9) for h in HEURISTIC_GAINS) else p.seeds


def _gain_label(gain: float) -> str:
    return "√2" if math.isclose(gain, math.sqrt(2.0), rel_tol=1e-9) else f"{gain}"


def weight_scale(p: Profile) -> Experiment:
    return Experiment(
        id=ExpId.SUMMARY, title="The spread of random weights must be neither too small nor too large",
        claim="Random weights are needed, but their spread must depend on the fan-in: too small and the signal "
              "vanishes, too large and it saturates or explodes; in between there is a good range.",
        source="Part 1, §5; part 2, §3", page="studies/weight-scale",
        measure="final training loss against the weight scale σ = gain/√n_in, gain from 0.001 to 10",
        runs=tuple(Run("sweep", digits(p, init="scaled_normal", init_params={"gain": g}, activation=act, depth=6,
                                       checkpoints=(), seeds=_sweep_seeds(p, g)), f"gain {_gain_label(g)}, {act}")
                   for act in ("tanh", "relu") for g in p.sweep_gains),
        rule="u_curve", figures=("sweep",))


def depth_study(p: Profile, depth: tuple) -> Experiment:
    return Experiment(
        id=ExpId.DEPTH_STUDY, title="Depth study: He et al. 2015 reproduced",
        claim="A 30-layer ReLU network stalls with √(1/n_in) and trains with He; tanh with Glorot against small "
              "random weights shows the same with depth.",
        source="He et al. 2015, Fig. 3; part 2, §6", page="studies/depth",
        measure=f"training-loss reduction against depth ({', '.join(map(str, p.depths))} layers)",
        runs=depth, rule="depth", figures=("depth",))
