"""The catalogue covers every claim, checks itself before any run, selects runs by what they are,
and its typed verdicts are computed from (and move with) the measurements."""

import copy
import dataclasses
import re

import pytest
from conftest import REPO

from initreport import initializers
from initreport.build import CACHE_DIR, run_catalogue
from initreport.cache import ResultCache
from initreport.catalogue import (RULES, STATUSES, ExpId, Experiment, Run, build_catalogue, catalogue_configs,
                                  get_experiment, heuristics, judge, matrix_experiment, validate_catalogue)
from initreport.errors import InitReportError
from initreport.pages import PAGES, page_keys

# The claim ids of the reference's claims.md (the notes' claims the report must test).
CLAIM_IDS = ["zero-relu-tanh", "zero-sigmoid", "constant", "small-tanh", "small-sigmoid", "small-relu",
             "large-saturate", "large-relu", "summary", "xavier-normal", "xavier-uniform", "he-normal",
             "he-uniform", "xavier-for-tanh", "he-for-relu", "keras-names", "conclusion"]


def test_every_claim_has_an_experiment_and_a_constant():
    ids = [e.id for e in build_catalogue("default")]
    assert [c for c in CLAIM_IDS if c not in ids] == []
    assert sorted(ids) == sorted(ExpId.all())          # every experiment has its constant, and no more


@pytest.mark.parametrize("profile", ["default", "quick"])
def test_the_catalogue_validates(profile, tmp_path):
    from conftest import copy_project

    # pages, figure kinds, rules, roles, unique labels, the matrix source and every template's names
    validate_catalogue(build_catalogue(profile), copy_project(tmp_path / "p"))


def _one_line_error(experiments, **kw) -> str:
    with pytest.raises(InitReportError) as info:
        validate_catalogue(experiments, **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


def _replace(experiments, exp_id, **changes):
    return [dataclasses.replace(e, **changes) if e.id == exp_id else e for e in experiments]


def test_validation_names_what_is_broken():
    exps = build_catalogue("quick")
    assert "page 'pitfalls/nowhere' is not in the page registry" in _one_line_error(
        _replace(exps, ExpId.ZERO_SIGMOID, page="pitfalls/nowhere"))
    assert "figure kind 'pie_chart' is not registered" in _one_line_error(
        _replace(exps, ExpId.SMALL_TANH, figures=("layer_std", "pie_chart")))
    assert "rule 'hunch' is not registered" in _one_line_error(_replace(exps, ExpId.CONSTANT, rule="hunch"))
    zero = get_experiment(exps, ExpId.ZERO_RELU_TANH)
    no_reference = tuple(r for r in zero.runs if r.role != "reference")
    assert "rule 'frozen' reads runs with role 'reference', and the experiment has none" in _one_line_error(
        _replace(exps, ExpId.ZERO_RELU_TANH, runs=no_reference))
    stray = zero.runs + (Run("spare", zero.runs[0].config, "spare run"),)
    assert "role 'spare' is not read by rule 'frozen'" in _one_line_error(
        _replace(exps, ExpId.ZERO_RELU_TANH, runs=stray))
    twin = zero.runs + (dataclasses.replace(zero.runs[0], role="subject"),)
    assert "two runs are labelled 'zeros, relu'" in _one_line_error(_replace(exps, ExpId.ZERO_RELU_TANH, runs=twin))
    two_sources = _replace(exps, ExpId.XAVIER_FOR_TANH, matrix=True)
    assert "2 experiments declare matrix=True" in _one_line_error(two_sources)
    several = _replace(_replace(exps, ExpId.CONSTANT, rule="hunch"), ExpId.ZERO_SIGMOID, page="nowhere")
    assert "(and 1 more)" in _one_line_error(several)


def test_validation_checks_the_names_templates_use(tmp_path):
    from conftest import copy_project

    project = copy_project(tmp_path / "p")
    exps = build_catalogue("quick")
    template = project / "templates" / "studies" / "depth.md.j2"
    original = template.read_text()
    for edit, expected in [
        ("{{ no_such_thing }}", "template studies/depth.md.j2: unknown variable 'no_such_thing'"),
        ("{{ exps[ids.NO_SUCH_EXPERIMENT].title }}", "unknown experiment constant ids.NO_SUCH_EXPERIMENT"),
        ('{{ exps["depth-study"].title }}', "exps['depth-study'] names an experiment by string; use exps[ids.DEPTH_STUDY]"),
    ]:
        template.write_text(original + edit + "\n")
        assert expected in _one_line_error(exps, project_dir=project)
    template.write_text(original)
    # A constant whose experiment is not in this catalogue.
    without_depth = [e for e in exps if e.id != ExpId.DEPTH_STUDY]
    assert "ids.DEPTH_STUDY ('depth-study') is not in the catalogue" in _one_line_error(without_depth, project_dir=project)


def test_a_build_validates_before_running_anything(tmp_path):
    from conftest import copy_project
    from initreport.build import build

    project = copy_project(tmp_path / "p")
    (project / "templates" / "claims.md.j2").write_text("{{ exps[ids.NOPE] }}\n")
    with pytest.raises(InitReportError, match="ids.NOPE"):
        build(project, profile="quick", jobs=1)
    assert not (project / CACHE_DIR).exists() and not (project / "docs" / "index.md").exists()


def test_matrix_and_depth_study_cover_the_required_grid():
    exps = build_catalogue("default")
    matrix = matrix_experiment(exps)
    assert matrix.id == ExpId.CONCLUSION
    runs = matrix.select("matrix")
    cells = {(r.config.init, r.config.activation, r.config.dataset) for r in runs}
    for act in ("sigmoid", "tanh", "relu", "leaky_relu"):
        for init in ("zeros", "small_random", "large_random", "glorot_uniform", "he_normal"):
            for ds in ("digits", "spirals"):
                assert (init, act, ds) in cells
    assert all(len(r.config.seeds) >= 3 for r in runs)
    depth = get_experiment(exps, ExpId.DEPTH_STUDY)
    depths = {r.config.depth for r in depth.select("depth")}
    assert min(depths) <= 2 and max(depths) >= 30
    for act, init in (("relu", "he_normal"), ("relu", "lecun_normal"), ("tanh", "glorot_normal"),
                      ("tanh", "small_random")):
        assert len(depth.select("depth", activation=act, init=init)) == len(depths)


def test_heuristic_means_what_the_initialiser_registry_says():
    names = heuristics()
    assert set(names) == {n for n, i in initializers.INITIALIZERS.items() if i.family == "heuristic"}
    assert {"glorot_uniform", "he_normal", "lecun_uniform", "pytorch_default"} <= set(names)
    assert "zeros" not in names and "scaled_normal" not in names


def test_the_nav_is_generated_from_the_page_registry():
    from initreport.pages import nav

    assert nav() == [
        {"Home": "index.md"}, {"How training works": "training.md"},
        {"Pitfalls": [{"Zero weights": "pitfalls/zero.md"}, {"Constant weights": "pitfalls/constant.md"},
                      {"Small random weights": "pitfalls/small-random.md"},
                      {"Large random weights": "pitfalls/large-random.md"}]},
        {"Heuristics": [{"Xavier (Glorot)": "heuristics/xavier.md"}, {"He (Kaiming)": "heuristics/he.md"}]},
        {"Studies": [{"Depth": "studies/depth.md"}, {"Weight scale": "studies/weight-scale.md"}]},
        {"Choosing an initialiser": "choosing.md"}, {"Explore": "explore.md"}, {"Cheat sheet": "cheatsheet.md"}, {"For teachers": "teachers.md"},
        {"Sources and references": "sources.md"}, {"Reproducibility": "reproducibility.md"},
        {"Claims checked": "claims.md"}]
    assert "\nnav:" not in (REPO / "mkdocs.yml").read_text()      # one list of pages, not two


def test_every_experiment_is_on_a_registered_page():
    keys = page_keys()
    assert {e.page for e in build_catalogue("default")} <= keys
    assert len({p.path for p in PAGES}) == len(PAGES)


@pytest.fixture(scope="module")
def quick_results(quick_project):
    project, _ = quick_project
    from initreport.build import resolve_catalogue
    exps, _, first = resolve_catalogue(__import__("initreport.catalogue", fromlist=["get_profile"]).get_profile("quick"), ResultCache(project / CACHE_DIR))
    results, stats = run_catalogue(catalogue_configs(exps), ResultCache(project / CACHE_DIR))
    assert stats.ran == 0 and first.ran == 0     # everything comes from the session build's cache
    return exps, {e.id: {r: results[r.config] for r in e.runs} for e in exps}


def test_every_verdict_is_computed_and_typed(quick_results):
    exps, by_exp = quick_results
    for e in exps:
        v = judge(e, by_exp[e.id])
        assert v.status in STATUSES, e.id
        assert dataclasses.is_dataclass(v.numbers) and isinstance(v.numbers, RULES[e.rule].numbers), e.id
        assert re.search(r"\d", v.measured), f"{e.id}: no number behind the verdict"
        assert "Rule:" in v.detail
        # The listed conditions explain the status: all hold exactly when the claim is confirmed.
        assert v.checks, f"{e.id}: no conditions listed"
        assert all(held for _, held in v.checks) == (v.status == "confirmed"), e.id


def test_labels_are_display_text_only(quick_results):
    """Relabel every run with an opaque name: every verdict says the same, with the new names."""
    exps, by_exp = quick_results
    for e in exps:
        renamed = {r: dataclasses.replace(r, label=f"<run {i}>") for i, r in enumerate(e.runs)}
        e2 = dataclasses.replace(e, runs=tuple(renamed.values()))
        before, after = judge(e, by_exp[e.id]), judge(e2, {renamed[r]: res for r, res in by_exp[e.id].items()})

        def restored(text):      # the new labels put back: the text must then be the same, to the digit
            for old, new in sorted(renamed.items(), key=lambda kv: -len(kv[1].label)):    # "<run 10>" first
                text = text.replace(new.label, old.label)
            return text

        assert after.status == before.status, e.id
        assert restored(after.measured) == before.measured, e.id
        assert after.comparisons == before.comparisons, e.id     # comparisons name runs by config, never label
        assert [held for _, held in after.checks] == [held for _, held in before.checks], e.id
        if not before.comparisons and any(r.label in before.measured for r in e.runs):   # named by their new labels
            assert any(r.label in after.measured for r in e2.runs), e.id


def test_frozen_rule_follows_the_measurement(quick_results):
    exps, by_exp = quick_results
    e = get_experiment(exps, ExpId.ZERO_RELU_TANH)
    assert judge(e, by_exp[e.id]).status == "confirmed"
    moved = copy.deepcopy(by_exp[e.id])
    moved[e.one("subject", activation="relu")]["checkpoints"][-1]["layers"][1]["max_abs_change"]["max"] = 1e-7
    assert judge(e, moved).status != "confirmed"


def test_variance_rule_follows_the_measurement(quick_results):
    exps, by_exp = quick_results
    e = get_experiment(exps, ExpId.HE_NORMAL)
    assert judge(e, by_exp[e.id]).status == "confirmed"
    broken = copy.deepcopy(by_exp[e.id])
    for i, layer in enumerate(broken[e.one("subject")]["checkpoints"][0]["layers"]):
        layer["pre_activation_std"]["mean"] *= 0.9 ** i        # He now decays like a bad init
    assert judge(e, broken).status != "confirmed"


def test_depth_rule_follows_the_measurement(quick_results):
    exps, by_exp = quick_results
    e = get_experiment(exps, ExpId.DEPTH_STUDY)
    res = copy.deepcopy(by_exp[e.id])
    deepest = max(r.config.depth for r in e.runs)
    lecun = res[e.one("depth", init="lecun_normal", depth=deepest)]
    he = res[e.one("depth", init="he_normal", depth=deepest)]

    def set_drop(result, fraction):          # every seed removes this share of its initial loss
        start = result["history"][0]["loss"]
        result["final"]["loss"]["values"] = [s * (1 - fraction) for s in start["values"]]
        result["final"]["loss"]["mean"] = start["mean"] * (1 - fraction)

    set_drop(he, 0.8)
    set_drop(lecun, 0.0)
    v = judge(e, res)
    assert v.status == "confirmed" and v.numbers.depth == deepest
    assert v.numbers.drops.he == pytest.approx(0.8) and v.numbers.drops.lecun == pytest.approx(0.0)
    set_drop(lecun, 0.8)                  # √(1/n_in) now trains as well as He: no stall
    assert judge(e, res).status != "confirmed"


def test_an_inconclusive_verdict_is_shown_as_such(quick_project, quick_results):
    """No rule says "inconclusive" yet; the site shows it with its own admonition and badge."""
    from initreport.catalogue import Verdict
    from initreport.pages import environment, experiment_view

    project, _ = quick_project
    exps, by_exp = quick_results
    e = get_experiment(exps, ExpId.ZERO_BIAS)
    v = dataclasses.replace(judge(e, by_exp[e.id]), status="inconclusive")
    view = experiment_view(e, by_exp[e.id], {}, v, [])
    env = environment(project / "templates")
    macros = env.get_template("_macros.md.j2").make_module({"root": "", "inits": {}})
    box = str(macros.verdict_box(view))
    assert box.startswith('!!! question "Inconclusive: ') and "cannot tell the cases apart" in box
    assert ":material-help-circle: Inconclusive" in str(macros.badge(view))
    with pytest.raises(ValueError, match="not one of"):
        Verdict("maybe", "", "")


def test_second_build_reruns_nothing_and_one_change_reruns_one(quick_project, tmp_path, monkeypatch):
    import shutil

    from conftest import copy_project
    from initreport import build as build_module

    # A copy of the session's project with its cache, so the session build stays untouched.
    source, first = quick_project
    project = copy_project(tmp_path / "project")
    shutil.copytree(source / CACHE_DIR, project / CACHE_DIR)
    again = build_module.build(project, profile="quick", jobs=1)
    assert again.runs.ran == 0 and again.runs.cached == first.runs.total
    assert again.figures_rendered == 0

    original = build_module.build_catalogue

    def changed(profile, picks=None):
        out = []
        for e in original(profile, picks):
            if e.id == ExpId.ZERO_BIAS:
                runs = tuple(dataclasses.replace(r, config=r.config.with_(bias=0.2)) if r.role == "reference" else r
                             for r in e.runs)
                e = dataclasses.replace(e, runs=runs)
            out.append(e)
        return out

    monkeypatch.setattr(build_module, "build_catalogue", changed)
    one = build_module.build(project, profile="quick", jobs=1)
    assert one.runs.ran == 1
    assert one.figures_rendered == 0      # zero-bias has no figures; nothing else changed


def test_experiments_are_built_with_keywords():
    with pytest.raises(TypeError):
        Experiment("id", "title", "claim", "source", "page", "measure", (), "frozen")   # noqa: too many positional
