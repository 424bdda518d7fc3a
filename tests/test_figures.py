"""Figures: every kind renders in both palettes, parses, is deterministic, tolerates diverged seeds,
selects runs by config (not labels), and the registry picks up and fingerprints kinds one by one."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from initreport import figures as F
from initreport.catalogue.model import Experiment, Run
from initreport.errors import InitReportError
from initreport.figures import registry
from initreport.figures.style import run_styles
from initreport.runner import make_config, run_configs

REPO = Path(__file__).resolve().parents[1]


def _digits(init, act, **kw):
    base = dict(init=init, activation=act, dataset="digits", depth=3, width=16, epochs=2, batch_size=64,
                lr=0.05, momentum=0.9, seeds=(0, 1), diag_samples=128, checkpoints=(1,))
    base.update(kw)
    return make_config(**base)


def _circles(init, act):
    return make_config(init=init, activation=act, dataset="circles", depth=2, width=8, epochs=2, batch_size=32,
                       lr=0.1, momentum=0.9, seeds=(0, 1), diag_samples=128)


def _exp(exp_id, runs, kinds, role=""):
    return Experiment(id=exp_id, title=exp_id, claim="claim", source="source", page="page", measure="measure",
                      runs=tuple(Run(role=role, config=c, label=label) for label, c in runs), rule="frozen",
                      figures=tuple(kinds))


PER_RUN_KINDS = ("layer_std", "activation_hist", "gradient_hist", "loss_curves", "heatmap", "saturation",
                 "weight_change", "unit_spread", "layer_std_training")


@pytest.fixture(scope="module")
def tiny():
    """(experiments, {experiment id: [(Run, result)]}) from really running tiny configurations."""
    matrix = [("he_normal, relu, digits", _digits("he_normal", "relu")),
              ("zeros, tanh, digits", _digits("zeros", "tanh")),
              ("small_random, tanh, digits", _digits("small_random", "tanh")),
              # a deeper net beside the matrix, as in the He page's experiment: not a heat-map cell
              ("depth, he_normal", _digits("he_normal", "relu", depth=5))]
    boundary = [("glorot_uniform, tanh", _circles("glorot_uniform", "tanh")),
                ("constant, sigmoid", _circles("constant", "sigmoid"))]
    sweep = [(f"gain {g}, tanh", _digits("scaled_normal", "tanh", init_params={"gain": g}, checkpoints=()))
             for g in (0.1, 1.0)]
    depth = [(f"he_normal, relu, depth {d}", _digits("he_normal", "relu", depth=d, checkpoints=())) for d in (2, 4)]
    exps = [_exp("tiny-matrix", matrix, PER_RUN_KINDS), _exp("tiny-boundary", boundary, ("decision_boundary",)),
            _exp("tiny-sweep", sweep, ("sweep",)), _exp("tiny-depth", depth, ("depth",)),
            # the depth axis of the comparative claims: its kinds draw the runs of role "axis" only
            _exp("tiny-axis", [(f"{i}, {a}, depth {d}", _digits(i, a, depth=d, checkpoints=()))
                               for i in ("he_normal", "glorot_normal") for a in ("relu", "tanh") for d in (2, 4)],
                 ("depth_axis", "depth_axis_loss"), role="axis")]
    configs = [run.config for e in exps for run in e.runs]
    by_config = dict(zip(configs, run_configs(configs)))
    return exps, {e.id: [(run, by_config[run.config]) for run in e.runs] for e in exps}


@pytest.fixture(scope="module")
def rendered(tiny, tmp_path_factory):
    exps, runs = tiny
    out = tmp_path_factory.mktemp("figs")
    return {e.id: F.render_experiment(e, runs[e.id], out) for e in exps}, out


def _check_file(path: Path, width_in: float = F.WIDTH_IN):
    assert path.is_file() and path.stat().st_size > 0, path
    if path.suffix == ".svg":
        assert path.stat().st_size < 300_000, f"{path.name} is {path.stat().st_size} bytes"
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert float(root.get("width", "0pt").removesuffix("pt")) == pytest.approx(width_in * 72)   # 7 in = 504 pt
    else:
        import matplotlib.image as mpimg

        img = mpimg.imread(path)
        assert img.shape[1] == round(width_in * F.PNG_DPI)
        assert img.shape[0] > 100 and img.shape[2] == 4


def test_every_kind_renders_light_and_dark(rendered, tiny):
    figs, out = rendered
    exps, _ = tiny
    kinds = [f.kind for e in exps for f in figs[e.id]]
    assert sorted(kinds) == sorted(F.FIGURES)
    for e in exps:
        assert [f.kind for f in figs[e.id]] == list(e.figures)
        for f in figs[e.id]:
            assert f.light == f"{e.id}--{f.kind}--light.{F.FIGURES[f.kind].fmt}"
            assert f.dark == f.light.replace("--light.", "--dark.")
            _check_file(out / f.light)
            _check_file(out / f.dark)
            assert (out / f.light).read_bytes() != (out / f.dark).read_bytes()
            if F.FIGURES[f.kind].phone:
                assert f.phone_light == f.light.replace("--light.", "--light--phone.")
                assert f.phone_dark == f.dark.replace("--dark.", "--dark--phone.")
                _check_file(out / f.phone_light, F.PHONE_WIDTH_IN)
                _check_file(out / f.phone_dark, F.PHONE_WIDTH_IN)
            else:
                assert f.phone_light is None and f.phone_dark is None
            assert f.alt.endswith(".") and f.caption
    assert not [p for p in out.iterdir() if p.name.startswith(".")]   # no temporary files left


def test_catalogue_kinds_are_registered():
    from initreport.catalogue import build_catalogue
    for e in build_catalogue("quick"):
        assert set(e.figures) <= set(F.FIGURES), e.id


def test_same_bytes_twice(rendered, tiny, tmp_path):
    figs, out = rendered
    exps, runs = tiny
    again = {e.id: F.render_experiment(e, runs[e.id], tmp_path) for e in exps}
    assert again == figs
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


_CHILD = """
import json, sys
from dataclasses import replace
from pathlib import Path
from initreport import figures as F
from initreport.catalogue.model import Experiment, Run
from initreport.runner import make_config
data = json.loads(Path(sys.argv[1]).read_text())
runs = [(Run(role="", config=make_config(**r["config"]), label=label), r) for label, r in data["runs"]]
exp = Experiment(id=data["id"], title="t", claim="c", source="s", page="p", measure="m",
                 runs=tuple(run for run, _ in runs), rule="frozen", figures=tuple(data["kinds"]))
F.render_experiment(exp, runs, Path(sys.argv[2]))
print(json.dumps({k: F.fingerprint(k) for k in sorted(F.FIGURES)}))
"""


def test_same_bytes_and_fingerprints_in_other_processes(rendered, tiny, tmp_path):
    """Another interpreter, with another string-hash seed, draws the same bytes and the same keys."""
    figs, out = rendered
    exps, runs = tiny
    exp = exps[0]
    data = tmp_path / "runs.json"
    data.write_text(json.dumps({"id": exp.id, "kinds": ["layer_std", "heatmap"],
                                "runs": [(run.label, r) for run, r in runs[exp.id]]}))
    prints = []
    for seed in ("1", "2"):
        dest = tmp_path / f"out{seed}"
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", _CHILD, str(data), str(dest)], env=env,
                              capture_output=True, text=True, check=True)
        prints.append(json.loads(done.stdout))
        for f in figs[exp.id]:
            if f.kind in ("layer_std", "heatmap"):
                for name in (f.light, f.dark):
                    assert (dest / name).read_bytes() == (out / name).read_bytes(), name
    assert prints[0] == prints[1] == {k: F.fingerprint(k) for k in sorted(F.FIGURES)}


def test_labels_are_display_only(rendered, tiny, tmp_path):
    """Relabelled runs draw the same heat map, sweep and depth figures: runs are chosen by config."""
    figs, out = rendered
    exps, runs = tiny
    for e in exps:
        for kind in ("heatmap", "sweep", "depth"):
            if kind not in e.figures:
                continue
            relabelled = [(Run(role=run.role, config=run.config, label=f"run number {i}"), r)
                          for i, (run, r) in enumerate(runs[e.id])]
            f = F.render(kind, e, relabelled, tmp_path)
            assert (tmp_path / f.light).read_bytes() == (out / f.light).read_bytes(), f.light
    heat = next(f for f in figs["tiny-matrix"] if f.kind == "heatmap")
    assert "best on digits" in heat.alt


def test_heatmap_leaves_out_the_deeper_pair(tiny, tmp_path):
    """The extra deeper run beside the matrix is not a cell: dropping it leaves the heat map unchanged."""
    exps, runs = tiny
    matrix = exps[0]
    with_deep = F.render("heatmap", matrix, runs[matrix.id], tmp_path / "a")
    without = F.render("heatmap", matrix, [p for p in runs[matrix.id] if p[0].config.depth == 3], tmp_path / "b")
    assert (tmp_path / "a" / with_deep.light).read_bytes() == (tmp_path / "b" / without.light).read_bytes()


def test_run_styles_by_config():
    def pair(init, act, width=16):
        return (Run(role="", config=_digits(init, act, width=width), label="same label"), {})

    # two initialisers × two activations: colour per initialiser, line style per activation
    styles = run_styles([pair("zeros", "relu"), pair("zeros", "tanh"), pair("he_normal", "relu"),
                         pair("he_normal", "tanh")])
    assert [s[0] for s in styles] == [0, 0, 1, 1]
    assert styles[0][1] == styles[2][1] != styles[1][1] == styles[3][1]
    # two initialisers × six (activation, width): colour per rest, line style per initialiser
    six = [pair(i, a, w) for i in ("constant", "glorot_uniform") for a in ("relu", "tanh", "sigmoid") for w in (1, 16)]
    styles = run_styles(six)
    assert sorted({s[0] for s in styles}) == list(range(6))
    assert len({s[1] for s in styles}) == 2
    # only the initialiser varies: one colour per run
    assert [s[0] for s in run_styles([pair("zeros", "relu"), pair("he_normal", "relu")])] == [0, 1]


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
    exps, runs = tiny
    drawn = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for e in exps:
            broken = [(run, _diverge(r, 1 if i % 2 == 0 else 2)) for i, (run, r) in enumerate(runs[e.id])]
            figs = F.render_experiment(e, broken, tmp_path)
            assert [f.kind for f in figs] == list(e.figures)
            drawn.update({f.kind: f for f in figs})
    assert "diverged" in drawn["loss_curves"].caption.lower()
    assert '"diverged": every seed diverged' in drawn["heatmap"].caption
    assert "div." not in drawn["heatmap"].caption and "†" not in drawn["heatmap"].caption
    assert "diverged" in drawn["sweep"].caption.lower()
    assert "every seed diverged" in drawn["decision_boundary"].caption
    svg = (tmp_path / "tiny-matrix--weight_change--light.svg").read_text()
    assert "nan" not in svg.lower().replace("nano", "")


def test_unknown_kind_and_missing_results(tmp_path, tiny):
    exps, runs = tiny
    bad = _exp("bad", [(run.label, run.config) for run in exps[0].runs], ("layer_std", "no_such_kind"))
    with pytest.raises(InitReportError, match="figure kind.*no_such_kind"):
        F.render_experiment(bad, runs["tiny-matrix"], tmp_path)
    assert not list(tmp_path.iterdir())          # nothing drawn before the unknown kind was found
    with pytest.raises(InitReportError, match="no results for experiment 'tiny-matrix'"):
        F.render_experiment(exps[0], [], tmp_path)
    with pytest.raises(ValueError, match="allowed are svg, png"):
        F.register("x", fmt="jpg")
    with pytest.raises(ValueError, match="registered twice"):
        F.register("layer_std")(lambda exp, runs, pal: None)


# ---------------------------------------------------------------------------------------
# Adding a kind, and fingerprints per kind

_KIND_MODULE = '''
import numpy as np
from initreport.figures import register
from initreport.figures.style import new_fig, pretty

OFFSET = {offset}


def _helper_a(ax, runs):
    ax.plot(np.arange(len(runs)) + OFFSET, [len(r["layers"]) for _, r in runs])


def _helper_b(ax, runs):
    ax.plot(np.arange(len(runs)), [{b_value} for _ in runs])


@register("test_kind_a", fmt="svg")
def kind_a(exp, runs, pal):
    fig, axes = new_fig(2.0)
    _helper_a(axes[0][0], runs)
    return fig, "{a_text} " + ", ".join(pretty(run.label) for run, _ in runs) + ".", "caption a"


@register("test_kind_b", fmt="png")
def kind_b(exp, runs, pal):
    fig, axes = new_fig(2.0)
    _helper_b(axes[0][0], runs)
    return fig, "Test kind b.", "caption b"
'''


def _load_kinds(tmp_path, name, **edits):
    params = dict(offset=0, b_value=1, a_text="Test kind a:")
    params.update(edits)
    path = tmp_path / f"{name}.py"
    path.write_text(_KIND_MODULE.format(**params))
    spec = importlib.util.spec_from_file_location(f"initreport_test_kinds_{name}", path)
    module = importlib.util.module_from_spec(spec)
    for kind in ("test_kind_a", "test_kind_b"):
        F.FIGURES.pop(kind, None)
    spec.loader.exec_module(module)
    return {kind: F.fingerprint(kind) for kind in ("test_kind_a", "test_kind_b")}


@pytest.fixture
def clean_registry():
    before = dict(F.FIGURES)
    yield
    F.FIGURES.clear()
    F.FIGURES.update(before)


def test_a_new_kind_is_registered_and_rendered_by_the_same_path(tmp_path, tiny, clean_registry):
    exps, runs = tiny
    _load_kinds(tmp_path, "v0")
    assert F.FIGURES["test_kind_a"].fmt == "svg" and F.FIGURES["test_kind_b"].fmt == "png"
    exp = _exp("tiny-new", [(run.label, run.config) for run in exps[0].runs], ("test_kind_a", "test_kind_b"))
    figs = F.render_experiment(exp, runs["tiny-matrix"], tmp_path / "out")
    assert [f.light for f in figs] == ["tiny-new--test_kind_a--light.svg", "tiny-new--test_kind_b--light.png"]
    assert figs[0].alt.startswith("Test kind a: He normal, ReLU, digits, Zeros, tanh, digits")
    for f in figs:
        _check_file(tmp_path / "out" / f.light)
        _check_file(tmp_path / "out" / f.dark)
    one = F.render("test_kind_a", exp, runs["tiny-matrix"], tmp_path / "one")
    assert one == figs[0]
    assert (tmp_path / "one" / one.light).read_bytes() == (tmp_path / "out" / one.light).read_bytes()


def test_fingerprint_changes_only_for_the_edited_kind(tmp_path, clean_registry):
    real = {k: F.fingerprint(k) for k in F.FIGURES}
    base = _load_kinds(tmp_path, "base")
    assert base == _load_kinds(tmp_path, "same")                 # same source, other file: same keys
    a_body = _load_kinds(tmp_path, "a_body", a_text="Kind a shows:")
    assert a_body["test_kind_a"] != base["test_kind_a"] and a_body["test_kind_b"] == base["test_kind_b"]
    b_helper = _load_kinds(tmp_path, "b_helper", b_value=2)     # a helper only kind b calls
    assert b_helper["test_kind_b"] != base["test_kind_b"] and b_helper["test_kind_a"] == base["test_kind_a"]
    a_data = _load_kinds(tmp_path, "a_data", offset=1)          # module-level data only kind a reads
    assert a_data["test_kind_a"] != base["test_kind_a"] and a_data["test_kind_b"] == base["test_kind_b"]
    # the built-in kinds' keys did not move, and no two kinds share one
    assert {k: F.fingerprint(k) for k in real} == real
    assert len(set(real.values())) == len(real)


def test_fingerprint_covers_the_shared_style(monkeypatch):
    before = {k: F.fingerprint(k) for k in F.FIGURES}
    read = registry._module_source

    def edited(module):
        return read(module) + (b"\n# edited\n" if module.__name__ == "initreport.figures.style" else b"")

    monkeypatch.setattr(registry, "_module_source", edited)
    after = {k: F.fingerprint(k) for k in F.FIGURES}
    assert all(after[k] != before[k] for k in before)


def test_readme_example_kind_renders(tmp_path, tiny, clean_registry):
    """The README's "Adding a figure kind" example, as written, registers and renders."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Adding a figure kind", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = (code.replace("from .. import", "from initreport import")
                .replace("from .registry", "from initreport.figures.registry")
                .replace("from .style", "from initreport.figures.style"))
    path = tmp_path / "readme_kind.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location("initreport_readme_kind", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    exps, runs = tiny
    fig = F.render("final_accuracy", exps[0], runs["tiny-matrix"], tmp_path / "out")
    assert fig.light == "tiny-matrix--final_accuracy--light.svg"
    _check_file(tmp_path / "out" / fig.light)
    assert fig.alt.startswith("Final test accuracy per run: He normal, ReLU, digits ")


_PRINT_FINGERPRINTS = ("import json; from initreport import figures as F; "
                       "print(json.dumps({k: F.fingerprint(k) for k in F.FIGURES}))")


def test_fingerprints_of_the_real_package_move_one_kind_at_a_time(tmp_path):
    """In a copy of the package: an edit to one kind, to a helper two kinds share, and to the style."""
    shutil.copytree(REPO / "initreport", tmp_path / "initreport",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))

    def prints():
        done = subprocess.run([sys.executable, "-c", _PRINT_FINGERPRINTS], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    def edit(name, old, new):
        path = tmp_path / "initreport" / "figures" / name
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new))

    base = prints()
    assert base == {k: F.fingerprint(k) for k in F.FIGURES}
    edit("layers.py", 'ax.set_ylim(-0.03, 1.03)', 'ax.set_ylim(-0.03, 1.03)  # x')
    one = prints()
    assert {k for k in base if one[k] != base[k]} == {"saturation"}
    edit("layers.py", '    used = [(run, r) for run, r in runs if not skip(r)]',
         '    used = [(run, r) for run, r in runs if not skip(r)]  # edited')
    two = prints()
    assert {k for k in base if two[k] != one[k]} == {"weight_change", "unit_spread"}
    edit("style.py", "VARIANTS = (", "VARIANTS = (  # edited\n    ")
    three = prints()
    assert {k for k in base if three[k] != two[k]} == set(base)


# ---------------------------------------------------------------------------------------
# Readability: one row per layer, curves that lie on each other are named


def _draw_fig(kind, exp, runs, variant="light", phone=False):
    """The kind's matplotlib figure as render() draws it (the caller closes it)."""
    import matplotlib.pyplot as plt
    import matplotlib.style as mstyle

    from initreport.figures import style

    pal = dict(style.PALETTES[variant], phone=phone, width=style.PHONE_WIDTH_IN if phone else style.WIDTH_IN)
    with mstyle.context("default"), plt.rc_context(style.rc(pal)):
        return F.FIGURES[kind].fn(exp, runs, pal)


@pytest.mark.parametrize("kind", ["activation_hist", "gradient_hist"])
@pytest.mark.parametrize("phone", [False, True])
def test_histograms_have_one_row_per_layer_with_its_std(tiny, kind, phone):
    import matplotlib.pyplot as plt

    exps, runs = tiny
    pairs = runs["tiny-matrix"]
    fig, alt, caption = _draw_fig(kind, exps[0], pairs, phone=phone)
    try:
        n_layers = max(len(r["layers"]) for _, r in pairs)          # 5: the deeper run
        blocks = fig.subfigs
        assert len(blocks) == len(pairs)
        widths = {round(ax.get_position().width, 6) for ax in fig.get_axes() if ax.get_visible()}
        for sub, (run, r) in zip(blocks, pairs):
            rows = [ax for ax in sub.axes if ax.get_visible()]
            assert len(rows) == len(r["layers"])                       # one row per hidden layer
            assert len({ax.get_xlim() for ax in rows}) == 1            # one shared x axis per run
            stat = "activation_std" if kind == "activation_hist" else "gradient_std"
            for ax, layer in zip(rows, r["layers"]):
                texts = [t.get_text() for t in ax.texts]
                from initreport import fmt
                assert any(fmt.num(layer[stat]["mean"], 2) in t for t in texts), texts
            hidden = [ax for ax in sub.axes if not ax.get_visible()]
            assert len(rows) + len(hidden) == n_layers
        if phone:
            assert fig.get_size_inches()[0] == pytest.approx(F.PHONE_WIDTH_IN)
            assert len(widths) == 1        # one column: every row as wide as the others
        assert "one row per layer" in alt and "share one linear x axis" in caption
    finally:
        plt.close(fig)


def test_identical_runs_are_said_to_lie_on_each_other(tiny, tmp_path):
    """Two runs with the same results: each line kind names the second as lying on the first."""
    exps, runs = tiny
    run, result = runs["tiny-matrix"][0]
    other = _digits("he_normal", "relu", width=17)          # another config, same numbers
    twin = (Run(role="", config=other, label="the twin"), copy.deepcopy(result))
    different = runs["tiny-matrix"][2]                       # small random, tanh: not the same curves
    exp = _exp("twins", [(run.label, run.config), (twin[0].label, other), (different[0].label,
                                                                              different[0].config)],
               ("loss_curves", "layer_std", "saturation", "weight_change"))
    figs = {f.kind: f for f in F.render_experiment(exp, [(run, result), twin, different], tmp_path)}
    expected = "the twin lies on He normal, ReLU"
    for kind in ("loss_curves", "layer_std", "weight_change"):
        assert expected in figs[kind].caption, (kind, figs[kind].caption)
        assert "Small random" not in figs[kind].caption.split("lies on")[0][-40:], figs[kind].caption
    assert "in both panels" in figs["loss_curves"].caption
    # without the twin nothing is said to lie on anything
    alone = F.render_experiment(exp, [(run, result), different], tmp_path / "alone")
    assert not any("lies on He normal" in f.caption or "lies on Small random" in f.caption for f in alone)


def test_lies_on_tolerance():
    from initreport.figures.style import lies_on

    x = [1, 2, 3]
    assert lies_on([(x, [1.0, 2.0, 3.0]), (x, [1.0, 2.0, 3.005])]) == {1: 0}
    assert lies_on([(x, [1.0, 2.0, 3.0]), (x, [1.0, 2.0, 3.2])]) == {}
    assert lies_on([(x, [1.0, 2.0, 3.0]), ([1, 2], [1.0, 2.0])]) == {}          # different x: not on it
    # on a log axis closeness is relative: 1e-6 vs 2e-6 is far apart when the axis spans 1e-6..1
    assert lies_on([(x, [1e-6, 1e-3, 1.0]), (x, [2e-6, 1e-3, 1.0])], log=True) == {}
    assert lies_on([(x, [1e-6, 1e-3, 1.0]), (x, [2e-6, 1e-3, 1.0])], log=False) == {1: 0}
    # a third copy lies on the first, not on the hidden second
    assert lies_on([(x, [1, 2, 3]), (x, [1, 2, 3]), (x, [1, 2, 3])]) == {1: 0, 2: 0}


@pytest.mark.parametrize("phone", [False, True])
def test_layer_std_training_has_a_line_per_checkpoint_in_each_panel(tiny, phone):
    import matplotlib.pyplot as plt

    exps, runs = tiny
    pairs = runs["tiny-matrix"]
    fig, alt, caption = _draw_fig("layer_std_training", exps[0], pairs, phone=phone)
    try:
        axes = fig.get_axes()
        assert len(axes) == 2 * len(pairs)                  # activations and gradients for every run
        for i, (run, r) in enumerate(pairs):
            n_cp = len(r["checkpoints"])
            assert n_cp >= 2
            for ax in axes[2 * i: 2 * i + 2]:
                assert run.label.split(",")[0].replace("_", " ") in ax.get_title().lower()
                assert len(ax.get_lines()) == n_cp
        assert "min–max over seeds" in caption and alt.endswith(".")
    finally:
        plt.close(fig)


def test_only_axis_kinds_see_the_statistics_runs(tiny):
    """Runs that exist for the statistics (the depth axis, its rate selection, rate sweeps) never reach
    the other kinds: a loss-curve figure of a small-random claim must not draw 44 axis cells."""
    from initreport.figures.registry import AXIS_ROLES, kind_runs
    exps, runs = tiny
    pairs = runs["tiny-matrix"][:2] + [(replace(run, role=role), r) for role in AXIS_ROLES
                                        for run, r in runs["tiny-axis"][:1]]
    assert [p[0].role for p in kind_runs("loss_curves", pairs)] == ["", ""]
    assert [p[0].role for p in kind_runs("depth_axis", pairs)] == ["", ""] + list(AXIS_ROLES)
