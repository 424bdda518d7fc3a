"""The technique × activation matrix and the recommendation derived from it.

"Heuristic" means what the initialiser registry says (``InitInfo.family == "heuristic"``);
the recommendation compares the heuristics present in the matrix.
"""

from __future__ import annotations

import math

from .. import initializers
from .readers import mean, n_diverged

MATRIX_INITS = ("zeros", "constant", "small_random", "large_random",
                "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform")
MATRIX_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def heuristics() -> tuple[str, ...]:
    """Every initialiser the registry calls a heuristic, in registry order."""
    return tuple(name for name, info in initializers.INITIALIZERS.items() if info.family == "heuristic")


# Display names of the heuristics' families, by the registry name's first word.
_FAMILIES = {"glorot": "Xavier/Glorot", "he": "He", "lecun": "LeCun"}


def family(init: str) -> str:
    """'he_uniform' → 'He'; a name outside the three families is its own family."""
    return _FAMILIES.get(init.split("_")[0], init)


def _matrix(res: dict, dataset: str, metric: str = "test_loss") -> dict:
    """{activation: {init: (mean, std, diverged seeds)}} of one matrix dataset; res is {Run: result}."""
    table: dict = {}
    for run, r in res.items():
        c = run.config
        if c.dataset != dataset:
            continue
        stat = r["final"][metric]
        table.setdefault(c.activation, {})[c.init] = (mean(stat), stat.get("std") or 0.0, n_diverged(r))
    return table


def _candidates(row: dict) -> list[tuple[str, float, float]]:
    names = heuristics()
    return [(k, v[0], v[1]) for k, v in row.items() if k in names and math.isfinite(v[0])]


def recommendation(res: dict) -> dict:
    """{activation: {dataset: {"best", "loss", "std", "tied"}}} over the matrix runs ({Run: result}).

    Best: the heuristic with the lowest mean final test loss. Tied: its mean final test loss is
    within one standard deviation (the larger of the two) of the best one's: with three seeds,
    we cannot tell those apart.
    """
    out = {}
    for dataset in sorted({run.config.dataset for run in res}):
        for act, row in _matrix(res, dataset).items():
            candidates = _candidates(row)
            best, m, s = min(candidates, key=lambda t: t[1])
            tied = sorted(k for k, mk, sk in candidates if mk - m <= max(s, sk))
            out.setdefault(act, {})[dataset] = {"best": best, "loss": m, "std": s, "tied": tied}
    return out


def matrix_heuristics(res: dict) -> tuple[str, ...]:
    """The heuristics that appear in the matrix runs ({Run: result} or an iterable of Run)."""
    names = heuristics()
    return tuple(dict.fromkeys(run.config.init for run in res if run.config.init in names))
