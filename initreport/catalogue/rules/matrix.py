"""Rules over the choice of heuristic by activation: Xavier for tanh/sigmoid, He for ReLU, and the
conclusion (choose by activation). Each compares two initialisers with an interval
(:mod:`.compare`), on the metric that matches the claim:

* "works best" (Xavier for tanh and sigmoid): held-out accuracy, Glorot against He, on the
  technique × activation matrix;
* "trains / stalls" (a deep ReLU net with He against √(1/fan-in)): the training loss after the
  budget, at the depth study's deep depths (role "deep"), where the claim lives; the matrix's
  depth-4 ReLU comparisons are reported as context (they do not decide).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..matrix import recommendation
from ..model import Experiment, Verdict
from ..readers import loss_drop
from .base import results_of, rule
from .compare import Spec, comparison_verdict, cond, run_families

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
    return [s for act in ("tanh", "sigmoid") for s in _pair(exp, "glorot_normal", "he_normal", act, deciding=True)]


def he_specs(exp: Experiment) -> list[Spec]:
    """Deciding: He against √(1/fan-in) in the deep ReLU nets (training loss); context: He against
    Glorot for ReLU and leaky ReLU on the matrix (held-out accuracy)."""
    deep = []
    for he in sorted(exp.select("deep", init="he_normal"), key=lambda r: r.config.depth):
        lecun = exp.select("deep", init="lecun_normal", activation=he.config.activation, depth=he.config.depth)
        if lecun:
            deep.append(Spec(he, lecun[0], "train_loss_after_budget", control=he, depth=he.config.depth))
    context = [s for act in ("relu", "leaky_relu") for s in _pair(exp, "he_normal", "glorot_normal", act, deciding=False)]
    return deep + context


@rule("xavier_for_tanh", roles=("matrix",), numbers=MatrixNumbers)
def rule_xavier_for_tanh(exp: Experiment, res: dict) -> Verdict:
    matrix = results_of(exp, res, "matrix")
    made = run_families(res, xavier_specs(exp))
    detail = ("Rule: \"works best\" is read as held-out accuracy. For tanh and sigmoid on every matrix dataset, "
              "glorot_normal is compared with he_normal (same seeds, same learning rate); confirmed when Glorot is "
              "better in every comparison, partly when in some, inconclusive when the intervals cannot tell them "
              "apart or Glorot itself does not train.")
    return comparison_verdict(made, "", detail, MatrixNumbers(recommendation(matrix)))


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


@rule("he_for_relu", roles=("matrix", "deep"), numbers=HeForReluNumbers)
def rule_he_for_relu(exp: Experiment, res: dict) -> Verdict:
    made = run_families(res, he_specs(exp))
    depths = sorted({r.config.depth for r in exp.select("deep")})
    detail = (f"Rule: the claim is about deep ReLU nets (He et al. 2015), so it is decided at the depth study's "
              f"deep depths ({', '.join(map(str, depths))} hidden layers, one common learning rate): He is compared "
              "with √(1/fan-in) (lecun_normal) on the final training loss (\"trains / stalls\"); confirmed when He "
              "ends lower at every one of these depths. The depth-4 matrix comparisons of He with Glorot on "
              "held-out accuracy are context: they do not decide.")
    he_drop, lecun_drop, deepest = _deepest_drops(exp, res)
    numbers = HeForReluNumbers(recommendation(results_of(exp, res, "matrix")), he_drop, lecun_drop, deepest)
    return comparison_verdict(made, "", detail, numbers)


@rule("recommendation", roles=("matrix", "deep"), numbers=MatrixNumbers)
def rule_recommendation(exp: Experiment, res: dict) -> Verdict:
    made = run_families(res, xavier_specs(exp) + he_specs(exp))
    detail = ("Rule: the union of the two claims' comparisons, Holm-corrected together: Glorot against He for "
              "tanh and sigmoid (held-out accuracy, every matrix dataset), He against √(1/fan-in) for deep ReLU nets "
              "(final training loss at the depth study's deep depths); confirmed when every one goes the notes' "
              "way, partly when some do.")
    return comparison_verdict(made, "", detail, MatrixNumbers(recommendation(results_of(exp, res, "matrix"))))
