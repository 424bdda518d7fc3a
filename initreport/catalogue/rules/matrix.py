"""Rules over the choice of heuristic by activation: Xavier for tanh/sigmoid, He for ReLU, and the
conclusion (choose by activation). Each compares two initialisers with an interval
(:mod:`.compare`), on the metric that matches the claim:

* "works best": held-out accuracy along the depth axis (:mod:`..axis`: role "axis", each cell at
  its own learning rate chosen on a validation split, role "selection"); the deep nets decide,
  the shallow ones are context. Glorot against He for tanh and sigmoid, He against Glorot
  (= √(1/n_in) on these layers) for ReLU and leaky ReLU;
* at one common learning rate (He et al.'s setting), He against √(1/fan-in) on the training loss
  of the depth study's deep ReLU nets (role "deep"): context.
The matrix (role "matrix", depth 4) feeds the heat map and the recommendation table only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..matrix import recommendation
from ..model import Experiment, Verdict
from ..readers import loss_drop
from .base import results_of, rule
from ...fmt import num
from ..axis import DEEP_FROM
from .compare import Spec, axis_specs, comparison_verdict, cond, run_families

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def count_word(n: int) -> str:
    """6 → 'six' (a count in running text)."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


@dataclass(frozen=True)
class MatrixNumbers:
    recommendation: dict     # {activation: {dataset: {"best", "accuracy", "loss", "std", "tied"}}}


def _pair(exp: Experiment, a_init: str, b_init: str, act: str, *, deciding: bool, control: bool = True) -> list[Spec]:
    """``a_init`` against ``b_init`` with ``act`` on every matrix dataset (held-out accuracy)."""
    specs = []
    for a in exp.select("matrix", init=a_init, activation=act):
        found = exp.select("matrix", init=b_init, activation=act, dataset=a.config.dataset)
        if found:
            specs.append(Spec(a, found[0], "heldout_accuracy", control=a if control else None, deciding=deciding,
                              depth=a.config.depth, a_name=cond(a, "dataset"), b_name=cond(found[0], "dataset")))
    return specs


def xavier_specs(exp: Experiment) -> list[Spec]:
    """Glorot against He for tanh and sigmoid along the depth axis."""
    return [s for act in ("tanh", "sigmoid") for s in axis_specs(exp, "glorot_normal", "he_normal", "heldout_accuracy", activation=act)]


def he_specs(exp: Experiment) -> list[Spec]:
    """He against Glorot (= √(1/n_in) on these layers) for ReLU and leaky ReLU along the depth axis; at one
    common learning rate, He against √(1/fan-in) in the depth study's deep ReLU nets (training loss, context)."""
    specs = [s for act in ("relu", "leaky_relu") for s in axis_specs(exp, "he_normal", "glorot_normal", "heldout_accuracy", activation=act)]
    for he in sorted(exp.select("deep", init="he_normal"), key=lambda r: r.config.depth):
        lecun = exp.select("deep", init="lecun_normal", activation=he.config.activation, depth=he.config.depth)
        if lecun:
            specs.append(Spec(he, lecun[0], "train_loss_after_budget", control=he, depth=he.config.depth,
                              deciding=False))
    return specs


def _rates_text(exp: Experiment) -> str:
    """'learning rates chosen on the validation split: he_normal, relu: 0.03 at depth 2, 0.01 at 20; ...'."""
    rows: dict = {}
    for r in exp.select("axis"):
        rows.setdefault((r.config.init, r.config.activation), []).append((r.config.depth, r.config.lr))
    parts = [f"{init}, {act}: " + ", ".join(f"{num(lr)} at depth {d}" for d, lr in sorted(v))
             for (init, act), v in rows.items()]
    return "learning rates chosen on the validation split: " + "; ".join(parts) if parts else ""


_PROTOCOL = ("along depth; each (initialiser, activation, depth) cell trains at the learning rate, from a grid of "
             "four, with the lowest validation loss (a fifth of the training split held out, one selection seed "
             "disjoint from the comparison seeds; the test split is never used for it), then the comparison seeds "
             "train at that rate. ")


@rule("xavier_for_tanh", roles=("matrix", "axis", "selection"), numbers=MatrixNumbers)
def rule_xavier_for_tanh(exp: Experiment, res: dict) -> Verdict:
    matrix = results_of(exp, res, "matrix")
    made = run_families(res, xavier_specs(exp))
    detail = ("Rule: \"works best\" is read as held-out accuracy, tested " + _PROTOCOL + "For tanh and sigmoid, "
              "glorot_normal is compared with he_normal at every depth; the deep nets (from "
              f"{DEEP_FROM} hidden layers on) decide, the shallower ones are context. Confirmed when Glorot is "
              "better in every deciding comparison, partly when in some, inconclusive when the intervals cannot tell "
              "them apart or Glorot itself does not train.")
    return comparison_verdict(made, _rates_text(exp), detail, MatrixNumbers(recommendation(matrix)))


@dataclass(frozen=True)
class HeForReluNumbers:
    recommendation: dict     # as MatrixNumbers.recommendation
    he_drop: float           # share of the initial loss the deepest He net removed
    lecun_drop: float        # the same with √(1/fan-in)
    depth: int               # hidden layers of the deepest pair


def _deepest_drops(exp: Experiment, res: dict) -> tuple[float, float, int]:
    deepest = max(r.config.depth for r in exp.select("deep"))
    he = exp.one("deep", init="he_normal", depth=deepest)
    lecun = exp.one("deep", init="lecun_normal", depth=deepest)
    return loss_drop(res[he]), loss_drop(res[lecun]), deepest


@rule("he_for_relu", roles=("matrix", "axis", "selection", "deep"), numbers=HeForReluNumbers)
def rule_he_for_relu(exp: Experiment, res: dict) -> Verdict:
    made = run_families(res, he_specs(exp))
    depths = sorted({r.config.depth for r in exp.select("deep")})
    detail = ("Rule: \"works best\" is read as held-out accuracy, tested " + _PROTOCOL + "For ReLU and leaky "
              "ReLU, he_normal is compared with glorot_normal (on these 64-wide layers σ = √(1/n_in), LeCun's scale) "
              f"at every depth; the deep nets (from {DEEP_FROM} hidden layers on) decide. Context: at one common "
              f"learning rate, as in He et al. 2015, He against √(1/fan-in) on the final training loss at "
              f"{', '.join(map(str, depths))} hidden layers (the depth study).")
    he_drop, lecun_drop, deepest = _deepest_drops(exp, res)
    numbers = HeForReluNumbers(recommendation(results_of(exp, res, "matrix")), he_drop, lecun_drop, deepest)
    return comparison_verdict(made, _rates_text(exp), detail, numbers)


@rule("recommendation", roles=("matrix", "axis", "selection", "deep"), numbers=MatrixNumbers)
def rule_recommendation(exp: Experiment, res: dict) -> Verdict:
    made = run_families(res, xavier_specs(exp) + he_specs(exp))
    detail = ("Rule: the union of the two claims' comparisons, Holm-corrected together: Glorot against He for "
              "tanh and sigmoid, He against Glorot for ReLU and leaky ReLU, held-out accuracy, tested " + _PROTOCOL
              + f"The deep nets (from {DEEP_FROM} hidden layers on) decide; confirmed when every deciding comparison "
              "goes the notes' way, partly when some do.")
    return comparison_verdict(made, _rates_text(exp), detail, MatrixNumbers(recommendation(results_of(exp, res, "matrix"))))
