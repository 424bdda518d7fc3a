"""Rules over the technique × activation matrix: which family of heuristics wins where."""

from __future__ import annotations

from dataclasses import dataclass

from ...fmt import num, pct
from ..matrix import family, matrix_heuristics, recommendation
from ..model import Experiment, Verdict
from ..readers import loss_drop
from .base import results_of, rule, verdict

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def count_word(n: int) -> str:
    """6 → 'six' (a count in running text)."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


@dataclass(frozen=True)
class MatrixNumbers:
    recommendation: dict     # {activation: {dataset: {"best", "loss", "std", "tied"}}}


def _family_claim(res: dict, activations: tuple, fam: str) -> tuple[bool, bool, str, dict, list]:
    rec = recommendation(res)
    hits, cases, parts, checks = 0, 0, [], []
    for act in activations:
        for dataset, r in rec.get(act, {}).items():
            cases += 1
            fams = {family(k) for k in r["tied"]}
            win = family(r["best"]) == fam
            tie = fam in fams
            hits += win or tie
            checks.append((f"{act} on {dataset}: {fam} best or tied", win or tie))
            parts.append(f"{act} on {dataset}: best {r['best']} (test loss {num(r['loss'])}"
                         f"{'' if win else ', ' + fam + (' tied' if tie else ' not tied')})")
    return hits == cases, hits > 0, "; ".join(parts), rec, checks


@rule("xavier_for_tanh", roles=("matrix",), numbers=MatrixNumbers)
def rule_xavier_for_tanh(exp: Experiment, res: dict) -> Verdict:
    matrix = results_of(exp, res, "matrix")
    ok, partial, measured, rec, checks = _family_claim(matrix, ("tanh", "sigmoid"), "Xavier/Glorot")
    detail = ("Rule: over the technique × activation matrix, confirmed when a Xavier/Glorot variant has the "
              f"lowest mean final test loss among the {count_word(len(matrix_heuristics(matrix)))} heuristics, "
              "or is within one standard deviation of it, for tanh and sigmoid on every dataset; partly when on some.")
    return verdict(ok, partial, measured, detail, checks, MatrixNumbers(rec))


@dataclass(frozen=True)
class HeForReluNumbers:
    recommendation: dict     # as MatrixNumbers.recommendation
    he_drop: float           # share of the initial loss the deep He net removed
    lecun_drop: float        # the same with √(1/n_in)
    depth: int               # hidden layers of the deep pair


@rule("he_for_relu", roles=("matrix", "deep"), numbers=HeForReluNumbers)
def rule_he_for_relu(exp: Experiment, res: dict) -> Verdict:
    ok, partial, measured, rec, checks = _family_claim(results_of(exp, res, "matrix"), ("relu", "leaky_relu"), "He")
    he, lecun = exp.one("deep", init="he_normal"), exp.one("deep", init="lecun_normal")
    he_drop, lecun_drop = loss_drop(res[he]), loss_drop(res[lecun])
    depth = he.config.depth
    deep_ok = he_drop > 0.3 and lecun_drop < 0.1
    measured += (f"; {depth}-layer ReLU net: He removes {pct(he_drop)} of the initial loss, "
                 f"√(1/n_in) {pct(lecun_drop)}")
    detail = ("Rule: confirmed when He is best or tied (within one std) for relu and leaky_relu on every matrix "
              f"dataset, and in the {depth}-layer ReLU net He removes over 30% of the initial training loss while "
              "√(1/n_in) removes under 10% (stalls), as in He et al. 2015, Fig. 3.")
    checks += [(f"{depth}-layer ReLU net: He removes over 30% of the loss", he_drop > 0.3),
               (f"{depth}-layer ReLU net: √(1/n_in) removes under 10% (stalls)", lecun_drop < 0.1)]
    return verdict(ok and deep_ok, partial or deep_ok, measured, detail, checks,
                   HeForReluNumbers(rec, he_drop, lecun_drop, depth))


# The notes' choice of family per activation (part 2, §8): what the measured matrix is checked against.
NOTES_CHOICE = {"tanh": "Xavier/Glorot", "sigmoid": "Xavier/Glorot", "relu": "He", "leaky_relu": "He"}


@rule("recommendation", roles=("matrix",), numbers=MatrixNumbers)
def rule_recommendation(exp: Experiment, res: dict) -> Verdict:
    rec = recommendation(results_of(exp, res, "matrix"))
    agree, parts, checks = 0, [], []
    cases = 0
    for act, fam in NOTES_CHOICE.items():
        for dataset, r in rec.get(act, {}).items():
            cases += 1
            hit = fam in {family(k) for k in r["tied"]}
            agree += hit
            checks.append((f"{act} on {dataset}: {fam} best or tied", hit))
            parts.append(f"{act}/{dataset}: {r['best']}" + ("" if hit else f" ({fam} not tied)"))
    detail = ("Rule: the recommendation is the heuristic with the lowest mean final test loss per activation and "
              "dataset; confirmed when the notes' choice (Glorot for tanh/sigmoid, He for ReLU) is best or tied "
              "in every cell, partly when in some.")
    return verdict(agree == cases, agree > 0, f"notes' choice best or tied in {agree} of {cases} cells: "
                   + "; ".join(parts), detail, checks, MatrixNumbers(rec))
