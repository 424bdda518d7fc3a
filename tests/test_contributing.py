"""The README's CONTRIBUTING walk-through, performed once in a temporary copy of the project:
an initialiser, a claim with its rule, and a page, each added exactly as the README says,
then one build of a tiny profile. No template is edited except the new page's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_project

TINY = """\
[build]
profile = "tiny"

[profile.tiny]
base = "quick"
seeds = [0]
epochs = 2
epochs_2d = 2
depth_epochs = 1
depths = [2, 3]
sweep_gains = [0.1, 1.0, 10.0]
matrix_datasets = ["spirals"]
deep = 2
variance_depth = 3
variance_width = 16
width = 16
description = "the contributing walk-through"
"""

# 1. An initialiser: a function and one registry entry in initreport/initializers.py.
INITIALISER = '''

def contrib_normal(rng, fan_in, fan_out, dtype=np.float32):
    """N(0, 1/n_in), untruncated: a contributor's example."""
    return (rng.standard_normal((fan_in, fan_out)) * math.sqrt(1.0 / fan_in)).astype(dtype, copy=False)
'''
ENTRY = '''    _info(contrib_normal, "heuristic", "A contributor's Gaussian with variance 1/fan-in.",
          "N(0, 1/n_in)", r"\\mathcal{N}\\left(0, 1/n_{in}\\right)", "The CONTRIBUTING walk-through",
          "Dense(n, kernel_initializer=VarianceScaling(1.0, 'fan_in', 'untruncated_normal'))",
          "nn.init.normal_(w, std=math.sqrt(1 / n_in))", _variance_scaling_law(1.0, "fan_in", "untruncated_normal")),
'''

# 2. A claim with its rule: a rule module, an id constant, and an Experiment in its page family's builder.
RULE_MODULE = '''"""A contributor's rule."""

from dataclasses import dataclass

from ...fmt import pct
from ..readers import final
from .base import rule, verdict


@dataclass(frozen=True)
class BeatsNumbers:
    subject: float           # final test accuracy of the subject
    reference: float         # and of the reference


@rule("beats_reference", roles=("subject", "reference"), numbers=BeatsNumbers)
def rule_beats_reference(exp, res):
    s, r = final(res[exp.one("subject")]), final(res[exp.one("reference")])
    return verdict(s > r, False, f"test accuracy {pct(s)} against {pct(r)}",
                   "Rule: confirmed when the subject ends with a higher test accuracy than the reference.",
                   [("the subject beats the reference", s > r)], BeatsNumbers(s, r))
'''
CLAIM = '''        Experiment(
            id=ExpId.CONTRIB, title="A contributor's claim: random beats zero",
            claim="Random weights scaled by the fan-in train better than zeros.",
            source="CONTRIBUTING", page="pitfalls/zero", measure="final test accuracy",
            runs=(Run("subject", digits(p, init="contrib_normal", activation="relu"), "contrib_normal, relu"),
                  Run("reference", digits(p, init="zeros", activation="relu"), "zeros, relu")),
            rule="beats_reference"),
'''

# 3. A page: one template and one registry entry.
PAGE_TEMPLATE = '''{% import "_macros.md.j2" as m with context %}
# Contributor notes

This build tested {{ experiments|length }} claims; the zero page has {{ exps[ids.ZERO_BIAS].title|esc }}.
'''
PAGE_ENTRY = '''    Page("notes.md", "notes.md.j2", "Contributor notes", "Studies"),
'''


def _edit(path: Path, anchor: str, text: str, before: bool = True) -> None:
    source = path.read_text()
    assert source.count(anchor) == 1, f"{path.name}: anchor {anchor!r} not found once"
    path.write_text(source.replace(anchor, text + anchor if before else anchor + text))


def _cli(project: Path, pkg: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(pkg), NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "initreport.cli", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def contributed(tmp_path_factory):
    """A copy of the project with the three contributions, and its tiny build."""
    root = tmp_path_factory.mktemp("contrib")
    pkg = root / "pkg"
    shutil.copytree(REPO / "initreport", pkg / "initreport", ignore=shutil.ignore_patterns("__pycache__"))
    project = copy_project(root / "project")
    (project / "initreport.toml").write_text(TINY)

    init_py = pkg / "initreport" / "initializers.py"
    _edit(init_py, "\n\n# --- registry ---", INITIALISER)
    _edit(init_py, "    # others\n", ENTRY)

    catalogue = pkg / "initreport" / "catalogue"
    (catalogue / "rules" / "contrib.py").write_text(RULE_MODULE)
    _edit(catalogue / "ids.py", "\n    @classmethod", '    CONTRIB = "contrib-claim"\n')
    _edit(catalogue / "pitfalls.py", "    ]\n\n\ndef _small", CLAIM)

    (project / "templates" / "notes.md.j2").write_text(PAGE_TEMPLATE)
    _edit(pkg / "initreport" / "pages" / "registry.py", '    Page("choosing.md"', PAGE_ENTRY)

    build = _cli(project, pkg, "build", "--jobs", "1")
    assert build.returncode == 0, build.stderr + build.stdout
    return project, pkg


def test_an_added_initialiser_shows_in_list_run_and_the_site(contributed):
    project, pkg = contributed
    listed = _cli(project, pkg, "list")
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:2] == ["contrib_normal", "heuristic"] for line in listed.stdout.splitlines())
    ran = _cli(project, pkg, "run", "--init", "contrib_normal", "--dataset", "circles", "--depth", "1",
               "--width", "4", "--epochs", "1", "--seeds", "1", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr
    table = (project / "docs" / "choosing.md").read_text()
    assert "| `contrib_normal` |" in table                      # the initialiser table, no template edited
    assert "contrib_normal" in (project / "site" / "choosing.html").read_text()


def test_an_added_claim_gets_its_verdict_on_its_page(contributed):
    project, _ = contributed
    verdicts = {e["id"]: e for e in json.loads((project / "docs" / "data" / "verdicts.json").read_text())["experiments"]}
    claim = verdicts["contrib-claim"]
    assert claim["status"] in ("confirmed", "refuted") and "test accuracy" in claim["measured"]
    assert set(claim["runs"]) == {"contrib_normal, relu", "zeros, relu"}
    zero_page = (project / "docs" / "pitfalls" / "zero.md").read_text()
    assert "{ #contrib-claim }" in zero_page and "the subject beats the reference" in zero_page
    assert "pitfalls/zero.md#contrib-claim" in (project / "docs" / "claims.md").read_text()


def test_an_added_page_is_rendered_and_in_the_nav(contributed):
    project, _ = contributed
    page = (project / "docs" / "notes.md").read_text()
    from initreport.catalogue import build_catalogue

    claims = len(build_catalogue("quick")) + 1          # the catalogue's claims and the contributed one
    assert page.startswith("# Contributor notes") and f"This build tested {claims} claims" in page
    html = (project / "site" / "index.html").read_text()
    assert 'href="notes.html"' in html and "Contributor notes" in html
    assert (project / "site" / "notes.html").is_file()
