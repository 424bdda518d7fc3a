"""Rules about symmetry: zero and constant weights, and zero biases."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...fmt import num, pct
from ..model import Experiment, Verdict
from ..readers import final, layer_max, mean
from ...protocol import Prediction
from .base import results_of, rule, verdict
from .compare import Spec, combine, comparison_verdict, cond, decided, run_families


@dataclass(frozen=True)
class FrozenNumbers:
    changes: dict            # {Run: largest |W_t − W_0| over hidden layers} of the zero-initialised runs
    accuracies: dict         # {Run: final test accuracy} of every run
    bias_moved: dict         # {Run: mean change of the output bias} of the zero-initialised runs


@rule("frozen", roles=("subject", "reference"), numbers=FrozenNumbers)
def rule_frozen(exp: Experiment, res: dict) -> Verdict:
    """Zero init: hidden weights never move (to the bit) and the net learns nothing."""
    frozen_runs = list(results_of(exp, res, "subject"))
    changes = {r: layer_max(res[r], "max_abs_change") for r in frozen_runs}
    accs = {r: final(res[r]) for r in res}
    bias_moved = {r: mean(res[r]["checkpoints"][-1]["output"]["bias_change"]) for r in frozen_runs}
    best_ref = max(accs[r] for r in exp.select("reference"))
    worst_zero = max(accs[r] for r in frozen_runs)
    frozen = all(v == 0 for v in changes.values())
    learned_nothing = worst_zero < 0.5 * best_ref
    measured = "; ".join(f"{r.label}: max |W_t − W_0| = {num(changes[r])}, test accuracy {pct(accs[r])}"
                         for r in frozen_runs) + f"; best reference {pct(best_ref)}"
    detail = ("Rule: confirmed when every hidden weight of the zero-initialised nets is unchanged to the "
              "bit after training and their accuracy is under half the reference's. The output bias "
              "still moves (largest change " + ", ".join(f"{r.label} {num(v)}" for r, v in bias_moved.items()) +
              "), so the net learns the class frequencies and nothing else.")
    checks = (("every hidden weight of the zero-initialised nets is unchanged to the bit", frozen),
              ("their accuracy is under half the reference's", learned_nothing))
    return verdict(frozen and learned_nothing, frozen or learned_nothing, measured, detail, checks,
                   FrozenNumbers(changes, accs, bias_moved))


@dataclass(frozen=True)
class SymmetryNumbers:
    spreads: dict            # {Run: largest relative unit spread after training} of the wide subject runs
    ranks: dict              # {Run: largest rank of a hidden W} of the wide subject runs
    accuracies: dict         # {Run: final test accuracy} of every run


MARGIN = 0.03   # "more units do not help": the wide net is not better than one unit per layer by over 3 points


def symmetry_specs(exp: Experiment) -> list[Spec]:
    """Per wide subject: wide against the same net with one unit per layer, "not better" by over
    MARGIN (one-sided: a wide net doing worse supports the claim); Glorot against the wide net, better."""
    specs = []
    for r in exp.select("subject"):
        twin = exp.counterpart(r, "narrow", ignore=("width",))   # the same net, one unit per layer
        if twin is not None:
            specs.append(Spec(r, twin, "heldout_accuracy", Prediction("not better", MARGIN),
                              a_name=cond(r, "width"), b_name=cond(twin, "width")))
        refs = exp.select("reference", activation=r.config.activation)
        if refs:
            specs.append(Spec(refs[0], r, "heldout_accuracy", control=refs[0], b_name=cond(r, "width")))
    return specs


@rule("symmetry", roles=("subject", "narrow", "reference"), numbers=SymmetryNumbers)
def rule_symmetry(exp: Experiment, res: dict) -> Verdict:
    """Units of a layer stay identical; the wide net does no better than a width-1 net."""
    subjects = list(results_of(exp, res, "subject"))
    spreads = {r: layer_max(res[r], "relative_unit_spread") for r in subjects}
    ranks = {r: layer_max(res[r], "rank") for r in subjects}
    accs = {r: final(res[r]) for r in res}
    identical = all(v < 1e-6 for v in spreads.values() if math.isfinite(v))
    made = run_families(res, symmetry_specs(exp))
    extra = ("largest unit spread (relative) " + ", ".join(f"{r.label}: {num(v)}" for r, v in spreads.items()) +
             "; largest rank of a hidden W " + ", ".join(f"{r.label}: {num(v)}" for r, v in ranks.items()) +
             "; test accuracy " + ", ".join(f"{r.label}: {pct(v)}" for r, v in accs.items()))
    detail = ("Rule: confirmed when every hidden layer's units end training identical (spread < 1e-6 of a "
              "unit's weight length, a deterministic check), the wide net is not better than the same net with "
              f"one unit per layer by over {round(MARGIN * 100)} points of test accuracy (one-sided: doing worse "
              "supports the claim), and Glorot is better than the wide net.")
    checks = (("the units of every hidden layer end training identical", identical),)
    status = combine(decided(made).status, identical)
    return comparison_verdict(made, extra, detail, SymmetryNumbers(spreads, ranks, accs), status=status,
                              checks=checks)


@dataclass(frozen=True)
class BiasNumbers:
    spread: float            # relative unit spread at initialisation with zero biases
    acc_zero: float          # final test accuracy with zero biases
    acc_const: float         # final test accuracy with the reference biases


SAME = 0.01   # zero biases "cost nothing": test accuracy within 1 point of biases 0.1


@rule("bias_zero", roles=("subject", "reference"), numbers=BiasNumbers)
def rule_bias_zero(exp: Experiment, res: dict) -> Verdict:
    """Zero biases cost nothing once the weights are random: an equivalence test (the whole interval of
    the accuracy difference inside ±1 point) beside the deterministic check that the units differ."""
    zero_run, const_run = exp.one("subject"), exp.one("reference")
    zero, const = res[zero_run], res[const_run]
    spread = layer_max(zero, "relative_unit_spread", 0)
    acc0, acc1 = final(zero), final(const)
    broken = spread > 0.1
    made = run_families(res, [Spec(zero_run, const_run, "heldout_accuracy", Prediction("equivalent", SAME),
                                   a_name=f"{cond(zero_run)}, bias 0", b_name=f"{cond(const_run)}, bias 0.1")])
    extra = (f"relative unit spread at init with zero biases: {num(spread)}; test accuracy zero biases "
             f"{pct(acc0)}, biases 0.1: {pct(acc1)}")
    detail = ("Rule: confirmed (zero biases are fine) when random weights already make the units differ "
              f"(spread > 0.1) and the interval of the accuracy difference lies within ±{round(SAME * 100)} point "
              "of 0; inconclusive when the interval is wider than that.")
    checks = (("random weights make the units differ at initialisation (spread > 0.1)", broken),)
    return comparison_verdict(made, extra, detail, BiasNumbers(spread, acc0, acc1),
                              status=combine(decided(made).status, broken), checks=checks)
