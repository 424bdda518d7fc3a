"""The explorer: its grid, its data file (checked against the cache's result files) and the
Explore page in Chromium, from file:// and over HTTP, at desktop and phone width."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

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
# Links from the other pages into the explorer


def test_explorer_link_points_at_the_cell_that_shows_a_config():
    from initreport.catalogue.configs import digits, two_d
    quick = PROFILES["quick"]                  # small grid: depths 2, 4; relu, tanh; digits, spirals
    # A configuration that is a cell: exactly its hash, nothing differs.
    cell = explorer.cell_config(quick, "he_normal", None, "relu", 4, "digits")
    assert explorer.explorer_link(quick, cell) == "explore.html#init=he_normal&act=relu&depth=4&data=digits&seed=all"
    assert explorer.nearest_cell(quick, cell)[1] == []
    # Nearest depth on a log scale (3 is nearer 4 than 2), nearest gain; what differs is said.
    found, differs = explorer.nearest_cell(quick, digits(quick, init="zeros", activation="tanh", depth=3, width=96))
    assert (found.init, found.activation, found.depth, found.dataset) == ("zeros", "tanh", 4, "digits")
    assert differs == ["depth 4, not 3", "width 64, not 96"]
    assert explorer.explorer_link(quick, digits(quick, init="scaled_normal", init_params={"gain": 1.9},
                                                activation="relu", depth=30)) == \
        "explore.html#init=scaled_normal&gain=2&act=relu&depth=4&data=digits&seed=all"
    # A 2-D set goes to the grid's 2-D set.
    found, differs = explorer.nearest_cell(quick, two_d(quick, dataset="circles", init="small_random", activation="relu"))
    assert (found.dataset, found.depth) == ("spirals", 2) and differs[:2] == ["spirals, not circles", "width 32, not 16"]
    # No such cell: another activation or initialiser, no grid.
    assert explorer.explorer_link(quick, digits(quick, init="he_normal", activation="sigmoid")) is None
    assert explorer.explorer_link(quick, digits(quick, init="glorot_uniform", activation="tanh")) is None
    none = parse_settings({"profile": {"quick": {"explorer": "none"}}}).profile("quick")
    assert explorer.explorer_link(none, cell) is None
    # The large grid has sigmoid and deeper nets.
    large = PROFILES["default"]
    assert explorer.explorer_link(large, digits(large, init="small_random", activation="sigmoid", depth=8)) == \
        "explore.html#init=small_random&act=sigmoid&depth=8&data=digits&seed=all"


class _Links(HTMLParser):
    """The explorer links (a[href*="explore.html#"]) of one HTML page, with their text."""

    def __init__(self):
        super().__init__()
        self.links, self._open = [], None

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and "explore.html#" in href:
            self._open = [href, ""]

    def handle_data(self, data):
        if self._open:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            self.links.append(tuple(self._open))
            self._open = None


def _explore_links(site) -> dict[str, list]:
    """{page: [(href, text)]} over the built site (the Explore page itself left out)."""
    out = {}
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        if rel in ("explore.html", "404.html"):
            continue
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.links:
            out[rel] = parser.links
    return out


def _cell_of_hash(data: dict, hash_: str) -> dict:
    h = dict(p.split("=") for p in hash_.split("&"))
    found = [c for c in data["cells"] if (c["init"], c["act"], str(c["depth"]), c["data"]) ==
             (h["init"], h["act"], h["depth"], h["data"]) and (c["gain"] is None or f"{c['gain']:g}" == h.get("gain"))]
    assert len(found) == 1, f"#{hash_} selects {len(found)} cells"
    return found[0]


def test_pages_link_into_the_explorer_at_their_runs_cells(quick_project):
    """Every explorer link of the built site resolves to the Explore page (from nested pages too) and
    names a cell of the data file; the cell has the initialiser and activation of a subject run of an
    experiment on that page."""
    project, report = quick_project
    site, data = report.site_dir, _data(project)
    links = _explore_links(site)
    assert {"pitfalls/zero.html", "pitfalls/small-random.html", "heuristics/he.html"} <= set(links), sorted(links)
    subjects = {}
    for e in build_catalogue(PROFILES["quick"]):
        subjects.setdefault(e.page + ".html", set()).update((r.config.init, r.config.activation) for r in e.select("subject"))
    for page, found in links.items():
        for href, text in found:
            path, _, hash_ = href.partition("#")
            assert (site / page).parent.joinpath(path).resolve() == (site / "explore.html").resolve(), (page, href)
            cell = _cell_of_hash(data, hash_)
            assert (cell["init"], cell["act"]) in subjects[page], (page, href)
            assert "\u25b8" in text, text
    # Both zero-weight subjects (ReLU and tanh) of the zero page, at the depth nearest the runs' 3.
    zero = {h for h, _ in links["pitfalls/zero.html"]}
    assert {"../explore.html#init=zeros&act=relu&depth=4&data=digits&seed=all",
            "../explore.html#init=zeros&act=tanh&depth=4&data=digits&seed=all"} <= zero


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


# Readability of the per-layer distributions: each range label inside its chart, clear of the
# histograms and of the other labels, and at least 10 px tall as rendered.
HIST_LABELS_JS = """() => {
  const out = [], hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  document.querySelectorAll('.ir-x-hists svg').forEach(svg => {
    const box = svg.getBoundingClientRect();
    const labels = Array.from(svg.querySelectorAll('text.ir-x-range')).map(t => [t.textContent, t.getBoundingClientRect()]);
    const paths = Array.from(svg.querySelectorAll('path.ir-x-hist')).map(p => p.getBoundingClientRect());
    if (!labels.length) out.push('no range label in ' + svg.getAttribute('aria-label'));
    labels.forEach(([s, r], i) => {
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(s + ' sticks out of its chart');
      if (r.height < 10) out.push(s + ' is ' + r.height.toFixed(1) + ' px tall');
      if (paths.some(p => hit(p, r))) out.push(s + ' overlaps a histogram');
      labels.slice(i + 1).forEach(([s2, r2]) => { if (hit(r, r2)) out.push(s + ' overlaps ' + s2); });
    });
  });
  return out;
}"""


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
                assert page.evaluate(HIST_LABELS_JS) == []
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


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_link_from_another_page_opens_its_cell(browser, quick_project, http_root, origin):
    """Clicking each explorer link of the site (file:// and HTTP) opens the Explore page with the
    linked controls selected and the linked cell drawn."""
    project, report = quick_project
    site, data = report.site_dir, _data(project)
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    watch = Watch(context, origin, site, http_root)
    page = context.new_page()
    watch.attach(page)
    base = _base_url(origin, site, http_root)
    opened = 0
    try:
        for rel, found in _explore_links(site).items():
            for href, _ in dict.fromkeys(found):
                watch.current = f"{origin}:{rel} -> {href}"
                # every request of the page settled first: leaving it mid-load (the favicon) aborts a request
                page.goto(base + rel, wait_until="networkidle")
                with page.expect_navigation(wait_until="load"):
                    page.locator(f'a[href="{href}"]').first.click()
                assert page.url.split("#")[0].endswith("/explore.html"), page.url
                want = dict(p.split("=") for p in href.partition("#")[2].split("&"))
                for k, v in want.items():
                    got = page.eval_on_selector(f"#ir-x-{k}", "s => s.value")
                    assert got == v or (k == "gain" and float(got) == float(v)), (href, k, got)
                cell = _cell_of_hash(data, href.partition("#")[2])
                assert page.locator("#ir-x-summary").text_content().count(cell["key"][:12]) == 1
                assert page.locator("#ir-x-act-hist path.ir-x-hist").count() == cell["depth"]
                opened += 1
    finally:
        context.close()
    assert opened >= 5, opened
    assert not watch.problems, "\n".join(watch.problems)
