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
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from . import events
from .costmodel import cut_stacks, estimate_seconds, makespan, stack_seconds
from .cache import ResultCache, atomic_write, canonical_json
from .keys import engine_fingerprint, figure_key, run_key
from .errors import InitReportError
from .catalogue import build_catalogue, catalogue_configs, judge, validate_catalogue
from .catalogue.axis import pick_rates, selection_runs, undecided_cells
from .executor import LocalPool as _Pool, make_executor
from .network import EVAL_SCHEDULE
from .runner import RunConfig, estimate, group_stacks
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
                  on_event: events.Callback = events.ignore, ask=None,
                  scheduler: str | None = None) -> tuple[dict, RunStats]:
    """Results of every configuration, from the cache where possible.

    Emits one :class:`~initreport.events.RunsResolved` after consulting the cache and one
    :class:`~initreport.events.RunFinished` per stack trained. Each finished stack is written
    to the cache at once, so an interrupted build keeps its finished work. Before anything
    runs, the memory and time of what is left to run are estimated: a job that cannot fit in
    memory is refused, and ``ask(message)`` is called for a long one (see
    :func:`initreport.safety.check_budget`). Stacks run on ``jobs`` local processes, or on the
    Dask cluster at ``scheduler``.
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
    # Longest stacks first (by the fitted cost model), so the parallel tail is short.
    groups = sorted(group_stacks(todo), key=lambda g: -stack_seconds(g))
    if groups:
        check_budget(plan_groups(groups, jobs), ask)

    def finish(group, group_results, seconds):
        for c, r in zip(group, group_results):
            cache.put(keys[c], r)
            results[c] = r
        stats.ran += len(group)
        members = sum(len(c.seeds) for c in group)
        stats.stack_seconds.append((_stack_label(group), round(seconds, 3), members))
        on_event(events.RunFinished(len(group), members, seconds, _stack_label(group)))

    if groups:
        executor = make_executor(jobs=jobs, n_groups=len(groups), scheduler=scheduler)
        try:
            # On a cluster with more workers than long stacks, the longest are cut by configuration.
            groups = cut_stacks(groups, executor.workers())
            executor.run(groups, finish)
        finally:
            executor.close()
    stats.diverged_runs = sum(1 for r in results.values() if r["diverged"])
    stats.seconds = time.perf_counter() - start
    return results, stats


def resolve_catalogue(prof, cache: ResultCache, *, force: bool = False, jobs: int = 1,
                      on_event: events.Callback = events.ignore, ask=None, scheduler: str | None = None,
                      extra: list | None = None, run_step=None):
    """The catalogue and its results, in the depth axis's three steps (:mod:`initreport.catalogue.axis`):
    1. the selection runs (the learning rate of each cell, on the validation split);
    2. every run of the catalogue with the chosen rates, and the ``extra`` configurations (the Explore grid);
    3. more seeds for the axis comparisons still undecided, when the profile has ``extend_seeds``.
    Every step goes through the cache. ``run_step(configs)`` → ({RunConfig: result}, RunStats) runs a
    step's configurations not yet known instead of :func:`run_catalogue` (``benchmarks/scaling.py``
    times the stacks with it). Returns (experiments, {RunConfig: result}, RunStats)."""
    run = dict(force=force, jobs=jobs, on_event=on_event, ask=ask, scheduler=scheduler)

    def step(configs, text, known):
        """Run ``configs`` not in ``known``; ``text``: the progress line, with {n} runs and the {plan}."""
        todo = [c for c in dict.fromkeys(configs) if c not in known]
        if run_step is not None:
            got, stats = run_step(todo)
            return {**known, **got}, stats
        plan = run_plan(todo, cache, force=force, jobs=jobs, scheduler=scheduler)
        on_event(events.StageStarted("runs", len(todo), text.format(n=len(todo), plan=plan)))
        got, stats = run_catalogue(todo, cache, **run)
        return {**known, **got}, stats

    chosen = [r.config for r in selection_runs(prof)]
    # Memory and time are checked once for the whole build before anything runs: the catalogue's shape
    # does not depend on the rates the first step picks (only the extension of step 3 is not foreseen).
    whole = [c for c in dict.fromkeys(chosen + catalogue_configs(build_catalogue(prof)) + list(extra or ()))
             if force or run_key(c) not in cache]
    if whole:
        check_budget(plan_groups(group_stacks(whole), jobs), ask)
    run["ask"] = None
    results, stats = step(chosen, "{n} runs that choose the learning rates (validation split{plan})", {})
    picks = pick_rates(prof, results)
    experiments = build_catalogue(prof, picks)
    results, second = step(catalogue_configs(experiments) + list(extra or ()),
                           f"{{n}} runs of {len(experiments)} experiments (profile {prof.name}{{plan}})", results)
    stats = merge_stats(stats, second)
    extended = undecided_cells(prof, experiments, results)
    if extended:
        experiments = build_catalogue(prof, picks, extended)
        results, third = step(catalogue_configs(experiments), f"{{n}} runs: more seeds for the {len(extended)} cells "
                              "of comparisons still undecided{plan}", results)
        stats = merge_stats(stats, third)
    return experiments, results, stats


def merge_stats(first: RunStats, second: RunStats) -> RunStats:
    """One RunStats for a build's two steps (disjoint sets of runs)."""
    return RunStats(total=first.total + second.total, cached=first.cached + second.cached, ran=first.ran + second.ran,
                    diverged_runs=first.diverged_runs + second.diverged_runs,
                    discarded=max(first.discarded, second.discarded),     # the cache's own count, cumulative
                    seconds=first.seconds + second.seconds, stack_seconds=first.stack_seconds + second.stack_seconds)


def plan_groups(groups: list[list[RunConfig]], jobs: int) -> Plan:
    """Peak memory and wall time of running ``groups`` as :func:`run_catalogue` will."""
    from .datasets import load_split
    in_process = jobs <= 1 or len(groups) <= 1
    estimates = [estimate(g, load_split(g[0].dataset, g[0].split), threads=jobs if in_process else 1) for g in groups]
    # Time from the fitted cost model (the estimate the build prints), memory from the configuration.
    seconds = sorted((stack_seconds(g) for g in groups), reverse=True)
    largest = sorted((e.bytes for e in estimates), reverse=True)
    if in_process:
        peak, wall = largest[0], sum(seconds)
        hint = "use a smaller profile in initreport.toml (fewer seeds or epochs, a smaller width or depth)"
    else:
        workers = min(jobs, len(groups))
        peak, wall = sum(largest[:workers]), makespan(seconds, workers)
        hint = ("pass --jobs 1 or use a smaller profile in initreport.toml (fewer seeds or epochs, "
                "a smaller width or depth)")
    runs = sum(len(g) for g in groups)
    return Plan(f"this build ({runs} runs to compute)", peak, wall, hint)


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
        entry = json.loads((folder / "figure.json").read_text(encoding="utf-8"))
        names = [entry["light"], entry["dark"]] + [entry[k] for k in ("phone_light", "phone_dark")
                                                  if entry.get(k) is not None]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    if not all(isinstance(entry.get(k), str) for k in ("kind", "light", "dark", "alt", "caption")):
        return None
    # Plain names of regular files in the folder (never a link, a path or "..": see safety).
    if not all(isinstance(n, str) and plain_figure_name(n) and not (folder / n).is_symlink()
               and (folder / n).is_file() for n in names):
        return None
    return dict(entry, folder=str(folder))


def _remove_folder(folder: Path) -> None:
    """Remove a figure-cache folder (a link is removed itself, never followed)."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)


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
    base, name = cache_root.parent, cache_root.name
    from .figures.registry import kind_runs
    for exp in experiments:
        for kind in exp.figures:
            runs = kind_runs(kind, exp_runs(exp))
            described = [(r.role, r.label, run_key(r.config)) for r in runs]
            folder = inside(base, f"{name}/figures/{figure_key(exp, kind, described)}")
            hit = _cached_figure(folder)
            if hit is not None:
                slots[exp.id, kind] = hit
            else:
                _remove_folder(folder)
                pairs = [(r, results[r.config]) for r in runs]
                todo.append((exp, kind, pairs, folder))

    tmp_root = inside(base, f"{name}/figures/.tmp-{os.getpid()}")
    _remove_dead_temporaries(cache_root / "figures")

    def finish(task, tmp, fig):
        exp, kind, _, folder = task
        atomic_write(tmp / "figure.json", canonical_json(fig))
        _remove_folder(folder)
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


def check_write_folders(project_dir: Path) -> None:
    """Refuse, before any work, a docs/ or cache folder that is a link out of the project."""
    from . import pages
    page_dirs = {f"docs/{Path(p.path).parent}" for p in pages.PAGES if "/" in p.path}
    check_folders(project_dir, ["docs", "docs/figures", "docs/data", *sorted(page_dirs),
                                CACHE_DIR, f"{CACHE_DIR}/results", f"{CACHE_DIR}/figures"])


def build(project_dir: Path, *, profile: str | None = None, force: bool = False, jobs: int = 1,
          site_dir: Path | None = None, on_event: events.Callback | None = None, settings=None,
          ask=None, scheduler: str | None = None) -> BuildReport:
    """Run the catalogue and build the site. Raises InitReportError on any user-fixable problem.

    Progress goes to ``on_event`` as typed events (:mod:`initreport.events`). One build at a
    time per project (:class:`initreport.safety.ProjectLock`); ``ask`` is called before a long
    job (see :func:`run_catalogue`).
    """
    from . import pages
    from .site import build_site, check_site_dir

    start = time.perf_counter()
    emit = on_event or events.ignore
    project_dir = Path(project_dir).resolve()
    check_project(project_dir)
    site_dir = check_site_dir(project_dir, site_dir)     # refuse a bad site directory before any work
    check_write_folders(project_dir)                     # and a docs/ or cache folder linking out
    if settings is None:
        from .settings import load_settings
        settings = load_settings(project_dir)
    prof = settings.profile(profile)
    # Pages, figure kinds, rules, roles and template names checked before any run (the catalogue's
    # shape does not depend on the learning rates the selection step picks).
    validate_catalogue(build_catalogue(prof), project_dir)
    from .explorer import explorer_configs
    with ProjectLock(project_dir, CACHE_DIR):
        cache = ResultCache(project_dir / CACHE_DIR)
        scheduler = scheduler or getattr(settings, "scheduler", None)
        run = dict(force=force, jobs=jobs, on_event=emit, ask=ask, scheduler=scheduler)

        # The catalogue in its three steps, and the Explore page's grid (the same cache and executor; a
        # cell equal to a catalogue run is that run).
        experiments, results, stats = resolve_catalogue(prof, cache, **run, extra=explorer_configs(prof))

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
            "evaluation": EVAL_SCHEDULE,
            "executor": f"Dask cluster at {scheduler}" if scheduler else f"local, {jobs} process(es)",
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
