"""Explanations of the catalogue's anomalies, generated from the measurements (issue 10).

Three results surprise a reader of the notes: unscaled N(0, 1) weights train a sigmoid net
better than Glorot uniform; Glorot-initialised sigmoid does not train at depth 8; and the
weight-scale sweep has to say where √2 (He) falls against 1 (LeCun). Each function here reads
the runs' results ({Run: result}) and returns an :class:`Explanation` (a title and paragraphs
of plain text, numbers formatted by :func:`initreport.fmt.num`) that the experiment's rule puts
in its numbers (field ``explanation``) and the page prints under the experiment's results.

The text states only what the numbers show: every sentence that interprets (the gradient
shrinks, a larger scale compensates) is written only when the measured numbers say so, and
the function returns None when the anomaly it explains is absent from this build. Every number
it prints is also in ``facts`` ({name: value}), so a test can check the page against the
result files.

What is measured, per hidden layer at initialisation and as the mean over the seeds that did
not diverge (``initreport.result/1``): the activation's mean ``m`` and std ``s`` (over the
batch and the units), from which the mean slope of a sigmoid layer follows exactly,
E[σ'(z)] = E[σ(1 − σ)] = m − m² − s²; the pre-activation std; the back-propagated gradient std
(dL/dZ); the weight std (n_in·Var(W) = fan_in × std²); the update ratio lr·‖dW‖/‖W‖.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import stats
from ..activations import display_name as act_name
from ..fmt import num, pct
from ..initializers import display_name as init_name
from ..protocol import comparison_record, per_seed
from .model import Experiment, Run
from .readers import final, loss_drop, mean

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class Explanation:
    title: str
    paragraphs: tuple        # plain text, one paragraph each (made inert by the template)
    facts: dict = field(default_factory=dict)     # {name: value}: every number the paragraphs print
    comparisons: tuple = ()  # verdicts.json records of comparisons the explanation made (context)


# ---------------------------------------------------------------------------------------------
# Per-layer measurements at initialisation


def _per_seed_layers(result: dict, stat: str) -> list[list]:
    """[layer][seed] values of a layer statistic at initialisation (None where a seed diverged)."""
    return [list(layer[stat]["values"]) for layer in result["checkpoints"][0]["layers"]]


def _mean_of(values) -> float:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def sigmoid_slopes(result: dict) -> list[float]:
    """Mean slope E[σ'(z)] of each sigmoid hidden layer at initialisation, mean over seeds:
    σ' = σ(1 − σ), so E[σ'] = m − m² − s² from the layer's output mean m and std s (one seed's
    batch × units)."""
    means, stds = _per_seed_layers(result, "activation_mean"), _per_seed_layers(result, "activation_std")
    return [_mean_of([None if m is None or s is None else m - m * m - s * s for m, s in zip(ms, ss)])
            for ms, ss in zip(means, stds)]


def layer_mean(result: dict, stat: str) -> list[float]:
    """Mean over seeds of a statistic, per hidden layer, at initialisation."""
    return [mean(layer[stat]) for layer in result["checkpoints"][0]["layers"]]


def gain_sq(result: dict) -> list[float]:
    """n_in·Var(W) of each hidden layer's weights, measured: fan_in × (weight std)², mean over seeds."""
    layers = result["checkpoints"][0]["layers"]
    return [layer["fan_in"] * _mean_of([None if v is None else v * v for v in layer["weight_std"]["values"]])
            for layer in layers]


def per_layer_factor(first: float, last: float, n_layers: int) -> float:
    """The geometric-mean factor per layer from the last hidden layer back to the first:
    (first / last)^(1 / (n_layers − 1))."""
    if n_layers < 2 or not (first > 0 and last > 0):
        return math.nan
    return (first / last) ** (1.0 / (n_layers - 1))


SIGMOID_STATS = ("activation_mean", "activation_std", "pre_activation_std", "gradient_std", "weight_std",
                 "update_ratio", "saturated_fraction")


def measured(result: dict, stats_: tuple = SIGMOID_STATS) -> bool:
    """Whether every hidden layer of ``result`` at initialisation carries these statistics (a partial
    result, such as a rule test's synthetic one, gets no explanation)."""
    layers = result.get("checkpoints", [{}])[0].get("layers", [])
    return bool(layers) and all(isinstance(layer.get(s), dict) and "values" in layer[s] and "fan_in" in layer
                                for layer in layers for s in stats_)


@dataclass(frozen=True)
class SigmoidFacts:
    """What a sigmoid run's hidden layers look like at initialisation (means over seeds)."""
    act_mean: list
    slope: list              # E[σ'(z)] per layer
    pre_std: list
    act_std: list
    grad_std: list           # back-propagated dL/dZ, layer 1 first
    gain_sq: list            # n_in·Var(W) per layer
    update_ratio: list       # lr·‖dW‖/‖W‖ per layer
    grad_factor: float       # per-layer factor of the gradient std, last layer back to layer 1
    saturated: float         # mean saturated fraction over the hidden layers

    @classmethod
    def of(cls, result: dict) -> SigmoidFacts:
        grad = layer_mean(result, "gradient_std")
        sat = [x for x in layer_mean(result, "saturated_fraction") if math.isfinite(x)]
        return cls(layer_mean(result, "activation_mean"), sigmoid_slopes(result), layer_mean(result, "pre_activation_std"),
                   layer_mean(result, "activation_std"), grad, gain_sq(result), layer_mean(result, "update_ratio"),
                   per_layer_factor(grad[0], grad[-1], len(grad)), sum(sat) / len(sat) if sat else math.nan)


def _span(values: list) -> str:
    """'0.235' when every layer rounds alike, else '0.231 to 0.236' (3 significant digits)."""
    lo, hi = num(min(values)), num(max(values))
    return lo if lo == hi else f"{lo} to {hi}"


def _lr_text(runs: list[Run]) -> str:
    rates = sorted({r.config.lr for r in runs})
    return f"learning rate {num(rates[0])}" if len(rates) == 1 else \
        "learning rates " + ", ".join(f"{num(r.config.lr)} ({init_name(r.config.init)})" for r in runs)


def _sigmoid_assumption(f: SigmoidFacts, name: str, facts: dict, key: str) -> str:
    """Glorot's assumption against what a sigmoid run measures at initialisation."""
    facts.update({f"{key}.mean_min": min(f.act_mean), f"{key}.mean_max": max(f.act_mean),
                  f"{key}.slope_min": min(f.slope), f"{key}.slope_max": max(f.slope),
                  f"{key}.gain_sq": _mean_of(f.gain_sq)})
    return (f"Glorot's variance argument assumes an activation with mean 0 and slope 1 at 0: then a layer with "
            f"n_in·Var(W) ≈ 1 passes the variance of the signal on unchanged, forward and backward. Sigmoid has "
            f"neither. With {name} (n_in·Var(W) = {num(_mean_of(f.gain_sq))}, measured), the sigmoid units "
            f"output a mean of {_span(f.act_mean)} over the {len(f.act_mean)} hidden layers at initialisation, "
            f"and their mean slope E[σ'(z)] = E[σ(1 − σ)] is {_span(f.slope)} (at most ¼, reached at z = 0).")


def _backward(f: SigmoidFacts, facts: dict, key: str, total: bool = False) -> str:
    """How the gradient std changes from the last hidden layer back to the first (``total``: and by
    how much in all)."""
    n = len(f.grad_std)
    facts.update({f"{key}.grad_first": f.grad_std[0], f"{key}.grad_last": f.grad_std[-1],
                  f"{key}.grad_factor": f.grad_factor})
    if not math.isfinite(f.grad_factor):       # a zero gradient somewhere: no factor per layer to state
        return f"the back-propagated gradient std is {num(f.grad_std[-1])} at layer {n} and {num(f.grad_std[0])} at layer 1"
    trend = "shrinks" if f.grad_factor < 1 else "grows"
    text = (f"the back-propagated gradient std {trend} by ×{num(f.grad_factor)} per layer, from "
            f"{num(f.grad_std[-1])} at layer {n} to {num(f.grad_std[0])} at layer 1")
    if total and f.grad_std[0] > 0:
        facts[f"{key}.grad_total"] = f.grad_std[-1] / f.grad_std[0]
        text += f" (a factor {num(facts[f'{key}.grad_total'])} in all)"
    slope = _mean_of(f.slope)
    if slope > 0 and abs(f.grad_factor / slope - 1) < 0.25 and _mean_of(f.gain_sq) < 1.5:
        # Each layer multiplies the gradient by W (n_in·Var(W) ≈ 1 here) and by σ'(z): said only when it matches.
        facts[f"{key}.slope_mean"] = slope
        text += (f", close to the units' mean slope ({num(slope)}): going back through a layer multiplies the "
                 "gradient by σ'(z), and weights with n_in·Var(W) ≈ 1 do not make up for it")
    return text


# ---------------------------------------------------------------------------------------------
# Large random weights with sigmoid: why unscaled weights beat Glorot uniform


def sigmoid_scale(exp: Experiment, res: dict) -> Explanation | None:
    """Why large random weights end training lower than Glorot uniform with sigmoid (when they do).

    Reads the "reference" sigmoid run (Glorot) and the "subject" sigmoid runs of the experiment;
    None when no subject ends with a lower mean final training loss than the reference.
    """
    refs = exp.select("reference", activation="sigmoid")
    if not refs:
        return None
    ref_run = refs[0]
    ref = res[ref_run]
    ref_loss = final(ref, "loss")
    beat = [r for r in exp.select("subject", activation="sigmoid")
            if math.isfinite(final(res[r], "loss")) and final(res[r], "loss") < ref_loss]
    if not beat or not all(measured(res[r]) for r in [ref_run] + beat):
        return None
    facts: dict = {"reference.loss": ref_loss, "reference.accuracy": final(ref, "test_accuracy")}
    ref_name = init_name(ref_run.config.init)
    names = [init_name(r.config.init) for r in beat]
    c = ref_run.config
    outcome = [f"{n}: final training loss {num(final(res[r], 'loss'))}, test accuracy {pct(final(res[r], 'test_accuracy'))}"
               for n, r in zip(names, beat)]
    for r in beat:
        facts[f"{r.config.init}.loss"] = final(res[r], "loss")
        facts[f"{r.config.init}.accuracy"] = final(res[r], "test_accuracy")
    p1 = (f"With sigmoid, at depth {c.depth} after {c.epochs} epochs at {_lr_text([ref_run] + beat)}: "
          + "; ".join(outcome) + f"; against {ref_name}: final training loss {num(ref_loss)}, test accuracy "
          f"{pct(final(ref, 'test_accuracy'))}. Why the weights the notes warn against do better here:")
    g = SigmoidFacts.of(ref)
    ratio = _mean_of([a / p for a, p in zip(g.act_std, g.pre_std) if p])
    facts["reference.out_in_ratio"] = ratio
    p2 = (_sigmoid_assumption(g, ref_name, facts, "reference") +
          f" So each sigmoid layer passes on about {num(ratio)}× the spread of its pre-activations (activation std "
          f"over pre-activation std, mean over the layers), and {_backward(g, facts, 'reference')}.")
    parts = []
    for n, r in zip(names, beat):
        f = SigmoidFacts.of(res[r])
        key = r.config.init
        facts.update({f"{key}.gain_sq": _mean_of(f.gain_sq), f"{key}.saturated": f.saturated,
                      f"{key}.slope_mean": _mean_of(f.slope)})
        parts.append(f"{n} has n_in·Var(W) = {num(_mean_of(f.gain_sq))}: {pct(f.saturated)} of its units are "
                     f"saturated at initialisation and its mean slope is {num(_mean_of(f.slope))}, yet "
                     f"{_backward(f, facts, key)}")
    stronger = [r for r in beat if g.grad_std[0] > 0 and SigmoidFacts.of(res[r]).grad_factor > g.grad_factor]
    p3 = "; ".join(parts) + "."
    if stronger:
        p3 += (" The larger scale makes up for the small slope: the gradient reaching the first layer is "
               + ", ".join(f"{num(SigmoidFacts.of(res[r]).grad_std[0] / g.grad_std[0])}× {ref_name}'s with "
                           f"{init_name(r.config.init)}" for r in stronger) + ".")
        for r in stronger:
            facts[f"{r.config.init}.grad_first_ratio"] = SigmoidFacts.of(res[r]).grad_std[0] / g.grad_std[0]
    paragraphs = [p1, p2, p3, _rate_paragraph(exp, ref_run, beat, res, facts)]
    return Explanation(f"Why {' and '.join(names)} end{'s' if len(names) == 1 else ''} training lower than "
                       f"{ref_name} with sigmoid", tuple(paragraphs), facts)


def _rate_paragraph(exp: Experiment, ref_run: Run, beat: list, res: dict, facts: dict) -> str:
    """The learning rate each sigmoid run got, against the experiment's other activations, and the
    first layer's update ratio at initialisation it gives."""
    runs = [ref_run] + beat
    mine = sorted({r.config.lr for r in runs})
    others = sorted({r.config.lr for r in exp.runs if r.config.activation != "sigmoid"})
    if len(mine) == 1:
        text = f"The learning rate: {'both' if len(beat) == 1 else 'all'} ran at {num(mine[0])}"
    else:
        text = "The learning rates differ: " + ", ".join(f"{num(r.config.lr)} ({init_name(r.config.init)})"
                                                        for r in runs)
    if others:
        text += f" (the other activations on this page: {', '.join(num(x) for x in others)}"
        if min(mine) > max(others):
            text += "; sigmoid's step is larger because its slope is at most ¼"
        text += ")"
    text += (", so the rate does not explain the gap. " if len(mine) == 1 else
             "; so the gap mixes the effect of the scale with that of the rate. ")
    upd = {r: layer_mean(res[r], "update_ratio")[0] for r in runs}
    for r, u in upd.items():
        facts[f"{r.config.init}.update_first"] = u
    return text + ("The size of the first step relative to the weights of layer 1 (lr·‖dW‖/‖W‖ at initialisation): "
                   + ", ".join(f"{init_name(r.config.init)} {num(u)}" for r, u in upd.items()) + ".")


# ---------------------------------------------------------------------------------------------
# Glorot with sigmoid in a deep net: why the control does not train


def sigmoid_control_stalls(exp: Experiment, res: dict, trains) -> Explanation | None:
    """Why the Glorot sigmoid reference of a deep net does not train (when it does not).

    ``trains(result) -> bool`` is the protocol's test of a control (protocol.control_trains).
    """
    refs = exp.select("reference", activation="sigmoid")
    if not refs or trains(res[refs[0]]) or not measured(res[refs[0]], SIGMOID_STATS + ("distance_from_init",)):
        return None
    run = refs[0]
    r = res[run]
    c = run.config
    name = init_name(c.init)
    f = SigmoidFacts.of(r)
    start, end = mean(r["history"][0]["loss"]), final(r, "loss")
    drop = loss_drop(r)
    facts = {"reference.start": start, "reference.loss": end, "reference.drop": drop,
             "reference.chance": math.log(r["sizes"][-1])}
    dist = [mean(layer["distance_from_init"]) for layer in r["checkpoints"][-1]["layers"]]
    facts.update({"reference.moved_first": dist[0], "reference.moved_last": dist[-1]})
    p1 = (f"{name} does not train this {c.depth}-layer sigmoid net either: in {c.epochs} epochs at learning rate "
          f"{num(c.lr)} its training loss went from {num(start)} to {num(end)} ({pct(drop)} removed; a net that "
          f"predicts every class alike scores ln {r['sizes'][-1]} = {num(facts['reference.chance'])}). So the "
          "comparison on this page has no working control, and it cannot tell whether small random weights are "
          "worse.")
    p2 = (_sigmoid_assumption(f, name, facts, "reference") +
          f" Over the {c.depth} layers, {_backward(f, facts, 'reference', total=True)}.")
    p3 = (f"The first layers therefore barely learn: after training, the weights of layer 1 had moved by "
          f"{num(dist[0])} (Frobenius norm of W − W₀), those of layer {len(dist)} by {num(dist[-1])}.")
    if not f.grad_factor < 1:     # the gradient does not shrink: do not claim that it does
        p3 = (f"After training, the weights of layer 1 had moved by {num(dist[0])}, those of layer {len(dist)} by "
              f"{num(dist[-1])}.")
    return Explanation(f"Why {name} does not train sigmoid at depth {c.depth}", (p1, p2, p3), facts)


# ---------------------------------------------------------------------------------------------
# The weight-scale sweep: where √2 falls


def _gain(run: Run) -> float:
    return dict(run.config.init_params)["gain"]


def gain_text(g: float) -> str:
    """A gain as the page names it: '√2' for √2, else 3 significant digits."""
    return "√2" if math.isclose(g, SQRT2, rel_tol=1e-9) else num(g)


def sqrt2_on_sweep(exp: Experiment, res: dict, alpha: float = 0.05) -> Explanation | None:
    """Where gain √2 (He) falls on the sweep against its neighbours, and √2 against 1 (LeCun): the
    final training loss (the sweep's metric) and the test accuracy, paired by seed, two-sided 95% t
    intervals, Holm-corrected over the comparisons of every activation."""
    acts = sorted({r.config.activation for r in exp.select("sweep")})
    gains = sorted({_gain(r) for r in exp.select("sweep")})
    if not any(math.isclose(g, SQRT2, rel_tol=1e-9) for g in gains):
        return Explanation("Where √2 (He) would fall", (
            "This sweep has no point at gain √2 (gains: " + ", ".join(num(g) for g in gains) + "), so it cannot "
            "place He against LeCun (gain 1). The default profile includes √2.",), {})
    facts: dict = {}
    specs, where = [], []
    for act in acts:
        runs = sorted(exp.select("sweep", activation=act), key=_gain)
        i = next(k for k, r in enumerate(runs) if math.isclose(_gain(r), SQRT2, rel_tol=1e-9))
        at = runs[i]
        one = next((r for r in runs if _gain(r) == 1.0), None)
        facts[f"{act}.sqrt2.loss"] = final(res[at], "loss")
        facts[f"{act}.sqrt2.accuracy"] = final(res[at], "test_accuracy")
        neighbours = [runs[k] for k in (i - 1, i + 1) if 0 <= k < len(runs)]
        finite = [(final(res[r], "loss"), r) for r in runs if math.isfinite(final(res[r], "loss"))]
        lowest = min(finite, key=lambda t: t[0])[1] if finite else None
        for r in neighbours:
            facts[f"{act}.{num(_gain(r))}.loss"] = final(res[r], "loss")
        text = (f"{act_name(act)}: final training loss {num(final(res[at], 'loss'))} at gain √2"
                + (", the lowest point of the sweep" if lowest is at else "")
                + f" (test accuracy {pct(final(res[at], 'test_accuracy'))}), against "
                + " and ".join(f"{num(final(res[r], 'loss'))} at gain {gain_text(_gain(r))}"
                               + (f" ({len(res[r]['diverged'])} of {res[r]['n_seeds']} seeds diverged)"
                                  if res[r]["diverged"] else "") for r in neighbours))
        if lowest is not None and lowest is not at:
            text += f"; the lowest point is gain {gain_text(_gain(lowest))} ({num(final(res[lowest], 'loss'))})"
        where.append(text)
        if one is not None:
            for metric in ("train_loss_after_budget", "heldout_accuracy"):
                specs.append((act, metric, at, one))
    made = stats.compare_family(
        [dict(a=per_seed(res[a], m, name=f"gain √2, {act}"), b=per_seed(res[b], m, name=f"gain 1, {act}"),
              metric=m, higher_is_better=m == "heldout_accuracy") for act, m, a, b in specs],
        alpha=alpha, paired=True, method="t") if specs else []
    lines, records = [], []
    for (act, metric, a, b), cmp in zip(specs, made):
        what = "final training loss" if metric == "train_loss_after_budget" else "test accuracy"
        facts[f"{act}.{metric}.estimate"] = cmp.estimate
        facts[f"{act}.{metric}.ci_low"], facts[f"{act}.{metric}.ci_high"] = cmp.ci_low, cmp.ci_high
        verdict = {"better": "√2 better", "worse": "1 better", "indistinguishable": "indistinguishable",
                   "inconclusive": "inconclusive"}[cmp.decision]
        # accuracy differences in percentage points, losses as they are
        scale, unit = (100.0, " points") if metric == "heldout_accuracy" else (1.0, "")
        interval = "no interval" if cmp.ci_low is None else f"[{num(scale * cmp.ci_low)}, {num(scale * cmp.ci_high)}]"
        lines.append(f"{act_name(act)}, {what}: √2 − 1 = {num(scale * cmp.estimate)}{unit} {interval}, "
                     f"{cmp.n_seeds} seeds: {verdict}")
        records.append(comparison_record(cmp, depth=a.config.depth, deciding=False, init_a="scaled_normal",
                                         init_b="scaled_normal", gain_a=_gain(a), gain_b=_gain(b), activation=act,
                                         dataset=a.config.dataset))
    paragraphs = ["; ".join(where) + "."]
    if lines:
        depth = specs[0][2].config.depth
        paragraphs.append(
            f"He (√2) against LeCun (1), at depth {depth}, paired by seed, two-sided 95% t intervals, Holm-corrected "
            f"over these {len(lines)} comparisons: " + "; ".join(lines) + f". These hold at depth {depth} with this budget; "
            "the depth study shows from which depth the factor √2 per layer decides whether a ReLU net trains at all.")
    return Explanation("Where √2 (He) falls on the sweep", tuple(paragraphs), facts, tuple(records))
