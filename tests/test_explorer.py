"""The explorer: its grid, its data file (checked against the cache's result files) and the
Explore page in Chromium, from file:// and over HTTP, at desktop and phone width."""

from __future__ import annotations

import json
import math
import re

import pytest

from initreport import explorer
from initreport.build import CACHE_DIR
from initreport.catalogue import build_catalogue, catalogue_configs
from initreport.catalogue.profiles import PROFILES
from initreport.errors import InitReportError
from initreport.settings import CHOICES, parse_settings

# ---------------------------------------------------------------------------------------
# The grid


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_has_a_grid_that_reuses_catalogue_runs(name):
    profile = PROFILES[name]
    cells = explorer.grid_cells(profile)
    grid = explorer.GRIDS[profile.explorer]
    assert len(cells) == ((len(grid.inits) + len(grid.gains)) * len(grid.activations) * len(grid.depths)
                          * len(grid.datasets)) > 0
    configs = [c.config for c in cells]
    assert len(set(configs)) == len(configs), "two cells with the same run"
    # A pitfall, both gains' ends, a 2-D set, the profile's seeds
    assert {"zeros"} & set(grid.inits) and min(grid.gains) < 1 < max(grid.gains)
    assert any(c.dataset != "digits" for c in cells)
    # the profile's seeds, or the comparison seeds of a catalogue run the cell is (the matrix's)
    assert all(c.config.seeds in (profile.seeds, profile.cmp_seeds) for c in cells)
    gained = [c for c in cells if c.gain is not None]
    assert gained and all(c.config.init == "scaled_normal" and dict(c.config.init_params) == {"gain": c.gain}
                          for c in gained)
    # Cells identical to catalogue runs are the same RunConfig, hence the same cache entry.
    shared = set(configs) & set(catalogue_configs(build_catalogue(profile)))
    assert len(shared) >= 8, f"only {len(shared)} cells reuse catalogue runs"


def test_settings_validate_the_explorer_knob():
    assert set(CHOICES["explorer"]) == set(explorer.GRIDS)
    s = parse_settings({"profile": {"quick": {"explorer": "none"}}})
    assert s.profile("quick").explorer == "none" and explorer.grid_cells(s.profile("quick")) == []
    for bad in ("huge", 3, ["small"]):
        with pytest.raises(InitReportError) as err:
            parse_settings({"profile": {"quick": {"explorer": bad}}})
        assert "profile.quick.explorer" in str(err.value) and "large, none, small" in str(err.value)


def _result(losses, diverged=()):
    return {"diverged": [{"seed": 0, "epoch": e} for e in diverged],
            "history": [{"loss": {"mean": x}} for x in losses]}


def test_outcome_classes():
    assert explorer.outcome(_result([2.3, 0.4])) == "trains"
    assert explorer.outcome(_result([2.3, 2.29])) == "stalls"
    assert explorer.outcome(_result([2.3, 2.3 * 0.81])) == "stalls"
    assert explorer.outcome(_result([2.3, 0.1], diverged=[3])) == "diverges"
    assert explorer.outcome(_result([2.3, None])) == "diverges"


def _layers(stds, fan=64):
    return [{"fan_in": fan, "fan_out": fan, "activation_std": {"mean": s}} for s in stds]


def test_theory_line_follows_the_variance_argument():
    from initreport.runner import make_config
    he = make_config(init="he_normal", activation="relu")
    # He on ReLU keeps the std: n_in·Var(W)/2 = 1 (up to the truncation's exact variance).
    line = explorer.theory_std(he, _layers([0.8, 5.0, 5.0]))
    assert line[0] == 0.8 and all(abs(v / 0.8 - 1) < 0.02 for v in line)
    half = make_config(init="scaled_normal", init_params={"gain": 0.5}, activation="relu")
    line = explorer.theory_std(half, _layers([1.0, 9.0, 9.0, 9.0]))
    assert line == pytest.approx([1.0, 0.5 / math.sqrt(2), 0.125, 0.125 / math.sqrt(8)], rel=1e-3)
    assert explorer.theory_std(make_config(init="he_normal", activation="sigmoid"), _layers([1, 1])) is None
    # tanh beyond its linear regime (gain > 1): no line
    big = make_config(init="scaled_normal", init_params={"gain": 2.0}, activation="tanh")
    assert explorer.theory_std(big, _layers([1, 1])) is None


def test_data_script_round_trips_and_cannot_close_a_script_tag():
    data = {"cells": [{"verdicts": [{"claim": "a </script><b>"}]}], "x": 1.5}
    raw = explorer.data_script(data)
    assert raw.startswith(b"window.EXPLORER_DATA = {") and raw.endswith(b";\n") and b"</" not in raw
    assert explorer.read_data_script(raw) == data


# ---------------------------------------------------------------------------------------
# The data file of the real quick build, against the cache's result files


def _data(project):
    return explorer.read_data_script((project / "docs" / explorer.DATA_PATH).read_bytes())


def _cached(project, key: str) -> dict:
    path = project / CACHE_DIR / "results" / key[:2] / f"{key}.json"
    return json.loads(path.read_text())["result"]


def _close(a, b, rel=2e-3):
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12))


def test_data_file_matches_the_result_files(quick_project):
    project, report = quick_project
    raw = (project / "docs" / explorer.DATA_PATH).read_bytes()
    assert (report.site_dir / explorer.DATA_PATH).read_bytes() == raw
    assert len(raw) < 1_000_000, f"quick explorer data is {len(raw)} bytes"
    data = _data(project)
    profile = PROFILES["quick"]
    assert len(data["cells"]) == len(explorer.grid_cells(profile))
    for cell in data["cells"]:
        r = _cached(project, cell["key"])
        assert r["config"]["init"] == cell["init"] and r["config"]["activation"] == cell["act"]
        assert r["config"]["depth"] == cell["depth"] == len(cell["layers"]["act_std"])
        assert r["config"]["dataset"] == cell["data"]
        if cell["gain"] is not None:
            assert r["config"]["init_params"] == {"gain": cell["gain"]}
        for i, layer in enumerate(r["layers"]):
            assert all(_close(a, b) for a, b in zip(cell["layers"]["act_std"][i], layer["activation_std"]["values"]))
            assert all(_close(a, b) for a, b in zip(cell["layers"]["grad_std"][i], layer["gradient_std"]["values"]))
            lo, hi, fractions = cell["layers"]["act_hist"][i]
            assert [lo, hi] == pytest.approx([layer["activation_hist"]["edges"][0], layer["activation_hist"]["edges"][-1]],
                                             rel=1e-3, abs=1e-9)
            assert fractions == pytest.approx(layer["activation_hist"]["fraction"], rel=5e-3, abs=1e-9)
        for s in range(len(cell["seeds"])):
            assert [h["test_accuracy"]["values"][s] for h in r["history"]] == pytest.approx(
                cell["curves"]["test_accuracy"][s], rel=2e-3)
        assert (cell["boundary"] is not None) == (cell["data"] != "digits")
        if cell["boundary"]:
            flat = "".join(str(v) for row in r["boundary"]["classes"] for v in row)
            assert cell["boundary"]["classes"] == flat
    # The matrix's depth-4 nets are cells: their verdicts and pages come along.
    matrix_cells = [c for c in data["cells"] if c["depth"] == 4 and c["init"] == "he_normal"]
    assert matrix_cells and all(c["verdicts"] for c in matrix_cells)
    pages = {v["page"] for c in matrix_cells for v in c["verdicts"]}
    assert all((report.site_dir / p).is_file() for p in pages)


# ---------------------------------------------------------------------------------------
# The page in Chromium

from test_browser import ORIGINS, VIEWPORTS, Watch, _base_url, _shot, browser, http_root  # noqa: E402,F401

SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def shown(text: str) -> float | None:
    """A number as the page prints it (0.762, 2.45×10⁻⁴, —)."""
    text = text.strip()
    if text == "\u2014":
        return None
    m = re.fullmatch(r"(-?[0-9.]+)(?:×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?", text)
    assert m, f"not a number: {text!r}"
    return float(m.group(1)) * (10 ** int(m.group(2).translate(SUP)) if m.group(2) else 1)


# What is drawn: every SVG path and the numbers under the charts (not the summary line, which
# changes with any control by itself).
SIGNATURE_JS = """() => Array.from(document.querySelectorAll('#ir-explorer svg path, .ir-x-readout'))
  .map(e => e.getAttribute('d') || e.textContent).join('|')"""


def _num(page, k: str) -> float | None:
    return shown(page.locator(f'.ir-x-num[data-k="{k}"]').first.text_content())


def _hash(page) -> dict:
    return dict(p.split("=") for p in page.evaluate("location.hash").lstrip("#").split("&"))


@pytest.mark.parametrize("screen", VIEWPORTS)
@pytest.mark.parametrize("origin", ORIGINS)
def test_explore_page_controls_values_and_hash(browser, quick_project, http_root, origin, screen):
    project, report = quick_project
    site = report.site_dir
    data = _data(project)
    context = browser.new_context(viewport=VIEWPORTS[screen])
    watch = Watch(context, origin, site, http_root)
    page = context.new_page()
    watch.attach(page)
    url = _base_url(origin, site, http_root) + "explore.html"
    try:
        watch.current = f"{origin}/{screen}:explore"
        page.goto(url, wait_until="load")
        assert set(_hash(page)) == {"init", "gain", "act", "depth", "data", "seed"}
        # Predict, then reveal: the curves stay hidden until a guess.
        assert not page.locator("#ir-x-loss").is_visible()
        # Each control changes what is drawn.
        controls = ["init", "act", "depth", "data", "seed"]
        for k in controls:
            before = page.evaluate(SIGNATURE_JS)
            options = page.eval_on_selector(f"#ir-x-{k}", "s => Array.from(s.options).map(o => o.value)")
            now = page.eval_on_selector(f"#ir-x-{k}", "s => s.value")
            page.select_option(f"#ir-x-{k}", [o for o in options if o != now][-1])
            assert page.evaluate(SIGNATURE_JS) != before, f"changing {k} changed nothing drawn"
            assert _hash(page)[k] != now
        page.select_option("#ir-x-init", "scaled_normal")
        assert page.is_enabled("#ir-x-gain")
        before = page.evaluate(SIGNATURE_JS)
        page.select_option("#ir-x-gain", str(data["axes"]["gain"][-1]).rstrip("0").rstrip("."))
        assert page.evaluate(SIGNATURE_JS) != before, "changing the gain changed nothing drawn"

        # A given cell through the hash; the numbers shown are the result file's.
        for cell in (data["cells"][0], next(c for c in data["cells"] if c["data"] != "digits" and c["init"] == "he_normal")):
            for seed in ("all", str(cell["seeds"][-1])):
                gain = cell["gain"] if cell["gain"] is not None else 1
                page.goto(f"{url}#init={cell['init']}&gain={gain}&act={cell['act']}&depth={cell['depth']}"
                          f"&data={cell['data']}&seed={seed}", wait_until="load")
                page.reload(wait_until="load")
                r = _cached(project, cell["key"])
                pick = (lambda s: s["mean"]) if seed == "all" else (lambda s: s["values"][-1])
                for k, got in (("act-first", r["layers"][0]["activation_std"]),
                               ("act-last", r["layers"][-1]["activation_std"]),
                               ("grad-last", r["layers"][-1]["gradient_std"]),
                               ("loss-last", r["history"][-1]["loss"]),
                               ("acc-last", r["history"][-1]["accuracy"])):
                    want = pick(got)
                    assert _close(_num(page, k), want, rel=6e-3), (k, seed, _num(page, k), want)
                assert page.eval_on_selector("#ir-x-seed", "s => s.value") == seed
                assert page.locator("#ir-x-act-hist path.ir-x-hist").count() == cell["depth"]
                assert page.locator(".ir-x-summary").text_content().count(cell["key"][:12]) == 1
                # Glossary terms written by the script carry their tooltip like the Markdown's.
                assert set(page.locator("#ir-x-summary abbr").all_text_contents()) >= {"epochs"}
                # The guess reveals the curves and the measured outcome.
                assert not page.locator("#ir-x-loss").is_visible()
                page.click("button[data-guess=stalls]")
                assert page.locator("#ir-x-loss").is_visible()
                assert "L" in page.locator("#ir-x-loss path.ir-x-line").first.get_attribute("d")
                assert f"it {cell['outcome']}" in page.locator("#ir-x-feedback").text_content()
                assert page.locator("#ir-x-boundary").is_visible() == (cell["boundary"] is not None)
        # The written hash opens the same view in a new page; a hash change is followed.
        summary = page.locator("#ir-x-summary").text_content()
        other = context.new_page()
        watch.attach(other)
        other.goto(page.url, wait_until="load")
        assert other.locator("#ir-x-summary").text_content() == summary
        other.evaluate("location.hash = location.hash.replace(/depth=[0-9]+/, 'depth=2')")
        other.wait_for_function("document.querySelector('#ir-x-depth').value === '2'")
        assert " 2 hidden layers " in other.locator("#ir-x-summary").text_content()
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[screen]["width"] + 1
        final = page.url
    finally:
        context.close()
    for scheme in ("light", "dark"):                       # screenshots, when INITREPORT_SCREENSHOT_DIR is set
        context = browser.new_context(viewport=VIEWPORTS[screen], color_scheme=scheme)
        try:
            shot = context.new_page()
            watch.attach(shot)
            shot.goto(final, wait_until="load")
            shot.click("#ir-x-always")
            _shot(shot, f"explore-{origin}-{screen}-{scheme}.png")
        finally:
            context.close()
    # Reloading a page cancels its own in-flight requests (the favicon): ERR_ABORTED on a file of the
    # site is that, not a failure. Requests elsewhere are reported separately, as blocked.
    problems = [p for p in watch.problems if not (p.endswith("(net::ERR_ABORTED)") and "request failed" in p)]
    assert not problems, "\n".join(problems)
