"""The one list of the site's pages. The MkDocs nav, the pages rendered and the tests all
derive from :data:`PAGES`; a new page is one template and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    path: str                # docs-relative output path, e.g. "pitfalls/zero.md"
    template: str            # templates/-relative Jinja2 template
    title: str               # the nav title
    section: str | None = None   # the nav section it is listed under (None: top level)

    @property
    def key(self) -> str:
        """How experiments name their page: the path without ``.md`` ("pitfalls/zero")."""
        return self.path[:-3] if self.path.endswith(".md") else self.path


PAGES: tuple[Page, ...] = (
    Page("index.md", "index.md.j2", "Home"),
    Page("training.md", "training.md.j2", "How training works"),
    Page("pitfalls/zero.md", "pitfalls/zero.md.j2", "Zero weights", "Pitfalls"),
    Page("pitfalls/constant.md", "pitfalls/constant.md.j2", "Constant weights", "Pitfalls"),
    Page("pitfalls/small-random.md", "pitfalls/small-random.md.j2", "Small random weights", "Pitfalls"),
    Page("pitfalls/large-random.md", "pitfalls/large-random.md.j2", "Large random weights", "Pitfalls"),
    Page("heuristics/xavier.md", "heuristics/xavier.md.j2", "Xavier (Glorot)", "Heuristics"),
    Page("heuristics/he.md", "heuristics/he.md.j2", "He (Kaiming)", "Heuristics"),
    Page("studies/depth.md", "studies/depth.md.j2", "Depth", "Studies"),
    Page("studies/weight-scale.md", "studies/weight-scale.md.j2", "Weight scale", "Studies"),
    Page("choosing.md", "choosing.md.j2", "Choosing an initialiser"),
    Page("explore.md", "explore.md.j2", "Explore"),
    Page("cheatsheet.md", "cheatsheet.md.j2", "Cheat sheet"),
    Page("teachers.md", "teachers.md.j2", "For teachers"),
    Page("sources.md", "sources.md.j2", "Sources and references"),
    Page("reproducibility.md", "reproducibility.md.j2", "Reproducibility"),
    Page("claims.md", "claims.md.j2", "Claims checked"),
)

# Templates every page may import (not pages themselves).
SHARED_TEMPLATES = ("_macros.md.j2",)


def page_paths(pages=PAGES) -> list[str]:
    return [p.path for p in pages]


def page_keys(pages=PAGES) -> set[str]:
    return {p.key for p in pages}


def nav(pages=PAGES) -> list:
    """The MkDocs ``nav``: top-level pages and sections in registry order, a section listed
    where its first page is."""
    out: list = []
    sections: dict[str, list] = {}
    for p in pages:
        if p.section is None:
            out.append({p.title: p.path})
        elif p.section in sections:
            sections[p.section].append({p.title: p.path})
        else:
            sections[p.section] = [{p.title: p.path}]
            out.append({p.section: sections[p.section]})
    return out
