"""The same mkdocs.yml built with Zensical (Material for MkDocs' successor), offline.

The quick build's generated pages are built a second time with ``zensical build --strict`` in
a copy of the project; the result must work from file:// exactly like the MkDocs site: every
page loads with its images and formulas, no console error, no request to any other host,
search finds a phrase, the glossary's terms carry their gloss, the 404 page is styled, and the
Explore page works (its scripts and data copied, charts drawn, links from other pages open their cell).
Skipped when Zensical is not installed (``pip install -e '.[test]'`` installs it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_STATIC_DIRS
from test_browser import (  # noqa: F401 (browser is a fixture)
    IMAGES_JS, LAYOUT_JS, SITE_NAME, STYLE_JS, VIEWPORTS, Watch, _glossary, _html_pages, browser,
)

pytestmark = pytest.mark.browser

NO_SERVER = "http://127.0.0.1:9/"   # Watch allows only the site's own file:// URLs here


def _zensical_missing() -> str | None:
    if importlib.util.find_spec("zensical") is None:
        return "zensical is not installed (pip install -e '.[test]' or pip install zensical)"
    return None


@pytest.fixture(scope="module")
def zensical_site(quick_project, tmp_path_factory) -> Path:
    reason = _zensical_missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)
    project, _ = quick_project
    dest = tmp_path_factory.mktemp("zensical") / "project"
    dest.mkdir()
    shutil.copy2(project / "mkdocs.yml", dest / "mkdocs.yml")
    for name in ("docs", *PROJECT_STATIC_DIRS):
        shutil.copytree(project / name, dest / name)
    proc = subprocess.run([sys.executable, "-m", "zensical", "build", "--strict"], cwd=dest,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-2000:]
    assert "No issues found" in output, output[-2000:]
    site = dest / "site"
    assert (site / "index.html").is_file()
    return site


def test_zensical_pages_load_offline_from_file(browser, zensical_site):
    """Every page: title, images, formulas, glossary; no console error, no other host; the page
    fits a phone screen too."""
    pages = _html_pages(zensical_site)
    assert len(pages) >= 13, pages
    terms = _glossary()
    context = browser.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)
    watch = Watch(context, "file", zensical_site, NO_SERVER)
    glossed = 0
    try:
        for rel in pages:
            watch.current = f"zensical:{rel}"
            page = context.new_page()
            watch.attach(page)
            page.goto(zensical_site.as_uri() + "/" + rel, wait_until="load")
            if SITE_NAME not in page.title():
                watch.problems.append(f"{watch.current}: title {page.title()!r} lacks {SITE_NAME!r}")
            for img in page.evaluate(IMAGES_JS):
                if not (img["complete"] and img["width"] > 0):
                    watch.problems.append(f"{watch.current}: image not loaded {img['src']}")
            watch.problems += [f"{watch.current}: {p}" for p in page.evaluate(LAYOUT_JS)]
            for text, title in page.evaluate(
                    "() => Array.from(document.querySelectorAll('.md-content abbr'))"
                    ".map(a => [a.textContent, a.getAttribute('title')])"):
                glossed += 1
                if terms.get(text) != title:
                    watch.problems.append(f"{watch.current}: <abbr>{text}</abbr> has title {title!r}")
            page.close()
        page = context.new_page()
        watch.attach(page)
        watch.current = "zensical:training.html"
        page.goto(zensical_site.as_uri() + "/training.html", wait_until="load")
        assert page.locator("math").count() > 0, "no formula rendered as MathML"
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
    assert glossed > 0, "no glossary term on any page"


def test_zensical_search_works_from_file(browser, zensical_site):
    """Zensical's search (a dialog in a shadow root, index in search.js) finds a phrase from file://."""
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    watch = Watch(context, "file", zensical_site, NO_SERVER)
    watch.current = "zensical:search"
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(zensical_site.as_uri() + "/index.html", wait_until="load")
        page.locator("button.md-search__button").click()
        dialog = page.locator("dialog[aria-label=Search]")
        dialog.locator("input").first.press_sequentially("He initialisation", delay=20)
        result = dialog.locator("[role=option]").first
        result.wait_for(state="visible", timeout=15_000)
        assert "initialisation" in result.inner_text().lower()
        result.click()
        page.wait_for_url("**/heuristics/he.html*")
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_zensical_404_page_is_styled_from_file(browser, zensical_site):
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    watch = Watch(context, "file", zensical_site, NO_SERVER)
    watch.current = "zensical:404"
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(zensical_site.as_uri() + "/404.html", wait_until="load")
        state = page.evaluate(STYLE_JS)
        assert state["header"] == "sticky" and state["sheets"] >= 2, state
        pages = {zensical_site.as_uri() + "/" + rel for rel in _html_pages(zensical_site)}
        assert state["nav"] and set(state["nav"]) <= pages, set(state["nav"]) - pages
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_zensical_explore_page_works_from_file(browser, quick_project, zensical_site):
    """The Explore page under Zensical: its assets copied byte for byte, data.js loaded, the charts drawn
    and redrawn when a control changes, and a link from a nested page opening its cell; no console
    error, no request to another host."""
    from test_explorer import SIGNATURE_JS, _cell_of_hash, _data, _explore_links

    project, report = quick_project
    for name in ("data.js", "explorer.js", "explorer.css"):
        built = zensical_site / "assets" / "explorer" / name
        assert built.is_file(), f"Zensical did not copy assets/explorer/{name}"
        assert built.read_bytes() == (report.site_dir / "assets" / "explorer" / name).read_bytes(), name
    data = _data(project)
    links = _explore_links(zensical_site)
    assert "pitfalls/zero.html" in links, sorted(links)
    context = browser.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, has_touch=True)
    watch = Watch(context, "file", zensical_site, NO_SERVER)
    watch.current = "zensical:explore"
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(zensical_site.as_uri() + "/explore.html", wait_until="load")
        assert page.evaluate("window.EXPLORER_DATA && window.EXPLORER_DATA.cells.length") == len(data["cells"])
        assert page.locator("#ir-x-act-hist path.ir-x-hist").count() > 0
        before = page.evaluate(SIGNATURE_JS)
        page.select_option("#ir-x-act", [a for a in data["axes"]["act"] if a != page.input_value("#ir-x-act")][0])
        assert page.evaluate(SIGNATURE_JS) != before, "changing the activation changed nothing drawn"
        href = links["pitfalls/zero.html"][0][0]
        watch.current = f"zensical:pitfalls/zero.html -> {href}"
        # every request of the page settled first: leaving it mid-load (the favicon) aborts a request
        page.goto(zensical_site.as_uri() + "/pitfalls/zero.html", wait_until="networkidle")
        with page.expect_navigation(wait_until="load"):
            page.locator(f'a[href="{href}"]').first.click()
        cell = _cell_of_hash(data, href.partition("#")[2])
        assert page.input_value("#ir-x-init") == cell["init"] and page.input_value("#ir-x-act") == cell["act"]
        assert page.locator("#ir-x-summary").text_content().count(cell["key"][:12]) == 1
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
