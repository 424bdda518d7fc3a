"""The anomalies explained on their pages from measurements (issue 10), which learning rate each run
got, and the seed counts on Home, on the real quick build.

Every number an explanation prints is recomputed here from the result files in the cache (their JSON,
read directly), with formulas written out in this file, and looked up in the page's text.
"""

from __future__ import annotations

import copy
import html
import json
import math
import re
from dataclasses import replace

import pytest

from initreport import fmt
from initreport.build import CACHE_DIR
from initreport.cache import ResultCache, run_key
from initreport.build import resolve_catalogue
from initreport.catalogue import ExpId, build_catalogue, get_experiment, get_profile, judge
from initreport.catalogue.configs import digits, two_d
from initreport.pages.views import rate_text

QUICK = get_profile("quick")


@pytest.fixture(scope="module")
def built(quick_project):
    project, _ = quick_project
    cache = ResultCache(project / CACHE_DIR)
    exps, _, _ = resolve_catalogue(QUICK, cache)     # the catalogue at the learning rates the build chose

    def results(exp_id):
        exp = get_experiment(exps, exp_id)
        return exp, {r: json.loads(cache.path(run_key(r.config)).read_text(encoding="utf-8"))["result"]
                     for r in exp.runs}

    docs = {p.relative_to(project / "docs").as_posix(): p.read_text(encoding="utf-8")
            for p in (project / "docs").rglob("*.md")}
    return project, exps, results, docs


def explanation_text(page: str, title_start: str) -> str:
    """The explanation's heading and paragraphs on a page (Markdown, entities decoded), or ''."""
    text = html.unescape(page)
    m = re.search(r"^### " + re.escape(title_start) + r".*?(?=^\?\?\? note)", text, flags=re.MULTILINE | re.DOTALL)
    return m.group(0) if m else ""


# ------------------------------------------------------------------ numbers from the result files

def mean_over_seeds(values):
    ok = [v for v in values if v is not None]
    return sum(ok) / len(ok)


def layers(result):
    return result["checkpoints"][0]["layers"]


def slopes(result):
    """Mean slope of each sigmoid layer: E[σ(1 − σ)] = m − m² − s², per seed, then the mean over seeds."""
    return [mean_over_seeds([m - m * m - s * s for m, s in zip(layer["activation_mean"]["values"],
                                                             layer["activation_std"]["values"])])
            for layer in layers(result)]


def grad(result):
    return [layer["gradient_std"]["mean"] for layer in layers(result)]


def factor(result):
    g = grad(result)
    return (g[0] / g[-1]) ** (1 / (len(g) - 1))


def gain_sq(result):
    per_layer = [layer["fan_in"] * mean_over_seeds([w * w for w in layer["weight_std"]["values"]])
                 for layer in layers(result)]
    return sum(per_layer) / len(per_layer)


def n(x):
    return fmt.num(x)


# ------------------------------------------------------------------ 1a. large weights against Glorot, sigmoid

def test_large_weights_beating_glorot_with_sigmoid_are_explained_with_the_measured_numbers(built):
    _, _, results, docs = built
    exp, res = results(ExpId.LARGE_SATURATE)
    ref = res[exp.one("reference", activation="sigmoid")]
    beat = {r.config.init: res[r] for r in exp.select("subject", activation="sigmoid")
            if res[r]["final"]["loss"]["mean"] is not None
            and res[r]["final"]["loss"]["mean"] < ref["final"]["loss"]["mean"]}
    text = explanation_text(docs["pitfalls/large-random.md"], "Why ")
    if not beat:                # the anomaly is absent from this build: no explanation is printed
        assert text == ""
        return
    assert "large_random" in beat, "the quick build shows the anomaly the issue reports"
    for r in beat.values():
        assert n(r["final"]["loss"]["mean"]) in text and fmt.pct(r["final"]["test_accuracy"]["mean"]) in text
        assert f"n_in·Var(W) = {n(gain_sq(r))}" in text
        sat = [layer["saturated_fraction"]["mean"] for layer in layers(r)]
        assert f"{fmt.pct(sum(sat) / len(sat))} of its units are saturated" in text
        assert f"mean slope is {n(sum(slopes(r)) / len(slopes(r)))}" in text
        assert f"×{n(factor(r))} per layer" in text
        if factor(r) > factor(ref):             # the larger scale makes up for the slope: said with the ratio
            assert f"{n(grad(r)[0] / grad(ref)[0])}× Glorot uniform's" in text
    # Glorot: mean output near 0.5, mean slope at most ¼, the gradient shrinking by about that per layer
    means = [layer["activation_mean"]["mean"] for layer in layers(ref)]
    assert all(abs(m - 0.5) < 0.05 for m in means) and all(0 < s <= 0.25 for s in slopes(ref))
    assert f"output a mean of {n(min(means))} to {n(max(means))}" in text
    assert f"E[σ(1 − σ)] is {n(min(slopes(ref)))} to {n(max(slopes(ref)))}" in text
    assert f"shrinks by ×{n(factor(ref))} per layer, from {n(grad(ref)[-1])} at layer {len(grad(ref))} to " \
           f"{n(grad(ref)[0])} at layer 1" in text
    assert factor(ref) < 0.3
    # the learning rate each run got, from the configs
    rates = {r.config.lr for r in exp.select(activation="sigmoid")}
    assert len(rates) == 1 and re.search(rf"(both|all) ran at {re.escape(n(rates.pop()))}", text)
    for r in [exp.one("reference", activation="sigmoid")] + [r for r in exp.select("subject", activation="sigmoid")
                                                             if r.config.init in beat]:
        assert n(layers(res[r])[0]["update_ratio"]["mean"]) in text


def test_no_sigmoid_explanation_when_glorot_ends_lower(built):
    _, _, results, _ = built
    exp, res = results(ExpId.LARGE_SATURATE)
    res = copy.deepcopy(res)
    ref_loss = res[exp.one("reference", activation="sigmoid")]["final"]["loss"]["mean"]
    for r in exp.select("subject", activation="sigmoid"):
        res[r]["final"]["loss"]["mean"] = ref_loss + 1.0
    assert judge(exp, res).numbers.explanation is None
    assert judge(exp, results(ExpId.LARGE_SATURATE)[1]).numbers.explanation is not None


# ------------------------------------------------------------------ 1c. Glorot sigmoid in the deep net

def test_glorot_sigmoid_not_training_in_the_deep_net_is_explained(built):
    _, _, results, docs = built
    exp, res = results(ExpId.SMALL_SIGMOID)
    ref = res[exp.one("reference")]
    start, end = ref["history"][0]["loss"]["mean"], ref["final"]["loss"]["mean"]
    text = explanation_text(docs["pitfalls/small-random.md"], "Why ")
    trained = 1 - end / min(start, math.log(10)) >= 0.3
    assert not trained, "with the quick profile, Glorot-initialised sigmoid does not train at its depth"
    depth = exp.one("reference").config.depth
    assert text.startswith(f"### Why Glorot uniform does not train sigmoid at depth {depth}")
    assert f"went from {n(start)} to {n(end)} ({fmt.pct(1 - end / start)} removed" in text
    assert f"learning rate {n(exp.one('reference').config.lr)}" in text
    assert f"E[σ(1 − σ)] is {n(min(slopes(ref)))} to {n(max(slopes(ref)))}" in text
    assert f"n_in·Var(W) = {n(gain_sq(ref))}, measured" in text
    g = grad(ref)
    assert f"shrinks by ×{n(factor(ref))} per layer, from {n(g[-1])} at layer {depth} to {n(g[0])} at layer 1" in text
    assert f"(a factor {n(g[-1] / g[0])} in all)" in text
    moved = [layer["distance_from_init"]["mean"] for layer in ref["checkpoints"][-1]["layers"]]
    assert f"layer 1 had moved by {n(moved[0])}" in text and f"layer {depth} by {n(moved[-1])}" in text
    # a reference that trains needs no explanation
    trains = copy.deepcopy(res)
    ref_run = exp.one("reference")
    trains[ref_run]["final"]["loss"]["values"] = [0.2 for _ in trains[ref_run]["final"]["loss"]["values"]]
    trains[ref_run]["final"]["loss"]["mean"] = 0.2
    assert judge(exp, trains).numbers.explanation is None


# ------------------------------------------------------------------ 1b. √2 on the sweep

def test_the_sweep_has_sqrt2_and_runs_the_heuristic_gains_with_the_comparison_seeds():
    for name in ("default", "quick"):
        p = get_profile(name)
        assert 1.0 in p.sweep_gains and any(math.isclose(g, math.sqrt(2), rel_tol=1e-12) for g in p.sweep_gains)
        exp = get_experiment(build_catalogue(p), ExpId.SUMMARY)
        for r in exp.runs:
            g = dict(r.config.init_params)["gain"]
            heuristic = g == 1.0 or math.isclose(g, math.sqrt(2), rel_tol=1e-12)
            assert r.config.seeds == (p.cmp_seeds if heuristic else p.seeds), (name, g)


def test_where_sqrt2_falls_is_stated_with_the_measured_numbers(built):
    project, _, results, docs = built
    exp, res = results(ExpId.SUMMARY)
    text = explanation_text(docs["studies/weight-scale.md"], "Where √2")
    assert text
    verdicts = json.loads((project / "docs" / "data" / "verdicts.json").read_text(encoding="utf-8"))
    records = next(e for e in verdicts["experiments"] if e["id"] == ExpId.SUMMARY)["comparisons"]
    assert len(records) == 4 and not any(c["deciding"] for c in records)
    for act, name in (("relu", "ReLU"), ("tanh", "tanh")):
        runs = sorted(exp.select("sweep", activation=act), key=lambda r: dict(r.config.init_params)["gain"])
        i = next(k for k, r in enumerate(runs) if math.isclose(dict(r.config.init_params)["gain"], math.sqrt(2)))
        at, below, above = res[runs[i]], res[runs[i - 1]], res[runs[i + 1]]
        assert dict(runs[i - 1].config.init_params)["gain"] == 1.0
        assert f"{name}: final training loss {n(at['final']['loss']['mean'])} at gain √2" in text
        assert f"{n(below['final']['loss']['mean'])} at gain 1" in text
        assert f"{n(above['final']['loss']['mean'])} at gain {n(dict(runs[i + 1].config.init_params)['gain'])}" in text
        # √2 − 1, paired by seed: the mean of the per-seed differences
        for metric, key, scale, unit in (("train_loss_after_budget", "loss", 1, ""),
                                         ("heldout_accuracy", "test_accuracy", 100, " points")):
            diffs = [a - b for a, b in zip(at["final"][key]["values"], below["final"][key]["values"])
                     if a is not None and b is not None]
            if len(diffs) < len(at["final"][key]["values"]):
                continue                           # a diverged seed: the metric's failure value applies
            estimate = sum(diffs) / len(diffs)
            what = "final training loss" if key == "loss" else "test accuracy"
            assert f"{name}, {what}: √2 − 1 = {n(scale * estimate)}{unit} [" in text
            rec = next(c for c in records if c["activation"] == act and c["metric"] == metric)
            assert rec["estimate"] == pytest.approx(estimate, rel=1e-5, abs=1e-9)
            assert rec["ci_low"] <= rec["estimate"] <= rec["ci_high"]
            assert f"[{n(scale * rec['ci_low'])}, {n(scale * rec['ci_high'])}]" in text


def test_a_sweep_without_sqrt2_says_so(built):
    project, _, _, _ = built
    p = replace(QUICK, sweep_gains=(0.1, 1.0, 10.0))          # these runs are in the quick cache already
    exp = get_experiment(build_catalogue(p), ExpId.SUMMARY)
    cache = ResultCache(project / CACHE_DIR)
    res = {r: cache.get(run_key(r.config)) for r in exp.runs}
    assert all(res.values())
    why = judge(exp, res).numbers.explanation
    assert "no point at gain √2" in why.paragraphs[0] and not why.comparisons


# ------------------------------------------------------------------ 3. which run got which learning rate

def _rates(clause: str) -> dict:
    """{(outer, name): rate} from 'learning rate on digits: 0.1 for sigmoid, 0.01 for tanh and ReLU; on …'."""
    out = {}
    body = clause.removeprefix("learning rate ")
    for part in body.split("; "):
        outer, _, groups = part.rpartition(": ")
        for rate, names in re.findall(r"(\d[\d.]*) for (.+?)(?=, \d|$)", groups):
            for name in re.split(r", | and ", names):
                out[(outer, name)] = float(rate)
    return out


def test_the_matrix_setup_line_says_which_cell_got_which_rate(built):
    _, exps, _, docs = built
    exp = get_experiment(exps, ExpId.XAVIER_FOR_TANH)
    text = html.unescape(docs["heuristics/xavier.md"])
    line = next(l for l in text.splitlines() if l.startswith("**Setup:**") and "on digits:" in l)
    clause = re.search(r"(learning rate on .*?); \d+ seeds", line).group(1)
    from initreport.activations import display_name
    # the line describes the matrix; the depth axis's cells (each at its own chosen rate) have a sentence of their own
    expected = {(f"on {r.config.dataset}", display_name(r.config.activation)): r.config.lr for r in exp.select("matrix")}
    assert "each at its own learning rate chosen on a validation split" in line
    assert _rates(clause) == expected
    assert len(set(expected.values())) == 4          # 0.01, 0.05, 0.1, 0.3: each named with its cells


def test_rate_text_finds_the_fields_that_decide_the_rate():
    one = [digits(QUICK, init=i, activation=a) for i in ("he_normal", "glorot_normal") for a in ("sigmoid", "relu")]
    assert rate_text(one) == "learning rate 0.1 for sigmoid, 0.01 for ReLU"
    two = one + [two_d(QUICK, dataset="spirals", init="he_normal", activation=a) for a in ("sigmoid", "relu")]
    assert _rates(rate_text(two)) == {("on digits", "sigmoid"): 0.1, ("on digits", "ReLU"): 0.01,
                                      ("on spirals", "sigmoid"): 0.3, ("on spirals", "ReLU"): 0.05}
    by_init = [digits(QUICK, init=i, activation="relu", lr=lr) for i, lr in
               (("he_normal", 0.02), ("glorot_normal", 0.01), ("lecun_normal", 0.01))]
    assert rate_text(by_init) == "learning rate 0.02 for He normal, 0.01 for Glorot normal and LeCun normal"
    many = [digits(QUICK, init="he_normal", activation="relu", depth=d, lr=0.001 * d) for d in range(1, 12)]
    assert rate_text(many) == "learning rate per run, 0.001 to 0.011 (see the settings table)"


# ------------------------------------------------------------------ 2. the seed counts on Home

def test_home_names_both_seed_counts_from_the_profile(built):
    project, exps, results, docs = built
    assert f"profile `quick`, {len(QUICK.seeds)}\nseeds per configuration)" in docs["index.md"]   # the same here
    from initreport.pages.registry import PAGES
    from initreport.pages.render import render_pages
    from initreport.pages.write import page_context

    by_exp = {e.id: results(e.id)[1] for e in exps}
    keys = {e.id: {r.label: run_key(r.config) for r in e.runs} for e in exps}
    verdicts = {e.id: judge(e, by_exp[e.id]) for e in exps}
    profile = replace(QUICK, seeds=(0, 1, 2), compare_seeds=tuple(range(8)))
    context = page_context(exps, by_exp, keys, verdicts, {}, profile, {})
    pages = render_pages(project, context, pages=[p for p in PAGES if p.path in ("index.md", "cheatsheet.md")])
    home = " ".join(pages["index.md"].split())
    assert "3 seeds per configuration, 8 for the comparisons" in home
    assert "3 seeds per configuration, 8 for the comparisons" in " ".join(pages["cheatsheet.md"].split())
    # the matrix line counts the matrix runs' own seeds
    matrix_seeds = {len(r.config.seeds) for r in get_experiment(exps, ExpId.CONCLUSION).select("matrix")}
    assert f"trained with one activation function ({matrix_seeds.pop()} seeds" in home


def test_the_sigmoid_explanation_names_differing_learning_rates(built):
    _, _, results, _ = built
    exp, res = results(ExpId.LARGE_SATURATE)
    moved = {r: replace(r, config=replace(r.config, lr=0.3))
             for r in exp.select("subject", activation="sigmoid", init="large_random")}
    exp2 = replace(exp, runs=tuple(moved.get(r, r) for r in exp.runs))
    res2 = {moved.get(r, r): v for r, v in res.items()}
    text = " ".join(judge(exp2, res2).numbers.explanation.paragraphs)
    assert "The learning rates differ: 0.1 (Glorot uniform)" in text and "0.3 (Large random" in text
    assert "does not explain the gap" not in text and "mixes the effect of the scale with that of the rate" in text


def test_a_run_whose_gradient_is_zero_gets_no_factor(built):
    _, _, results, _ = built
    exp, res = results(ExpId.LARGE_SATURATE)
    res = copy.deepcopy(res)
    run = exp.one("subject", activation="sigmoid", init="large_uniform_positive")
    for layer in layers(res[run]):             # every unit saturated: no gradient reaches any layer
        layer["gradient_std"] = {**layer["gradient_std"], "mean": 0.0, "values": [0.0] * res[run]["n_seeds"]}
    res[run]["final"]["loss"]["mean"] = 0.001
    text = " ".join(judge(exp, res).numbers.explanation.paragraphs)
    assert "Positive uniform (U[0, 1)) has n_in·Var(W)" in text
    assert "the back-propagated gradient std is 0 at layer 4 and 0 at layer 1" in text
    assert "× Glorot uniform's with Positive uniform" not in text
