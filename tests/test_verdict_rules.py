"""The comparative rules (issue 10) on synthetic results: every outcome, including inconclusive.

Each test builds per-seed numbers with a known difference and checks the status the rule
derives from the intervals, the reason it gives, and the verdicts.json records it writes.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

import numpy as np

from initreport.catalogue import ExpId, build_catalogue, get_experiment, get_profile, judge
from initreport.catalogue.axis import deciding_depths
from initreport.catalogue.bottom_line import BottomLine, bottom_line
from initreport.protocol import experiment_record, validate_verdicts

SEEDS = tuple(range(8))
# Two samples with the same mean whose per-seed differences are symmetric around 0: indistinguishable.
SAME_A = [0.88, 0.92, 0.90, 0.91, 0.89, 0.93, 0.87, 0.90]
SAME_B = SAME_A[::-1]
PROFILE = replace(get_profile("quick"), compare_seeds=SEEDS)
CATALOGUE = build_catalogue(PROFILE)
DEEP = deciding_depths(PROFILE.axis_depths)            # the axis depths where "deep" claims are decided
SHALLOW = tuple(d for d in PROFILE.axis_depths if d not in DEEP)


def stat(values):
    vals = [None if v is None else float(v) for v in values]
    ok = [v for v in vals if v is not None]
    return {"values": vals, "n": len(ok), "mean": float(np.mean(ok)) if ok else None,
            "std": float(np.std(ok, ddof=1)) if len(ok) > 1 else 0.0 if ok else None,
            "max": max(ok) if ok else None, "min": min(ok) if ok else None}


def result(run, *, acc=0.9, start=2.3, end=0.3, curve=None, spread=0.0, layers=None, seeds=SEEDS):
    """A result dict (initreport.result/1, the fields the rules read) for ``run``.

    ``acc``/``end``: a number (the same on every seed, plus ``spread`` of seed noise) or per-seed values;
    ``curve``: per-seed lists of training losses by epoch (overrides start/end); ``layers``:
    per-layer {stat: value} at initialisation.
    """
    rng = np.random.default_rng(zlib.crc32(f"{run.config}".encode()))      # deterministic per run
    n = len(seeds)

    def per_seed(x):
        return list(x) if isinstance(x, (list, tuple)) else list(x + spread * rng.standard_normal(n))

    c = run.config
    epochs = c.epochs
    if curve is None:
        ends = per_seed(end)
        curve = [[start + (e_ - start) * k / epochs for k in range(epochs + 1)] for e_ in ends]
    history = [{"epoch": k, "loss": stat([cv[k] for cv in curve])} for k in range(epochs + 1)]
    k_classes = 10 if c.dataset == "digits" else 2
    layer_stats = layers or [{}] * c.depth
    hidden = [{name: stat([layer.get(name, 0.5)] * n) for name in
               ("activation_std", "gradient_std", "saturated_fraction", "relative_unit_spread", "rank",
                "max_abs_change")} for layer in layer_stats]
    ckpt = {"epoch": 0, "layers": hidden, "output": {"bias_change": stat([0.1] * n)}}
    return {"config": {"seeds": list(seeds), "epochs": epochs, "dataset": c.dataset},
            "sizes": [64] + [c.width] * c.depth + [k_classes], "n_seeds": n, "diverged": [],
            "history": history,
            "final": {"loss": stat([cv[-1] for cv in curve]), "test_accuracy": stat(per_seed(acc)),
                      "test_loss": stat([0.3] * n)},
            "checkpoints": [ckpt, ckpt]}


def results_for(exp, **by_init):
    """{Run: result} with a default (trains, 90%) result, overridden per (init) or (init, activation) key."""
    out = {}
    for run in exp.runs:
        c = run.config
        kw = by_init.get(f"{c.init}|{c.activation}|{c.depth}|{c.width}") or by_init.get(f"{c.init}|{c.activation}") \
            or by_init.get(c.init) or {}
        out[run] = result(run, **kw)
    return out


def statuses_and_decisions(v):
    return v.status, [c["decision"] for c in v.comparisons if c["deciding"]]


# ---------------------------------------------------------------- xavier-for-tanh (held-out accuracy)

def test_xavier_for_tanh_outcomes():
    exp = get_experiment(CATALOGUE, ExpId.XAVIER_FOR_TANH)
    better = judge(exp, results_for(exp, glorot_normal={"acc": 0.95, "spread": 0.005},
                                    he_normal={"acc": 0.90, "spread": 0.005}))
    assert statuses_and_decisions(better) == ("confirmed", ["better"] * 2 * len(DEEP))   # tanh, sigmoid × deep depths
    assert {c["depth"] for c in better.comparisons if c["deciding"]} == set(DEEP)
    assert {c["depth"] for c in better.comparisons if not c["deciding"]} == set(SHALLOW)
    assert all(c["metric"] == "heldout_accuracy" and "lr_a" in c for c in better.comparisons)
    worse = judge(exp, results_for(exp, glorot_normal={"acc": 0.85, "spread": 0.005},
                                   he_normal={"acc": 0.92, "spread": 0.005}))
    assert statuses_and_decisions(worse) == ("refuted", ["worse"] * 2 * len(DEEP))
    same = judge(exp, results_for(exp, glorot_normal={"acc": SAME_A}, he_normal={"acc": SAME_B}))
    assert same.status == "inconclusive"
    assert set(statuses_and_decisions(same)[1]) == {"indistinguishable"}
    # tanh better, sigmoid indistinguishable → partly
    mixed = judge(exp, results_for(exp, **{"glorot_normal|tanh": {"acc": 0.95, "spread": 0.005},
                                           "he_normal|tanh": {"acc": 0.9, "spread": 0.005},
                                           "glorot_normal|sigmoid": {"acc": SAME_A},
                                           "he_normal|sigmoid": {"acc": SAME_B}}))
    assert mixed.status == "partly confirmed"


def test_a_control_that_does_not_train_makes_the_comparison_inconclusive():
    exp = get_experiment(CATALOGUE, ExpId.XAVIER_FOR_TANH)
    flat = {"acc": 0.95, "spread": 0.005, "start": 2.3, "end": 2.25}      # accuracy high, but the loss never moved
    v = judge(exp, results_for(exp, glorot_normal=flat, he_normal={"acc": 0.9, "spread": 0.005}))
    assert v.status == "inconclusive"
    assert all(c["decision"] == "inconclusive" for c in v.comparisons)
    assert "does not train" in v.reason and "glorot_normal" in v.reason


# ---------------------------------------------------------------- he-for-relu (deep: training loss)

def test_he_for_relu_decides_on_the_deep_axis_and_reports_the_rest_as_context():
    exp = get_experiment(CATALOGUE, ExpId.HE_FOR_RELU)
    deep = max(DEEP)
    common = max(r.config.depth for r in exp.select("deep"))
    # He better than Glorot in the deep axis nets; the same in shallow ones; the common-rate pair as He et al.
    over = {f"he_normal|{act}|{d}|64": {"acc": 0.95, "spread": 0.005} for act in ("relu", "leaky_relu") for d in DEEP}
    over.update({f"glorot_normal|{act}|{d}|64": {"acc": 0.60, "spread": 0.005} for act in ("relu", "leaky_relu")
                 for d in DEEP})
    over.update({f"he_normal|relu|{common}|64": {"end": 0.4, "spread": 0.05},
                 f"lecun_normal|relu|{common}|64": {"end": 2.3, "spread": 0.001},
                 "he_normal": {"acc": SAME_A}, "glorot_normal": {"acc": SAME_B}})
    ok = judge(exp, results_for(exp, **over))
    assert ok.status == "confirmed"
    deciding = [c for c in ok.comparisons if c["deciding"]]
    assert sorted((c["activation"], c["depth"], c["metric"], c["decision"]) for c in deciding) == sorted(
        (act, d, "heldout_accuracy", "better") for act in ("relu", "leaky_relu") for d in DEEP)
    context = [c for c in ok.comparisons if not c["deciding"]]
    assert {(c["metric"], c["depth"]) for c in context} == (
        {("heldout_accuracy", d) for d in SHALLOW} | {("train_loss_after_budget", common)})
    assert {c["decision"] for c in context if c["metric"] == "heldout_accuracy"} == {"indistinguishable"}
    # He itself does not train in the deep nets: the comparisons say nothing
    stalls = dict(over, **{f"he_normal|{act}|{d}|64": {"acc": 0.95, "spread": 0.005, "end": 2.28}
                           for act in ("relu", "leaky_relu") for d in DEEP})
    stalls_too = judge(exp, results_for(exp, **stalls))
    assert stalls_too.status == "inconclusive" and "does not train" in stalls_too.reason
    opposite = dict(over, **{f"glorot_normal|{act}|{deep}|64": {"acc": 0.99, "spread": 0.002}
                             for act in ("relu", "leaky_relu")})
    assert judge(exp, results_for(exp, **opposite)).status == "refuted"


# ---------------------------------------------------------------- large-relu: stall against instability

def _spiky(n_epochs, seeds=SEEDS):
    return [[2.3 * 0.8 ** k * (1.5 if k % 2 else 1.0) for k in range(n_epochs + 1)] for _ in seeds]


def _flat(n_epochs, start=2.3, seeds=SEEDS):
    return [[start] + [2.302585] * n_epochs for _ in seeds]


def test_large_relu_unstable_stall_and_control():
    exp = get_experiment(CATALOGUE, ExpId.LARGE_RELU)
    e = exp.runs[0].config.epochs
    growing = [{"activation_std": 2.0 ** k} for k in range(4)]
    unstable = {"curve": _spiky(e), "layers": growing}
    v = judge(exp, results_for(exp, large_random=unstable, large_uniform=unstable, large_uniform_positive=unstable))
    assert v.status == "confirmed"
    assert set(v.numbers.behaviour.values()) == {"unstable"}
    # all-positive weights: a loss of 10⁵ at init, then flat at ln 10: a stall, not instability
    stall = {"curve": _flat(e, start=283164.0), "layers": growing}
    v = judge(exp, results_for(exp, large_random=unstable, large_uniform=unstable, large_uniform_positive=stall))
    pos = exp.one("subject", init="large_uniform_positive")
    assert v.numbers.behaviour[pos] == "stalls, not unstable"
    assert v.status == "partly confirmed"
    assert "stalls, not unstable" in v.measured
    v = judge(exp, results_for(exp, large_random=stall, large_uniform=stall, large_uniform_positive=stall))
    assert v.status == "inconclusive"
    v = judge(exp, results_for(exp, he_normal={"curve": _flat(e)}, large_random=unstable, large_uniform=unstable,
                               large_uniform_positive=unstable))
    assert v.status == "inconclusive" and "he_normal, relu does not train" in v.reason


def test_large_relu_instability_is_a_share_of_the_learning_rate_sweep():
    exp = get_experiment(CATALOGUE, ExpId.LARGE_RELU)
    e = exp.runs[0].config.epochs
    rates = sorted({r.config.lr for r in exp.select(init="large_random")})
    assert len(rates) >= 3 and len(exp.select("rates", init="he_normal")) == len(rates) - 1
    growing = [{"activation_std": 2.0 ** k} for k in range(4)]
    res = results_for(exp, large_random={"curve": _spiky(e), "layers": growing},
                      large_uniform={"curve": _spiky(e), "layers": growing},
                      large_uniform_positive={"curve": _spiky(e), "layers": growing})
    # large_random is unstable only at the largest rate: a share of 1/len(rates) on every seed
    for run in exp.select(init="large_random"):
        if run.config.lr != max(rates):
            res[run] = result(run, layers=growing)
    v = judge(exp, res)
    c = next(c for c in v.comparisons if c["metric"] == "instability" and c["init_b"] == "large_random")
    assert math.isclose(c["estimate"], -1 / len(rates), rel_tol=1e-9)     # He − large: He is never unstable
    assert c["decision"] == "better"
    assert all(f"{lr:g}" in v.detail for lr in rates)


# ---------------------------------------------------------------- constant: "more units do not help" is one-sided

def test_constant_wide_worse_than_one_unit_supports_the_claim():
    exp = get_experiment(CATALOGUE, ExpId.CONSTANT)
    same_units = [{"relative_unit_spread": 0.0}] * 2
    wide_worse = {"acc": 0.50, "spread": 0.01, "layers": same_units}
    narrow = {"acc": 0.575, "spread": 0.01}
    glorot = {"acc": 0.95, "spread": 0.01}
    keys = {}
    for act in ("relu", "tanh", "sigmoid"):
        keys[f"constant|{act}|2|16"] = wide_worse
        keys[f"constant|{act}|2|1"] = narrow
        keys[f"glorot_uniform|{act}"] = glorot
    v = judge(exp, results_for(exp, **keys))
    assert v.status == "confirmed", v.reason
    wide_pairs = [c for c in v.comparisons if c["prediction"] == "not better"]
    assert len(wide_pairs) == 3 and all(c["decision"] == "worse" for c in wide_pairs)
    for act in ("relu", "tanh", "sigmoid"):
        keys[f"constant|{act}|2|16"] = {"acc": 0.70, "spread": 0.01, "layers": same_units}    # 12.5 points better: refutes "no help"
    v = judge(exp, results_for(exp, **keys))
    assert v.status == "partly confirmed"
    assert "3 opposite" in v.reason
    for act in ("relu", "tanh", "sigmoid"):
        noisy = [0.575 + d for d in (-0.2, 0.2, -0.15, 0.15, -0.1, 0.1, -0.05, 0.05)]
        keys[f"constant|{act}|2|16"] = {"acc": noisy, "layers": same_units}    # too noisy to bound under 3 points
        keys[f"constant|{act}|2|1"] = {"acc": 0.575}
        keys[f"glorot_uniform|{act}"] = {"acc": 0.95, "spread": 0.01, "end": 2.3}   # Glorot does not train
    v = judge(exp, results_for(exp, **keys))
    assert v.status == "inconclusive"


# ---------------------------------------------------------------- small-sigmoid: a control that fails too

def test_small_sigmoid_inconclusive_when_glorot_fails_too():
    exp = get_experiment(CATALOGUE, ExpId.SMALL_SIGMOID)
    shrinking = [{"activation_std": 0.1 ** k, "gradient_std": 0.1 ** (5 - k)} for k in range(exp.runs[0].config.depth)]

    def judged(small, glorot):
        # Glorot normal on the depth axis (it decides), Glorot uniform in the fixed-rate pair the figures show
        return judge(exp, results_for(exp, small_random=small, glorot_uniform=glorot, glorot_normal=glorot))

    v = judged({"end": 2.3, "spread": 0.001, "layers": shrinking}, {"end": 2.29, "spread": 0.001})
    assert v.status == "inconclusive"
    assert "the control glorot_normal, sigmoid does not train" in v.reason
    v = judged({"end": 2.3, "spread": 0.001, "layers": shrinking}, {"end": 0.3, "spread": 0.02})
    assert v.status == "confirmed"
    assert {c["depth"] for c in v.comparisons if c["deciding"]} == set(DEEP)
    assert all(c["init_a"] == "glorot_normal" and c["init_b"] == "small_random" for c in v.comparisons if c["deciding"])
    v = judged({"end": SAME_A, "layers": shrinking}, {"end": SAME_B})
    assert v.status == "inconclusive"      # trains as well: indistinguishable (the shrinkage alone decides nothing)


# ---------------------------------------------------------------- verdicts.json and the bottom line

def test_verdict_records_follow_the_public_schema():
    exp = get_experiment(CATALOGUE, ExpId.CONCLUSION)
    v = judge(exp, results_for(exp))
    doc = {"schema": "initreport.verdicts/1", "experiments": [experiment_record(exp.id, v.status, v.comparisons)]}
    assert validate_verdicts(doc) == []
    for c in v.comparisons:
        assert c["ci_low"] <= c["estimate"] <= c["ci_high"]
        assert c["n_seeds"] == len(SEEDS)
    broken = {"experiments": [experiment_record(exp.id, v.status, [dict(v.comparisons[0], ci_low=1e9)])]}
    assert validate_verdicts(broken)


def test_bottom_line_from_the_conclusion():
    exp = get_experiment(CATALOGUE, ExpId.CONCLUSION)
    common = max(r.config.depth for r in exp.select("deep"))
    over = {f"he_normal|relu|{d}|64": {"acc": 0.95, "spread": 0.005} for d in DEEP}
    over.update({f"glorot_normal|relu|{d}|64": {"acc": 0.60, "spread": 0.005} for d in DEEP})
    over.update({f"glorot_normal|sigmoid|{d}|64": {"acc": 0.70, "spread": 0.005} for d in DEEP})
    over.update({f"he_normal|sigmoid|{d}|64": {"acc": 0.90, "spread": 0.005} for d in DEEP})
    over.update({f"he_normal|relu|{common}|64": {"end": 0.4, "spread": 0.05},
                 f"lecun_normal|relu|{common}|64": {"end": 2.3, "spread": 0.001},
                 "he_normal": {"acc": SAME_A}, "glorot_normal": {"acc": SAME_B}})
    bl = bottom_line([exp], {exp.id: judge(exp, results_for(exp, **over))})
    assert isinstance(bl, BottomLine)
    relu = next(line for line in bl.lines if line.startswith("ReLU:"))
    assert relu.startswith(f"ReLU: use He normal (he_normal) for nets of {min(DEEP)} hidden layers or more: there it "
                           "beats Glorot normal")
    assert any(line.startswith("Tanh: Glorot normal (glorot_normal) or He normal (he_normal): this build cannot tell")
               for line in bl.lines)
    sigmoid = next(line for line in bl.lines if line.startswith("Sigmoid:"))
    assert sigmoid.startswith("Sigmoid: He normal (he_normal) did better than the notes' choice")
    assert f"{max(DEEP)} layers: 20 percentage points" in sigmoid   # He − Glorot, told from He's side: positive
    shallow = ", ".join(map(str, SHALLOW))
    assert any(c.startswith(f"ReLU at {shallow} hidden layers: He normal (he_normal) and Glorot normal (glorot_normal) "
                            "are indistinguishable") for c in bl.conditions)
    assert any(f"a {common}-layer ReLU net with He normal (he_normal) ends lower than LeCun normal" in c
               for c in bl.conditions)
    assert not any("_" in word and word.isidentifier() for line in bl.lines for word in line.split()
                   if not word.startswith("("))                  # code names only in parentheses
    assert bottom_line([], {}) == BottomLine()
    assert math.isfinite(len(bl.as_dict()["lines"]))


# ---------------------------------------------------------------- depth study, slow ReLU, saturation, zero biases

def test_depth_study_decides_at_the_deepest_depth():
    exp = get_experiment(CATALOGUE, ExpId.DEPTH_STUDY)
    deepest = max(r.config.depth for r in exp.runs)
    good = {f"he_normal|relu|{deepest}|64": {"end": 0.5, "spread": 0.05},
            f"lecun_normal|relu|{deepest}|64": {"end": 2.3, "spread": 0.001},
            f"glorot_normal|tanh|{deepest}|64": {"end": 0.5, "spread": 0.05},
            f"small_random|tanh|{deepest}|64": {"end": 2.3, "spread": 0.001}}
    v = judge(exp, results_for(exp, **good))
    assert v.status == "confirmed"
    assert {c["depth"] for c in v.comparisons if c["deciding"]} == {deepest}
    v = judge(exp, results_for(exp, **{**good, f"lecun_normal|relu|{deepest}|64": {"end": SAME_A},
                                       f"he_normal|relu|{deepest}|64": {"end": SAME_B}}))
    assert v.status == "partly confirmed"       # tanh as predicted; ReLU open, and √(1/n_in) trains
    v = judge(exp, results_for(exp, **{**good, f"he_normal|relu|{deepest}|64": {"end": 2.29, "spread": 0.001},
                                       f"glorot_normal|tanh|{deepest}|64": {"end": 2.29, "spread": 0.001}}))
    assert v.status == "inconclusive"


def test_slow_relu_counts_never_reached_as_the_budget_plus_one():
    exp = get_experiment(CATALOGUE, ExpId.SMALL_RELU)
    decay = [{"gradient_std": 1.0}] * 3
    v = judge(exp, results_for(exp, small_random={"end": 2.0, "spread": 0.01, "layers": decay},
                               he_normal={"end": 0.1, "spread": 0.01}))
    deciding = [c for c in v.comparisons if c["deciding"]]
    assert {c["depth"] for c in deciding} == set(PROFILE.axis_depths)      # every depth of the axis decides
    epochs = exp.select("axis")[0].config.epochs
    for c in deciding:
        assert c["metric"] == "epochs_to_target" and c["decision"] == "better"
        assert c["estimate"] < 0 and c["estimate"] >= -(epochs + 1)
    v = judge(exp, results_for(exp, small_random={"end": 0.1, "spread": 0.01}, he_normal={"end": 0.1, "spread": 0.01}))
    assert v.status in ("inconclusive", "partly confirmed")
    assert {c["decision"] for c in v.comparisons if c["deciding"]} == {"indistinguishable"}


def test_saturation_needs_the_glorot_control_to_train():
    exp = get_experiment(CATALOGUE, ExpId.LARGE_SATURATE)
    sat = [{"saturated_fraction": 0.9}] * 4
    large = {"end": 2.2, "spread": 0.01, "layers": sat}
    v = judge(exp, results_for(exp, large_random=large, large_uniform=large, large_uniform_positive=large,
                               glorot_uniform={"end": 0.3, "spread": 0.01}))
    assert v.status == "confirmed"
    v = judge(exp, results_for(exp, large_random=large, large_uniform=large, large_uniform_positive=large,
                               glorot_uniform={"end": 2.25, "spread": 0.01}))
    assert v.status == "inconclusive" and "does not train" in v.reason


def test_zero_bias_is_an_equivalence_test():
    exp = get_experiment(CATALOGUE, ExpId.ZERO_BIAS)
    spread = [{"relative_unit_spread": 1.0}] * 3
    close = judge(exp, results_for(exp, **{"he_normal": {"acc": [0.95 + d for d in (0.001, -0.001) * 4],
                                                         "layers": spread}}))
    assert close.status == "confirmed"
    noisy = [0.95 + d for d in (0.05, -0.05, 0.04, -0.04, 0.03, -0.03, 0.02, -0.02)]
    v = judge(exp, {exp.one("subject"): result(exp.one("subject"), acc=noisy, layers=spread),
                    exp.one("reference"): result(exp.one("reference"), acc=0.95)})
    assert v.status == "inconclusive"           # the interval is wider than ±1 point: cannot say "the same"
    v = judge(exp, {exp.one("subject"): result(exp.one("subject"), acc=0.80, spread=0.005, layers=spread),
                    exp.one("reference"): result(exp.one("reference"), acc=0.95, spread=0.005)})
    # 15 points apart: the equivalence is refuted; the deterministic check (units differ) still holds
    assert v.status == "partly confirmed" and "1 opposite" in v.reason


# ---------------------------------------------------------------- adaptive seeds (step 3 of the depth axis)

def test_only_undecided_axis_comparisons_get_more_seeds():
    from initreport.catalogue.axis import LOOK_ALPHA, undecided_cells
    prof = replace(PROFILE, extend_seeds=tuple(range(8, 16)))
    exps = build_catalogue(prof)
    he = get_experiment(exps, ExpId.HE_FOR_RELU)
    deep = max(DEEP)
    wide = [0.80, 0.95, 0.85, 0.99, 0.82, 0.97, 0.84, 0.93]            # noisy: indistinguishable, wide interval
    decided = {f"he_normal|relu|{deep}|64": {"acc": 0.95, "spread": 0.005},
               f"glorot_normal|relu|{deep}|64": {"acc": 0.60, "spread": 0.005},
               f"he_normal|leaky_relu|{deep}|64": {"acc": wide}, f"glorot_normal|leaky_relu|{deep}|64": {"acc": wide[::-1]}}
    by_run = results_for(he, **decided)
    results = {r.config: v for r, v in by_run.items()}
    for e in (e for e in exps if e.select("axis")):  # the other experiments on the axis: the default result
        results.update({r.config: result(r) for r in e.runs if r.config not in results})
    cells = undecided_cells(prof, exps, results)
    assert ("he_normal", "leaky_relu", deep) in cells and ("glorot_normal", "leaky_relu", deep) in cells
    assert ("he_normal", "relu", deep) not in cells                   # decided: better
    assert all(d in DEEP for _, _, d in cells)                        # context depths never get more seeds
    # the extended catalogue gives those cells 16 seeds, and only those
    more = build_catalogue(prof, None, cells)
    for run in get_experiment(more, ExpId.HE_FOR_RELU).select("axis"):
        c = run.config
        assert len(c.seeds) == (16 if (c.init, c.activation, c.depth) in cells else 8)
    # no extension without extend_seeds; the axis is tested at Pocock's per-look level
    assert undecided_cells(PROFILE, CATALOGUE, results) == frozenset()
    v = judge(he, by_run)
    levels = [c["level"] for c in v.comparisons if c["deciding"]]
    assert min(levels) >= 1 - LOOK_ALPHA - 1e-6 and max(levels) >= 1 - LOOK_ALPHA / len(levels) - 1e-6   # 6 digits
    assert "Pocock" in v.detail


def test_the_short_answer_lists_the_deciding_comparisons_in_display_names():
    from initreport import fmt
    from initreport.pages.headline import headline
    exp = get_experiment(CATALOGUE, ExpId.HE_FOR_RELU)
    over = {f"he_normal|relu|{d}|64": {"acc": 0.95, "spread": 0.005} for d in DEEP}
    over.update({f"glorot_normal|relu|{d}|64": {"acc": 0.60, "spread": 0.005} for d in DEEP})
    v = judge(exp, results_for(exp, **over))
    text = headline(v.comparisons, v.measured)
    deciding = [c for c in v.comparisons if c["deciding"]]
    assert text.count(" seeds)") == len(deciding)                    # one clause per deciding comparison
    relu = next(c for c in deciding if c["activation"] == "relu")
    assert (f"He normal, ReLU beats Glorot normal, ReLU (test accuracy of the first minus the second: "
            f"{fmt.num(100 * relu['estimate'], 2)} percentage points [{fmt.num(100 * relu['ci_low'], 2)}, "
            f"{fmt.num(100 * relu['ci_high'], 2)}]") in text
    assert "he_normal" not in text and "depth 2," not in text         # display names; context depths left out
    assert headline((), "measured text") == "measured text"
    # an equivalence claim is told in its own terms, not as "does worse than"
    zero = {"a": "he_normal, relu, bias 0", "b": "he_normal, relu, bias 0.1", "init_a": "he_normal", "init_b": "he_normal",
            "activation": "relu", "metric": "heldout_accuracy", "estimate": -0.002, "ci_low": -0.0034,
            "ci_high": -0.0008, "n_seeds": 8, "decision": "worse", "deciding": True, "prediction": "equivalent",
            "margin": 0.01}
    assert "He normal, ReLU, bias 0 is within ±1 percentage points of He normal, ReLU, bias 0.1" in headline([zero], "")
