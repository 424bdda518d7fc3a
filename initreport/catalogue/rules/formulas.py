"""Rules about the heuristics' formulas: the drawn weights' spread, and the variance through depth."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ... import initializers
from ...fmt import num, pct
from ..model import Experiment, Verdict
from ..readers import final, layer_means, mean
from .base import results_of, rule, verdict


@dataclass(frozen=True)
class FormulaRow:
    init: str
    fan_in: int
    fan_out: int
    measured_std: float      # std of the first hidden layer's initial weights (mean over seeds)
    expected_std: float      # the initialiser's formula
    max_abs: float           # largest |w| over seeds
    limit: float | None      # the uniform or truncation limit, None if unbounded
    n: int                   # weights per draw


@dataclass(frozen=True)
class FormulaNumbers:
    rows: dict               # {Run: FormulaRow}
    accuracies: dict         # {Run: final test accuracy} of the trained runs


def _std_vs_formula(result: dict) -> FormulaRow:
    """Measured std (and largest |w|) of the first hidden layer's initial weights against the formula."""
    init = result["config"]["init"]
    layer = result["checkpoints"][0]["layers"][0]
    info = initializers.get_info(init)
    fan_in, fan_out = layer["fan_in"], layer["fan_out"]
    bounds = info.bounds(fan_in, fan_out)
    return FormulaRow(init, fan_in, fan_out, mean(layer["weight_std"]), info.std(fan_in, fan_out),
                      layer["weight_max_abs"]["max"],
                      None if bounds is None else max(abs(bounds[0]), abs(bounds[1])), fan_in * fan_out)


@rule("formula", roles=("subject",), numbers=FormulaNumbers)
def rule_formula(exp: Experiment, res: dict) -> Verdict:
    """The sample std (and bounds) of the drawn weights equal the formula."""
    rows = {r: _std_vs_formula(v) for r, v in results_of(exp, res, "subject").items()}
    ok = True
    parts, checks = [], []
    for run, row in rows.items():
        # Standard error of a sample std ≈ σ/√(2N) (normal) — allow 5 of them, plus rounding.
        tol = 5 / math.sqrt(2 * row.n * len(run.config.seeds)) + 1e-5
        rel = row.measured_std / row.expected_std - 1
        within = abs(rel) <= max(tol, 0.01)
        bounded = row.limit is None or row.max_abs <= row.limit * (1 + 1e-6)
        ok &= within and bounded
        checks.append((f"{run.label}: std within tolerance of the formula", within))
        if row.limit is not None:
            checks.append((f"{run.label}: no weight beyond the limit", bounded))
        parts.append(f"{run.label}: std {num(row.measured_std)} vs formula {num(row.expected_std)} "
                     f"({rel:+.2%})" + ("" if row.limit is None else
                                         f", max |w| {num(row.max_abs)} ≤ limit {num(row.limit)}"))
    detail = ("Rule: confirmed when each measured std of the first layer's initial weights is within "
              "max(1%, 5 standard errors) of the formula, and no weight exceeds the uniform or truncation limit.")
    extra = ""
    trained = {r: final(res[r]) for r in rows if r.config.epochs > 0}
    if trained:
        extra = "; test accuracy after training " + ", ".join(f"{r.label}: {pct(v)}" for r, v in trained.items())
    return verdict(ok, False, "; ".join(parts) + extra, detail, checks, FormulaNumbers(rows, trained))


@rule("keras_names", roles=("subject",), numbers=FormulaNumbers)
def rule_keras_names(exp: Experiment, res: dict) -> Verdict:
    """The Keras names draw with Keras' definitions (the formula rule), and the default is Glorot uniform."""
    v = rule_formula(exp, res)
    default = "glorot_uniform"
    measured = v.measured + f"; the tool's default initialiser is {default}, Keras' Dense default"
    detail = (v.detail + " Keras' normal variants are truncated at ±2σ' and rescaled; "
              "the measured std shows the rescaling is right.")
    return type(v)(v.status, measured, detail, v.numbers, v.checks)


@dataclass(frozen=True)
class VarianceNumbers:
    ratios: dict             # {Run: Var(Z) at the last hidden layer / first}
    per_layer: dict          # {Run: the same ratio per layer (geometric mean)}
    depth: int               # hidden layers


@rule("level_variance", roles=("subject", "reference"), numbers=VarianceNumbers)
def rule_level_variance(exp: Experiment, res: dict) -> Verdict:
    """He (subject) keeps the activation variance level through a deep ReLU net; √(1/n_in) (reference)
    halves it per layer."""
    ratios, per_layer = {}, {}
    for run, r in res.items():
        var = [s * s for s in layer_means(r, "pre_activation_std")]
        ratios[run] = var[-1] / var[0]
        per_layer[run] = ratios[run] ** (1 / (len(var) - 1))
    he, lecun = exp.select("subject"), exp.select("reference")
    level = all(0.5 <= ratios[r] <= 2 for r in he)
    halves = all(abs(per_layer[r] - 0.5) <= 0.1 for r in lecun)
    depth = exp.runs[0].config.depth
    measured = (f"Var(Z) layer {depth} / layer 1: " + ", ".join(f"{r.label}: {num(v)}" for r, v in ratios.items()) +
                "; per layer: " + ", ".join(f"{r.label}: ×{num(v)}" for r, v in per_layer.items()) +
                f"; theory: He ×1, √(1/n_in) ×0.5 (2^-{depth - 1} = {num(2.0 ** -(depth - 1))} overall)")
    detail = (f"Rule: confirmed when, in a {depth}-layer ReLU net at initialisation, He's pre-activation variance "
              "at the last layer is within a factor 2 of the first layer's and √(1/n_in) (LeCun) shrinks it by "
              "0.5 ± 0.1 per layer, as the variance argument predicts.")
    checks = tuple((f"{r.label}: last/first layer variance within a factor 2", 0.5 <= ratios[r] <= 2) for r in he) + tuple(
        (f"{r.label}: variance ×0.5 ± 0.1 per layer", abs(per_layer[r] - 0.5) <= 0.1) for r in lecun)
    return verdict(level and halves, level or halves, measured, detail, checks,
                   VarianceNumbers(ratios, per_layer, depth))
