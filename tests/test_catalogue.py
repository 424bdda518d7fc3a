"""The catalogue covers every claim, and its verdicts are computed from (and move with) the measurements."""

import copy
import re

import pytest

from initreport.build import CACHE_DIR, run_catalogue
from initreport.cache import ResultCache
from initreport.experiments import RULES, build_catalogue, catalogue_configs, get_experiment

# The claim ids of the project's reference list of claims (claims.md of the brief), kept here so
# the test reads nothing outside the repository.
CLAIM_IDS = ["zero-relu-tanh", "zero-sigmoid", "constant", "small-tanh", "small-sigmoid", "small-relu",
             "large-saturate", "large-relu", "summary", "xavier-normal", "xavier-uniform", "he-normal",
             "he-uniform", "xavier-for-tanh", "he-for-relu", "keras-names", "conclusion"]


def claim_ids() -> list[str]:
    return CLAIM_IDS


def test_every_claim_has_an_experiment():
    ids = {e.id for e in build_catalogue("default")}
    missing = [c for c in claim_ids() if c not in ids]
    assert not missing, f"claims without an experiment: {missing}"
    assert len(claim_ids()) >= 17


def test_every_experiment_has_runs_a_rule_and_a_page():
    pages = {"pitfalls/zero", "pitfalls/constant", "pitfalls/small-random", "pitfalls/large-random",
             "heuristics/xavier", "heuristics/he", "studies/depth", "studies/weight-scale", "choosing"}
    for e in build_catalogue("quick"):
        assert e.runs and e.rule in RULES and e.page in pages, e.id


def test_matrix_and_depth_study_cover_the_required_grid():
    exps = build_catalogue("default")
    matrix = get_experiment(exps, "conclusion")
    cells = {(c.init, c.activation, c.dataset) for _, c in matrix.runs}
    for act in ("sigmoid", "tanh", "relu", "leaky_relu"):
        for init in ("zeros", "small_random", "large_random", "glorot_uniform", "he_normal"):
            for ds in ("digits", "spirals"):
                assert (init, act, ds) in cells
    assert all(len(c.seeds) >= 3 for _, c in matrix.runs)
    depth = get_experiment(exps, "depth-study")
    depths = {c.depth for _, c in depth.runs}
    assert min(depths) <= 2 and max(depths) >= 30
    pairs = {(c.activation, c.init) for _, c in depth.runs}
    assert {("relu", "he_normal"), ("relu", "lecun_normal"), ("tanh", "glorot_normal"),
            ("tanh", "small_random")} <= pairs


@pytest.fixture(scope="module")
def quick_results(quick_project):
    project, _ = quick_project
    exps = build_catalogue("quick")
    results, stats = run_catalogue(catalogue_configs(exps), ResultCache(project / CACHE_DIR))
    assert stats.ran == 0            # everything comes from the session build's cache
    return exps, {e.id: {label: results[c] for label, c in e.runs} for e in exps}


def test_every_verdict_is_computed(quick_results):
    exps, by_exp = quick_results
    for e in exps:
        v = e.verdict(by_exp[e.id])
        assert v.status in ("confirmed", "partly confirmed", "refuted"), e.id
        assert re.search(r"\d", v.measured), f"{e.id}: no number behind the verdict"
        assert "Rule:" in v.detail
        # The listed conditions explain the status: all hold exactly when the claim is confirmed.
        assert v.checks, f"{e.id}: no conditions listed"
        assert all(held for _, held in v.checks) == (v.status == "confirmed"), e.id


def test_frozen_rule_follows_the_measurement(quick_results):
    exps, by_exp = quick_results
    e = get_experiment(exps, "zero-relu-tanh")
    assert e.verdict(by_exp[e.id]).status == "confirmed"
    moved = copy.deepcopy(by_exp[e.id])
    moved["zeros, relu"]["checkpoints"][-1]["layers"][1]["max_abs_change"]["max"] = 1e-7
    assert e.verdict(moved).status != "confirmed"


def test_variance_rule_follows_the_measurement(quick_results):
    exps, by_exp = quick_results
    e = get_experiment(exps, "he-normal")
    assert e.verdict(by_exp[e.id]).status == "confirmed"
    broken = copy.deepcopy(by_exp[e.id])
    for i, layer in enumerate(broken["he_normal"]["checkpoints"][0]["layers"]):
        layer["pre_activation_std"]["mean"] *= 0.9 ** i        # He now decays like a bad init
    assert e.verdict(broken).status != "confirmed"


def test_depth_rule_follows_the_measurement(quick_results):
    exps, by_exp = quick_results
    e = get_experiment(exps, "depth-study")
    res = copy.deepcopy(by_exp[e.id])
    deepest = max(r["config"]["depth"] for r in res.values())
    lecun = res[f"lecun_normal, relu, depth {deepest}"]
    he = res[f"he_normal, relu, depth {deepest}"]

    def set_drop(result, fraction):
        start = result["history"][0]["loss"]["mean"]
        result["final"]["loss"]["mean"] = start * (1 - fraction)

    set_drop(he, 0.8)
    set_drop(lecun, 0.0)
    assert e.verdict(res).status == "confirmed"
    set_drop(lecun, 0.8)                  # √(1/n_in) now trains as well as He: no stall
    assert e.verdict(res).status != "confirmed"


def test_second_build_reruns_nothing_and_one_change_reruns_one(quick_project, tmp_path, monkeypatch):
    import shutil

    from conftest import copy_project
    from initreport import build as build_module
    from initreport.experiments import Experiment

    # A copy of the session's project with its cache, so the session build stays untouched.
    source, first = quick_project
    project = copy_project(tmp_path / "project")
    shutil.copytree(source / CACHE_DIR, project / CACHE_DIR)
    again = build_module.build(project, profile="quick", jobs=1)
    assert again.runs.ran == 0 and again.runs.cached == first.runs.total
    assert again.figures_rendered == 0

    original = build_module.build_catalogue

    def changed(profile):
        exps = original(profile)
        out = []
        for e in exps:
            if e.id == "zero-bias":
                runs = tuple((label, c.with_(bias=0.2) if label == "he_normal, bias 0.1" else c) for label, c in e.runs)
                e = Experiment(**{**e.__dict__, "runs": runs})
            out.append(e)
        return out

    monkeypatch.setattr(build_module, "build_catalogue", changed)
    one = build_module.build(project, profile="quick", jobs=1)
    assert one.runs.ran == 1
    assert one.figures_rendered == 0      # zero-bias has no figures; nothing else changed
