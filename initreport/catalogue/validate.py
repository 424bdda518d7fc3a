"""The catalogue checks itself before any run starts.

Every experiment's page exists in the page registry, every figure kind and rule is
registered, every role a rule reads is present (and no run has a role its rule ignores),
run labels are unique within an experiment, exactly one experiment feeds the matrix, and
every template names only variables and experiment constants that exist.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InitReportError
from .model import Experiment
from .rules import RULES


def _experiment_problems(e: Experiment, pages: set, kinds) -> list[str]:
    where = f"experiment {e.id!r}"
    out = []
    if not e.runs:
        out.append(f"{where} has no runs")
    if e.page not in pages:
        out.append(f"{where}: page {e.page!r} is not in the page registry (known: {', '.join(sorted(pages))})")
    for kind in e.figures:
        if kind not in kinds:
            out.append(f"{where}: figure kind {kind!r} is not registered (known: {', '.join(sorted(kinds))})")
    labels = [r.label for r in e.runs]
    for label in dict.fromkeys(x for x in labels if labels.count(x) > 1):
        out.append(f"{where}: two runs are labelled {label!r} (labels name runs on the site and in verdicts.json)")
    spec = RULES.get(e.rule)
    if spec is None:
        out.append(f"{where}: rule {e.rule!r} is not registered (known: {', '.join(sorted(RULES))})")
        return out
    for role in spec.roles:
        if role not in e.roles:
            out.append(f"{where}: rule {e.rule!r} reads runs with role {role!r}, and the experiment has none "
                       f"(roles: {', '.join(e.roles) or 'none'})")
    for role in e.roles:
        if role not in spec.roles:
            out.append(f"{where}: role {role!r} is not read by rule {e.rule!r} (it reads: {', '.join(spec.roles)})")
    if e.matrix and "matrix" not in e.roles:
        out.append(f"{where} declares matrix=True and has no runs with role 'matrix'")
    return out


def catalogue_problems(experiments: list[Experiment], pages: set, kinds) -> list[str]:
    """Every problem of the catalogue itself (templates aside), one line each."""
    out = []
    ids = [e.id for e in experiments]
    for dup in dict.fromkeys(i for i in ids if ids.count(i) > 1):
        out.append(f"experiment id {dup!r} is used twice")
    for e in experiments:
        out += _experiment_problems(e, pages, kinds)
    sources = [e.id for e in experiments if e.matrix]
    if len(sources) > 1:
        out.append(f"{len(sources)} experiments declare matrix=True ({', '.join(sources)}); one feeds the matrix")
    return out


def validate_catalogue(experiments: list[Experiment], project_dir: Path | None = None, *,
                       pages=None, figure_kinds=None) -> None:
    """Raise InitReportError (one line: the first problem, and how many more) unless the
    catalogue, the page registry, the figure registry and (given ``project_dir``) the
    templates agree. Called by ``build()`` before any run."""
    from ..figures import FIGURES
    from ..pages import PAGES, check_templates

    pages = PAGES if pages is None else pages
    problems = catalogue_problems(experiments, {p.key for p in pages},
                                  FIGURES if figure_kinds is None else figure_kinds)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InitReportError("catalogue: " + problems[0] + more)
    if project_dir is not None:
        check_templates(Path(project_dir), {e.id for e in experiments}, pages)
