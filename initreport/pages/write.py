"""Writing the pages, figures and machine-readable data into docs/.

The files written are listed in ``docs/.initreport-manifest.json`` with the SHA-256 of what was
written; a later build removes a generated file that is no longer produced only if it still holds
exactly those bytes (a file edited since is kept), and never touches a file it did not generate.
Every path written or removed is checked with :func:`initreport.safety.inside` (no ``..``, no link out).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import markupsafe

from ..activations import ACTIVATIONS
from ..cache import atomic_write, canonical_json
from ..catalogue import STATUSES, Experiment, ExpId, matrix_experiment
from ..catalogue.matrix import matrix_heuristics, recommendation
from ..catalogue.bottom_line import bottom_line
from ..catalogue.rules.matrix import count_word
from ..protocol import SCHEMA, experiment_record
from ..errors import InitReportError
from ..safety import SHA256, UnsafePath, inside, plain_relative
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
        "bottom_line": bottom_line(experiments, verdicts),
    }


def _by_label(keys: dict) -> dict:
    """{run label: cache key} for verdicts.json, from keys by Run or already by label."""
    return {getattr(run, "label", run): key for run, key in keys.items()}


def verdict_data(experiments: list[Experiment], keys_by_exp: dict, verdicts: dict, profile) -> dict:
    """The public ``docs/data/verdicts.json`` (schema ``initreport.verdicts/1``, see the README's
    "Verdicts file"): per experiment its ``id``, ``status`` and the ``comparisons`` it made."""
    return {
        "schema": SCHEMA,
        "profile": profile.name,
        "bottom_line": bottom_line(experiments, verdicts).as_dict(),
        "experiments": [experiment_record(
            e.id, verdicts[e.id].status, verdicts[e.id].comparisons,
            title=e.title, claim=e.claim, source=e.source, reason=verdicts[e.id].reason,
            measured=verdicts[e.id].measured, rule=verdicts[e.id].detail, runs=_by_label(keys_by_exp[e.id]),
            checks=[{"condition": text, "held": held} for text, held in verdicts[e.id].checks],
        ) for e in experiments],
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
            for name in (f["light"], f["dark"], f.get("phone_light"), f.get("phone_dark")):
                if name:            # phone files: the narrow-screen layout of kinds that have one
                    files[f"figures/{name}"] = (Path(f["folder"]) / name).read_bytes()
    data = verdict_data(experiments, keys_by_exp, verdicts, profile)
    files["data/verdicts.json"] = (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    files["data/provenance.json"] = (json.dumps(provenance, indent=1, sort_keys=True) + "\n").encode()
    files.update(extra_files or {})
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
