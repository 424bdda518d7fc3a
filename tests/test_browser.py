"""The built site in headless Chromium, from file:// and from a loopback HTTP server.

Every page must load with a title, all images (including the hidden #only-dark variants),
no console errors and no request to any other host; search and the palette toggle must work.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[1]
def _site_name() -> str:
    # mkdocs.yml holds !!python/name tags (emoji); read the one key we need without them.
    for line in (REPO / "mkdocs.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith("site_name:"):
            return yaml.safe_load(line)["site_name"]
    raise AssertionError("mkdocs.yml has no site_name")


SITE_NAME = _site_name()
# Pages whose templates contain formulas: each must show rendered MathML.
MATH_PAGES = {"training.html", "pitfalls/zero.html", "pitfalls/small-random.html", "heuristics/xavier.html",
              "heuristics/he.html", "choosing.html", "studies/depth.html"}
ORIGINS = ["file", "http"]


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found; install Debian's chromium package to run browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (stdlib signature)
        pass


@pytest.fixture(scope="session")
def http_root(built_site):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _html_pages(site: Path) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.name != "404.html"
    )


def _base_url(origin: str, site: Path, http_root: str) -> str:
    return site.as_uri() + "/" if origin == "file" else http_root


class Watch:
    """Records console errors, failed requests and requests leaving the allowed origin."""

    def __init__(self, context, origin: str, site: Path, http_root: str):
        self.site_prefix = site.as_uri() + "/"
        self.http_netloc = urlsplit(http_root).netloc
        self.origin = origin
        self.problems: list[str] = []
        self.current = ""
        context.route("**/*", self._route)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        if self.origin == "file":
            return url.startswith(self.site_prefix)
        return parts.scheme == "http" and parts.netloc == self.http_netloc

    def _route(self, route):
        url = route.request.url
        if self.allowed(url):
            route.continue_()
        else:
            self.problems.append(f"{self.current}: blocked external request {url}")
            route.abort()

    def attach(self, page) -> None:
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{self.current}: page error {exc}"))

    def _on_request(self, request) -> None:
        if not self.allowed(request.url):
            self.problems.append(f"{self.current}: request to another host {request.url}")

    def _on_failed(self, request) -> None:
        if self.allowed(request.url):
            self.problems.append(f"{self.current}: request failed {request.url} ({request.failure})")

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"{self.current}: HTTP {response.status} for {response.url}")

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self.problems.append(f"{self.current}: console error {msg.text} @ {msg.location}")


IMAGES_JS = """() => Array.from(document.images).map(i => ({
    src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth}))"""


@pytest.mark.parametrize("origin", ORIGINS)
def test_every_page_loads_cleanly(browser, built_site, http_root, origin):
    pages = _html_pages(built_site)
    assert len(pages) >= 13, pages
    base = _base_url(origin, built_site, http_root)
    context = browser.new_context()
    watch = Watch(context, origin, built_site, http_root)
    seen_variants: set[str] = set()
    try:
        for rel in pages:
            watch.current = f"{origin}:{rel}"
            page = context.new_page()
            watch.attach(page)
            page.goto(base + rel, wait_until="load")
            title = page.title()
            if not title.strip() or SITE_NAME not in title:
                watch.problems.append(f"{watch.current}: title {title!r} lacks {SITE_NAME!r}")
            for img in page.evaluate(IMAGES_JS):
                if "#only-" in (img["src"] or ""):
                    seen_variants.add(img["src"].rsplit("#", 1)[1])
                if not (img["complete"] and img["width"] > 0):
                    watch.problems.append(f"{watch.current}: image not loaded {img['src']}")
            if rel in MATH_PAGES and page.locator("math").count() == 0:
                watch.problems.append(f"{watch.current}: no <math> rendered")
            # No TeX left unrendered in the text a reader sees (code blocks aside).
            leftover = page.evaluate(
                "() => { const c = document.querySelector('.md-content').cloneNode(true);"
                " c.querySelectorAll('pre, code').forEach(e => e.remove());"
                " return (c.innerText.match(/\\$\\$|\\\\(frac|sqrt|mathrm)/) || [''])[0]; }")
            if leftover:
                watch.problems.append(f"{watch.current}: unrendered TeX {leftover!r}")
            page.close()
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
    assert seen_variants == {"only-light", "only-dark"}


@pytest.mark.parametrize("origin", ORIGINS)
def test_search_finds_phrase(browser, built_site, http_root, origin):
    context = browser.new_context()
    watch = Watch(context, origin, built_site, http_root)
    watch.current = f"{origin}:search"
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(_base_url(origin, built_site, http_root) + "index.html", wait_until="load")
        box = page.locator("input.md-search__input")
        box.click()
        box.press_sequentially("He initialisation", delay=20)
        results = page.locator(".md-search-result__item")
        results.first.wait_for(state="visible", timeout=15_000)
        assert results.count() >= 1
        assert "initialisation" in page.locator(".md-search-result").inner_text().lower()
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)


@pytest.mark.parametrize("origin", ORIGINS)
def test_palette_toggle_switches_scheme(browser, built_site, http_root, origin):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watch = Watch(context, origin, built_site, http_root)
    watch.current = f"{origin}:palette"
    shots = os.environ.get("INITREPORT_SCREENSHOT_DIR")
    try:
        page = context.new_page()
        watch.attach(page)
        page.goto(_base_url(origin, built_site, http_root) + "index.html", wait_until="load")
        scheme = "() => document.body.getAttribute('data-md-color-scheme')"
        background = "() => getComputedStyle(document.body).backgroundColor"
        assert page.evaluate(scheme) == "default"
        light_bg = page.evaluate(background)
        if shots and origin == "file":
            page.screenshot(path=str(Path(shots) / "site-light.png"))
        page.locator("form[data-md-component=palette] label.md-header__button:visible").first.click()
        page.wait_for_function(f"({scheme})() === 'slate'", timeout=5_000)
        page.wait_for_function(f"({background})() !== {light_bg!r}", timeout=5_000)
        dark_bg = page.evaluate(background)
        assert dark_bg != light_bg
        # the dark figure variant is now the visible one
        visible = page.evaluate(
            "() => Array.from(document.images).filter(i => i.offsetParent !== null)"
            ".map(i => i.getAttribute('src').split('#')[1])"
        )
        assert visible and set(visible) == {"only-dark"}, visible
        if shots and origin == "file":
            page.screenshot(path=str(Path(shots) / "site-dark.png"))
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
