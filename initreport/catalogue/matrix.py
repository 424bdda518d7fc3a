"""The technique × activation matrix and the recommendation derived from it.

"Heuristic" means what the initialiser registry says (``InitInfo.family == "heuristic"``);
the recommendation compares the heuristics present in the matrix.
"""

from __future__ import annotations

import math

from .. import initializers
from .readers import mean

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


def recommendation(res: dict, alpha: float = 0.05) -> dict:
    """{activation: {dataset: {"best", "accuracy", "loss", "std", "tied"}}} over the matrix runs ({Run: result}).

    Best: the heuristic with the highest mean final test accuracy ("works best"). Tied: the
    heuristics whose accuracy the best one's does not beat, by a paired t interval over seeds
    (two-sided 95%, Holm-corrected over the heuristics compared with the best): with these
    seeds, we cannot tell them apart. ``loss``/``std``: the best one's mean final test loss and
    the std of its test accuracy.
    """
    from .. import stats
    from ..protocol import per_seed
    names = heuristics()
    out = {}
    for dataset in sorted({run.config.dataset for run in res}):
        rows: dict = {}
        for run, r in res.items():
            if run.config.dataset == dataset and run.config.init in names:
                rows.setdefault(run.config.activation, {})[run.config.init] = r
        for act, row in rows.items():
            acc = {k: mean(r["final"]["test_accuracy"]) for k, r in row.items()}
            finite = [k for k in row if math.isfinite(acc[k])]
            if not finite:
                continue
            best = max(finite, key=lambda k: acc[k])
            others = [k for k in finite if k != best]
            made = stats.compare_family(
                [dict(a=per_seed(row[best], "heldout_accuracy", name=best),
                      b=per_seed(row[k], "heldout_accuracy", name=k)) for k in others],
                alpha=alpha, paired=True, higher_is_better=True, metric="heldout_accuracy") if others else []
            tied = sorted([best] + [k for k, c in zip(others, made) if c.decision != "better"])
            out.setdefault(act, {})[dataset] = {
                "best": best, "accuracy": acc[best], "loss": mean(row[best]["final"]["test_loss"]),
                "std": row[best]["final"]["test_accuracy"].get("std") or 0.0, "tied": tied}
    return out


def matrix_heuristics(res: dict) -> tuple[str, ...]:
    """The heuristics that appear in the matrix runs ({Run: result} or an iterable of Run)."""
    names = heuristics()
    return tuple(dict.fromkeys(run.config.init for run in res if run.config.init in names))
