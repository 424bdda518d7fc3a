"""Comparisons with intervals for the rules (issue 10; design in ``docs-dev/verdict-protocol.md``).

A rule states its comparisons as :class:`Spec` (``a`` is the side the claim speaks for, with
the claim's :class:`~initreport.protocol.Prediction` of ``a`` against ``b``), and
:func:`run_family` turns them into :class:`~initreport.stats.Comparison` objects: per-seed
values of the metric that matches the claim (:func:`initreport.protocol.per_seed`), paired by
seed (runs that differ only in the initialiser share each seed's data order), a t interval,
one-sided toward the prediction, Holm-corrected over the family. A comparison whose control
does not train (:func:`initreport.protocol.control_trains`) is inconclusive, with that reason.
The claim's status is :func:`initreport.protocol.decide_claim` over the deciding comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import stats
from ...fmt import num
from ...protocol import METRICS, Prediction, comparison_record, control_trains, decide_claim, per_seed
from ..axis import LOOK_ALPHA, deciding_depths
from ..model import Run, Verdict

ALPHA = 0.05
BETTER = Prediction("better")
METHOD_NOTE = ("95% t interval over seeds, paired by seed, one-sided toward the claim's prediction, "
               "Holm-corrected over the claim's comparisons")
SHORT = {"heldout_accuracy": "test accuracy", "train_loss_after_budget": "final training loss",
         "epochs_to_target": "epochs to target", "instability": "unstable seeds", "stall": "stalled seeds",
         "saturation": "saturated fraction"}


def cond(run: Run, *fields: str) -> str:
    """A condition's name from its config ('he_normal, relu', with ', width 1' when asked): never the label."""
    c = run.config
    extra = "".join(f", {f} {getattr(c, f)}" for f in fields)
    return f"{c.init}, {c.activation}{extra}"


@dataclass(frozen=True)
class Spec:
    a: Run                        # the side the claim speaks for
    b: Run
    metric: str                   # a protocol.METRICS name
    prediction: Prediction = BETTER
    control: Run | None = None    # a run that must train for the comparison to say anything
    deciding: bool = True         # at the claim's own conditions (decides) or context (reported)
    depth: int | None = None      # when the comparison is at one depth
    a_name: str = ""
    b_name: str = ""
    values: tuple | None = None   # precomputed per-seed (a, b) Samples, for grid metrics


def axis_specs(exp, a_init: str, b_init: str, metric: str, *, activation: str | None = None,
               all_deciding: bool = False) -> list[Spec]:
    """``a_init`` against ``b_init`` along the depth axis (role "axis": each cell at its own chosen learning
    rate), one Spec per depth where both exist, ``a`` the control: deciding at the deep depths
    (:func:`..axis.deciding_depths`, or at every depth with ``all_deciding``), context below."""
    fields = {} if activation is None else {"activation": activation}
    deciding = deciding_depths(r.config.depth for r in exp.select("axis"))
    specs = []
    for a in sorted(exp.select("axis", init=a_init, **fields), key=lambda r: r.config.depth):
        b = exp.select("axis", init=b_init, depth=a.config.depth, **fields)
        if b:
            specs.append(Spec(a, b[0], metric, control=a, depth=a.config.depth,
                              deciding=all_deciding or a.config.depth in deciding))
    return specs


@dataclass(frozen=True)
class Made:
    spec: Spec
    comparison: stats.Comparison

    @property
    def record(self) -> dict:
        s = self.spec
        extra = {"deciding": s.deciding, "prediction": s.prediction.direction, "init_a": s.a.config.init,
                 "init_b": s.b.config.init, "activation": s.a.config.activation, "dataset": s.a.config.dataset,
                 "lr_a": s.a.config.lr, "lr_b": s.b.config.lr}
        if s.prediction.margin:
            extra["margin"] = s.prediction.margin
        return comparison_record(self.comparison, depth=s.depth, **extra)


def _samples(res: dict, s: Spec):
    if s.values is not None:
        return s.values
    a = per_seed(res[s.a], s.metric, name=s.a_name or cond(s.a))
    b = per_seed(res[s.b], s.metric, name=s.b_name or cond(s.b))
    return a, b


def run_family(res: dict, specs, alpha: float = ALPHA) -> list[Made]:
    """The comparisons of ``specs`` on ``res`` ({Run: result}), Holm-corrected together."""
    specs = list(specs)
    if not specs:
        return []
    args = []
    for s in specs:
        a, b = _samples(res, s)
        args.append(dict(a=a, b=b, metric=s.metric, higher_is_better=METRICS[s.metric].higher_is_better))
    made = stats.compare_family(args, alpha=alpha, paired=True, one_sided=True, method="t")
    out = []
    for s, c in zip(specs, made):
        if s.control is not None and not control_trains(res[s.control]):
            c = stats.mark_inconclusive(c, f"the control {cond(s.control)} does not train (its training loss "
                                           "ends less than 30% below min(initial loss, ln K))")
        out.append(Made(s, c))
    return out


def run_families(res: dict, specs, alpha: float = ALPHA) -> list[Made]:
    """Deciding and context comparisons, each family Holm-corrected on its own, in spec order.
    A family with depth-axis comparisons is tested at Pocock's per-look level (:data:`..axis.LOOK_ALPHA`):
    its undecided comparisons may get a second look with more seeds."""
    specs = list(specs)
    if any(s.a.role == "axis" for s in specs):
        alpha = min(alpha, LOOK_ALPHA)
    deciding = iter(run_family(res, [s for s in specs if s.deciding], alpha))
    context = iter(run_family(res, [s for s in specs if not s.deciding], alpha))
    return [next(deciding) if s.deciding else next(context) for s in specs]


def describe(m: Made) -> str:
    """'he_normal, relu − lecun_normal, relu (final training loss, depth 30): −1.2 [−1.4, −1.0], better'."""
    c, s = m.comparison, m.spec
    where = f", depth {s.depth}" if s.depth is not None else ""
    head = f"{c.a} − {c.b} ({SHORT.get(c.metric, c.metric)}{where}, {c.n_seeds} seeds): "
    if c.ci_low is None:
        return head + f"inconclusive ({c.reason})"
    text = head + f"{num(c.estimate)} [{num(c.ci_low)}, {num(c.ci_high)}], {c.decision}"
    if c.decision == "inconclusive" and c.reason:
        text += f" ({c.reason})"
    return text


def check_text(m: Made) -> str:
    s, c = m.spec, m.comparison
    where = f" at depth {s.depth}" if s.depth is not None else ""
    metric = SHORT.get(c.metric, c.metric)
    if s.prediction.direction == "not better":
        return f"{c.a} is not better than {c.b} by over {num(s.prediction.margin)} ({metric}{where})"
    return f"{c.a} is better than {c.b} ({metric}{where})"


def decided(made: list[Made]):
    """decide_claim over the deciding comparisons."""
    dec = [m for m in made if m.spec.deciding]
    return decide_claim([m.comparison for m in dec], [m.spec.prediction for m in dec])


def held(m: Made) -> bool:
    from ...protocol import outcome
    return outcome(m.comparison, m.spec.prediction) == "as predicted"


def comparison_verdict(made: list[Made], measured_extra: str, detail: str, numbers, *, status: str | None = None,
                       checks: tuple = ()) -> Verdict:
    """A Verdict whose status comes from the comparisons (or ``status``), listing them all."""
    d = decided(made)
    parts = [describe(m) for m in made if m.spec.deciding]
    context = [describe(m) for m in made if not m.spec.deciding]
    measured = "; ".join(parts)
    if context:
        measured += "; context (not deciding): " + "; ".join(context)
    if measured_extra:
        measured = f"{measured}; {measured_extra}" if measured else measured_extra
    all_checks = tuple((check_text(m), held(m)) for m in made if m.spec.deciding) + tuple(checks)
    note = METHOD_NOTE
    if any(m.spec.a.role == "axis" for m in made):
        note += (f", at Pocock's per-look level α = {num(LOOK_ALPHA)} (a comparison still undecided after the "
                 "comparison seeds gets more seeds, a second look; this level keeps the overall error at 5%)")
    return Verdict(status or d.status, measured, f"{detail} Statistics: {note}. Outcome: {d.reason}.",
                   numbers, all_checks, tuple(m.record for m in made), d.reason)


def combine(status: str, deterministic_ok: bool) -> str:
    """A comparison status combined with a deterministic check that must hold beside it."""
    if status == "confirmed" and not deterministic_ok:
        return "partly confirmed"
    if status == "refuted" and deterministic_ok:
        return "partly confirmed"
    return status
