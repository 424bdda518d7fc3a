"""Markdown pages from Jinja2 templates, every number taken from the results.

* :mod:`.registry`: the one list of pages (:data:`PAGES`), from which the nav derives;
* :mod:`.views`: what templates see of experiments, verdicts and runs;
* :mod:`.render`: rendering, and the template checks that run before any experiment;
* :mod:`.write`: the context, and writing pages, figures and data into docs/.
"""

from .registry import PAGES, Page, nav, page_keys, page_paths
from .render import check_templates, environment, render_pages, template_problems
from .views import STATUS, cell, code, esc, experiment_view, num, pm, setup_text
from .write import MANIFEST, page_context, write_pages

__all__ = ["PAGES", "Page", "nav", "page_keys", "page_paths", "check_templates", "environment", "render_pages",
           "template_problems", "STATUS", "cell", "code", "esc", "experiment_view", "num", "pm", "setup_text",
           "MANIFEST", "page_context", "write_pages"]
