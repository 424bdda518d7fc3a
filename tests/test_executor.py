"""The local executor: a pool of worker processes that never outlive the build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, copy_project
from initreport.errors import InitReportError
from initreport.executor import LocalPool, WorkerDied, make_executor, InProcess, LocalProcesses

TINY = """
[profile.tiny]
base = "quick"
seeds = [0]
epochs = 2
epochs_2d = 3
depth_epochs = 1
depths = [2, 4]
sweep_gains = [0.1, 1.0, 10.0]
matrix_datasets = ["spirals"]
deep = 3
variance_depth = 3
variance_width = 16
width = 16
explorer = "none"

[profile.slow]
base = "quick"
seeds = [0, 1, 2]
epochs = 60
epochs_2d = 200
"""


def tiny_project(dest: Path) -> Path:
    project = copy_project(dest)
    (project / "initreport.toml").write_text(TINY)
    return project


def env_for_repo() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), NO_MKDOCS_2_WARNING="1")


def _stat(pid: int):
    """(state, ppid, pgid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                children.setdefault(st[1], []).append(int(entry))
    out, todo = set(), [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"      # a zombie has ended; only its exit status is left


def in_group(pgid: int) -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and (st := _stat(int(e))) and st[2] == pgid
            and st[0] != "Z"]


def _square(x):
    return x * x


def _boom(x):
    raise ValueError(f"bad value {x}")


def _die(code):
    os._exit(code)


def _env_threads():
    return os.environ.get("OPENBLAS_NUM_THREADS"), os.getppid()


# --------------------------------------------------------------------------------------- the pool


def test_pool_returns_results_and_errors_and_reports_a_dead_worker():
    with LocalPool(2) as pool:
        futures = [pool.submit(_square, i) for i in range(10)]
        assert [f.result(timeout=60) for f in futures] == [i * i for i in range(10)]
        with pytest.raises(ValueError, match="bad value 3"):
            pool.submit(_boom, 3).result(timeout=60)
        # Workers run with one BLAS thread, as children of this process.
        threads, parent = pool.submit(_env_threads).result(timeout=60)
        assert threads == "1" and parent == os.getpid()
        with pytest.raises(WorkerDied, match="exit code 7"):
            pool.submit(_die, 7).result(timeout=60)
        # The other worker still serves.
        assert pool.submit(_square, 5).result(timeout=60) == 25
        pids = pool.pids()
    assert not any(alive(p) for p in pids)
    assert isinstance(WorkerDied("x"), InitReportError)


def test_pool_starts_no_process_but_its_workers():
    """No multiprocessing resource tracker or other helper: only the workers, which end with the pool."""
    before = descendants(os.getpid())
    with LocalPool(2) as pool:
        pool.submit(_square, 2).result(timeout=60)
        extra = descendants(os.getpid()) - before
        assert extra == set(pool.pids())
    time.sleep(0.2)
    assert not [p for p in descendants(os.getpid()) - before if alive(p)]


def test_pool_leaving_by_an_exception_kills_busy_workers_at_once():
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        with LocalPool(2) as pool:
            pool.submit(time.sleep, 60)
            pool.submit(time.sleep, 60)
            time.sleep(0.5)
            pids = pool.pids()
            raise KeyboardInterrupt
    assert time.perf_counter() - start < 10
    assert not any(alive(p) for p in pids)


def test_make_executor_picks_in_process_for_one_stack_or_one_job():
    assert isinstance(make_executor(jobs=1, n_groups=5), InProcess)
    assert isinstance(make_executor(jobs=4, n_groups=1), InProcess)
    assert make_executor(jobs=4, n_groups=1).threads == 4      # one stack gets every core as threads
    assert isinstance(make_executor(jobs=2, n_groups=5), LocalProcesses)


# --------------------------------------------------------------------------------------- kill -9


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="walks /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL])
def test_no_process_of_a_killed_build_survives(tmp_path, sig):
    project = tiny_project(tmp_path / "p")
    proc = subprocess.Popen([sys.executable, "-m", "initreport.cli", "build", "--project-dir", str(project),
                             "--profile", "slow", "--jobs", "2"], env=env_for_repo(), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:   # both workers started, mid-run
            workers = {p for p in descendants(proc.pid) if alive(p)}
            time.sleep(0.1)
        assert len(workers) >= 2, "the build never started its workers"
        time.sleep(1.0)
        assert proc.poll() is None, "the build finished before it could be killed; make the profile slower"
        tree = {p for p in descendants(proc.pid) if alive(p)}
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (any(alive(p) for p in tree) or in_group(proc.pid)):
            time.sleep(0.1)
        survivors = [p for p in tree if alive(p)] + in_group(proc.pid)
        assert survivors == [], f"left running after kill -{sig}: {survivors}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in in_group(proc.pid):       # never leave anything behind, whatever failed above
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --------------------------------------------------------------------------------------- evaluation schedule


def test_eval_schedule_is_every_epoch_up_to_64_then_about_64_points_with_checkpoints():
    from initreport.network import EVAL_EVERY_EPOCH_UP_TO, eval_epochs
    assert EVAL_EVERY_EPOCH_UP_TO == 64
    for epochs in (0, 1, 20, 64):
        assert eval_epochs(epochs) == tuple(range(epochs + 1))
    for epochs in (65, 300, 10000):
        e = eval_epochs(epochs, (37, epochs // 2))
        assert e[0] == 0 and e[-1] == epochs and 37 in e and epochs // 2 in e
        assert list(e) == sorted(set(e)) and len(e) <= 64 + 3
        assert set(range(6)) <= set(e)               # dense at the start, where the loss moves most
        gaps = [b - a for a, b in zip(e, e[1:])]
        assert max(gaps) <= epochs / 16 + 1          # the even grid bounds every gap


def test_a_long_run_has_history_at_the_schedule_and_the_same_numbers_there():
    """Skipping evaluations changes no number at the epochs evaluated, nor the final weights."""
    from initreport.runner import make_config, run_stack
    from initreport.network import eval_epochs
    c = make_config(init="he_normal", activation="tanh", dataset="spirals", depth=2, width=8, epochs=70,
                    batch_size=64, seeds=(0, 1), checkpoints=(33,))
    [r] = run_stack([c])
    epochs = [h["epoch"] for h in r["history"]]
    assert tuple(epochs) == eval_epochs(70, (0, 33, 70))
    assert [cp["epoch"] for cp in r["checkpoints"]] == [0, 33, 70]
    assert r["final"] == {k: r["history"][-1][k] for k in ("loss", "accuracy", "test_loss", "test_accuracy")}
    [short] = run_stack([c], history=False)
    assert [h["epoch"] for h in short["history"]] == [0, 33, 70]
    full = {h["epoch"]: h for h in r["history"]}
    for h in short["history"]:
        assert h == full[h["epoch"]]
    assert short["checkpoints"] == r["checkpoints"] and short["final"] == r["final"]


def test_divergence_between_evaluations_is_caught_at_its_epoch():
    from initreport.runner import make_config, run_stack
    c = make_config(init="large_random", activation="relu", depth=4, width=32, epochs=5, lr=5.0, seeds=(0, 1, 2))
    [every] = run_stack([c])
    [ends] = run_stack([c], history=False)               # evaluated at 0 and 5 only
    assert every["diverged"] and ends["diverged"] == every["diverged"]


# --------------------------------------------------------------------------------------- cost model


def test_cost_model_orders_and_estimates():
    from initreport.costmodel import estimate_seconds, makespan, stack_seconds
    from initreport.runner import make_config
    small = make_config(depth=2, width=16, epochs=2)
    big = make_config(depth=10, width=256, epochs=20, seeds=tuple(range(8)))
    assert stack_seconds([big]) > 20 * stack_seconds([small])
    assert stack_seconds([small.with_(epochs=4)]) > stack_seconds([small])
    times = [5.0, 3.0, 3.0, 2.0, 1.0]
    assert makespan(times, 1) == sum(times)
    assert makespan(times, 2) == 7.0                      # 5+2 | 3+3+1
    assert makespan(times, 100) == 5.0                    # the longest stack bounds it
    one, two = estimate_seconds([big, small]), estimate_seconds([big, small], jobs=2)
    assert one > two >= stack_seconds([big])


def test_build_prints_runs_to_compute_and_an_estimate(tmp_path):
    project = tiny_project(tmp_path / "p")
    cmd = [sys.executable, "-m", "initreport.cli", "build", "--project-dir", str(project), "--profile", "tiny",
           "--jobs", "2"]
    first = subprocess.run(cmd, env=env_for_repo(), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    import re
    m = re.search(r"^Running (\d+) runs of \d+ experiments \(profile tiny; (\d+) to compute, about (\d+) s "
                  r"on 2 processes\)$", first.stderr, re.M)
    assert m and m.group(1) == m.group(2), first.stderr
    second = subprocess.run(cmd, env=env_for_repo(), capture_output=True, text=True, timeout=300)
    assert re.search(r"^Running \d+ runs of \d+ experiments \(profile tiny\)$", second.stderr, re.M), second.stderr
