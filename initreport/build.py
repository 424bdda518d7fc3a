"""`initreport build`: experiments → results (cache) → figures → Markdown pages → site.

Each stage reads the previous stage's output and can be run alone. The rule from MkDocs
applies: gather everything first, then write. Results go to the cache as each stack
finishes (so an interrupted build keeps what it finished); figures are rendered into a
cache directory and copied; pages are rendered in memory and written only when all of
them rendered; the site is built in a temporary directory and swapped into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .costmodel import estimate_seconds, stack_seconds
from .cache import ResultCache, atomic_write, canonical_json, engine_fingerprint, run_key
from .errors import InitReportError
from .experiments import Experiment, build_catalogue, catalogue_configs
from .executor import LocalPool as _Pool, make_executor
from .network import EVAL_SCHEDULE
from .runner import RunConfig, group_stacks

CACHE_DIR = ".initreport-cache"


@dataclass
class RunStats:
    total: int = 0
    cached: int = 0
    ran: int = 0
    diverged_runs: int = 0
    discarded: int = 0
    seconds: float = 0.0
    stack_seconds: list = field(default_factory=list)    # (label, seconds, members)


def run_plan(configs: list[RunConfig], cache: ResultCache, *, force: bool, jobs: int,
             scheduler: str | None) -> str:
    """"; N to compute, about T on W processes" (from the cost model), or "" when all are cached."""
    todo = [c for c in configs if force or run_key(c) not in cache]
    if not todo:
        return ""
    if scheduler:
        where = f"of work for one core, divided among the workers of {scheduler}"
        seconds = estimate_seconds(todo, 1)
    else:
        workers = max(1, jobs)
        seconds = estimate_seconds(todo, workers)
        where = f"on {workers} {'process' if workers == 1 else 'processes'}"
    return f"; {len(todo)} to compute, about {duration(seconds)} {where}"


def duration(seconds: float) -> str:
    """12 s, 3 min 20 s, 2 h 05 min."""
    s = max(1, round(seconds))
    if s < 100:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _stack_label(group: list[RunConfig]) -> str:
    c = group[0]
    return f"{c.activation}, {c.dataset}, depth {c.depth}, width {c.width}, {c.epochs} epochs"


def run_catalogue(configs: list[RunConfig], cache: ResultCache, *, force: bool = False, jobs: int = 1,
                  on_progress=None, scheduler: str | None = None) -> tuple[dict, RunStats]:
    """Results of every configuration, from the cache where possible.

    ``on_progress(n, cached)`` is called as configurations are resolved. Each finished stack
    is written to the cache at once, so an interrupted build keeps its finished work.
    Stacks run on ``jobs`` local processes, or on the Dask cluster at ``scheduler``.
    """
    start = time.perf_counter()
    stats = RunStats(total=len(configs))
    results: dict[RunConfig, dict] = {}
    keys = {c: run_key(c) for c in configs}
    todo = []
    for c in configs:
        hit = None if force else cache.get(keys[c])
        if hit is not None:
            results[c] = hit
            stats.cached += 1
            if on_progress:
                on_progress(1, True)
        else:
            todo.append(c)
    stats.discarded = len(cache.discarded)
    # Longest stacks first (by the fitted cost model), so the parallel tail is short.
    groups = sorted(group_stacks(todo), key=lambda g: -stack_seconds(g))

    def finish(group, group_results, seconds):
        for c, r in zip(group, group_results):
            cache.put(keys[c], r)
            results[c] = r
        stats.ran += len(group)
        stats.stack_seconds.append((_stack_label(group), round(seconds, 3), sum(len(c.seeds) for c in group)))
        if on_progress:
            on_progress(len(group), False)

    if groups:
        executor = make_executor(jobs=jobs, n_groups=len(groups), scheduler=scheduler)
        try:
            executor.run(groups, finish)
        finally:
            executor.close()
    stats.diverged_runs = sum(1 for r in results.values() if r["diverged"])
    stats.seconds = time.perf_counter() - start
    return results, stats


# ---------------------------------------------------------------------------------------
# Figures: rendered once per experiment and result set, kept in the cache directory


def figure_key(exp: Experiment, run_keys: dict[str, str]) -> str:
    from . import figures
    import matplotlib
    source = Path(figures.__file__).read_bytes()
    payload = canonical_json({"id": exp.id, "kinds": list(exp.figures), "runs": run_keys,
                              "matplotlib": matplotlib.__version__})
    return hashlib.sha256(source + payload.encode()).hexdigest()


def _render_one(exp: Experiment, runs: dict, out_dir: str) -> list[dict]:
    from dataclasses import asdict

    from . import figures
    return [asdict(f) for f in figures.render_experiment(exp, runs, Path(out_dir))]


def render_figures(experiments: list[Experiment], results_by_exp: dict, run_keys_by_exp: dict,
                   cache_root: Path, jobs: int = 1) -> tuple[dict, int, int]:
    """Figures of every experiment: {exp_id: [figure dict]}, with (rendered, reused) counts.

    Each experiment's figures live in ``cache_root/figures/<key>/`` with a ``figures.json``;
    a key that exists is reused as it is.
    """
    out: dict[str, list[dict]] = {}
    todo = []
    for exp in experiments:
        if not exp.figures:
            out[exp.id] = []
            continue
        key = figure_key(exp, run_keys_by_exp[exp.id])
        folder = cache_root / "figures" / key
        meta = folder / "figures.json"
        if meta.exists():
            try:
                out[exp.id] = [dict(f, folder=str(folder)) for f in json.loads(meta.read_text())]
                continue
            except ValueError:
                shutil.rmtree(folder, ignore_errors=True)
        todo.append((exp, folder))

    def finish(exp, folder, tmp, figs):
        atomic_write(tmp / "figures.json", canonical_json(figs))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
        out[exp.id] = [dict(f, folder=str(folder)) for f in figs]

    tmp_root = cache_root / "figures" / ".tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    staged = []
    for exp, folder in todo:
        tmp = Path(tmp_root / f"{exp.id}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        staged.append((exp, folder, tmp))
    try:
        if jobs <= 1 or len(staged) <= 1:
            for exp, folder, tmp in staged:
                finish(exp, folder, tmp, _render_one(exp, results_by_exp[exp.id], str(tmp)))
        else:
            with _Pool(min(jobs, len(staged))) as pool:
                futures = {pool.submit(_render_one, exp, results_by_exp[exp.id], str(tmp)):
                           (exp, folder, tmp) for exp, folder, tmp in staged}
                for fut in list(futures):
                    exp, folder, tmp = futures[fut]
                    finish(exp, folder, tmp, fut.result())
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    reused = sum(1 for e in experiments if e.figures) - len(staged)
    return out, len(staged), reused


# ---------------------------------------------------------------------------------------
# The whole build


@dataclass
class BuildReport:
    profile: str
    runs: RunStats
    figures_rendered: int
    figures_reused: int
    pages: int
    site_dir: Path
    seconds: float
    verdicts: dict


def check_project(project_dir: Path) -> None:
    missing = [name for name in ("mkdocs.yml", "templates") if not (project_dir / name).exists()]
    if missing:
        raise InitReportError(
            f"{project_dir} is not an initreport project (missing {', '.join(missing)}); "
            "run from the repository root or pass --project-dir")


def versions() -> dict:
    import jinja2
    import matplotlib
    import mkdocs
    import numpy
    try:
        from importlib.metadata import version
        material = version("mkdocs-material")
    except Exception:  # pragma: no cover - metadata missing only in odd installs
        material = "unknown"
    return {"initreport": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "matplotlib": matplotlib.__version__, "jinja2": jinja2.__version__,
            "mkdocs": mkdocs.__version__, "mkdocs-material": material}


def build(project_dir: Path, *, profile: str | None = None, force: bool = False, jobs: int = 1,
          site_dir: Path | None = None, on_progress=None, on_stage=None, settings=None,
          scheduler: str | None = None) -> BuildReport:
    """Run the catalogue and build the site. Raises InitReportError on any user-fixable problem."""
    from . import pages
    from .site import build_site

    start = time.perf_counter()
    from .site import check_site_dir

    project_dir = Path(project_dir).resolve()
    check_project(project_dir)
    site_dir = check_site_dir(project_dir, site_dir)     # refuse a bad site directory before any work
    pages.check_templates(project_dir)                   # and a broken template
    stage = on_stage or (lambda msg: None)
    if settings is None:
        from .settings import load_settings
        settings = load_settings(project_dir)
    prof = settings.profile(profile)
    experiments = build_catalogue(prof)
    configs = catalogue_configs(experiments)
    cache = ResultCache(project_dir / CACHE_DIR)

    scheduler = scheduler or getattr(settings, "scheduler", None)
    stage(f"Running {len(configs)} runs of {len(experiments)} experiments (profile {prof.name}"
          f"{run_plan(configs, cache, force=force, jobs=jobs, scheduler=scheduler)})")
    results, stats = run_catalogue(configs, cache, force=force, jobs=jobs, on_progress=on_progress,
                                   scheduler=scheduler)

    by_exp = {e.id: {label: results[c] for label, c in e.runs} for e in experiments}
    keys_by_exp = {e.id: {label: run_key(c) for label, c in e.runs} for e in experiments}
    verdicts = {e.id: e.verdict(by_exp[e.id]) for e in experiments}

    stage("Rendering figures")
    figs, rendered, reused = render_figures(experiments, by_exp, keys_by_exp, project_dir / CACHE_DIR, jobs=jobs)

    stage("Writing pages")
    provenance = {
        "profile": prof.name, "versions": versions(), "engine": engine_fingerprint(),
        "runs": {"total": stats.total, "cached": stats.cached, "ran": stats.ran,
                 "diverged": stats.diverged_runs, "discarded_cache_entries": stats.discarded},
        "stack_seconds": stats.stack_seconds, "run_seconds": round(stats.seconds, 3),
        "command": "initreport build" + ("" if prof.name == "default" else f" --profile {prof.name}"),
        "python_executable": sys.executable,
        "evaluation": EVAL_SCHEDULE,
        "executor": f"Dask cluster at {scheduler}" if scheduler else f"local, {jobs} process(es)",
    }
    docs = project_dir / "docs"
    written = pages.write_pages(project_dir, docs, experiments, by_exp, keys_by_exp, verdicts, figs,
                                prof, provenance)

    stage("Building the site")
    site = build_site(project_dir, site_dir)
    return BuildReport(prof.name, stats, rendered, reused, written, site, time.perf_counter() - start, verdicts)
