"""Builds on a Dask cluster: real `dask scheduler` and `dask worker` processes, and a LocalCluster.

Results must be byte-identical to a local build, a worker lost mid-build must cost only its
stacks, and a missing extra or an unreachable scheduler must end in one clear line.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from test_executor import TINY, env_for_repo, in_group, tiny_project  # noqa: E402

from initreport.build import CACHE_DIR, resolve_catalogue, run_catalogue  # noqa: E402
from initreport.cache import ResultCache  # noqa: E402
from initreport.errors import InitReportError  # noqa: E402
from initreport.executor import DaskExecutor  # noqa: E402
from initreport import events  # noqa: E402
from initreport.settings import parse_settings  # noqa: E402

pytestmark = pytest.mark.slow
DASK = [sys.executable, "-m", "distributed.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.lru_cache(maxsize=None)
def _resolved(name="tiny") -> tuple:
    """The tiny profile's build, run here in one process: (its configurations in the build's order, its
    result files). The configurations depend on the learning rates its first step picks."""
    import tempfile
    import tomllib
    settings = parse_settings(tomllib.loads(TINY))
    root = Path(tempfile.mkdtemp(prefix="tiny-local-")) / CACHE_DIR
    atexit.register(shutil.rmtree, root.parent, True)
    _, results, _ = resolve_catalogue(settings.profile(name), ResultCache(root), jobs=1)
    return tuple(results), result_files(root)


def tiny_configs(name="tiny"):
    return list(_resolved(name)[0])


def result_files(cache_root: Path) -> dict[str, bytes]:
    root = cache_root / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    """The tiny profile's results computed here, in one process: the reference."""
    return dict(_resolved()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes (no nanny) on 127.0.0.1, random free ports."""
    from dask.distributed import Client

    work = tmp_path_factory.mktemp("cluster")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = env_for_repo()
    procs = []

    def start(args, name):
        p = subprocess.Popen(args, env=env, cwd=work, stdout=open(work / f"{name}.log", "w"),
                             stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(p)
        return p

    try:
        start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
               "--no-dashboard"], "scheduler")
        workers = [start([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
                          "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard",
                          "--name", f"w{i}"], f"worker{i}") for i in range(2)]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield {"address": address, "workers": workers, "start": start, "port": port, "work": work}
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            for q in in_group(p.pid):
                os.kill(q, signal.SIGKILL)


def test_cli_build_through_a_dask_cluster_matches_a_local_build(cluster, local_reference, tmp_path):
    project = tiny_project(tmp_path / "p")
    proc = subprocess.run([sys.executable, "-m", "initreport.cli", "build", "--project-dir", str(project),
                           "--profile", "tiny", "--scheduler", cluster["address"]],
                          env=env_for_repo(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"(\d+) runs, (\d+) run, (\d+) cached", proc.stdout)
    assert m and int(m.group(2)) == int(m.group(1)) > 0
    got = result_files(project / CACHE_DIR)
    assert got.keys() == local_reference.keys()
    assert [k for k in got if got[k] != local_reference[k]] == []        # byte for byte
    assert (project / "site" / "index.html").exists()


def test_scheduler_from_the_settings_file(tmp_path):
    """`scheduler = ...` under [build] is where the build sends its stacks (here: nobody listens)."""
    project = tiny_project(tmp_path / "p")
    port = free_port()
    with open(project / "initreport.toml", "a") as f:
        f.write(f'\n[build]\nprofile = "tiny"\nscheduler = "tcp://127.0.0.1:{port}"\n')
    proc = subprocess.run([sys.executable, "-m", "initreport.cli", "build", "--project-dir", str(project)],
                          env=dict(env_for_repo(), INITREPORT_SCHEDULER_TIMEOUT="2"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 2 s (OSError); "
        "is `dask scheduler` running there?")
    assert "Traceback" not in proc.stderr


def test_a_worker_lost_mid_build_costs_only_its_stacks(cluster, local_reference, tmp_path):
    """Kill one worker as soon as the first stack comes back; the other finishes, results identical."""
    victim = cluster["workers"][0]
    cache_root = tmp_path / CACHE_DIR
    seen = []

    def on_event(event):
        if isinstance(event, events.RunFinished):
            seen.append(event.runs)
            if len(seen) == 1:
                os.killpg(victim.pid, signal.SIGKILL)

    executor_results, stats = run_catalogue(tiny_configs(), ResultCache(cache_root), jobs=2,
                                            scheduler=cluster["address"], on_event=on_event)
    victim.wait(timeout=10)
    assert victim.returncode is not None
    assert stats.ran == stats.total
    assert result_files(cache_root) == local_reference
    # The worker really was lost: the cluster has one worker left.
    from dask.distributed import Client
    with Client(cluster["address"], timeout=30) as client:
        deadline = time.monotonic() + 15
        while len(client.scheduler_info()["workers"]) != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(client.scheduler_info()["workers"]) == 1
    # put one back for any later test
    cluster["workers"][0] = cluster["start"](
        [sys.executable, "-m", "distributed.cli.dask_worker", cluster["address"], "--nworkers", "1",
         "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--dashboard-address", ":0"], "worker0b")


def test_local_cluster_matches_a_local_build(local_reference, tmp_path):
    from dask.distributed import LocalCluster

    cache_root = tmp_path / CACHE_DIR
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1") as lc:
        run_catalogue(tiny_configs(), ResultCache(cache_root), jobs=2, scheduler=lc.scheduler_address)
    assert result_files(cache_root) == local_reference


def test_stacks_cut_for_a_wide_cluster_give_the_local_results(local_reference, tmp_path, monkeypatch):
    """A cluster reporting many worker threads gets the long stacks cut by configuration
    (costmodel.cut_stacks): more stacks run, and every result file is the local build's byte for byte."""
    from dask.distributed import LocalCluster

    from initreport.runner import group_stacks
    monkeypatch.setattr(DaskExecutor, "workers", lambda self: 64)
    finished = []
    cache_root = tmp_path / CACHE_DIR
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1") as lc:
        run_catalogue(tiny_configs(), ResultCache(cache_root), jobs=2, scheduler=lc.scheduler_address,
                      on_event=lambda e: finished.append(e) if isinstance(e, events.RunFinished) else None)
    assert len(finished) > len(group_stacks(tiny_configs()))
    assert sum(e.runs for e in finished) == len(tiny_configs())
    assert result_files(cache_root) == local_reference


def test_a_dask_executor_counts_the_clusters_worker_threads():
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1") as lc:
        lc.wait_for_workers(2)
        ex = DaskExecutor(lc.scheduler_address)
        try:
            assert ex.workers() == 2
        finally:
            ex.close()


def test_an_interrupted_dask_build_keeps_what_finished(cluster, tmp_path):
    cache_root = tmp_path / CACHE_DIR
    done = []

    def on_event(event):
        if isinstance(event, events.RunFinished):
            done.append(event.runs)
            if len(done) == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_catalogue(tiny_configs(), ResultCache(cache_root), jobs=2, scheduler=cluster["address"],
                      on_event=on_event)
    assert len(result_files(cache_root)) == sum(done)
    _, stats = run_catalogue(tiny_configs(), ResultCache(cache_root), jobs=1)
    assert stats.cached == sum(done)


def test_unreachable_scheduler_is_one_line_within_the_timeout():
    port = free_port()            # nothing listens there
    start = time.perf_counter()
    with pytest.raises(InitReportError, match=rf"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 2 s"):
        DaskExecutor(f"tcp://127.0.0.1:{port}", timeout=2)
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("value", ["127.0.0.1:8786", "tcp://", 8786])
def test_bad_scheduler_setting_names_the_key(value):
    with pytest.raises(InitReportError, match="build.scheduler"):
        parse_settings({"build": {"scheduler": value}})


def test_cli_bad_scheduler_address_is_a_usage_error(tmp_path):
    project = tiny_project(tmp_path / "p")
    proc = subprocess.run([sys.executable, "-m", "initreport.cli", "build", "--project-dir", str(project),
                           "--profile", "tiny", "--scheduler", "localhost:8786"],
                          env=env_for_repo(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--scheduler" in proc.stderr and "tcp://HOST:8786" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_dask_extra_is_one_line(tmp_path):
    project = tiny_project(tmp_path / "p")
    code = ("import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; "
            "sys.modules['dask.distributed'] = None; from initreport.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", code, "build", "--project-dir", str(project), "--profile", "tiny",
                           "--scheduler", "tcp://127.0.0.1:1"],
                          env=env_for_repo(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == "Error: --scheduler needs Dask: pip install 'initreport[dask]' (dask and distributed)"
    assert "Traceback" not in proc.stderr
    assert not (project / CACHE_DIR / "results").exists() or result_files(project / CACHE_DIR) == {}
