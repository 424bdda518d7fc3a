"""Writing the pages, figures and machine-readable data into docs/.

The files written are listed in ``docs/.initreport-manifest.json``; a later build removes
generated files that are no longer produced, and never touches a file it did not generate.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import markupsafe

from ..activations import ACTIVATIONS
from ..cache import atomic_write, canonical_json
from ..catalogue import STATUSES, Experiment, ExpId, matrix_experiment
from ..catalogue.matrix import matrix_heuristics, recommendation
from ..catalogue.rules.matrix import count_word
from ..errors import InitReportError
from .render import render_pages
from .views import esc, experiment_view, init_rows, matrix_tables

MANIFEST = ".initreport-manifest.json"


def page_context(experiments: list[Experiment], by_exp: dict, keys_by_exp: dict, verdicts: dict,
                 figures: dict, profile, provenance: dict) -> dict:
    """What every template sees (see render.CONTEXT_NAMES)."""
    views = {e.id: experiment_view(e, by_exp[e.id], keys_by_exp[e.id], verdicts[e.id], figures.get(e.id, []))
             for e in experiments}
    source = matrix_experiment(experiments)
    matrix = {r: by_exp[source.id][r] for r in source.select("matrix")} if source else {}
    rows = init_rows()
    return {
        "exps": views,
        "experiments": [views[e.id] for e in experiments],
        "ids": ExpId,
        # The description is user text (initreport.toml): made inert here, as the templates print it raw.
        "profile": replace(profile, description=markupsafe.Markup(esc(profile.description))),
        "provenance": provenance,
        "matrix": matrix_tables(matrix),
        "recommendation": recommendation(matrix) if matrix else {},
        "matrix_heuristics": count_word(len(matrix_heuristics(matrix))),
        "inits": {r["name"]: r for r in rows},
        "init_list": rows,
        "activations": ACTIVATIONS,
        "statuses": STATUSES,
        "counts": {s: sum(1 for v in views.values() if v.verdict.status == s) for s in STATUSES},
    }


def _by_label(keys: dict) -> dict:
    """{run label: cache key} for verdicts.json, from keys by Run or already by label."""
    return {getattr(run, "label", run): key for run, key in keys.items()}


def verdict_data(experiments: list[Experiment], keys_by_exp: dict, verdicts: dict, profile) -> dict:
    return {
        "schema": "initreport.verdicts/1",
        "profile": profile.name,
        "experiments": [{
            "id": e.id, "title": e.title, "claim": e.claim, "source": e.source,
            "status": verdicts[e.id].status, "measured": verdicts[e.id].measured,
            "rule": verdicts[e.id].detail, "runs": _by_label(keys_by_exp[e.id]),
            "checks": [{"condition": text, "held": held} for text, held in verdicts[e.id].checks],
        } for e in experiments],
    }


def write_pages(project_dir: Path, docs: Path, experiments: list[Experiment], by_exp: dict, keys_by_exp: dict,
                verdicts: dict, figures: dict, profile, provenance: dict, extra_files: dict | None = None) -> int:
    """Render every page, then write pages, figures and data into docs/. Returns the page count.

    ``extra_files``: more generated files, {docs-relative path: bytes} (the explorer's data script).

    ``by_exp``: {experiment id: {Run: result}}; ``keys_by_exp``: {experiment id: {Run or run label: cache key}}.
    """
    context = page_context(experiments, by_exp, keys_by_exp, verdicts, figures, profile, provenance)
    rendered = render_pages(project_dir, context)

    files: dict[str, bytes] = {page: text.encode("utf-8") for page, text in rendered.items()}
    for exp_figs in figures.values():
        for f in exp_figs:
            for name in (f["light"], f["dark"]):
                files[f"figures/{name}"] = (Path(f["folder"]) / name).read_bytes()
    data = verdict_data(experiments, keys_by_exp, verdicts, profile)
    files["data/verdicts.json"] = (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    files["data/provenance.json"] = (json.dumps(provenance, indent=1, sort_keys=True) + "\n").encode()
    files.update(extra_files or {})
    _write_generated(docs, files)
    return len(rendered)


def _write_generated(docs: Path, files: dict[str, bytes]) -> None:
    """Write generated files into docs/, skip unchanged ones, and remove those no longer generated."""
    manifest_path = docs / MANIFEST
    try:
        previous = {f for f in json.loads(manifest_path.read_text())["files"] if isinstance(f, str)}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        previous = set()
    try:
        docs.mkdir(parents=True, exist_ok=True)
        for rel, data in sorted(files.items()):
            path = docs / rel
            if path.exists() and path.read_bytes() == data:
                continue
            atomic_write(path, data)
        root = docs.resolve()
        for rel in sorted(previous - set(files)):
            stale = docs / rel
            # Only inside docs/: a hand-edited manifest must not make a build delete other files.
            if root not in stale.resolve().parents:
                continue
            if stale.is_file():
                stale.unlink()
        atomic_write(manifest_path, canonical_json({"files": sorted(files)}) + "\n")
    except OSError as exc:
        raise InitReportError(f"cannot write the pages into {docs}: {exc.strerror}") from None
