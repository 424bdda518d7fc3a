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
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from . import __version__
from .cache import ResultCache, atomic_write, canonical_json, engine_fingerprint, run_key
from .errors import InitReportError
from .experiments import Experiment, build_catalogue, catalogue_configs
from .runner import RunConfig, estimate, group_stacks, run_stack
from .safety import Plan, ProjectLock, check_budget, check_folders, inside, plain_figure_name

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


def _worker_env():
    """One BLAS thread per worker process: the workers already use every core."""
    return {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def _run_group(configs: list[RunConfig], threads: int = 1) -> tuple[list[dict], float]:
    start = time.perf_counter()
    results = run_stack(configs, threads=threads)
    return results, time.perf_counter() - start


def _stack_label(group: list[RunConfig]) -> str:
    c = group[0]
    return f"{c.activation}, {c.dataset}, depth {c.depth}, width {c.width}, {c.epochs} epochs"


class _Pool:
    """A process pool whose workers run with one BLAS thread each (spawned, so the setting holds)."""

    def __init__(self, jobs: int):
        saved = {k: os.environ.get(k) for k in _worker_env()}
        os.environ.update(_worker_env())
        try:
            self.executor = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
            # Start the workers now, while the environment says one thread.
            list(self.executor.map(int, range(jobs)))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def __enter__(self):
        return self.executor

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            # Interrupted or failed: stop the workers now rather than after their current stack.
            for process in list(getattr(self.executor, "_processes", {}).values()):
                process.terminate()
        self.executor.shutdown(wait=exc_type is None, cancel_futures=True)
        return False


def run_catalogue(configs: list[RunConfig], cache: ResultCache, *, force: bool = False, jobs: int = 1,
                  on_progress=None, ask=None) -> tuple[dict, RunStats]:
    """Results of every configuration, from the cache where possible.

    ``on_progress(n, cached)`` is called as configurations are resolved. Each finished stack
    is written to the cache at once, so an interrupted build keeps its finished work. Before
    anything runs, the memory and time of what is left to run are estimated: a job that cannot
    fit in memory is refused, and ``ask(message)`` is called for a long one (see
    :func:`initreport.safety.check_budget`).
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
    # Largest stacks first, so the parallel tail is short.
    groups = sorted(group_stacks(todo), key=lambda g: -_stack_cost(g))
    if groups:
        check_budget(plan_groups(groups, jobs), ask)

    def finish(group, group_results, seconds):
        for c, r in zip(group, group_results):
            cache.put(keys[c], r)
            results[c] = r
        stats.ran += len(group)
        stats.stack_seconds.append((_stack_label(group), round(seconds, 3), sum(len(c.seeds) for c in group)))
        if on_progress:
            on_progress(len(group), False)

    if jobs <= 1 or len(groups) <= 1:
        # In this process; a single stack (one changed experiment, say) still gets every core,
        # as threads over blocks of its members.
        for group in groups:
            finish(group, *_run_group(group, threads=jobs))
    else:
        with _Pool(min(jobs, len(groups))) as pool:
            pending = {pool.submit(_run_group, g): g for g in groups}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    finish(pending.pop(fut), *fut.result())
    stats.diverged_runs = sum(1 for r in results.values() if r["diverged"])
    stats.seconds = time.perf_counter() - start
    return results, stats


def plan_groups(groups: list[list[RunConfig]], jobs: int) -> Plan:
    """Peak memory and wall time of running ``groups`` as :func:`run_catalogue` will."""
    from .datasets import load_dataset
    in_process = jobs <= 1 or len(groups) <= 1
    estimates = [estimate(g, load_dataset(g[0].dataset), threads=jobs if in_process else 1) for g in groups]
    seconds = [e.seconds for e in estimates]
    largest = sorted((e.bytes for e in estimates), reverse=True)
    if in_process:
        peak, wall = largest[0], sum(seconds)
        hint = "use a smaller profile in initreport.toml (fewer seeds or epochs, a smaller width or depth)"
    else:
        workers = min(jobs, len(groups))
        peak, wall = sum(largest[:workers]), max(sum(seconds) / workers, max(seconds))
        hint = ("pass --jobs 1 or use a smaller profile in initreport.toml (fewer seeds or epochs, "
                "a smaller width or depth)")
    runs = sum(len(g) for g in groups)
    return Plan(f"this build ({runs} runs to compute)", peak, wall, hint)


def _stack_cost(group: list[RunConfig]) -> float:
    c = group[0]
    members = sum(len(x.seeds) for x in group)
    return members * max(c.epochs, 1) * (c.depth + 1) * c.width * c.width


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


FIGURE_KEYS = ("kind", "light", "dark", "alt", "caption")


def read_figures(folder: Path) -> list[dict] | None:
    """The validated ``figures.json`` of a figure-cache folder, or None if it is missing or invalid.

    Valid: a list of objects with string ``kind``, ``light``, ``dark``, ``alt`` and ``caption``,
    whose file names are plain (``name.svg``/``name.png``, no folders, no ``..``) and name
    regular files in ``folder``. Anything else is discarded and re-rendered, never followed.
    """
    try:
        figs = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(figs, list):
        return None
    for f in figs:
        if not isinstance(f, dict) or any(not isinstance(f.get(k), str) for k in FIGURE_KEYS):
            return None
        for name in (f["light"], f["dark"]):
            path = folder / name
            if not plain_figure_name(name) or path.is_symlink() or not path.is_file():
                return None
    return [dict(f) for f in figs]


def _remove_folder(folder: Path) -> None:
    """Remove a figure-cache folder (a link is removed itself, never followed)."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)


def render_figures(experiments: list[Experiment], results_by_exp: dict, run_keys_by_exp: dict,
                   cache_root: Path, jobs: int = 1) -> tuple[dict, int, int]:
    """Figures of every experiment: {exp_id: [figure dict]}, with (rendered, reused) counts.

    Each experiment's figures live in ``cache_root/figures/<key>/`` with a ``figures.json``;
    a key whose ``figures.json`` is valid (:func:`read_figures`) is reused as it is.
    """
    out: dict[str, list[dict]] = {}
    todo = []
    base, name = cache_root.parent, cache_root.name
    for exp in experiments:
        if not exp.figures:
            out[exp.id] = []
            continue
        key = figure_key(exp, run_keys_by_exp[exp.id])
        folder = inside(base, f"{name}/figures/{key}")
        figs = read_figures(folder)
        if figs is not None:
            out[exp.id] = [dict(f, folder=str(folder)) for f in figs]
            continue
        _remove_folder(folder)
        todo.append((exp, folder))

    def finish(exp, folder, tmp, figs):
        atomic_write(tmp / "figures.json", canonical_json(figs))
        _remove_folder(folder)
        os.replace(tmp, folder)
        out[exp.id] = [dict(f, folder=str(folder)) for f in figs]

    tmp_root = inside(base, f"{name}/figures/.tmp")
    tmp_root.mkdir(parents=True, exist_ok=True)
    staged = []
    for exp, folder in todo:
        tmp = inside(base, f"{name}/figures/.tmp/{exp.id}-{os.getpid()}")
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


def check_write_folders(project_dir: Path) -> None:
    """Refuse, before any work, a docs/ or cache folder that is a link out of the project."""
    from . import pages
    page_dirs = {f"docs/{Path(p).parent}" for p in pages.PAGES if "/" in p}
    check_folders(project_dir, ["docs", "docs/figures", "docs/data", *sorted(page_dirs),
                                CACHE_DIR, f"{CACHE_DIR}/results", f"{CACHE_DIR}/figures"])


def build(project_dir: Path, *, profile: str | None = None, force: bool = False, jobs: int = 1,
          site_dir: Path | None = None, on_progress=None, on_stage=None, settings=None, ask=None) -> BuildReport:
    """Run the catalogue and build the site. Raises InitReportError on any user-fixable problem.

    One build at a time per project (:class:`initreport.safety.ProjectLock`); ``ask`` is
    called before a long job (see :func:`run_catalogue`).
    """
    from . import pages
    from .site import build_site

    start = time.perf_counter()
    from .site import check_site_dir

    project_dir = Path(project_dir).resolve()
    check_project(project_dir)
    site_dir = check_site_dir(project_dir, site_dir)     # refuse a bad site directory before any work
    pages.check_templates(project_dir)                   # and a broken template
    check_write_folders(project_dir)                     # and a docs/ or cache folder linking out
    stage = on_stage or (lambda msg: None)
    if settings is None:
        from .settings import load_settings
        settings = load_settings(project_dir)
    prof = settings.profile(profile)
    experiments = build_catalogue(prof)
    configs = catalogue_configs(experiments)
    with ProjectLock(project_dir, CACHE_DIR):
        cache = ResultCache(project_dir / CACHE_DIR)

        stage(f"Running {len(configs)} runs of {len(experiments)} experiments (profile {prof.name})")
        results, stats = run_catalogue(configs, cache, force=force, jobs=jobs, on_progress=on_progress,
                                       ask=ask)

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
        }
        docs = project_dir / "docs"
        written = pages.write_pages(project_dir, docs, experiments, by_exp, keys_by_exp, verdicts, figs,
                                    prof, provenance)

        stage("Building the site")
        site = build_site(project_dir, site_dir)
        return BuildReport(prof.name, stats, rendered, reused, written, site, time.perf_counter() - start, verdicts)
