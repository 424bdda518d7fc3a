"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from initreport.pages import page_paths

REPO = Path(__file__).resolve().parents[1]

# Every page of the site's nav: the page registry's (the nav is generated from it).
NAV_PAGES = page_paths()


def _write_figures(figures: Path) -> None:
    """A PNG and an SVG figure, each in a light and a dark variant (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "initreport"
    figures.mkdir(parents=True, exist_ok=True)
    xs = [i / 10 for i in range(-30, 31)]
    for variant, fg, bg in (("light", "black", "white"), ("dark", "#e0e0e0", "#1e2129")):
        with plt.rc_context({"text.color": fg, "axes.labelcolor": fg, "axes.edgecolor": fg,
                             "legend.facecolor": bg, "legend.edgecolor": fg,
                             "xtick.color": fg, "ytick.color": fg}):
            fig, ax = plt.subplots(figsize=(4, 2.5), dpi=80, facecolor=bg)
            ax.set_facecolor(bg)
            ax.plot(xs, [max(0.0, x) for x in xs], label="relu")
            ax.set_xlabel("pre-activation")
            ax.legend()
            fig.savefig(figures / f"relu-{variant}.svg", metadata={"Date": None})
            fig.savefig(figures / f"relu-{variant}.png", metadata={"Software": None})
            plt.close(fig)


def _write_fixture_docs(docs: Path) -> None:
    for rel in NAV_PAGES:
        page = docs / rel
        page.parent.mkdir(parents=True, exist_ok=True)
        up = "../" * rel.count("/")
        title = Path(rel).stem.replace("-", " ").capitalize()
        page.write_text(
            f"# {title}\n\n"
            "Fixture page. He initialisation draws weights with variance "
            "$\\operatorname{Var}(W) = 2/n_{\\text{in}}$, which keeps ReLU activations level.\n\n"
            "$$\n\\sigma = \\sqrt{\\frac{2}{n_{\\text{in}}}}\n$$\n\n"
            "A lone dollar stays text: it costs $5.\n\n"
            f"![ReLU (PNG)]({up}figures/relu-light.png#only-light)\n"
            f"![ReLU (PNG)]({up}figures/relu-dark.png#only-dark)\n\n"
            f"![ReLU (SVG)]({up}figures/relu-light.svg#only-light)\n"
            f"![ReLU (SVG)]({up}figures/relu-dark.svg#only-dark)\n\n"
            "## Details\n\n```python\nprice = '$5'\n```\n",
            encoding="utf-8",
        )
    _write_figures(docs / "figures")


# Project directories mkdocs.yml refers to: the theme overrides (custom_dir, the 404 page) and
# the glossary appended to every page (pymdownx.snippets' base_path).
PROJECT_STATIC_DIRS = ("overrides", "includes")


def copy_project(dest: Path) -> Path:
    """A fresh initreport project (mkdocs.yml, templates, static assets, theme overrides, glossary)
    at dest, without results."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(REPO / "templates", dest / "templates")
    shutil.copytree(REPO / "docs" / "assets", dest / "docs" / "assets")
    for static in PROJECT_STATIC_DIRS:
        shutil.copytree(REPO / static, dest / static)
    return dest


@pytest.fixture(scope="session")
def quick_project(tmp_path_factory):
    """The real `initreport build --quick`, run once per session in a copy of the project."""
    from initreport.build import build

    project = copy_project(tmp_path_factory.mktemp("quick") / "project")
    report = build(project, profile="quick", jobs=2)
    return project, report


@pytest.fixture(scope="session")
def built_site(quick_project) -> Path:
    """The site of the quick build (its directory), for the browser tests."""
    project, report = quick_project
    return report.site_dir
