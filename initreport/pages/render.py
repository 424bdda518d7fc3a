"""Jinja2 rendering of the registry's pages, and the checks that run before any experiment.

Templates live in ``templates/`` of the project (``<page>.md.j2``, plus ``_macros.md.j2``).
Every page is rendered in memory; nothing is written until all of them rendered.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2 import meta, nodes

from .. import fmt
from ..catalogue import ExpId
from ..catalogue.matrix import family
from ..errors import InitReportError
from ..explorer import explorer_links
from .registry import PAGES, SHARED_TEMPLATES
from .views import PAPER_FIGURES, act_name, cell, cite, code, esc, init_name, num, pm

# Every name a page template may use: the context (views.page_context) plus the per-page names.
CONTEXT_NAMES = frozenset({
    "exps", "experiments", "ids", "profile", "provenance", "matrix", "recommendation", "inits", "init_list",
    "activations", "counts", "statuses", "matrix_heuristics", "page_experiments", "root", "page",
    "paper_figures",         # a global: figure kind → the paper figure it mirrors
    "bottom_line",
})


def environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(num=num, pct=fmt.pct, pm=pm, esc=esc, inert=esc, cell=cell, code=code, family=family,
                       init_name=init_name, act_name=act_name, cite=cite)
    env.globals["paper_figures"] = PAPER_FIGURES
    env.filters["explore_links"] = explorer_links     # links into the Explore page (initreport.explorer)
    return env


def _template_error(exc: Exception, templates: Path, template: str) -> InitReportError:
    if isinstance(exc, jinja2.TemplateNotFound):
        return InitReportError(f"template {exc.name} is missing from {templates}")
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return InitReportError(f"template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}")
    return InitReportError(f"template {template}: {getattr(exc, 'message', exc)}")


def _source(env: jinja2.Environment, templates: Path, template: str) -> str:
    try:
        return env.loader.get_source(env, template)[0]
    except jinja2.TemplateNotFound as exc:
        raise _template_error(exc, templates, template) from None


def template_problems(env: jinja2.Environment, templates: Path, template: str,
                      experiment_ids: set | None = None) -> list[str]:
    """What a template names that does not exist: context variables, ``ids.X`` constants (and,
    given ``experiment_ids``, constants of experiments not in the catalogue), and string
    experiment ids (``exps["…"]``) where a constant belongs."""
    try:
        ast = env.parse(_source(env, templates, template), name=template)
    except jinja2.TemplateSyntaxError as exc:
        raise _template_error(exc, templates, template) from None
    problems = [f"template {template}: unknown variable {name!r}"
                for name in sorted(meta.find_undeclared_variables(ast) - CONTEXT_NAMES)]
    known = set(ExpId.all())
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "ids":
            value = getattr(ExpId, node.attr, None) if node.attr.isupper() else None
            if value is None:
                problems.append(f"template {template}, line {node.lineno}: unknown experiment constant ids.{node.attr}")
            elif experiment_ids is not None and value not in experiment_ids:
                problems.append(f"template {template}, line {node.lineno}: ids.{node.attr} ({value!r}) is not in "
                                "the catalogue")
    for node in ast.find_all(nodes.Getitem):
        if isinstance(node.node, nodes.Name) and node.node.name == "exps" and isinstance(node.arg, nodes.Const):
            name = next((k for k, v in vars(ExpId).items() if v == node.arg.value), "…")
            problems.append(f"template {template}, line {node.lineno}: exps[{node.arg.value!r}] names an experiment "
                            f"by string; use exps[ids.{name}]" + ("" if node.arg.value in known else
                                                                  " (and no such experiment exists)"))
    return problems


def check_templates(project_dir: Path, experiment_ids: set | None = None, pages=PAGES) -> None:
    """Compile every page template now and check the names it uses, so a missing or broken
    template, or one naming something that does not exist, fails before any run."""
    templates = Path(project_dir) / "templates"
    env = environment(templates)
    problems: list[str] = []
    for template in [p.template for p in pages] + list(SHARED_TEMPLATES):
        try:
            env.get_template(template)
        except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError) as exc:
            raise _template_error(exc, templates, template) from None
        problems += template_problems(env, templates, template, experiment_ids)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InitReportError(problems[0] + more)


def render_pages(project_dir: Path, context: dict, pages=PAGES) -> dict[str, str]:
    """Every page rendered in memory: {docs-relative path: Markdown}.

    Besides ``context`` each page gets ``root`` (the path back to docs/), ``page`` (its path)
    and ``page_experiments`` (the views of the experiments whose page it is, in catalogue order).
    """
    templates = Path(project_dir) / "templates"
    env = environment(templates)
    out = {}
    for p in pages:
        own = [e for e in context["experiments"] if e.page == p.key]
        try:
            out[p.path] = env.get_template(p.template).render(
                **context, root="../" * p.path.count("/"), page=p.path, page_experiments=own)
        except (jinja2.TemplateNotFound, jinja2.TemplateSyntaxError, jinja2.UndefinedError) as exc:
            raise _template_error(exc, templates, p.template) from None
    return out
