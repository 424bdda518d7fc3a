"""`initreport build`: experiments → results (cache) → figures → Markdown pages → site.

Each stage reads the previous stage's output and can be run alone. The rule from MkDocs
applies: gather everything first, then write. Results go to the cache as each stack
finishes (so an interrupted build keeps what it finished); figures are rendered into a
cache directory and copied; pages are rendered in memory and written only when all of
them rendered; the site is built in a temporary directory and swapped into place.
"""

from __future__ import annotations

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
from . import events
from .cache import ResultCache, atomic_write, canonical_json
from .keys import engine_fingerprint, figure_key, run_key
from .errors import InitReportError
from .catalogue import Experiment, build_catalogue, catalogue_configs, judge, validate_catalogue
from .runner import RunConfig, group_stacks, run_stack

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
                  on_event: events.Callback = events.ignore) -> tuple[dict, RunStats]:
    """Results of every configuration, from the cache where possible.

    Emits one :class:`~initreport.events.RunsResolved` after consulting the cache and one
    :class:`~initreport.events.RunFinished` per stack trained. Each finished stack is written
    to the cache at once, so an interrupted build keeps its finished work.
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
        else:
            todo.append(c)
    stats.discarded = len(cache.discarded)
    on_event(events.RunsResolved(len(configs), stats.cached, stats.discarded))
    # Largest stacks first, so the parallel tail is short.
    groups = sorted(group_stacks(todo), key=lambda g: -_stack_cost(g))

    def finish(group, group_results, seconds):
        for c, r in zip(group, group_results):
            cache.put(keys[c], r)
            results[c] = r
        stats.ran += len(group)
        members = sum(len(c.seeds) for c in group)
        stats.stack_seconds.append((_stack_label(group), round(seconds, 3), members))
        on_event(events.RunFinished(len(group), members, seconds, _stack_label(group)))

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


def _stack_cost(group: list[RunConfig]) -> float:
    c = group[0]
    members = sum(len(x.seeds) for x in group)
    return members * max(c.epochs, 1) * (c.depth + 1) * c.width * c.width


# ---------------------------------------------------------------------------------------
# Figures: one cache folder per experiment and kind, keyed by what that figure depends on


def exp_runs(exp) -> list:
    """The experiment's runs as ``Run`` objects, in run order."""
    return list(exp.runs)


def _render_one(exp, kind: str, runs: list, out_dir: str) -> dict:
    """Draw one figure kind of one experiment into ``out_dir``; its Figure record as a dict."""
    from dataclasses import asdict

    from . import figures
    return asdict(figures.render(kind, exp, runs, Path(out_dir)))


def _cached_figure(folder: Path) -> dict | None:
    """The Figure record of a cache folder, or None when absent or not valid (then it is re-rendered)."""
    try:
        entry = json.loads((folder / "figure.json").read_text())
        names = [entry["light"], entry["dark"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(isinstance(n, str) and n == Path(n).name and not n.startswith(".") and (folder / n).is_file()
               for n in names):
        return None
    return dict(entry, folder=str(folder))


def _remove_dead_temporaries(figures_root: Path) -> None:
    """Staging folders ``.tmp-<pid>`` left by a build that was killed (their process is gone)."""
    from .site import _pid_alive
    for path in figures_root.glob(".tmp-*"):
        pid = path.name[len(".tmp-"):]
        if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))) and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def render_figures(experiments: list, results: dict, cache_root: Path, jobs: int = 1) -> tuple[dict, int, int]:
    """Figures of every experiment: ``{exp_id: [figure dict]}`` in each experiment's kind order,
    with the numbers of figures rendered and reused. ``results`` maps each RunConfig to its result.

    Each (experiment, kind) lives in ``cache_root/figures/<key>/`` with a ``figure.json``; a
    valid folder for the key is reused as it is, so a change to one kind re-renders only it.
    """
    slots: dict[tuple[str, str], dict] = {}
    todo = []
    for exp in experiments:
        runs = exp_runs(exp)
        described = [(r.role, r.label, run_key(r.config)) for r in runs]
        for kind in exp.figures:
            folder = cache_root / "figures" / figure_key(exp, kind, described)
            hit = _cached_figure(folder)
            if hit is not None:
                slots[exp.id, kind] = hit
            else:
                shutil.rmtree(folder, ignore_errors=True)
                pairs = [(r, results[r.config]) for r in runs]
                todo.append((exp, kind, pairs, folder))

    tmp_root = cache_root / "figures" / f".tmp-{os.getpid()}"
    _remove_dead_temporaries(cache_root / "figures")

    def finish(task, tmp, fig):
        exp, kind, _, folder = task
        atomic_write(tmp / "figure.json", canonical_json(fig))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
        slots[exp.id, kind] = dict(fig, folder=str(folder))

    staged = []
    for i, task in enumerate(todo):
        tmp = tmp_root / str(i)
        tmp.mkdir(parents=True)
        staged.append((task, tmp))
    try:
        if jobs <= 1 or len(staged) <= 1:
            for task, tmp in staged:
                finish(task, tmp, _render_one(task[0], task[1], task[2], str(tmp)))
        else:
            with _Pool(min(jobs, len(staged))) as pool:
                futures = [(pool.submit(_render_one, t[0], t[1], t[2], str(tmp)), t, tmp) for t, tmp in staged]
                for fut, task, tmp in futures:
                    finish(task, tmp, fut.result())
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    out = {e.id: [slots[e.id, k] for k in e.figures] for e in experiments}
    return out, len(staged), len(slots) - len(staged)


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
          site_dir: Path | None = None, on_event: events.Callback | None = None, settings=None) -> BuildReport:
    """Run the catalogue and build the site. Raises InitReportError on any user-fixable problem.

    Progress goes to ``on_event`` as typed events (:mod:`initreport.events`).
    """
    from . import pages
    from .site import build_site, check_site_dir

    start = time.perf_counter()
    emit = on_event or events.ignore
    project_dir = Path(project_dir).resolve()
    check_project(project_dir)
    site_dir = check_site_dir(project_dir, site_dir)     # refuse a bad site directory before any work
    if settings is None:
        from .settings import load_settings
        settings = load_settings(project_dir)
    prof = settings.profile(profile)
    experiments = build_catalogue(prof)
    # Pages, figure kinds, rules, roles and template names checked before any run.
    validate_catalogue(experiments, project_dir)
    configs = catalogue_configs(experiments)
    # The Explore page's grid: the same cache and executor; a cell equal to a catalogue run is that run.
    from .explorer import explorer_configs
    configs = list(dict.fromkeys(configs + explorer_configs(prof)))
    cache = ResultCache(project_dir / CACHE_DIR)

    emit(events.StageStarted("runs", len(configs),
                             f"{len(configs)} runs of {len(experiments)} experiments (profile {prof.name})"))
    results, stats = run_catalogue(configs, cache, force=force, jobs=jobs, on_event=emit)

    by_exp = {e.id: {r: results[r.config] for r in e.runs} for e in experiments}
    keys_by_exp = {e.id: {r.label: run_key(r.config) for r in e.runs} for e in experiments}
    verdicts = {e.id: judge(e, by_exp[e.id]) for e in experiments}

    emit(events.StageStarted("figures", sum(len(e.figures) for e in experiments), "rendering figures"))
    figs, rendered, reused = render_figures(experiments, results, project_dir / CACHE_DIR, jobs=jobs)
    emit(events.FiguresDone(rendered, reused))

    emit(events.StageStarted("pages", None, "writing pages"))
    provenance = {
        "profile": prof.name, "versions": versions(), "engine": engine_fingerprint(),
        "runs": {"total": stats.total, "cached": stats.cached, "ran": stats.ran,
                 "diverged": stats.diverged_runs, "discarded_cache_entries": stats.discarded},
        "stack_seconds": stats.stack_seconds, "run_seconds": round(stats.seconds, 3),
        "command": "initreport build" + ("" if prof.name == "default" else f" --profile {prof.name}"),
        "python_executable": sys.executable,
    }
    docs = project_dir / "docs"
    from .explorer import DATA_PATH, data_script, explorer_data, read_glossary
    glossary = read_glossary(project_dir / "includes" / "abbreviations.md")
    extra = {DATA_PATH: data_script(explorer_data(prof, results, experiments, verdicts, glossary))}
    written = pages.write_pages(project_dir, docs, experiments, by_exp, keys_by_exp, verdicts, figs,
                                prof, provenance, extra_files=extra)
    emit(events.PagesWritten(written))

    emit(events.StageStarted("site", 1, "building the site"))
    site = build_site(project_dir, site_dir)
    emit(events.SiteBuilt(site))
    return BuildReport(prof.name, stats, rendered, reused, written, site, time.perf_counter() - start, verdicts)
