"""Markdown pages from Jinja2 templates, every number taken from the results.

Templates live in ``templates/`` of the project (``<page>.md.j2``, plus ``_macros.md.j2``).
All pages are rendered in memory first; only when every one rendered are they written to
``docs/``, together with the figures and the machine-readable verdicts. The files written
are listed in ``docs/.initreport-manifest.json`` with the SHA-256 of what was written; a later
build removes a generated file that is no longer produced only if it still holds exactly those
bytes (a file edited since is kept), and never touches a file it did not generate. Every path
written or removed is checked with :func:`initreport.safety.inside` (no ``..``, no link out).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import jinja2
import markupsafe

from . import initializers
from .activations import ACTIVATIONS
from .cache import atomic_write, canonical_json
from .errors import InitReportError
from .fmt import inert
from .safety import SHA256, UnsafePath, inside, plain_relative
from .experiments import MATRIX_ACTIVATIONS, MATRIX_INITS, Experiment, family, recommendation

MANIFEST = ".initreport-manifest.json"

# Output page → template. The nav in mkdocs.yml lists the same pages.
PAGES = {
    "index.md": "index.md.j2",
    "training.md": "training.md.j2",
    "pitfalls/zero.md": "pitfalls/zero.md.j2",
    "pitfalls/constant.md": "pitfalls/constant.md.j2",
    "pitfalls/small-random.md": "pitfalls/small-random.md.j2",
    "pitfalls/large-random.md": "pitfalls/large-random.md.j2",
    "heuristics/xavier.md": "heuristics/xavier.md.j2",
    "heuristics/he.md": "heuristics/he.md.j2",
    "studies/depth.md": "studies/depth.md.j2",
    "studies/weight-scale.md": "studies/weight-scale.md.j2",
    "choosing.md": "choosing.md.j2",
    "reproducibility.md": "reproducibility.md.j2",
    "claims.md": "claims.md.j2",
}

STATUS = {
    "confirmed": ("success", ":material-check-circle:", "Confirmed"),
    "partly confirmed": ("warning", ":material-alert-circle:", "Partly confirmed"),
    "refuted": ("failure", ":material-close-circle:", "Refuted"),
}


# --- formatting filters ------------------------------------------------------------------


def num(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    mantissa, exp = f"{x:.{max(digits - 1, 1)}e}".split("e")
    return f"{mantissa}×10<sup>{int(exp)}</sup>"


def pct(x, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{100 * float(x):.{digits}f}%"


def pm(stat: dict | None, fmt=num) -> str:
    """mean ± std of a summary, '–' where no seed survived."""
    if not stat or stat.get("mean") is None:
        return "–"
    if stat.get("n", 0) > 1 and stat.get("std") is not None:
        return f"{fmt(stat['mean'])} ± {fmt(stat['std'])}"
    return fmt(stat["mean"])


def esc(text) -> str:
    """Text that may come from the user (a CSV header, a settings value) made inert for Markdown
    and HTML (:func:`initreport.fmt.inert`): shown literally, never a link, markup or a script."""
    if hasattr(text, "__html__"):       # already escaped (markupsafe.Markup): never escape twice
        return str(text.__html__())
    return inert(text)


def code(text) -> str:
    """Inline code as HTML (safe in a table cell; a Markdown code span would show entities literally)."""
    return "<code>" + esc(text) + "</code>"


def cell(text) -> str:
    """A string made safe for a Markdown table cell (inert, '|' and line breaks included)."""
    return esc(text)


# --- view models ---------------------------------------------------------------------------


def run_row(label: str, result: dict) -> dict:
    final = result["final"]
    layers = result["layers"]
    diverged = result["diverged"]
    return {
        "label": label,
        "config": result["config"],
        "loss": pm(final["loss"]),
        "test_accuracy": pm(final["test_accuracy"], pct),
        "diverged": (f"{len(diverged)}/{result['n_seeds']} (epoch " +
                     ", ".join(str(d["epoch"]) for d in diverged) + ")") if diverged else "none",
        "act_std_last": num(layers[-1]["activation_std"]["mean"]) if layers else "–",
        "grad_std_first": num(layers[0]["gradient_std"]["mean"]) if layers else "–",
        "saturated": pct(_avg(l["saturated_fraction"]["mean"] for l in layers)) if layers else "–",
    }


def _avg(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def setup_text(exp: Experiment) -> str:
    """What the runs share, in one line, and what varies."""
    configs = [c for _, c in exp.runs]
    untrained = all(c.epochs == 0 for c in configs)
    fields = ("dataset", "activation", "depth", "width") if untrained else (
        "dataset", "activation", "depth", "width", "epochs", "batch_size", "lr", "momentum")
    shared, varies = [], []
    for f in fields:
        values = [str(v) for v in sorted({getattr(c, f) for c in configs})]
        (shared if len(values) == 1 else varies).append((f, values))
    names = {"batch_size": "batch", "lr": "learning rate"}
    parts = [f"{names.get(f, f)} {v[0]}" for f, v in shared]
    text = ", ".join(parts)
    if varies:
        text += "; varying " + ", ".join(f"{names.get(f, f)} ({', '.join(v)})" for f, v in varies)
    seeds = configs[0].seeds
    seeds_text = f"{len(seeds)} seeds ({', '.join(map(str, seeds))})"
    if untrained:
        return f"{text}; {seeds_text}; not trained: the network at initialisation, float32."
    return f"{text}; {seeds_text}; SGD" + (
        " with momentum" if any(c.momentum for c in configs) else "") + ", softmax cross-entropy, float32."


def experiment_view(exp: Experiment, results: dict, keys: dict, verdict, figures: list) -> dict:
    kind, icon, label = STATUS[verdict.status]
    return {
        "id": exp.id, "title": exp.title, "claim": exp.claim, "source": exp.source, "page": exp.page,
        "measure": exp.measure, "setup": setup_text(exp),
        "verdict": {"status": verdict.status, "label": label, "icon": icon, "admonition": kind,
                    "measured": verdict.measured, "detail": verdict.detail, "numbers": verdict.numbers,
                    "checks": verdict.checks},
        "rows": [run_row(label_, results[label_]) for label_, _ in exp.runs],
        "figures": {f["kind"]: f for f in figures},
        "keys": keys,
        "results": results,
    }


def matrix_tables(results: dict) -> dict:
    """{dataset: {"inits": [...], "acts": [...], "cells": {init: {act: text}}}} of mean test accuracy."""
    tables = {}
    for r in results.values():
        c = r["config"]
        t = tables.setdefault(c["dataset"], {"inits": list(MATRIX_INITS), "acts": list(MATRIX_ACTIVATIONS),
                                              "cells": {}})
        stat = r["final"]["test_accuracy"]
        text = pm(stat, pct) if stat["mean"] is not None else "diverged"
        if r["diverged"] and stat["mean"] is not None:
            text += f" ({len(r['diverged'])} diverged)"
        t["cells"].setdefault(c["init"], {})[c["activation"]] = text
    return tables


def init_rows() -> list[dict]:
    rows = []
    for name, info in initializers.INITIALIZERS.items():
        rows.append({"name": name, "family": info.family, "summary": info.summary, "formula": info.formula,
                     "formula_tex": info.formula_tex, "keras": info.keras, "pytorch": info.pytorch,
                     "source": info.source, "bias": info.default_bias})
    return rows


# --- rendering -------------------------------------------------------------------------------


def environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(num=num, pct=pct, pm=pm, esc=esc, cell=cell, code=code, family=family)
    return env


def check_templates(project_dir: Path) -> None:
    """Load (compile) every template now, so a missing or broken one fails before any run."""
    templates = project_dir / "templates"
    env = environment(templates)
    for template in sorted(set(PAGES.values()) | {"_macros.md.j2"}):
        try:
            env.get_template(template)
        except jinja2.TemplateNotFound as exc:
            raise InitReportError(f"template {exc.name} is missing from {templates}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise InitReportError(f"template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None


def render_pages(project_dir: Path, context: dict) -> dict[str, str]:
    """Every page rendered in memory: {docs-relative path: Markdown}."""
    templates = project_dir / "templates"
    env = environment(templates)
    out = {}
    for page, template in PAGES.items():
        depth = page.count("/")
        root = "../" * depth
        try:
            out[page] = env.get_template(template).render(**context, root=root, page=page)
        except jinja2.TemplateNotFound as exc:
            raise InitReportError(f"template {exc.name} is missing from {templates}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise InitReportError(f"template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise InitReportError(f"template {template}: {exc.message}") from None
    return out


def write_pages(project_dir: Path, docs: Path, experiments: list[Experiment], by_exp: dict, keys_by_exp: dict,
                verdicts: dict, figures: dict, profile, provenance: dict) -> int:
    """Render every page, then write pages, figures and data into docs/. Returns the page count."""
    views = {e.id: experiment_view(e, by_exp[e.id], keys_by_exp[e.id], verdicts[e.id], figures.get(e.id, []))
             for e in experiments}
    matrix = by_exp.get("conclusion", {})
    context = {
        "exps": views,
        "experiments": [views[e.id] for e in experiments],
        # The description is user text (initreport.toml): escaped here, as the templates print it raw.
        "profile": replace(profile, description=markupsafe.Markup(esc(profile.description))),
        "provenance": provenance,
        "matrix": matrix_tables(matrix),
        "recommendation": recommendation(matrix) if matrix else {},
        "inits": {r["name"]: r for r in init_rows()},
        "init_list": init_rows(),
        "activations": ACTIVATIONS,
        "counts": {s: sum(1 for v in views.values() if v["verdict"]["status"] == s) for s in STATUS},
    }
    rendered = render_pages(project_dir, context)

    files: dict[str, bytes] = {page: text.encode("utf-8") for page, text in rendered.items()}
    for exp_figs in figures.values():
        for f in exp_figs:
            for name in (f["light"], f["dark"]):
                files[f"figures/{name}"] = (Path(f["folder"]) / name).read_bytes()
    verdict_data = {
        "schema": "initreport.verdicts/1",
        "profile": profile.name,
        "experiments": [{
            "id": e.id, "title": e.title, "claim": e.claim, "source": e.source,
            "status": verdicts[e.id].status, "measured": verdicts[e.id].measured,
            "rule": verdicts[e.id].detail, "runs": keys_by_exp[e.id],
            "checks": [{"condition": text, "held": held} for text, held in verdicts[e.id].checks],
        } for e in experiments],
    }
    files["data/verdicts.json"] = (json.dumps(verdict_data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    files["data/provenance.json"] = (json.dumps(provenance, indent=1, sort_keys=True) + "\n").encode()
    _write_generated(docs, files)
    return len(rendered)


# What this module can generate: pages, figures and data files. A manifest entry of any other
# shape (docs/assets/…, a hand-written file) is never deleted, whatever hash it is listed with.
GENERATED = re.compile(r"(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.md|figures/[A-Za-z0-9_.-]+\.(?:svg|png)"
                       r"|data/[A-Za-z0-9_.-]+\.json")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(docs: Path) -> dict[str, str | None]:
    """{docs-relative path: SHA-256 written} of the last build's generated files, validated.

    Entries that are not plain relative paths are dropped; an entry of an older manifest
    (a plain list, no hash) maps to None and is never deleted, only overwritten if generated.
    """
    try:
        data = json.loads((docs / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if isinstance(files, list):
        return {f: None for f in files if plain_relative(f)}
    if isinstance(files, dict):
        return {f: (h if isinstance(h, str) and SHA256.fullmatch(h) else None)
                for f, h in files.items() if plain_relative(f)}
    return {}


def _write_generated(docs: Path, files: dict[str, bytes]) -> None:
    """Write generated files into docs/, skip unchanged ones, and remove those no longer generated.

    A stale file is removed only if it is a regular file whose bytes still hash to what the
    manifest says this tool wrote; one edited by hand since, or listed without a hash, is kept.
    """
    root, name = docs.parent, docs.name
    previous = read_manifest(docs)
    try:
        docs.mkdir(parents=True, exist_ok=True)
        for rel, data in sorted(files.items()):
            path = inside(root, f"{name}/{rel}")
            if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
                continue
            atomic_write(path, data)
        for rel in sorted(set(previous) - set(files)):
            try:
                stale = inside(root, f"{name}/{rel}")
            except UnsafePath:
                continue
            if (previous[rel] is not None and GENERATED.fullmatch(rel) and not rel.startswith("assets/")
                    and stale.is_file() and not stale.is_symlink()
                    and _sha(stale.read_bytes()) == previous[rel]):
                stale.unlink()
        manifest = {"schema": "initreport.manifest/2", "files": {rel: _sha(data) for rel, data in sorted(files.items())}}
        atomic_write(inside(root, f"{name}/{MANIFEST}"), canonical_json(manifest) + "\n")
    except OSError as exc:
        raise InitReportError(f"cannot write the pages into {docs}: {exc.strerror}") from None
