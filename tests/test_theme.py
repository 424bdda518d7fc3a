"""The site's theme layer without a browser: glossary, 404 page, stylesheet (fast checks;
tests/test_browser.py checks the same in Chromium on a real build)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import NAV_PAGES, PROJECT_STATIC_DIRS, REPO
from initreport.errors import InitReportError
from initreport.site import build_site


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    shutil.copytree(REPO / "docs" / "assets", proj / "docs" / "assets")
    shutil.copy2(REPO / "mkdocs.yml", proj / "mkdocs.yml")
    for static in PROJECT_STATIC_DIRS:
        shutil.copytree(REPO / static, proj / static)
    for rel in NAV_PAGES:
        page = proj / "docs" / rel
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# {rel}\n\nThe gradient dL/dZ shrinks; a `dL/dZ` in code stays as it is.\n",
                        encoding="utf-8")
    return proj


def test_glossary_and_404_from_any_working_directory(project, tmp_path, monkeypatch):
    """The glossary's snippet path is relative to the project, not to where the build starts."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site = build_site(project)
    html = (site / "training.html").read_text(encoding="utf-8")
    assert re.search(r'<abbr title="Gradient of the loss[^"]*">dL/dZ</abbr> shrinks', html)
    assert "<code>dL/dZ</code>" in html                      # code is left alone
    assert "*[dL/dZ]" not in html                            # definitions do not show
    not_found = (site / "404.html").read_text(encoding="utf-8")
    # no root-absolute link: they point at the disk's root from file:// (MkDocs' default does)
    assert not re.findall(r'(?:href|src)="/(?!/)', not_found)
    assert 'href="./assets/extra.css"' in not_found and "<template" in not_found


def test_a_missing_glossary_fails_the_build(project):
    (project / "includes" / "abbreviations.md").unlink()
    with pytest.raises(InitReportError, match="abbreviations.md") as info:
        build_site(project)
    assert "\n" not in str(info.value)
    assert not (project / "site").exists()


def test_glossary_lists_the_terms_the_pages_use():
    terms = {m.group(1) for m in re.finditer(r"^\*\[(.+?)\]:\s*\S", (REPO / "includes" / "abbreviations.md")
                                            .read_text(encoding="utf-8"), re.M)}
    assert {"dL/dZ", "fan-in", "n_in", "saturated", "dead unit", "seed", "epoch", "profile",
            "engine fingerprint", "div"} <= terms
    # abbr matches whole words: a term must start and end with a letter or digit
    assert all(re.match(r"\w.*\w$|\w$", t) for t in terms), terms
