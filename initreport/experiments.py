"""The experiment catalogue: every claim of the lecture notes, as data, with its verdict rule.

An :class:`Experiment` names the claim (in the report's own words), the runs that test it
(label → :class:`RunConfig`) and a verdict rule. The rule is a function of the measured
results only; it returns confirmed / refuted / partly confirmed with the number behind it.
Nothing here knows what the notes expect the number to be except the threshold the rule
states, and that threshold is printed beside the verdict on the site.

Profiles scale the catalogue: ``default`` for the published site, ``quick`` for previews
and tests. Several experiments share runs (the technique × activation matrix feeds four
claims); the cache stores each run once, by the hash of its configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import initializers
from .errors import choice_error
from .runner import RunConfig, make_config

# ---------------------------------------------------------------------------------------
# Profiles


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    seeds: tuple
    epochs: int              # digits experiments
    epochs_2d: int           # the small 2-D sets train longer (they are cheap)
    depth_epochs: int
    depths: tuple            # depth study
    sweep_gains: tuple       # weight-scale sweep, in units of 1/√n_in
    matrix_datasets: tuple
    deep: int                # "deep" nets of the small-random and variance experiments
    variance_depth: int      # depth of the at-initialisation variance study
    variance_width: int
    width: int = 64          # hidden units per layer of the digits networks (most of the catalogue)


PROFILES = {
    "default": Profile(
        "default", "the published site: 3 seeds, depth study to 30 layers, 13-point sweep",
        seeds=(0, 1, 2), epochs=20, epochs_2d=60, depth_epochs=15, depths=(2, 5, 10, 20, 30),
        sweep_gains=tuple(float(f"{g:.3g}") for g in np.logspace(-3, 1, 13)),
        matrix_datasets=("digits", "spirals"), deep=8, variance_depth=20, variance_width=256,
    ),
    "quick": Profile(
        "quick", "a preview for tests and drafts: 2 seeds, few epochs, a coarse sweep",
        seeds=(0, 1), epochs=4, epochs_2d=15, depth_epochs=3, depths=(2, 10, 30),
        sweep_gains=(0.001, 0.1, 1.0, 10.0), matrix_datasets=("digits", "spirals"),
        deep=6, variance_depth=20, variance_width=128,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise choice_error("profile", name, PROFILES) from None


# ---------------------------------------------------------------------------------------
# Experiments and verdicts


@dataclass(frozen=True)
class Verdict:
    status: str              # "confirmed" | "refuted" | "partly confirmed"
    measured: str            # the number behind the verdict, in one line
    detail: str              # what was compared, and the threshold the rule used
    numbers: dict = field(default_factory=dict)
    checks: tuple = ()       # ((what the rule required, whether it held), ...), in the rule's order


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    claim: str               # the notes' claim, in the report's words
    source: str              # where in the notes
    page: str                # the site page that shows it
    measure: str             # what is measured
    runs: tuple              # ((label, RunConfig), ...)
    rule: str                # key into RULES
    figures: tuple = ()      # figure kinds the site draws for it

    @property
    def run_map(self) -> dict:
        return dict(self.runs)

    def verdict(self, results: dict) -> Verdict:
        return RULES[self.rule](self, results)


# --- reading results ---------------------------------------------------------------------


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


def pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


def num(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def verdict(ok: bool, partial: bool, measured: str, detail: str, checks=(), **numbers) -> Verdict:
    status = "confirmed" if ok else ("partly confirmed" if partial else "refuted")
    return Verdict(status, measured, detail, numbers, tuple((text, bool(held)) for text, held in checks))


# --- verdict rules -----------------------------------------------------------------------


def rule_frozen(exp: Experiment, res: dict) -> Verdict:
    """Zero init: hidden weights never move (to the bit) and the net learns nothing."""
    frozen_labels = [k for k in res if k.startswith("zeros")]
    changes = {k: layer_max(res[k], "max_abs_change") for k in frozen_labels}
    accs = {k: final(res[k]) for k in res}
    bias_moved = {k: mean(res[k]["checkpoints"][-1]["output"]["bias_change"]) for k in frozen_labels}
    refs = [k for k in res if k not in frozen_labels]
    best_ref = max(accs[k] for k in refs)
    worst_zero = max(accs[k] for k in frozen_labels)
    frozen = all(v == 0 for v in changes.values())
    learned_nothing = worst_zero < 0.5 * best_ref
    measured = "; ".join(f"{k}: max |W_t − W_0| = {num(changes[k])}, test accuracy {pct(accs[k])}"
                         for k in frozen_labels) + f"; best reference {pct(best_ref)}"
    detail = ("Rule: confirmed when every hidden weight of the zero-initialised nets is unchanged to the "
              "bit after training and their accuracy is under half the reference's. The output bias "
              "still moves (largest change " + ", ".join(f"{k} {num(v)}" for k, v in bias_moved.items()) +
              "), so the net learns the class frequencies and nothing else.")
    checks = (("every hidden weight of the zero-initialised nets is unchanged to the bit", frozen),
              ("their accuracy is under half the reference's", learned_nothing))
    return verdict(frozen and learned_nothing, frozen or learned_nothing, measured, detail, checks,
                   changes=changes, accuracies=accs, bias_moved=bias_moved)


def rule_symmetry(exp: Experiment, res: dict) -> Verdict:
    """Units of a layer stay identical; the wide net does no better than a width-1 net."""
    sym_labels = [k for k in res if "width 1" not in k and not k.startswith("glorot")]
    spreads = {k: layer_max(res[k], "relative_unit_spread") for k in sym_labels}
    ranks = {k: layer_max(res[k], "rank") for k in sym_labels}
    accs = {k: final(res[k]) for k in res}
    narrow = {k: v for k, v in accs.items() if "width 1" in k}
    ref = {k: v for k, v in accs.items() if k.startswith("glorot")}
    identical = all(v < 1e-6 for v in spreads.values() if math.isfinite(v))
    gaps = []
    for k in sym_labels:
        twin = k + ", width 1"
        if twin in narrow:
            gaps.append(abs(accs[k] - narrow[twin]))
    like_one_unit = bool(gaps) and max(g for g in gaps if math.isfinite(g)) <= 0.03 if gaps else False
    best_ref = max(ref.values()) if ref else math.nan
    worse = all(accs[k] < best_ref - 0.05 for k in sym_labels if math.isfinite(accs[k]))
    measured = ("largest unit spread (relative) " + ", ".join(f"{k}: {num(v)}" for k, v in spreads.items()) +
                "; largest rank of a hidden W " + ", ".join(f"{k}: {num(v)}" for k, v in ranks.items()) +
                "; test accuracy " + ", ".join(f"{k}: {pct(v)}" for k, v in accs.items()))
    detail = ("Rule: confirmed when every hidden layer's units end training identical (spread < 1e-6 of a "
              "unit's weight length), the wide net's accuracy is within 3 points of the same net with one "
              "unit per layer, and both are more than 5 points below Glorot.")
    checks = (("the units of every hidden layer end training identical", identical),
              ("the wide net is within 3 points of the same net with one unit per layer", like_one_unit),
              ("both are more than 5 points below Glorot", worse))
    return verdict(identical and like_one_unit and worse, identical, measured, detail, checks,
                   spreads=spreads, ranks=ranks, accuracies=accs)


def rule_vanishing(exp: Experiment, res: dict) -> Verdict:
    """Small random: activations (and gradients) shrink layer by layer; training stalls."""
    small = res[next(k for k in res if k.startswith("small_random"))]
    ref_label = next(k for k in res if not k.startswith("small_random"))
    ref = res[ref_label]
    act_std = layer_means(small, "activation_std")
    grad_std = layer_means(small, "gradient_std")
    act_ratio = act_std[-1] / act_std[0] if act_std[0] else math.nan
    grad_ratio = grad_std[0] / grad_std[-1] if grad_std[-1] else math.nan
    drop_small, drop_ref = loss_drop(small), loss_drop(ref)
    per_layer = act_ratio ** (1 / max(1, len(act_std) - 1)) if act_ratio > 0 else math.nan
    shrinks = act_ratio < 0.01 or grad_ratio < 0.01
    stalls = drop_small < 0.1 and drop_ref > 0.3
    measured = (f"activation std layer 1 → {len(act_std)}: {num(act_std[0])} → {num(act_std[-1])} "
                f"(×{num(per_layer)} per layer); gradient std layer 1 / layer {len(grad_std)} = {num(grad_ratio)}; "
                f"training loss reduced by {pct(drop_small)} vs {pct(drop_ref)} with {ref_label}")
    detail = ("Rule: confirmed when the activation std or the back-propagated gradient std of the first "
              "layer falls below 1% of the last layer's (or the reverse), and training removes under 10% "
              f"of the initial loss while {ref_label} removes over 30%.")
    checks = (("activations or gradients shrink below 1% across the hidden layers", shrinks),
              ("training removes under 10% of the loss", drop_small < 0.1),
              (f"while {ref_label} removes over 30%", drop_ref > 0.3))
    return verdict(shrinks and stalls, shrinks or stalls, measured, detail, checks,
                   act_std=act_std, grad_std=grad_std, act_ratio=act_ratio, grad_ratio=grad_ratio,
                   drop_small=drop_small, drop_ref=drop_ref)


def rule_slow_relu(exp: Experiment, res: dict) -> Verdict:
    """Small random with ReLU: gradients vanish less than with tanh, but training is very slow."""
    small, he, tanh = res["small_random, relu"], res["he_normal, relu"], res["small_random, tanh"]
    target = 0.5
    e_small, e_he = epochs_to(small, target), epochs_to(he, target)
    g_relu = layer_means(small, "gradient_std")
    g_tanh = layer_means(tanh, "gradient_std")
    decay_relu = g_relu[0] / g_relu[-1] if g_relu[-1] else math.nan
    decay_tanh = g_tanh[0] / g_tanh[-1] if g_tanh[-1] else math.nan
    epochs = small["config"]["epochs"]
    slower = e_small is None or (e_he is not None and e_small >= 2 * max(e_he, 1))
    less_severe = decay_relu > decay_tanh
    fmt = lambda e: f"epoch {e}" if e is not None else f"not within {epochs} epochs"  # noqa: E731
    measured = (f"training loss ≤ {target}: small random {fmt(e_small)}, He {fmt(e_he)}; "
                f"gradient std layer 1 / layer {len(g_relu)}: relu {num(decay_relu)}, tanh {num(decay_tanh)}")
    detail = ("Rule: confirmed when small-random ReLU takes at least twice as many epochs as He to reach "
              f"a training loss of {target} (or never does), and its gradients shrink less from the last "
              "layer back to the first than small-random tanh's do.")
    checks = ((f"small-random ReLU needs at least twice He's epochs to reach a loss of {target} (or never does)", slower),
              ("its gradients shrink less than small-random tanh's", less_severe))
    return verdict(slower and less_severe, slower or less_severe, measured, detail, checks,
                   epochs_small=e_small, epochs_he=e_he, decay_relu=decay_relu, decay_tanh=decay_tanh)


def rule_saturation(exp: Experiment, res: dict) -> Verdict:
    """Large random with tanh/sigmoid: units saturate, gradients vanish, training is slow."""
    large = {k: v for k, v in res.items() if k.startswith("large")}
    refs = {k: v for k, v in res.items() if not k.startswith("large")}
    sat = {k: float(np.nanmean(layer_means(v, "saturated_fraction"))) for k, v in large.items()}
    slow = {}
    for k, v in large.items():
        act = v["config"]["activation"]
        ref = next(r for r in refs.values() if r["config"]["activation"] == act)
        slow[k] = final(v, "loss") > final(ref, "loss") or n_diverged(v) > 0
    saturated = {k: s > 0.5 for k, s in sat.items()}
    measured = ("mean saturated fraction over hidden layers at init: " +
                ", ".join(f"{k}: {pct(s)}" for k, s in sat.items()) +
                "; final training loss higher than Glorot's: " +
                ", ".join(f"{k}: {'yes' if s else 'no'}" for k, s in slow.items()))
    detail = ("Rule: confirmed when more than half of the hidden units are saturated at initialisation "
              "(|tanh| > 0.99, sigmoid < 0.01 or > 0.99) for every large initialiser and each ends "
              "training with a higher loss than Glorot uniform; partly when only some do.")
    all_sat, all_slow = all(saturated.values()), all(slow.values())
    checks = tuple((f"{k}: over half of the outputs saturated", v) for k, v in saturated.items()) + tuple(
        (f"{k}: final loss above Glorot's (or diverged)", v) for k, v in slow.items())
    return verdict(all_sat and all_slow, any(saturated.values()) or any(slow.values()), measured, detail, checks,
                   saturated=sat, slower=slow)


def rule_exploding(exp: Experiment, res: dict) -> Verdict:
    """Large random with ReLU: activations grow layer by layer, training is unstable."""
    he = res["he_normal, relu"]
    large = {k: v for k, v in res.items() if k.startswith("large")}
    growth, unstable = {}, {}
    for k, v in large.items():
        stds = layer_means(v, "activation_std")
        growth[k] = (stds[-1] / stds[0]) ** (1 / max(1, len(stds) - 1)) if stds[0] else math.nan
        losses = [mean(e["loss"]) for e in v["history"]]
        finite = [x for x in losses if math.isfinite(x)]
        spikes = sum(1 for a, b in zip(finite, finite[1:]) if b > a * 1.05)
        unstable[k] = {"diverged": n_diverged(v), "seeds": v["n_seeds"], "spikes": spikes,
                       "final_loss": final(v, "loss")}
    he_loss = final(he, "loss")
    grows = all(g > 1.5 for g in growth.values())
    fails = all(u["diverged"] > 0 or u["spikes"] >= 2 or u["final_loss"] > 2 * he_loss for u in unstable.values())
    measured = ("activation std growth per layer at init: " + ", ".join(f"{k}: ×{num(g)}" for k, g in growth.items()) +
                "; " + "; ".join(f"{k}: {u['diverged']}/{u['seeds']} seeds diverged, {u['spikes']} loss spikes, "
                                 f"final loss {num(u['final_loss'])}" for k, u in unstable.items()) +
                f"; He final loss {num(he_loss)}")
    detail = ("Rule: confirmed when the activation std grows by more than ×1.5 per layer at initialisation and "
              "every large initialiser either diverges (NaN/Inf) on some seed, has two or more epochs whose "
              "loss rises by over 5%, or ends at more than twice He's loss.")
    checks = tuple((f"{k}: activation std grows more than ×1.5 per layer", g > 1.5) for k, g in growth.items()) + tuple(
        (f"{k}: diverges, spikes or ends above twice He's loss",
         u["diverged"] > 0 or u["spikes"] >= 2 or u["final_loss"] > 2 * he_loss) for k, u in unstable.items())
    return verdict(grows and fails, grows or fails, measured, detail, checks, growth=growth, unstable=unstable)


def rule_u_curve(exp: Experiment, res: dict) -> Verdict:
    """Weight-scale sweep: final loss against the scale is U-shaped with its floor near the heuristics."""
    out, numbers = [], {}
    ok_all, partial_any = True, False
    for act in sorted({r["config"]["activation"] for r in res.values()}):
        runs = sorted((r for r in res.values() if r["config"]["activation"] == act),
                      key=lambda r: r["config"]["init_params"]["gain"])
        gains = [r["config"]["init_params"]["gain"] for r in runs]
        losses = [final(r, "loss") for r in runs]
        finite = [(g, l) for g, l in zip(gains, losses) if math.isfinite(l)]
        best_gain, best_loss = min(finite, key=lambda t: t[1]) if finite else (math.nan, math.nan)
        left = losses[0] if math.isfinite(losses[0]) else math.inf
        right = losses[-1] if math.isfinite(losses[-1]) else math.inf   # diverged counts as worst
        u_shape = left > best_loss * 1.5 + 0.05 and right > best_loss * 1.5 + 0.05
        near = 0.25 <= best_gain <= 4
        ok_all &= u_shape and near
        partial_any |= u_shape
        numbers[act] = {"gains": gains, "losses": losses, "best_gain": best_gain, "best_loss": best_loss}
        out.append(f"{act}: lowest loss {num(best_loss)} at σ = {num(best_gain)}/√n_in; "
                   f"ends {num(left)} (σ = {num(gains[0])}/√n_in) and {num(right)} (σ = {num(gains[-1])}/√n_in)")
    detail = ("Rule: confirmed when, for each activation, the final training loss at both ends of the sweep is "
              "more than 1.5× the lowest loss (+0.05), and the lowest loss lies between 0.25/√n_in and 4/√n_in "
              "(the heuristics sit at 1/√n_in to √2/√n_in). A diverged run counts as the worst loss.")
    checks = []
    for act, n in numbers.items():
        losses = n["losses"]
        ends = [x if math.isfinite(x) else math.inf for x in (losses[0], losses[-1])]
        checks.append((f"{act}: both ends above 1.5× the lowest loss", all(e > n["best_loss"] * 1.5 + 0.05 for e in ends)))
        checks.append((f"{act}: the lowest loss lies between gain 0.25 and 4", 0.25 <= n["best_gain"] <= 4))
    return verdict(ok_all, partial_any, "; ".join(out), detail, checks, **numbers)


def _std_vs_formula(res: dict, names: list[str]) -> dict:
    """Measured std (and largest |w|) of the first hidden layer's initial weights against the formula."""
    rows = {}
    for label, r in res.items():
        init = r["config"]["init"]
        if init not in names:
            continue
        layer = r["checkpoints"][0]["layers"][0]
        info = initializers.get_info(init)
        fan_in, fan_out = layer["fan_in"], layer["fan_out"]
        expected, bounds = info.std(fan_in, fan_out), info.bounds(fan_in, fan_out)
        rows[label] = {"init": init, "fan_in": fan_in, "fan_out": fan_out,
                       "measured_std": mean(layer["weight_std"]), "expected_std": expected,
                       "max_abs": layer["weight_max_abs"]["max"],
                       "limit": None if bounds is None else max(abs(bounds[0]), abs(bounds[1])),
                       "n": fan_in * fan_out}
    return rows


def rule_formula(exp: Experiment, res: dict) -> Verdict:
    """The sample std (and bounds) of the drawn weights equal the formula."""
    names = [r["config"]["init"] for r in res.values()]
    rows = _std_vs_formula(res, names)
    ok = True
    parts, checks = [], []
    for label, row in rows.items():
        # Standard error of a sample std ≈ σ/√(2N) (normal) — allow 5 of them, plus rounding.
        tol = 5 / math.sqrt(2 * row["n"] * len(exp.runs[0][1].seeds)) + 1e-5
        rel = row["measured_std"] / row["expected_std"] - 1
        within = abs(rel) <= max(tol, 0.01)
        bounded = row["limit"] is None or row["max_abs"] <= row["limit"] * (1 + 1e-6)
        ok &= within and bounded
        checks.append((f"{label}: std within tolerance of the formula", within))
        if row["limit"] is not None:
            checks.append((f"{label}: no weight beyond the limit", bounded))
        parts.append(f"{label}: std {num(row['measured_std'])} vs formula {num(row['expected_std'])} "
                     f"({rel:+.2%})" + ("" if row["limit"] is None else
                                         f", max |w| {num(row['max_abs'])} ≤ limit {num(row['limit'])}"))
    detail = ("Rule: confirmed when each measured std of the first layer's initial weights is within "
              "max(1%, 5 standard errors) of the formula, and no weight exceeds the uniform or truncation limit.")
    extra = ""
    trained = {k: final(v) for k, v in res.items() if v["config"]["epochs"] > 0}
    if trained:
        extra = "; test accuracy after training " + ", ".join(f"{k}: {pct(v)}" for k, v in trained.items())
    return verdict(ok, False, "; ".join(parts) + extra, detail, checks, rows=rows, accuracies=trained)


def rule_level_variance(exp: Experiment, res: dict) -> Verdict:
    """He keeps the activation variance level through a deep ReLU net; √(1/n_in) halves it per layer."""
    ratios, per_layer = {}, {}
    for label, r in res.items():
        var = [s * s for s in layer_means(r, "pre_activation_std")]
        ratios[label] = var[-1] / var[0]
        per_layer[label] = ratios[label] ** (1 / (len(var) - 1))
    he = [k for k in res if k.startswith("he")]
    lecun = [k for k in res if k.startswith("lecun")]
    level = all(0.5 <= ratios[k] <= 2 for k in he)
    halves = all(abs(per_layer[k] - 0.5) <= 0.1 for k in lecun)
    depth = next(iter(res.values()))["config"]["depth"]
    measured = (f"Var(Z) layer {depth} / layer 1: " + ", ".join(f"{k}: {num(v)}" for k, v in ratios.items()) +
                "; per layer: " + ", ".join(f"{k}: ×{num(v)}" for k, v in per_layer.items()) +
                f"; theory: He ×1, √(1/n_in) ×0.5 (2^-{depth - 1} = {num(2.0 ** -(depth - 1))} overall)")
    detail = (f"Rule: confirmed when, in a {depth}-layer ReLU net at initialisation, He's pre-activation variance "
              "at the last layer is within a factor 2 of the first layer's and √(1/n_in) (LeCun) shrinks it by "
              "0.5 ± 0.1 per layer, as the variance argument predicts.")
    checks = tuple((f"{k}: last/first layer variance within a factor 2", 0.5 <= ratios[k] <= 2) for k in he) + tuple(
        (f"{k}: variance ×0.5 ± 0.1 per layer", abs(per_layer[k] - 0.5) <= 0.1) for k in lecun)
    return verdict(level and halves, level or halves, measured, detail, checks, ratios=ratios, per_layer=per_layer)


def _matrix(res: dict, dataset: str, metric: str = "test_loss") -> dict:
    """{activation: {init: (mean, std)}} of one matrix dataset."""
    table: dict = {}
    for r in res.values():
        c = r["config"]
        if c["dataset"] != dataset:
            continue
        stat = r["final"][metric]
        table.setdefault(c["activation"], {})[c["init"]] = (mean(stat), stat.get("std") or 0.0, n_diverged(r))
    return table


HEURISTICS = ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform")


def family(init: str) -> str:
    return {"glorot": "Xavier/Glorot", "he": "He", "lecun": "LeCun"}.get(init.split("_")[0], init)


def best_heuristic(row: dict) -> tuple[str, float, float]:
    """The heuristic with the lowest mean final test loss, with its mean and std."""
    candidates = [(k, v[0], v[1]) for k, v in row.items() if k in HEURISTICS and math.isfinite(v[0])]
    return min(candidates, key=lambda t: t[1])


def recommendation(res: dict) -> dict:
    """For each dataset and activation: the best heuristic and every heuristic tied with it.

    Tied: its mean final test loss is within one standard deviation (the larger of the two)
    of the best one's: with three seeds, we cannot tell those apart.
    """
    out = {}
    for dataset in sorted({r["config"]["dataset"] for r in res.values()}):
        for act, row in _matrix(res, dataset).items():
            best, m, s = best_heuristic(row)
            tied = sorted(k for k, v in row.items() if k in HEURISTICS and math.isfinite(v[0])
                          and v[0] - m <= max(s, v[1]))
            out.setdefault(act, {})[dataset] = {"best": best, "loss": m, "std": s, "tied": tied}
    return out


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


def rule_xavier_for_tanh(exp: Experiment, res: dict) -> Verdict:
    ok, partial, measured, rec, checks = _family_claim(res, ("tanh", "sigmoid"), "Xavier/Glorot")
    detail = ("Rule: over the technique × activation matrix, confirmed when a Xavier/Glorot variant has the "
              "lowest mean final test loss among the six heuristics, or is within one standard deviation of "
              "it, for tanh and sigmoid on every dataset; partly when on some.")
    return verdict(ok, partial, measured, detail, checks, recommendation=rec)


def rule_he_for_relu(exp: Experiment, res: dict) -> Verdict:
    matrix = {k: v for k, v in res.items() if not k.startswith("depth")}
    ok, partial, measured, rec, checks = _family_claim(matrix, ("relu", "leaky_relu"), "He")
    deep = {k: v for k, v in res.items() if k.startswith("depth")}
    he_drop = loss_drop(deep["depth, he_normal"])
    lecun_drop = loss_drop(deep["depth, lecun_normal"])
    depth = deep["depth, he_normal"]["config"]["depth"]
    deep_ok = he_drop > 0.3 and lecun_drop < 0.1
    measured += (f"; {depth}-layer ReLU net: He removes {pct(he_drop)} of the initial loss, "
                 f"√(1/n_in) {pct(lecun_drop)}")
    detail = ("Rule: confirmed when He is best or tied (within one std) for relu and leaky_relu on every matrix "
              f"dataset, and in the {depth}-layer ReLU net He removes over 30% of the initial training loss while "
              "√(1/n_in) removes under 10% (stalls), as in He et al. 2015, Fig. 3.")
    checks += [(f"{depth}-layer ReLU net: He removes over 30% of the loss", he_drop > 0.3),
               (f"{depth}-layer ReLU net: √(1/n_in) removes under 10% (stalls)", lecun_drop < 0.1)]
    return verdict(ok and deep_ok, partial or deep_ok, measured, detail, checks, recommendation=rec,
                   he_drop=he_drop, lecun_drop=lecun_drop)


def rule_recommendation(exp: Experiment, res: dict) -> Verdict:
    rec = recommendation(res)
    expected = {"tanh": "Xavier/Glorot", "sigmoid": "Xavier/Glorot", "relu": "He", "leaky_relu": "He"}
    agree, parts, checks = 0, [], []
    cases = 0
    for act, fam in expected.items():
        for dataset, r in rec.get(act, {}).items():
            cases += 1
            fams = {family(k) for k in r["tied"]}
            hit = fam in fams
            agree += hit
            checks.append((f"{act} on {dataset}: {fam} best or tied", hit))
            parts.append(f"{act}/{dataset}: {r['best']}" + ("" if hit else f" ({fam} not tied)"))
    detail = ("Rule: the recommendation is the heuristic with the lowest mean final test loss per activation and "
              "dataset; confirmed when the notes' choice (Glorot for tanh/sigmoid, He for ReLU) is best or tied "
              "in every cell, partly when in some.")
    return verdict(agree == cases, agree > 0, f"notes' choice best or tied in {agree} of {cases} cells: "
                   + "; ".join(parts), detail, checks, recommendation=rec)


def rule_bias_zero(exp: Experiment, res: dict) -> Verdict:
    zero, const = res["he_normal, bias 0"], res["he_normal, bias 0.1"]
    spread = layer_max(zero, "relative_unit_spread", 0)
    acc0, acc1 = final(zero), final(const)
    s0 = zero["final"]["test_accuracy"]["std"] or 0.0
    s1 = const["final"]["test_accuracy"]["std"] or 0.0
    broken = spread > 0.1
    same = abs(acc0 - acc1) <= max(0.01, s0 + s1)
    measured = (f"relative unit spread at init with zero biases: {num(spread)}; test accuracy zero biases "
                f"{pct(acc0)} ± {pct(s0)}, biases 0.1: {pct(acc1)} ± {pct(s1)}")
    detail = ("Rule: confirmed (zero biases are fine) when random weights already make the units differ "
              "(spread > 0.1) and the accuracy with zero biases is within the seeds' spread (or 1 point) "
              "of the accuracy with biases 0.1.")
    checks = (("random weights make the units differ at initialisation (spread > 0.1)", broken),
              ("accuracy with zero biases within the seeds' spread of biases 0.1", same))
    return verdict(broken and same, broken, measured, detail, checks, spread=spread, acc_zero=acc0, acc_const=acc1)


def rule_keras_names(exp: Experiment, res: dict) -> Verdict:
    v = rule_formula(exp, res)
    default = "glorot_uniform"
    measured = v.measured + f"; the tool's default initialiser is {default}, Keras' Dense default"
    return Verdict(v.status, measured, v.detail + " Keras' normal variants are truncated at ±2σ' and rescaled; "
                   "the measured std shows the rescaling is right.", v.numbers, v.checks)


RULES: dict[str, Callable[[Experiment, dict], Verdict]] = {
    "frozen": rule_frozen, "symmetry": rule_symmetry, "vanishing": rule_vanishing,
    "slow_relu": rule_slow_relu, "saturation": rule_saturation, "exploding": rule_exploding,
    "u_curve": rule_u_curve, "formula": rule_formula, "level_variance": rule_level_variance,
    "xavier_for_tanh": rule_xavier_for_tanh, "he_for_relu": rule_he_for_relu,
    "recommendation": rule_recommendation, "bias_zero": rule_bias_zero, "keras_names": rule_keras_names,
}


# ---------------------------------------------------------------------------------------
# The catalogue


MATRIX_INITS = ("zeros", "constant", "small_random", "large_random",
                "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform")
MATRIX_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


# Learning rates (SGD, momentum 0.9). Sigmoid gets a step 10× (digits) or 6× (2-D sets) larger:
# its slope is at most 1/4, and at the common step even Glorot-initialised sigmoid nets barely
# move in the epochs we give them (measured: digits, depth 4, 20 epochs: 4.9% of the loss
# removed at lr 0.01, 80% accuracy at lr 0.1), which would make every sigmoid comparison moot.
LEARNING_RATES = {"digits": {"sigmoid": 0.1, "other": 0.01}, "2d": {"sigmoid": 0.3, "other": 0.05}}


def _lr(kind: str, activation: str) -> float:
    table = LEARNING_RATES[kind]
    return table.get(activation, table["other"])


def _digits(p: Profile, **kw) -> RunConfig:
    base = dict(dataset="digits", depth=3, width=p.width, epochs=p.epochs, batch_size=64, momentum=0.9,
                seeds=p.seeds, checkpoints=(p.epochs // 2,) if p.epochs > 1 else ())
    base["lr"] = _lr("digits", kw.get("activation", "relu"))
    base.update(kw)
    return make_config(**base)


def _two_d(p: Profile, dataset="circles", **kw) -> RunConfig:
    base = dict(dataset=dataset, depth=2, width=16, epochs=p.epochs_2d, batch_size=32, momentum=0.9,
                seeds=p.seeds, checkpoints=(p.epochs_2d // 2,) if p.epochs_2d > 1 else ())
    base["lr"] = _lr("2d", kw.get("activation", "relu"))
    base.update(kw)
    return make_config(**base)


def matrix_runs(p: Profile) -> tuple:
    runs = []
    for dataset in p.matrix_datasets:
        for act in MATRIX_ACTIVATIONS:
            for init in MATRIX_INITS:
                if dataset == "digits":
                    c = _digits(p, init=init, activation=act, depth=4)
                else:
                    c = _two_d(p, dataset=dataset, init=init, activation=act, depth=4, width=32)
                runs.append((f"{init}, {act}, {dataset}", c))
    return tuple(runs)


def depth_runs(p: Profile) -> tuple:
    runs = []
    for depth in p.depths:
        for act, inits in (("relu", ("he_normal", "lecun_normal")), ("tanh", ("glorot_normal", "small_random"))):
            for init in inits:
                runs.append((f"{init}, {act}, depth {depth}",
                             _digits(p, init=init, activation=act, depth=depth, epochs=p.depth_epochs,
                                     lr=0.005, checkpoints=())))
    return tuple(runs)


def build_catalogue(profile: str | Profile = "default") -> list[Experiment]:
    p = get_profile(profile) if isinstance(profile, str) else profile
    matrix = matrix_runs(p)
    depth = depth_runs(p)
    deepest = max(p.depths)
    deep_pair = tuple((f"depth, {init}", c) for label, c in depth
                      for init in ("he_normal", "lecun_normal")
                      if c.init == init and c.activation == "relu" and c.depth == deepest)
    sym = lambda act, init, **kw: _two_d(p, init=init, activation=act, **kw)  # noqa: E731
    variance = lambda init: _digits(p, init=init, activation="relu", depth=p.variance_depth,  # noqa: E731
                                    width=p.variance_width, epochs=0, checkpoints=())
    E = Experiment
    return [
        E("zero-relu-tanh", "Zero initialisation freezes ReLU and tanh networks",
          "With every weight and bias at zero, every hidden unit outputs 0, every gradient reaching a hidden "
          "weight is 0, and the weights never change: no training happens, with ReLU or tanh.",
          "Part 1, §4A; part 2, §2", "pitfalls/zero",
          "largest |W_t − W_0| over hidden layers after training (exactly 0?), accuracy against a good init",
          (("zeros, relu", _digits(p, init="zeros", activation="relu")),
           ("zeros, tanh", _digits(p, init="zeros", activation="tanh")),
           ("he_normal, relu", _digits(p, init="he_normal", activation="relu")),
           ("glorot_uniform, tanh", _digits(p, init="glorot_uniform", activation="tanh"))),
          "frozen", ("loss_curves", "weight_change")),
        E("zero-sigmoid", "Zero initialisation with sigmoid: every unit learns the same thing",
          "With zero weights, sigmoid units all output 0.5 and receive identical gradients, so they stay identical: "
          "the layer acts as one neuron, the network as a near-linear model, and more units do not help.",
          "Part 1, §4A", "pitfalls/zero",
          "spread between the units' weight vectors (exactly 0?), rank of each hidden W, accuracy against a "
          "width-1 network and Glorot, decision boundary on a 2-D non-linear set",
          (("zeros, sigmoid", sym("sigmoid", "zeros")),
           ("zeros, sigmoid, width 1", sym("sigmoid", "zeros", width=1)),
           ("glorot_uniform, sigmoid", sym("sigmoid", "glorot_uniform"))),
          "symmetry", ("decision_boundary", "loss_curves", "unit_spread")),
        E("constant", "A non-zero constant: the single-neuron problem, whatever the activation",
          "With every weight (and bias) at one non-zero constant such as 0.5, the units of a layer compute the same "
          "thing and receive the same updates for the whole training, with ReLU, tanh or sigmoid alike.",
          "Part 1, §4B; part 2, §2", "pitfalls/constant",
          "spread between units, rank of W, accuracy against a width-1 network and Glorot",
          tuple(r for act in ("relu", "tanh", "sigmoid") for r in (
              (f"constant, {act}", sym(act, "constant")),
              (f"constant, {act}, width 1", sym(act, "constant", width=1)),
              (f"glorot_uniform, {act}", sym(act, "glorot_uniform")))),
          "symmetry", ("decision_boundary", "loss_curves", "unit_spread")),
        E("small-tanh", "Small random weights with tanh: vanishing activations and gradients",
          "With weights N(0,1)·0.01 and many inputs, Z is close to 0, tanh outputs shrink toward 0 layer after "
          "layer, the gradients vanish and training stalls.",
          "Part 1, §4C; part 2, §2", "pitfalls/small-random",
          "activation std per layer at initialisation, back-propagated gradient std per layer, loss after training",
          (("small_random, tanh", _digits(p, init="small_random", activation="tanh", depth=p.deep)),
           ("glorot_uniform, tanh", _digits(p, init="glorot_uniform", activation="tanh", depth=p.deep))),
          "vanishing", ("layer_std", "activation_hist", "gradient_hist", "loss_curves")),
        E("small-sigmoid", "Small random weights with sigmoid: vanishing gradients in deep nets",
          "With small weights, sigmoid units sit near 0.5; in a deep network the small gradients multiply through "
          "the layers and training is very slow or does not happen.",
          "Part 1, §4C", "pitfalls/small-random",
          "activation and gradient std per layer, loss after training",
          (("small_random, sigmoid", _digits(p, init="small_random", activation="sigmoid", depth=p.deep)),
           ("glorot_uniform, sigmoid", _digits(p, init="glorot_uniform", activation="sigmoid", depth=p.deep))),
          "vanishing", ("layer_std", "activation_hist", "gradient_hist", "loss_curves")),
        E("small-relu", "Small random weights with ReLU: less vanishing, but very slow training",
          "With ReLU the slope is 1 for Z > 0, so gradients vanish less than with tanh or sigmoid, but training "
          "from small weights is extremely slow.",
          "Part 1, §4C", "pitfalls/small-random",
          "epochs to reach a training loss of 0.5 against He; gradient decay against small-random tanh",
          (("small_random, relu", _digits(p, init="small_random", activation="relu")),
           ("he_normal, relu", _digits(p, init="he_normal", activation="relu")),
           ("small_random, tanh", _digits(p, init="small_random", activation="tanh"))),
          "slow_relu", ("loss_curves", "layer_std")),
        E("large-saturate", "Large random weights saturate tanh and sigmoid",
          "With large weights (U[0,1) in part 1; U[−3,3] or unscaled N(0,1) in part 2), Z reaches hundreds, tanh "
          "and sigmoid saturate, their derivative is near 0, gradients vanish and convergence is slow.",
          "Part 1, §4D; part 2, §2", "pitfalls/large-random",
          "fraction of saturated outputs per layer at initialisation, gradient std per layer, final loss",
          tuple((f"{init}, {act}", _digits(p, init=init, activation=act, depth=4))
                for act in ("tanh", "sigmoid")
                for init in ("large_uniform_positive", "large_uniform", "large_random", "glorot_uniform")),
          "saturation", ("saturation", "activation_hist", "gradient_hist", "loss_curves")),
        E("large-relu", "Large random weights with ReLU: exploding activations, unstable training",
          "ReLU does not saturate, so large weights give large activations and very large gradients; the updates "
          "overshoot and training is unstable and fails to converge.",
          "Part 1, §4D; part 2, §2", "pitfalls/large-random",
          "activation std growth per layer, loss spikes, seeds that diverge (NaN/Inf)",
          tuple((f"{init}, relu", _digits(p, init=init, activation="relu", depth=4))
                for init in ("large_uniform_positive", "large_uniform", "large_random", "he_normal")),
          "exploding", ("layer_std", "loss_curves")),
        E("summary", "The spread of random weights must be neither too small nor too large",
          "Random weights are needed, but their spread must depend on the fan-in: too small and the signal "
          "vanishes, too large and it saturates or explodes; in between there is a good range.",
          "Part 1, §5; part 2, §3", "studies/weight-scale",
          "final training loss against the weight scale σ = gain/√n_in, gain from 0.001 to 10",
          tuple((f"gain {g}, {act}", _digits(p, init="scaled_normal", init_params={"gain": g}, activation=act,
                                            depth=6, checkpoints=()))
                for act in ("tanh", "relu") for g in p.sweep_gains),
          "u_curve", ("sweep",)),
        E("xavier-normal", "Xavier normal: σ = √(1/n_in), or √(2/(n_in+n_out))",
          "Xavier/Glorot normal draws N(0, σ²) with σ = √(1/n_in); some variants use 2/(n_in+n_out) for the "
          "variance. The first is what Keras calls lecun_normal, the second Keras' glorot_normal (truncated).",
          "Part 2, §5", "heuristics/xavier",
          "sample std of the drawn weights against each formula; both variants trained side by side with tanh",
          tuple((f"{init}, tanh", _digits(p, init=init, activation="tanh", width=96))
                for init in ("lecun_normal", "xavier_normal_untruncated", "glorot_normal")),
          "formula", ("layer_std", "activation_hist", "loss_curves")),
        E("xavier-uniform", "Xavier uniform: U[−l, l] with l = √(6/(n_in+n_out))",
          "Xavier/Glorot uniform draws from U[−l, l] with l = √(6/(n_in + n_out)), a variance of 2/(n_in + n_out).",
          "Part 2, §5", "heuristics/xavier",
          "sample bounds and std against the formula",
          (("glorot_uniform, tanh", _digits(p, init="glorot_uniform", activation="tanh", width=96)),),
          "formula", ("activation_hist", "gradient_hist")),
        E("he-normal", "He normal keeps the variance level through a deep ReLU net",
          "He normal draws N(0, 2/n_in); the 2 makes up for ReLU zeroing half of its inputs, so the variance of the "
          "activations stays level from layer to layer, where √(1/n_in) halves it at every layer.",
          "Part 2, §6", "heuristics/he",
          f"pre-activation variance per layer at initialisation in a {p.variance_depth}-layer ReLU net "
          f"of width {p.variance_width}",
          (("he_normal", variance("he_normal")), ("lecun_normal", variance("lecun_normal"))),
          "level_variance", ("layer_std", "activation_hist", "gradient_hist")),
        E("he-uniform", "He uniform: U[−l, l] with l = √(6/n_in)",
          "He uniform draws from U[−l, l], l = √(6/n_in): the same variance 2/n_in as He normal.",
          "Part 2, §6", "heuristics/he",
          "sample bounds and std against the formula; variance through the deep ReLU net",
          (("he_uniform", variance("he_uniform")), ("lecun_uniform", variance("lecun_uniform"))),
          "level_variance", ("layer_std",)),
        E("xavier-for-tanh", "Xavier works best with tanh and sigmoid",
          "Xavier/Glorot initialisation works best with tanh and sigmoid, keeping the variance of the activations "
          "consistent across layers.",
          "Part 2, §5 and §8", "heuristics/xavier",
          "final test loss of each heuristic × activation over several seeds, on digits and a 2-D set",
          matrix, "xavier_for_tanh", ("heatmap",)),
        E("he-for-relu", "He works best with ReLU and its variants",
          "He initialisation works best with ReLU and its variants such as leaky ReLU; a deep ReLU net trains with "
          "He and stalls with √(1/n_in) (He et al. 2015).",
          "Part 2, §6 and §8", "heuristics/he",
          f"the technique × activation matrix, and a {deepest}-layer ReLU net with He against √(1/n_in)",
          matrix + deep_pair, "he_for_relu", ("heatmap",)),
        E("keras-names", "Keras names and defaults",
          "In Keras the initialiser is chosen with kernel_initializer='he_normal', 'he_uniform', 'glorot_normal' or "
          "'glorot_uniform'; the default is Glorot uniform.",
          "Part 2, §7", "choosing",
          "the tool draws each Keras name with Keras' exact definition; sample std against Keras' formula",
          tuple((f"{init}", _digits(p, init=init, activation="relu", epochs=0, checkpoints=(), width=128))
                for init in ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform")),
          "keras_names", ()),
        E("conclusion", "Choose the initialiser by the activation",
          "Choose the initialiser by the activation function: Xavier/Glorot for tanh and sigmoid, He for ReLU.",
          "Part 2, §8", "choosing",
          "the recommendation table derived from the measured matrix",
          matrix, "recommendation", ("heatmap",)),
        E("zero-bias", "Biases may start at zero when the weights are random",
          "Symmetry is broken by random weights, so biases can start at zero (a common reader question the notes "
          "leave open).",
          "Reader question (claims.md)", "pitfalls/zero",
          "unit spread at initialisation with zero biases; accuracy with biases 0 against biases 0.1",
          (("he_normal, bias 0", _digits(p, init="he_normal", activation="relu", bias=0.0)),
           ("he_normal, bias 0.1", _digits(p, init="he_normal", activation="relu", bias=0.1))),
          "bias_zero", ()),
        E("depth-study", "Depth study: He et al. 2015 reproduced",
          "A 30-layer ReLU network stalls with √(1/n_in) and trains with He; tanh with Glorot against small random "
          "weights shows the same with depth.",
          "He et al. 2015, Fig. 3; part 2, §6", "studies/depth",
          f"training-loss reduction against depth ({', '.join(map(str, p.depths))} layers)",
          depth, "depth", ("depth",)),
    ]


def rule_depth(exp: Experiment, res: dict) -> Verdict:
    """The depth study: at the deepest depth, He trains and √(1/n_in) stalls."""
    deepest = max(r["config"]["depth"] for r in res.values())
    he = res[f"he_normal, relu, depth {deepest}"]
    lecun = res[f"lecun_normal, relu, depth {deepest}"]
    glorot = res[f"glorot_normal, tanh, depth {deepest}"]
    small = res[f"small_random, tanh, depth {deepest}"]
    d = {k: loss_drop(v) for k, v in (("he", he), ("lecun", lecun), ("glorot", glorot), ("small", small))}
    ok = d["he"] > 0.3 and d["lecun"] < 0.1
    measured = (f"{deepest} layers, share of the initial training loss removed: ReLU He {pct(d['he'])}, "
                f"ReLU √(1/n_in) {pct(d['lecun'])}; tanh Glorot {pct(d['glorot'])}, tanh small random {pct(d['small'])}")
    detail = (f"Rule: confirmed when at {deepest} layers He removes over 30% of the initial loss and √(1/n_in) "
              "under 10% (it stalls); partly when He trains but √(1/n_in) also does.")
    checks = ((f"{deepest} layers: He removes over 30% of the loss", d["he"] > 0.3),
              (f"{deepest} layers: √(1/n_in) removes under 10% (stalls)", d["lecun"] < 0.1))
    return verdict(ok, d["he"] > 0.3, measured, detail, checks, drops=d, depth=deepest)


RULES["depth"] = rule_depth


def catalogue_configs(experiments: list[Experiment]) -> list[RunConfig]:
    """Every distinct configuration of the catalogue, in first-seen order."""
    seen: dict[RunConfig, None] = {}
    for e in experiments:
        for _, c in e.runs:
            seen.setdefault(c, None)
    return list(seen)


def get_experiment(experiments: list[Experiment], exp_id: str) -> Experiment:
    by_id = {e.id: e for e in experiments}
    try:
        return by_id[exp_id]
    except KeyError:
        raise choice_error("experiment", exp_id, by_id) from None
