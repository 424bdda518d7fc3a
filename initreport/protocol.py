"""The protocol of a comparative claim, and how its comparisons become one status.

A :class:`ClaimProtocol` states how a claim is put to the test: the axis it is about (depth,
width or none) and the values tried, the learning-rate grid each cell picks its rate from
(:func:`pick_lr`, on a validation split, never the test split), the primary metric
(:data:`METRICS`), the seeds, and the :class:`Contrast` pairs it compares, each with the
:class:`Prediction` the claim makes and the axis values where the claim makes it (the claim's
own conditions). :func:`decide_claim` maps the comparisons (from :mod:`initreport.stats`) to
``confirmed`` / ``partly confirmed`` / ``refuted`` / ``inconclusive``;
:func:`comparison_record` and :func:`experiment_record` write the public ``verdicts.json``
schema, checked by :func:`validate_verdicts`.

Every comparison is oriented so that ``a`` is the condition the claim speaks for (He in
"He for ReLU", the wide net in "adding units does not help") and the prediction says what
the claim expects of ``a`` against ``b``. The design and the cost of each claim's protocol
are in ``docs-dev/verdict-protocol.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import InitReportError, choice_error
from .stats import Comparison, Sample

STATUSES = ("confirmed", "partly confirmed", "refuted", "inconclusive")
AXES = ("depth", "width", "none")
DIRECTIONS = ("better", "not better", "equivalent")
SCHEMA = "initreport.verdicts/1"


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    description: str
    on_divergence: str           # what a diverged seed counts as (the failure value)


METRICS = {m.name: m for m in (
    Metric("train_loss_after_budget", False, "training loss after the epoch budget (trainability)",
           "its reference loss, min(initial loss, ln K): a diverged net has learnt nothing"),
    Metric("epochs_to_target", False, "first epoch whose training loss is at or below the target",
           "budget + 1: never reached within the budget (censored)"),
    Metric("heldout_accuracy", True, "accuracy on the test split after the budget ('works best')",
           "chance accuracy, 1 / number of classes"),
    Metric("saturation", False, "mean fraction of saturated hidden units at initialisation",
           "excluded: saturation is measured before training, nothing can diverge"),
    Metric("instability", False, "share of the learning-rate grid at which the run diverges or spikes",
           "a diverged run is unstable by definition (counts 1 at that rate)"),
    Metric("stall", False, "share of the learning-rate grid at which the run ends within 10% of "
           "min(initial loss, ln K), the loss of a net that has learnt nothing",
           "a diverged run is unstable, not stalled (counts 0 at that rate)"),
)}
LR_MODES = ("pick", "sweep", "common")


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise choice_error("metric", name, METRICS) from None


# ---------------------------------------------------------------------------------------
# Protocol data types


@dataclass(frozen=True)
class Axis:
    name: str                    # one of AXES
    values: tuple = ()           # e.g. depths (2, 4, 10, 20); () for "none"

    def __post_init__(self):
        if self.name not in AXES:
            raise choice_error("axis", self.name, AXES)
        if self.name != "none" and not self.values:
            raise InitReportError(f"axis {self.name!r} needs at least one value")
        if any(not isinstance(v, int) or v < 1 for v in self.values):
            raise InitReportError(f"axis {self.name!r}: values must be whole numbers ≥ 1, got {self.values!r}")


@dataclass(frozen=True)
class Prediction:
    """What the claim expects of ``a`` against ``b``.

    ``better``: a significantly better. ``not better``: a not better than b by more than
    ``margin`` (its favourable bound stays under the margin). ``equivalent``: the whole
    interval inside ``(−margin, +margin)``. Margins are in the metric's units.
    """

    direction: str = "better"
    margin: float = 0.0

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise choice_error("prediction", self.direction, DIRECTIONS)
        if not (isinstance(self.margin, (int, float)) and self.margin >= 0):
            raise InitReportError(f"prediction margin must be a number ≥ 0, got {self.margin!r}")
        if self.direction == "equivalent" and self.margin == 0:
            raise InitReportError("an 'equivalent' prediction needs a margin > 0")


@dataclass(frozen=True)
class Condition:
    init: str
    activation: str
    width: int | None = None     # None: the protocol's width
    params: tuple = ()           # initialiser parameters, sorted (name, value) pairs


@dataclass(frozen=True)
class Contrast:
    a: Condition                 # the condition the claim speaks for
    b: Condition                 # the control
    prediction: Prediction = Prediction()
    at: tuple = ()               # axis values where the claim predicts it; () = every value
    control: str | None = "a"    # the side that must train for the comparison to count ("a", "b" or None):
                                 # the reference of a pitfall claim; if it does not train either, the
                                 # comparison cannot separate what the claim separates → inconclusive

    def __post_init__(self):
        if self.control not in ("a", "b", None):
            raise InitReportError(f"contrast control must be 'a', 'b' or None, got {self.control!r}")


@dataclass(frozen=True, kw_only=True)
class ClaimProtocol:
    id: str                      # the experiment id
    axis: Axis
    metric: str                  # primary metric, a key of METRICS
    contrasts: tuple             # (Contrast, ...)
    lr_grid: dict                # {activation: (lr, ...)}
    lr_mode: str = "pick"        # pick: one rate per cell by pick_lr on the validation split;
                                 # sweep: every rate on every seed (instability); common: the grid's one rate
    seeds: tuple = tuple(range(8))
    schedule: tuple = (8, 16)    # seed counts of the looks (adaptive_seeds)
    selection_seeds: tuple = (100, 101)   # seeds of the learning-rate selection runs, disjoint from `seeds`
    common_lr: float | None = None        # also test at this one rate, where the claim is about one
    secondary: tuple = ()        # further metrics reported, not deciding
    one_sided: bool = True       # the claim predicts a direction
    negligible: float = 0.0      # a difference this small is "clearly narrow" (metric units)
    control_min_drop: float = 0.3   # the control must remove this share of its initial loss, or inconclusive
    dataset: str = "digits"
    width: int = 64
    depth: int = 4               # when the axis is not depth
    epochs: int = 20
    target: float | None = None  # target loss of epochs_to_target
    notes: str = ""

    def __post_init__(self):
        get_metric(self.metric)
        if self.lr_mode not in LR_MODES:
            raise choice_error("learning-rate mode", self.lr_mode, LR_MODES)
        if self.lr_mode == "common" and any(len(g) != 1 for g in self.lr_grid.values()):
            raise InitReportError(f"protocol {self.id!r}: a common learning rate needs a one-rate grid")
        for m in self.secondary:
            get_metric(m)
        if self.metric == "epochs_to_target" and self.target is None:
            raise InitReportError(f"protocol {self.id!r}: epochs_to_target needs a target loss")
        if set(self.seeds) & set(self.selection_seeds):
            raise InitReportError(f"protocol {self.id!r}: selection seeds must differ from evaluation seeds")
        for c in self.contrasts:
            for side in (c.a, c.b):
                if side.activation not in self.lr_grid:
                    raise InitReportError(f"protocol {self.id!r}: no learning-rate grid for {side.activation!r}")
            if any(v not in self.axis.values for v in c.at):
                raise InitReportError(f"protocol {self.id!r}: contrast at {c.at!r} outside the axis "
                                      f"{self.axis.values!r}")

    def cells(self) -> list[tuple[Condition, int, int]]:
        """Distinct (condition, depth, width) cells, in first-seen order."""
        seen: dict = {}
        for c in self.contrasts:
            for side in (c.a, c.b):
                for value in (self.axis.values or (None,)):
                    depth = value if self.axis.name == "depth" else self.depth
                    width = side.width or (value if self.axis.name == "width" else self.width)
                    seen.setdefault((side, depth, width), None)
        return list(seen)

    def cost(self, extended: float = 0.0) -> dict:
        """Networks to train (selection, evaluation, and the share ``extended`` of cells given
        more seeds) and their network-layer-epochs, the unit the build's time scales with."""
        sel = eval_ = ext = 0
        layer_epochs = 0.0
        extra = (max(self.schedule) - len(self.seeds)) * extended
        for cond, depth, _ in self.cells():
            grid = len(self.lr_grid[cond.activation])
            n_sel = grid * len(self.selection_seeds) if self.lr_mode == "pick" else 0
            n_eval = len(self.seeds) * (grid if self.lr_mode == "sweep" else 1)
            n_eval += len(self.seeds) if self.common_lr is not None else 0
            n_ext = extra * (grid if self.lr_mode == "sweep" else 1)
            sel, eval_, ext = sel + n_sel, eval_ + n_eval, ext + n_ext
            layer_epochs += (n_sel + n_eval + n_ext) * depth * self.epochs
        return {"cells": len(self.cells()), "selection": sel, "evaluation": eval_, "extension": round(ext),
                "networks": sel + eval_ + round(ext), "layer_epochs": layer_epochs}


# ---------------------------------------------------------------------------------------
# Per-seed metrics from results, and learning-rate choice


def _values(stat: dict) -> list:
    return [None if v is None or not math.isfinite(v) else float(v) for v in stat["values"]]


def per_seed(result: dict, metric: str, *, target: float | None = None, name: str = "") -> Sample:
    """Per-seed values of a metric from one result (``initreport.result/1``), the failure
    value of the metric already in place for diverged seeds (see :data:`METRICS`)."""
    get_metric(metric)
    seeds = tuple(result["config"]["seeds"])
    if metric == "train_loss_after_budget":
        start, end = _values(result["history"][0]["loss"]), _values(result["final"]["loss"])
        values = [e if e is not None else reference_loss(result, s) for s, e in zip(start, end)]
    elif metric == "epochs_to_target":
        if target is None:
            raise InitReportError("epochs_to_target needs a target loss")
        budget = result["config"]["epochs"]
        values = []
        for i in range(len(seeds)):
            hit = next((h["epoch"] for h in result["history"]
                        if h["loss"]["values"][i] is not None and h["loss"]["values"][i] <= target), None)
            values.append(budget + 1 if hit is None else hit)
    elif metric == "heldout_accuracy":
        chance = 1.0 / result["sizes"][-1]
        values = [chance if v is None else v for v in _values(result["final"]["test_accuracy"])]
    elif metric == "saturation":
        layers = result["checkpoints"][0]["layers"]
        per_layer = [_values(layer["saturated_fraction"]) for layer in layers]
        values = [None if any(l[i] is None for l in per_layer) else sum(l[i] for l in per_layer) / len(per_layer)
                  for i in range(len(seeds))]
    else:
        raise InitReportError(f"{metric} is measured over a learning-rate grid: use grid_share_per_seed")
    return Sample(name, tuple(values), seeds)


def unstable(result: dict, *, spike: float = 0.05, min_spikes: int = 2) -> list[bool]:
    """Per seed: diverged, or at least ``min_spikes`` epochs whose training loss rose by over ``spike``."""
    diverged = {d["seed"] for d in result["diverged"]}
    out = []
    for i, seed in enumerate(result["config"]["seeds"]):
        losses = [h["loss"]["values"][i] for h in result["history"]]
        finite = [x for x in losses if x is not None]
        rises = sum(1 for x, y in zip(finite, finite[1:]) if y > x * (1 + spike))
        out.append(seed in diverged or rises >= min_spikes)
    return out


def reference_loss(result: dict, start: float | None) -> float | None:
    """The loss a seed must get below to have learnt anything: its initial loss, or the loss of
    predicting uniform class probabilities (ln K) when that is lower. A net starting at a loss
    of 10⁵ (large weights) that settles at ln K has learnt nothing, though its loss fell 99.99%."""
    chance = math.log(result["sizes"][-1])
    return chance if start is None else min(start, chance)


def stalled(result: dict, *, min_drop: float = 0.1) -> list[bool]:
    """Per seed: did not diverge and ends within ``min_drop`` of its :func:`reference_loss`."""
    start, end = _values(result["history"][0]["loss"]), _values(result["final"]["loss"])
    return [e is not None and e > (1 - min_drop) * reference_loss(result, s) for s, e in zip(start, end)]


def grid_share_per_seed(results: list[dict], metric: str = "instability", name: str = "") -> Sample:
    """Per seed, the share of the learning-rate grid (one result per rate, same seeds) at which
    the run is unstable (``metric="instability"``) or stalls (``"stall"``)."""
    if metric not in ("instability", "stall"):
        raise choice_error("grid metric", metric, ("instability", "stall"))
    if not results:
        raise InitReportError(f"{metric} needs at least one result")
    seeds = tuple(results[0]["config"]["seeds"])
    if any(tuple(r["config"]["seeds"]) != seeds for r in results):
        raise InitReportError(f"{metric}: every learning rate must be run on the same seeds")
    flags = [unstable(r) if metric == "instability" else stalled(r) for r in results]
    return Sample(name, tuple(sum(f[i] for f in flags) / len(flags) for i in range(len(seeds))), seeds)


def control_trains(result: dict, min_drop: float = 0.3) -> bool:
    """Whether a control condition trains: its mean training loss ends at least ``min_drop``
    below the :func:`reference_loss` (diverged seeds count as not trained)."""
    start, end = _values(result["history"][0]["loss"]), _values(result["final"]["loss"])
    drops = [0.0 if e is None else 1 - e / reference_loss(result, s) for s, e in zip(start, end)]
    return bool(drops) and sum(drops) / len(drops) >= min_drop


def pick_lr(per_lr_values: dict, higher_is_better: bool, *, tol: float = 0.0) -> float | None:
    """The learning rate of a cell, from its validation-split numbers.

    ``per_lr_values`` maps each rate of the grid to its validation metric: one number or the
    per-seed values (``None``/NaN where a seed diverged). A rate at which any seed diverged is
    excluded. The best mean wins; rates within ``tol`` of it tie, and ties go to the smallest
    rate. None when every rate diverged.
    """
    means = {}
    for lr, values in per_lr_values.items():
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise InitReportError(f"learning rate must be a finite number > 0, got {lr!r}")
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values or any(v is None or not math.isfinite(v) for v in values):
            continue
        means[lr] = sum(values) / len(values)
    if not means:
        return None
    best = max(means.values()) if higher_is_better else min(means.values())
    tied = [lr for lr, m in means.items() if abs(m - best) <= tol]
    return min(tied)


# ---------------------------------------------------------------------------------------
# From comparisons to a status


def outcome(c: Comparison, prediction: Prediction = Prediction()) -> str:
    """'as predicted', 'opposite', 'open' (the evidence cannot tell) or 'inconclusive'."""
    if c.decision == "inconclusive":
        return "inconclusive"
    if prediction.direction == "better":
        return {"better": "as predicted", "worse": "opposite"}.get(c.decision, "open")
    sign = 1.0 if c.higher_is_better else -1.0
    lo, hi = sorted((sign * c.ci_low, sign * c.ci_high))     # in "a better" units: > 0 favours a
    m = prediction.margin
    if prediction.direction == "not better":
        return "as predicted" if hi < m else ("opposite" if lo > m else "open")
    return "as predicted" if -m < lo and hi < m else ("opposite" if lo >= m or hi <= -m else "open")


@dataclass(frozen=True)
class ClaimDecision:
    status: str                  # one of STATUSES
    reason: str                  # one sentence: what the comparisons showed
    counts: dict = field(default_factory=dict)   # outcome → number of comparisons


def decide_claim(comparisons, predictions=None) -> ClaimDecision:
    """The claim's status from the comparisons made at the claim's own conditions.

    Every comparison as predicted → confirmed. Some as predicted, others open, opposite or
    inconclusive → partly confirmed. None as predicted and at least one opposite → refuted.
    None as predicted or opposite (all indistinguishable or inconclusive) → inconclusive.
    ``predictions``: one :class:`Prediction` per comparison, or one for all (default: better).
    """
    comparisons = list(comparisons)
    if predictions is None or isinstance(predictions, Prediction):
        predictions = [predictions or Prediction()] * len(comparisons)
    if len(predictions) != len(comparisons):
        raise InitReportError(f"{len(predictions)} predictions for {len(comparisons)} comparisons")
    outcomes = [outcome(c, p) for c, p in zip(comparisons, predictions)]
    counts = {k: outcomes.count(k) for k in ("as predicted", "opposite", "open", "inconclusive") if k in outcomes}
    n, hit, opp = len(outcomes), counts.get("as predicted", 0), counts.get("opposite", 0)
    if n == 0:
        return ClaimDecision("inconclusive", "no comparison could be made at the claim's conditions", counts)
    if hit == n:
        status = "confirmed"
    elif hit:
        status = "partly confirmed"
    elif opp:
        status = "refuted"
    else:
        status = "inconclusive"
    parts = [f"{v} {k}" for k, v in counts.items()]
    reasons = sorted({c.reason for c, o in zip(comparisons, outcomes) if o == "inconclusive" and c.reason})
    reason = f"{n} comparison{'s' if n != 1 else ''}: " + ", ".join(parts)
    if reasons:
        reason += " (" + "; ".join(reasons) + ")"
    return ClaimDecision(status, reason, counts)


# ---------------------------------------------------------------------------------------
# verdicts.json


def _round(x, digits: int = 6):
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


RECORD_KEYS = ("a", "b", "metric", "estimate", "ci_low", "ci_high", "n_seeds", "decision")


def comparison_record(c: Comparison, *, depth: int | None = None, **extra) -> dict:
    """One comparison as listed in ``verdicts.json`` (numbers to 6 significant digits).

    Required keys: RECORD_KEYS, plus ``depth`` where the comparison is at one depth. Also
    written: ``level``, ``method``, ``paired``, ``one_sided``, ``p_value``, ``n_excluded``,
    ``reason`` (when inconclusive), and whatever the caller adds (e.g. ``lr_a``, ``lr_b``).
    """
    rec = {"a": c.a, "b": c.b, "metric": c.metric, "estimate": _round(c.estimate), "ci_low": _round(c.ci_low),
           "ci_high": _round(c.ci_high), "n_seeds": c.n_seeds, "decision": c.decision}
    if depth is not None:
        rec["depth"] = depth
    rec.update(level=_round(c.level), method=c.method, paired=c.paired, one_sided=c.one_sided,
               p_value=_round(c.p_value), n_excluded=c.n_excluded)
    if c.reason:
        rec["reason"] = c.reason
    rec.update(extra)
    return rec


def experiment_record(exp_id: str, status: str, comparisons=(), **extra) -> dict:
    if status not in STATUSES:
        raise choice_error("status", status, STATUSES)
    return {"id": exp_id, "status": status, "comparisons": list(comparisons), **extra}


def validate_verdicts(doc: dict) -> list[str]:
    """Problems with a ``verdicts.json`` document (empty when it follows the schema)."""
    problems = []
    experiments = doc.get("experiments") if isinstance(doc, dict) else None
    if not isinstance(experiments, list):
        return ["'experiments' must be a list"]
    for i, e in enumerate(experiments):
        where = f"experiments[{i}]"
        if not isinstance(e.get("id"), str):
            problems.append(f"{where}: 'id' must be a string")
        if e.get("status") not in STATUSES:
            problems.append(f"{where}: status {e.get('status')!r} not one of {', '.join(STATUSES)}")
        for j, c in enumerate(e.get("comparisons", [])):
            w = f"{where}.comparisons[{j}]"
            missing = [k for k in RECORD_KEYS if k not in c]
            if missing:
                problems.append(f"{w}: missing {', '.join(missing)}")
                continue
            if c["decision"] not in ("better", "worse", "indistinguishable", "inconclusive"):
                problems.append(f"{w}: decision {c['decision']!r}")
            nums = [c[k] for k in ("estimate", "ci_low", "ci_high")]
            if c["decision"] != "inconclusive" and (None in nums or not nums[1] <= nums[0] <= nums[2]):
                problems.append(f"{w}: needs ci_low ≤ estimate ≤ ci_high, got {nums}")
            if not isinstance(c["n_seeds"], int) or c["n_seeds"] < 0:
                problems.append(f"{w}: n_seeds {c['n_seeds']!r}")
            if "depth" in c and not (isinstance(c["depth"], int) and c["depth"] >= 1):
                problems.append(f"{w}: depth {c['depth']!r}")
    return problems
