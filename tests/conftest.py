"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Every page of the site's nav (must match mkdocs.yml).
NAV_PAGES = [
    "index.md",
    "training.md",
    "pitfalls/zero.md",
    "pitfalls/constant.md",
    "pitfalls/small-random.md",
    "pitfalls/large-random.md",
    "heuristics/xavier.md",
    "heuristics/he.md",
    "studies/depth.md",
    "studies/weight-scale.md",
    "choosing.md",
    "reproducibility.md",
    "claims.md",
]


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


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """A built copy of the site (its directory), for the browser tests."""
    # TODO(engine): replace with the real quick build (`initreport build --quick` into a tmp
    # project); for now the pages are a throwaway fixture covering every nav entry.
    from initreport.site import build_site

    project = tmp_path_factory.mktemp("site-project")
    shutil.copy2(REPO / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(REPO / "docs" / "assets", project / "docs" / "assets")
    _write_fixture_docs(project / "docs")
    return build_site(project, project / "site", strict=True, quiet=True)
