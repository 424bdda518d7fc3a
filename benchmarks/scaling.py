"""Scaling of a cold catalogue run: 1 and 2 local workers, a two-worker Dask cluster, a projection.

    python benchmarks/scaling.py [--profile default] [--skip-dask]

Every run of a build of the profile: the selection runs, the catalogue at the chosen learning
rates, the Explore grid and the extra seeds of step 3 (``build.resolve_catalogue``).

1. The build's three steps cold with ``--jobs 2`` (local worker processes): the wall time, and
   the list of every run it made.
2. The same three steps, every stack one after the other in this process on one thread: the
   per-stack times (the work), their sum and the longest (the critical path); results compared
   byte for byte with step 1.
3. The three steps cold through a Dask cluster of two workers (``dask scheduler`` + 2 ×
   ``dask worker --nthreads 1``, started here on 127.0.0.1), compared byte for byte.
4. A projection to 8, 32 and 128 workers from the measured per-stack times: the makespan of
   dealing each step's stacks longest first to the first free worker, summed over the three
   steps (a step starts when the one before has finished: it needs its results), which is at
   least each step's longest stack (no stack is split across workers) and at least total / workers.
5. The cost model (initreport/costmodel.py) refitted to the per-stack times: its coefficients
   and its error, to paste into costmodel.py.

Only the experiment runs are timed (no figures, pages or site).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from initreport.build import RunStats, resolve_catalogue  # noqa: E402
from initreport.explorer import explorer_configs  # noqa: E402
from initreport.cache import ResultCache, canonical_json  # noqa: E402
from initreport.costmodel import cut_stacks, features, makespan, stack_seconds  # noqa: E402
from initreport.executor import InProcess  # noqa: E402
from initreport.runner import group_stacks  # noqa: E402
from initreport.settings import load_settings  # noqa: E402


def digest(results: dict) -> dict:
    return {canonical_json(c.to_dict()): hashlib.sha256(canonical_json(r).encode()).hexdigest()
            for c, r in results.items()}


def per_stack(configs):
    """Every stack of ``configs`` in this process on one thread: ([(stack, CPU seconds)], results, wall)."""
    groups = sorted(group_stacks(configs), key=lambda g: -stack_seconds(g))
    times, results = [], {}
    cpu = [time.process_time()]

    def finish(group, rs, seconds):
        # CPU seconds of the stack (this process, one thread): less sensitive than wall time to
        # other work on a shared machine.
        now = time.process_time()
        times.append((group, now - cpu[0]))
        cpu[0] = now
        results.update(zip(group, rs))

    t0 = time.perf_counter()
    InProcess(threads=1).run(groups, finish)
    return times, results, time.perf_counter() - t0


def per_stack_steps(prof):
    """The build's three steps, made by ``build.resolve_catalogue`` itself (:func:`timed_build`), each
    step's runs through :func:`per_stack`: ([per-step [(stack, seconds)]], results, wall)."""
    steps = []

    def run_step(todo):
        times, results, _ = per_stack(todo)
        steps.append(times)
        return results, RunStats(total=len(todo), ran=len(todo))

    wall, results = timed_build(prof, run_step=run_step)
    return steps + [[]] * (3 - len(steps)), results, wall


def timed_build(prof, **kw):
    """(wall seconds, {config: result}) of the build's three steps, cold, in a fresh cache."""
    tmp = Path(tempfile.mkdtemp(prefix="initreport-scaling-"))
    try:
        t0 = time.perf_counter()
        _, results, _ = resolve_catalogue(prof, ResultCache(tmp), extra=explorer_configs(prof), **kw)
        return time.perf_counter() - t0, results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_cluster(n: int):
    """Start `dask scheduler` and n `dask worker` processes; (address, processes)."""
    from dask.distributed import Client
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "start_new_session": True}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"], **quiet)]
    procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
                                "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"], **quiet)
              for _ in range(n)]
    with Client(address, timeout=60) as c:
        c.wait_for_workers(n, timeout=120)
    return address, procs


def fit(times):
    """Least squares on relative error of seconds ≈ a + b·flops + c·calls, coefficients kept ≥ 0; then b
    and c scaled together so the model's total is the measured total (the build prints a total, which a
    fit on relative error alone leaves to the many small stacks: it came out 19% short here)."""
    X = np.array([[1.0, *features(g)] for g, _ in times])
    y = np.array([s for _, s in times])
    cols = [0, 1, 2]
    while True:
        w = 1 / y[:, None]
        coef, *_ = np.linalg.lstsq(X[:, cols] * w, y * w[:, 0], rcond=None)
        if (coef >= 0).all():
            break
        cols.pop(int(np.argmin(coef)))
    full = np.zeros(3)
    full[cols] = coef
    rest = X[:, 1:] @ full[1:]
    if rest.sum() > 0:
        full[1:] *= max(0.0, y.sum() - full[0] * len(y)) / rest.sum()
    pred = X @ full
    return full, np.abs(pred - y) / y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--work-only", action="store_true", help="only the 1-worker pass, the projection and the fit")
    args = ap.parse_args(argv)
    prof = load_settings(REPO).profile(args.profile)
    print(f"Profile {args.profile}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the start")

    res2 = None
    if not args.work_only:
        two, res2 = timed_build(prof, jobs=2)
        configs = list(res2)
        print(f"2 local worker processes (--jobs 2), the build's three steps: {two:.1f} s wall, {len(configs)} runs "
              f"in {len(group_stacks(configs))} stacks; load average {os.getloadavg()[0]:.1f}")

    steps, reference, one = per_stack_steps(prof)
    times = [t for step in steps for t in step]
    secs = sorted((s for _, s in times), reverse=True)
    total, longest = sum(secs), secs[0]
    slowest = times[[s for _, s in times].index(longest)][0][0]
    print(f"1 worker (this process, one thread, stack after stack): {one:.1f} s wall; sum of stack CPU times "
          f"{total:.1f} s ({', '.join(f'step {k + 1}: {len(t)} stacks, {sum(s for _, s in t):.1f} s' for k, t in enumerate(steps))}); "
          f"longest stack {longest:.1f} s ({slowest.activation}, depth {slowest.depth}, width {slowest.width}, "
          f"{sum(len(c.seeds) for c in times[[s for _, s in times].index(longest)][0])} members); "
          f"results identical to the 2-worker build: {digest(res2) == digest(reference) if res2 else 'not run'}")

    if not (args.skip_dask or args.work_only):
        address, procs = dask_cluster(2)
        try:
            dk, resd = timed_build(prof, jobs=2, scheduler=address)
            print(f"Dask, 2 workers on this machine, the build's three steps: {dk:.1f} s wall; results identical: "
                  f"{digest(resd) == digest(reference)}; load average {os.getloadavg()[0]:.1f}")
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    print("\nProjection from the measured per-stack CPU times (each step's stacks longest first to the first free "
          "worker; the steps one after the other):")
    print(f"  {'workers':>7} {'makespan':>9} {'total/workers':>14} {'critical path':>14} {'efficiency':>10} "
          f"{'(no step barriers)':>19}")
    critical = sum(max((s for _, s in t), default=0.0) for t in steps)
    for w in (1, 2, 8, 32, 128):
        m = sum(makespan(sorted((s for _, s in t), reverse=True), w) for t in steps)
        print(f"  {w:>7} {m:8.1f}s {total / w:13.1f}s {critical:13.1f}s {total / (w * m):9.0%} "
              f"{makespan(secs, w):18.1f}s")

    print("\nThe same with the longest stacks cut by configuration for that many workers (costmodel.cut_stacks, "
          "as a build does): each part's time is its stack's measured time times the part's share of the\n"
          "stack's estimate (so each part also pays a stack's start-up):")
    print(f"  {'workers':>7} {'stacks':>7} {'makespan':>9} {'critical path':>14} {'efficiency':>10}")
    for w in (1, 2, 8, 32, 128):
        m = crit = 0.0
        n = 0
        for t in steps:
            if not t:
                continue
            whole = {id(c): (g, s) for g, s in t for c in g}
            parts = cut_stacks([g for g, _ in t], w)
            part_times = sorted((whole[id(p[0])][1] * stack_seconds(p) / stack_seconds(whole[id(p[0])][0])
                                 for p in parts), reverse=True)
            m += makespan(part_times, w)
            crit += part_times[0]
            n += len(parts)
        print(f"  {w:>7} {n:>7} {m:8.1f}s {crit:13.1f}s {total / (w * m):9.0%}")

    coef, err = fit(times)
    print(f"\nCost model refit: A_SECONDS = {coef[0]:.3g}, B_PER_FLOP = 1 / {1 / coef[1] if coef[1] else float('inf'):.3g}, "
          f"C_PER_CALL = {coef[2]:.3g}; relative error median {statistics.median(err):.0%}, "
          f"90th percentile {np.percentile(err, 90):.0%}")
    model = [stack_seconds(g) for g, _ in times]
    cur = [abs(m - s) / s for m, (_, s) in zip(model, times)]
    print(f"  current coefficients: relative error median {statistics.median(cur):.0%}; "
          f"estimate of the 1-worker total {sum(model):.1f} s vs measured {total:.1f} s")


if __name__ == "__main__":
    main()
