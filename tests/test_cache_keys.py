"""Cache keys cover exactly what a result depends on (initreport/keys.py).

Edits are made in a temporary copy of the package and measured in a subprocess whose
PYTHONPATH points at the copy, so the installed package is never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import initreport
from initreport.catalogue import build_catalogue, catalogue_configs

PACKAGE = Path(initreport.__file__).resolve().parent

# Prints {index: run key} for the quick profile's configurations, in catalogue order.
KEYS_SCRIPT = """
import json, initreport
from initreport.catalogue import build_catalogue, catalogue_configs
from initreport.keys import run_key
print(json.dumps({"file": initreport.__file__,
                  "keys": [run_key(c) for c in catalogue_configs(build_catalogue("quick"))]}))
"""


def quick_configs():
    return catalogue_configs(build_catalogue("quick"))


def build_configs():
    """What a quick build runs: the catalogue's configurations and the Explore page's grid."""
    from initreport.catalogue import get_profile
    from initreport.explorer import explorer_configs
    return list(dict.fromkeys(quick_configs() + explorer_configs(get_profile("quick"))))


@pytest.fixture()
def pkg(tmp_path: Path) -> Path:
    """A copy of the initreport package; returns the folder to put on PYTHONPATH."""
    root = tmp_path / "pkg"
    shutil.copytree(PACKAGE, root / "initreport", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run_py(pkg: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pkg), "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("INITREPORT_DEBUG", None)
    return subprocess.run([sys.executable, *args], cwd=cwd or pkg, env=env, capture_output=True, text=True,
                          timeout=600)


def keys_of(pkg: Path) -> list[str]:
    proc = run_py(pkg, "-c", KEYS_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert Path(out["file"]).resolve().is_relative_to(pkg.resolve())    # the copy was measured
    return out["keys"]


def edit(pkg: Path, module: str, old: str, new: str) -> None:
    path = pkg / "initreport" / module
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not found once in {module}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def edit_body(pkg: Path, module: str, function: str) -> None:
    """Add a statement that changes no number before the first `return` of ``function``."""
    path = pkg / "initreport" / module
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"def {function}("))
    ret = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("return "))
    indent = lines[ret][: len(lines[ret]) - len(lines[ret].lstrip())]
    lines.insert(ret, f"{indent}unused = 0  # an edit that changes no number\n")
    path.write_text("".join(lines), encoding="utf-8")


def changed(before: list[str], after: list[str]) -> set[int]:
    return {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}


def indices(pred) -> set[int]:
    return {i for i, c in enumerate(quick_configs()) if pred(c)}


# --- run keys --------------------------------------------------------------------------------


def test_keys_do_not_depend_on_where_the_package_lives(pkg):
    from initreport.keys import run_key

    assert keys_of(pkg) == [run_key(c) for c in quick_configs()]
    assert len(set(keys_of(pkg))) == len(quick_configs())       # one key per configuration


def test_editing_one_initialiser_changes_exactly_the_keys_of_its_runs(pkg):
    before = keys_of(pkg)
    edit_body(pkg, "initializers.py", "large_random")
    assert changed(before, keys_of(pkg)) == indices(lambda c: c.init == "large_random") != set()


def test_adding_an_initialiser_changes_no_key(pkg):
    before = keys_of(pkg)
    with open(pkg / "initreport" / "initializers.py", "a", encoding="utf-8") as f:
        f.write('''

def tiny_normal(rng, fan_in, fan_out, dtype=np.float32):
    """N(0, 0.001^2): a new initialiser that no experiment uses yet."""
    return (rng.standard_normal((fan_in, fan_out)) * 0.001).astype(dtype, copy=False)


INITIALIZERS["tiny_normal"] = _info(tiny_normal, "other", "Tiny Gaussian weights.", "0.001 N(0, 1)",
                                    "0.001 N(0, 1)", "a test", None, None, _fixed(0.0, 0.001))
''')
    assert keys_of(pkg) == before


def test_editing_the_variance_scaling_core_changes_every_initialiser_built_on_it(pkg):
    before = keys_of(pkg)
    edit(pkg, "initializers.py", "        std = math.sqrt(scale / _fan(mode, fan_in, fan_out))\n        shape",
         "        std = math.sqrt(scale / _fan(mode, fan_in, fan_out))  # same number\n        shape")
    scaled = {"glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
              "xavier_normal_untruncated", "pytorch_default"}
    assert changed(before, keys_of(pkg)) == indices(lambda c: c.init in scaled)


def test_a_preset_parameter_of_the_variance_scaling_core_is_in_the_key(pkg):
    before = keys_of(pkg)
    edit(pkg, "initializers.py", '_he_uniform = variance_scaling(2.0, "fan_in", "uniform")',
         '_he_uniform = variance_scaling(2.5, "fan_in", "uniform")')
    assert changed(before, keys_of(pkg)) == indices(lambda c: c.init == "he_uniform") != set()


def test_editing_one_activation_changes_exactly_the_keys_of_its_runs(pkg):
    before = keys_of(pkg)
    edit(pkg, "activations.py", "LEAKY_SLOPE = 0.01", "LEAKY_SLOPE = 0.02")
    assert changed(before, keys_of(pkg)) == indices(lambda c: c.activation == "leaky_relu") != set()


@pytest.mark.parametrize("module,old,new", [
    ("network.py", "from __future__ import annotations\n", "from __future__ import annotations\n# edited\n"),
    ("diagnostics.py", "from __future__ import annotations\n", "from __future__ import annotations\n# edited\n"),
    ("runner.py", '        "n_seeds": len(config.seeds),', '        "n_seeds": len(list(config.seeds)),'),
    ("activations.py", "    grad /= batch\n    return loss, grad", "    grad /= batch\n    return (loss, grad)"),
])
def test_editing_the_engine_core_changes_every_key(pkg, module, old, new):
    before = keys_of(pkg)
    edit(pkg, module, old, new)
    assert changed(before, keys_of(pkg)) == set(range(len(before)))


@pytest.mark.parametrize("module,old,new", [
    # how stacks are grouped changes no number (a member's result does not depend on its stack)
    ("runner.py", "STACK_BYTES = 160 * 2**20", "STACK_BYTES = 80 * 2**20"),
    # the datasets' loader code is not in the key, only the arrays it produces
    ("datasets.py", "def _two_halves(", "# edited\ndef _two_halves("),
    # the registry's display text is not a number
    ("initializers.py", '"Every weight is zero, so all units in a layer stay identical."',
     '"Every weight is zero, so every unit of a layer stays identical."'),
])
def test_a_change_that_alters_no_number_keeps_every_key(pkg, module, old, new):
    before = keys_of(pkg)
    edit(pkg, module, old, new)
    assert keys_of(pkg) == before


def test_changing_a_dataset_changes_exactly_the_keys_of_its_runs(pkg):
    before = keys_of(pkg)
    edit(pkg, "datasets.py", 'DEFAULT_NOISE = {"spirals": 0.04,', 'DEFAULT_NOISE = {"spirals": 0.05,')
    assert changed(before, keys_of(pkg)) == indices(lambda c: c.dataset == "spirals") != set()


# --- whole builds ------------------------------------------------------------------------------


def warm_build_after_edit(pkg: Path, quick_project, tmp_path: Path, module: str, function: str) -> list[int]:
    """Edit one function's body in the package copy, rebuild a copy of the warm quick project with it,
    and return the summary line's counts: runs, run, cached, figures rendered, figures reused."""
    source, _ = quick_project
    project = tmp_path / "project"
    shutil.copytree(source, project, symlinks=True)
    edit_body(pkg, module, function)
    proc = run_py(pkg, "-m", "initreport.cli", "build", "--profile", "quick", "--jobs", "1",
                  "--project-dir", str(project))
    assert proc.returncode == 0, proc.stderr
    summary = re.search(r"(\d+) runs, (\d+) run, (\d+) cached.*figures (\d+) rendered, (\d+) reused", proc.stdout)
    assert summary, proc.stdout
    return [int(g) for g in summary.groups()]


def test_editing_one_initialiser_reruns_exactly_its_runs_in_a_warm_build(pkg, quick_project, tmp_path):
    """The Done-when of issue 9: the build's summary line says how many runs were rerun."""
    counts = warm_build_after_edit(pkg, quick_project, tmp_path, "initializers.py", "large_uniform")
    runs = indices(lambda c: c.init == "large_uniform")
    exps = build_catalogue("quick")
    figures = sum(len(e.figures) for e in exps if any(r.config.init == "large_uniform" for r in e.runs))
    total_figures = sum(len(e.figures) for e in exps)
    assert counts == [len(build_configs()), len(runs), len(build_configs()) - len(runs),
                                                  figures, total_figures - figures]


def test_editing_one_figure_kind_rerenders_only_that_kind(quick_project, tmp_path, monkeypatch):
    from initreport import events, keys
    from initreport.build import build

    source, _ = quick_project
    project = tmp_path / "project"
    shutil.copytree(source, project, symlinks=True)
    fingerprint = keys.figure_fingerprint
    monkeypatch.setattr(keys, "figure_fingerprint",      # as if loss_curves' function had been edited
                        lambda kind: fingerprint(kind) + ("-edited" if kind == "loss_curves" else ""))
    seen = []
    report = build(project, profile="quick", jobs=1, on_event=seen.append)
    kinds = [k for e in build_catalogue("quick") for k in e.figures]
    assert report.runs.ran == 0
    assert (report.figures_rendered, report.figures_reused) == (kinds.count("loss_curves"),
                                                                len(kinds) - kinds.count("loss_curves"))
    assert events.FiguresDone(report.figures_rendered, report.figures_reused) in seen
    # the build reported itself through typed events, stage by stage
    stages = [e.stage for e in seen if isinstance(e, events.StageStarted)]
    # the runs come in steps (the learning-rate choice, the catalogue), then each later stage once
    assert [s for k, s in enumerate(stages) if k == 0 or s != stages[k - 1]] == list(events.STAGES)
    assert stages.count("runs") >= 2
    resolved = [e for e in seen if isinstance(e, events.RunsResolved)]     # one per step, all from the cache
    assert sum(e.count for e in resolved) == sum(e.cached for e in resolved) == len(build_configs())
    assert not any(e.discarded for e in resolved)
    assert not any(isinstance(e, events.RunFinished) for e in seen)
    assert seen[-1] == events.SiteBuilt(report.site_dir)


def test_editing_one_figure_function_rerenders_only_that_kind_in_a_warm_build(pkg, quick_project, tmp_path):
    """A real edit of one figure function in a copy of the package: only that kind is re-rendered."""
    counts = warm_build_after_edit(pkg, quick_project, tmp_path, "figures/training.py", "loss_curves")
    kinds = [k for e in build_catalogue("quick") for k in e.figures]
    assert counts[1] == 0 and counts[3:] == [kinds.count("loss_curves"), len(kinds) - kinds.count("loss_curves")]


def test_keys_do_not_depend_on_what_the_process_has_run():
    """A Dask worker compares its engine fingerprint after training with the client's: they must agree."""
    code = """
import json
from initreport import keys
from initreport.runner import RunConfig, run_stack
before = (keys.engine_fingerprint(), keys.run_key(RunConfig()))
keys.engine_fingerprint.cache_clear()
run_stack([RunConfig(epochs=1, seeds=(0,))])
print(json.dumps([before, (keys.engine_fingerprint(), keys.run_key(RunConfig()))]))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)})
    assert proc.returncode == 0, proc.stderr
    before, after = json.loads(proc.stdout)
    assert before == after
