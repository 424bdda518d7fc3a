"""The "In practice" bottom line: one object, rendered identically on the home and choosing pages,
and the built verdicts.json follows its public schema."""

from __future__ import annotations

import json
import re

from initreport.build import CACHE_DIR, resolve_catalogue, run_catalogue
from initreport.cache import ResultCache
from initreport.catalogue import catalogue_configs, get_profile, judge
from initreport.catalogue.bottom_line import BottomLine
from initreport.keys import run_key
from initreport.pages.render import render_pages
from initreport.pages.write import page_context
from initreport.protocol import STATUSES, validate_verdicts

BLOCK = re.compile(r"<!-- bottom-line -->.*?<!-- /bottom-line -->", re.S)


def _blocks(rendered: dict) -> tuple[str, str]:
    home, choosing = (BLOCK.findall(rendered[page]) for page in ("index.md", "choosing.md"))
    assert len(home) == 1 and len(choosing) == 1
    return home[0], choosing[0]


def test_home_and_choosing_show_one_bottom_line(quick_project):
    project, _ = quick_project
    prof = get_profile("quick")
    experiments, _, first = resolve_catalogue(prof, ResultCache(project / CACHE_DIR))
    results, _ = run_catalogue(catalogue_configs(experiments), ResultCache(project / CACHE_DIR), jobs=1)
    assert _.ran == 0 and first.ran == 0                # everything came from the quick build's cache
    by_exp = {e.id: {r: results[r.config] for r in e.runs} for e in experiments}
    keys = {e.id: {r.label: run_key(r.config) for r in e.runs} for e in experiments}
    verdicts = {e.id: judge(e, by_exp[e.id]) for e in experiments}
    provenance = json.loads((project / "docs" / "data" / "provenance.json").read_text())
    context = page_context(experiments, by_exp, keys, verdicts, {}, prof, provenance)

    built = context["bottom_line"]
    assert isinstance(built, BottomLine) and built.lines
    home, choosing = _blocks(render_pages(project, context))
    assert home == choosing
    assert all(line.split(":")[0] in home for line in built.lines)

    other = BottomLine(("Use the sentinel initialiser zqx.",), ("Only at depth 99.",))
    home2, choosing2 = _blocks(render_pages(project, {**context, "bottom_line": other}))
    assert home2 == choosing2 != home
    assert "zqx" in home2 and "depth 99" in home2


def test_built_verdicts_file_follows_the_schema(quick_project):
    project, _ = quick_project
    doc = json.loads((project / "docs" / "data" / "verdicts.json").read_text())
    assert validate_verdicts(doc) == []
    assert doc["schema"] == "initreport.verdicts/1"
    assert {e["status"] for e in doc["experiments"]} <= set(STATUSES)
    comparisons = [c for e in doc["experiments"] for c in e["comparisons"]]
    assert comparisons and all({"a", "b", "metric", "estimate", "ci_low", "ci_high", "n_seeds", "decision"} <= set(c)
                               for c in comparisons)
    assert doc["bottom_line"]["lines"]
