"""Reading numbers out of result dicts (schema ``initreport.result/1``), for the rules.

Every reader returns NaN (or None) where no seed survived, never raises on a diverged run.
"""

from __future__ import annotations

import math


def mean(stat: dict | None) -> float:
    """The across-seed mean of a summary, NaN where no seed survived."""
    if not stat or stat.get("mean") is None:
        return math.nan
    return float(stat["mean"])


def final(result: dict, key: str = "test_accuracy") -> float:
    return mean(result["final"][key])


def layer_means(result: dict, stat: str, checkpoint: int = 0) -> list[float]:
    """Mean across seeds of one statistic, per hidden layer, at a checkpoint (index; -1 = last)."""
    layers = result["checkpoints"][checkpoint]["layers"]
    return [mean(layer[stat]) for layer in layers]


def layer_max(result: dict, stat: str, checkpoint: int = -1) -> float:
    """Largest value of a statistic over hidden layers and seeds (NaN if none survived)."""
    values = [layer[stat]["max"] for layer in result["checkpoints"][checkpoint]["layers"]
              if layer[stat]["max"] is not None]
    return max(values) if values else math.nan


def loss_drop(result: dict) -> float:
    """Fraction of the initial training loss removed by training: 1 − L_final / L_0."""
    start, end = mean(result["history"][0]["loss"]), mean(result["final"]["loss"])
    if not (math.isfinite(start) and math.isfinite(end)) or start <= 0:
        return math.nan
    return 1.0 - end / start


def n_diverged(result: dict) -> int:
    return len(result["diverged"])


def epochs_to(result: dict, target: float) -> int | None:
    """First epoch at which the mean training loss is at or below target, None if never."""
    for entry in result["history"]:
        value = mean(entry["loss"])
        if math.isfinite(value) and value <= target:
            return entry["epoch"]
    return None


def std_ratio(first: float, last: float) -> float:
    """first / last, NaN when last is zero (a ratio of per-layer stds)."""
    return first / last if last else math.nan
