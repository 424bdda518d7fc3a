"""Figures: every kind renders in both palettes, parses, is deterministic, and tolerates diverged seeds."""

from __future__ import annotations

import copy
from types import SimpleNamespace
import json
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from initreport import figures as F
from initreport.errors import InitReportError
from initreport.catalogue import build_catalogue
from initreport.runner import make_config, run_configs

QUICK = Path("/tmp/quick_results")


def _digits(init, act, **kw):
    base = dict(init=init, activation=act, dataset="digits", depth=3, width=16, epochs=2, batch_size=64,
                lr=0.05, momentum=0.9, seeds=(0, 1), diag_samples=128, checkpoints=(1,))
    base.update(kw)
    return make_config(**base)


def _circles(init, act):
    return make_config(init=init, activation=act, dataset="circles", depth=2, width=8, epochs=2, batch_size=32,
                       lr=0.1, momentum=0.9, seeds=(0, 1), diag_samples=128)


def _exp(exp_id, runs, kinds):
    # the figures module's view of an experiment: (label, config) runs (until the figures package lands)
    return SimpleNamespace(id=exp_id, figures=tuple(kinds), runs=tuple(runs))


PER_RUN_KINDS = ("layer_std", "activation_hist", "gradient_hist", "loss_curves", "heatmap", "saturation",
                 "weight_change", "unit_spread")


@pytest.fixture(scope="module")
def tiny():
    """(experiments, results by experiment) from really running tiny configurations."""
    matrix = [("he_normal, relu, digits", _digits("he_normal", "relu")),
              ("zeros, tanh, digits", _digits("zeros", "tanh")),
              ("small_random, tanh, digits", _digits("small_random", "tanh"))]
    boundary = [("glorot_uniform, tanh", _circles("glorot_uniform", "tanh")),
                ("constant, sigmoid", _circles("constant", "sigmoid"))]
    sweep = [(f"gain {g}, tanh", _digits("scaled_normal", "tanh", init_params={"gain": g}, checkpoints=()))
             for g in (0.1, 1.0)]
    depth = [(f"he_normal, relu, depth {d}", _digits("he_normal", "relu", depth=d, checkpoints=())) for d in (2, 4)]
    exps = [_exp("tiny-matrix", matrix, PER_RUN_KINDS), _exp("tiny-boundary", boundary, ("decision_boundary",)),
            _exp("tiny-sweep", sweep, ("sweep",)), _exp("tiny-depth", depth, ("depth",))]
    configs = [c for e in exps for _, c in e.runs]
    by_config = dict(zip(configs, run_configs(configs)))
    results = {e.id: {label: by_config[c] for label, c in e.runs} for e in exps}
    return exps, results


@pytest.fixture(scope="module")
def rendered(tiny, tmp_path_factory):
    exps, results = tiny
    out = tmp_path_factory.mktemp("figs")
    return F.render_all(exps, results, out, jobs=1), out


def _check_file(path: Path):
    assert path.is_file() and path.stat().st_size > 0, path
    if path.suffix == ".svg":
        assert path.stat().st_size < 300_000, f"{path.name} is {path.stat().st_size} bytes"
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert root.get("width", "").startswith("504")        # 7 in = 504 pt
    else:
        import matplotlib.image as mpimg

        img = mpimg.imread(path)
        assert img.shape[1] == round(F.WIDTH_IN * F.PNG_DPI)
        assert img.shape[0] > 100 and img.shape[2] == 4


def test_every_kind_renders_light_and_dark(rendered, tiny):
    figs, out = rendered
    exps, _ = tiny
    kinds = [f.kind for e in exps for f in figs[e.id]]
    assert sorted(kinds) == sorted(F.FIGURE_KINDS)
    for e in exps:
        assert [f.kind for f in figs[e.id]] == list(e.figures)
        for f in figs[e.id]:
            assert f.light == f"{e.id}--{f.kind}--light.{F.FORMATS.get(f.kind, 'svg')}"
            assert f.dark == f.light.replace("--light.", "--dark.")
            _check_file(out / f.light)
            _check_file(out / f.dark)
            assert (out / f.light).read_bytes() != (out / f.dark).read_bytes()
            assert f.alt.endswith(".") and f.caption
    assert not [p for p in out.iterdir() if p.name.startswith(".")]   # no temporary files left


def test_catalogue_kinds_are_registered():
    for e in build_catalogue("quick"):
        assert set(e.figures) <= set(F.FIGURE_KINDS), e.id


def test_same_bytes_twice_and_with_two_jobs(rendered, tiny, tmp_path):
    figs, out = rendered
    exps, results = tiny
    again = F.render_all(exps, results, tmp_path, jobs=2)
    assert again == figs
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def _diverge(result: dict, seeds_lost: int) -> dict:
    """A copy of a result in which the last `seeds_lost` seeds diverged at epoch 1."""
    r = copy.deepcopy(result)
    n = r["n_seeds"]
    lost = list(range(n - seeds_lost, n))
    r["diverged"] = [{"seed": r["config"]["seeds"][i], "epoch": 1} for i in lost]

    def wipe(stat):
        if not isinstance(stat, dict) or "values" not in stat:
            return
        for i in lost:
            stat["values"][i] = None
        alive = [v for v in stat["values"] if v is not None]
        if not alive:
            stat.update(mean=None, std=None, min=None, max=None, n=0)
        else:
            stat.update(mean=sum(alive) / len(alive), min=min(alive), max=max(alive), n=len(alive),
                        std=0.0 if len(alive) == 1 else stat["std"])

    for entry in r["history"][1:]:
        for key in ("loss", "accuracy", "test_loss", "test_accuracy"):
            wipe(entry[key])
    for cp in r["checkpoints"][1:]:
        if seeds_lost == n:
            cp["layers"], cp["output"] = [], {}
            continue
        for layer in cp["layers"]:
            for stat in layer.values():
                wipe(stat)
    r["final"] = {k: r["history"][-1][k] for k in ("loss", "accuracy", "test_loss", "test_accuracy")}
    if seeds_lost == n:
        r["boundary"] = None
    # A statistic that does not apply is null for every seed, even at initialisation.
    for layer in r["layers"]:
        layer["dead_fraction"] = {"mean": None, "std": None, "min": None, "max": None, "n": 0,
                                  "values": [None] * n}
        layer["saturated_fraction"] = dict(layer["dead_fraction"])
    return r


def test_diverged_seeds_and_nulls_render_without_warnings(tiny, tmp_path):
    exps, results = tiny
    broken = []
    for e in exps:
        res = {}
        for i, (label, _) in enumerate(e.runs):
            res[label] = _diverge(results[e.id][label], 1 if i % 2 == 0 else 2)
        broken.append((e, res))
    drawn = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for e, res in broken:
            figs = F.render_experiment(e, res, tmp_path)
            assert [f.kind for f in figs] == list(e.figures)
            drawn.update({f.kind: f for f in figs})
    assert "diverged" in drawn["loss_curves"].caption.lower()
    assert "div." in drawn["heatmap"].caption
    assert "diverged" in drawn["sweep"].caption.lower()
    assert "every seed diverged" in drawn["decision_boundary"].caption
    svg = (tmp_path / "tiny-matrix--weight_change--light.svg").read_text()
    assert "nan" not in svg.lower().replace("nano", "")


def test_unknown_kind_and_missing_results(tmp_path, tiny):
    exps, results = tiny
    bad = _exp("bad", exps[0].runs, ("no_such_kind",))
    with pytest.raises(InitReportError, match="figure kind"):
        F.render_experiment(bad, results["tiny-matrix"], tmp_path)
    with pytest.raises(InitReportError, match="no results"):
        F.render_experiment(exps[0], {}, tmp_path)


@pytest.mark.skipif(not (QUICK / "small-tanh.json").is_file(), reason="no quick results in /tmp")
def test_quick_result_file(tmp_path):
    e = next(e for e in build_catalogue("quick") if e.id == "small-tanh")
    exp = _exp(e.id, [(r.label, r.config) for r in e.runs], e.figures)
    results = json.loads((QUICK / "small-tanh.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figs = F.render_experiment(exp, results, tmp_path)
    assert [f.kind for f in figs] == list(exp.figures)
    std = next(f for f in figs if f.kind == "layer_std")
    assert "→" in std.alt
    for f in figs:
        _check_file(tmp_path / f.light)
        _check_file(tmp_path / f.dark)
