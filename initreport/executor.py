"""Where stacks run: a local pool of worker processes, or a Dask distributed cluster.

The runner hands an executor its stacks (lists of RunConfig that train together) in the
order it wants them started; the executor calls ``finish(group, results, seconds)`` in the
calling thread as each stack comes back, so the caller writes it to the cache at once and
an interrupted build keeps everything that finished.

- :class:`InProcess`: one stack at a time in this process (its members on threads).
- :class:`LocalPool`: worker processes of our own, **orphan-free**: each worker asks the
  kernel to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and a watchdog
  thread polls ``os.getppid()`` as a second line (and for other systems). The workers talk
  to the parent over two pipes, not through ``multiprocessing`` queues, so there are no
  named semaphores and no resource-tracker process to outlive the build.
- :class:`DaskExecutor`: ``dask.distributed.Client`` to a running scheduler; results come
  back with ``as_completed`` and only the client writes the cache. Every result carries the
  engine fingerprint of the worker that computed it, and one computed by a different engine
  (other initreport source, NumPy or Python) is refused rather than cached under our key.
"""

from __future__ import annotations

import collections
import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from pathlib import Path

from .errors import InitReportError

PR_SET_PDEATHSIG = 1
#: Seconds `initreport build --scheduler` waits for the scheduler to answer (environment
#: variable INITREPORT_SCHEDULER_TIMEOUT to change it, for a slow network).
CONNECT_TIMEOUT = 10.0
#: How often Dask retries a stack whose task raised (a lost worker is rescheduled anyway).
DASK_RETRIES = 2


def worker_env() -> dict:
    """The environment of a worker: one BLAS thread (the workers already use every core), and
    this very copy of initreport first on the path, so workers import what the parent runs."""
    env = dict(os.environ)
    env.update({k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    root = str(Path(__file__).resolve().parent.parent)
    # and the parent's module path, so functions of the caller's modules unpickle (as spawn does)
    paths = [root] + [os.path.abspath(p or os.curdir) for p in sys.path if isinstance(p, str)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if os.path.isdir(p)))
    return env


def run_group(configs) -> tuple[list[dict], float, str]:
    """Train one stack: (results, seconds, fingerprint of the engine that computed them)."""
    from .cache import engine_fingerprint
    from .runner import run_stack
    start = time.perf_counter()
    results = run_stack(list(configs))
    return results, time.perf_counter() - start, engine_fingerprint()


# ---------------------------------------------------------------------------------------
# Orphan-free worker processes


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` is no longer its parent, however the parent ended."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:          # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="initreport-parent-watchdog", daemon=True).start()


def _worker_main(read_fd: int, write_fd: int, parent_pid: int) -> None:
    """A worker: read (fn, args) from the parent, answer (ok, value), until the pipe closes."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the parent handles Ctrl-C and ends us
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    while True:
        try:
            data = inbox.recv_bytes()
        except EOFError:
            return
        try:
            fn, args = pickle.loads(data)
            answer = (True, fn(*args))
        except BaseException as exc:                  # sent back; the parent decides
            answer = (False, exc)
        try:
            data = pickle.dumps(answer)
        except Exception as exc:                      # an unpicklable exception or value
            data = pickle.dumps((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} ({exc})")))
        outbox.send_bytes(data)


class WorkerDied(InitReportError):
    pass


class _Worker:
    def __init__(self, env: dict):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        code = (f"from initreport.executor import _worker_main; "
                f"_worker_main({to_child_r}, {from_child_w}, {os.getpid()})")
        self.process = subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
                                        pass_fds=(to_child_r, from_child_w), close_fds=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self.inbox = Connection(from_child_r, writable=False)
        self.outbox = Connection(to_child_w, readable=False)
        self.future: Future | None = None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for conn in (self.inbox, self.outbox):
            conn.close()


class LocalPool:
    """A pool of ``jobs`` worker processes with a ``submit(fn, *args) -> Future`` interface.

    ``fn`` and its arguments must pickle (module-level functions). Leaving the ``with`` block
    normally lets the workers finish their queue; leaving it by an exception (Ctrl-C, a
    failed task) kills them at once. A worker that dies fails its task with WorkerDied.
    """

    def __init__(self, jobs: int):
        env = worker_env()
        self._workers = [_Worker(env) for _ in range(max(1, jobs))]
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._closing = False
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="initreport-pool", daemon=True)
        self._thread.start()

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        payload = pickle.dumps((fn, args))
        with self._lock:
            if self._closing:
                raise RuntimeError("the pool is shut down")
            self._queue.append((future, payload))
        os.write(self._wake_w, b"x")
        return future

    def _loop(self):
        idle = list(self._workers)
        busy: dict = {}                 # inbox connection -> worker
        while True:
            with self._lock:
                while idle and self._queue:
                    future, payload = self._queue.popleft()
                    if not future.set_running_or_notify_cancel():
                        continue
                    worker = idle.pop()
                    try:
                        worker.outbox.send_bytes(payload)
                    except OSError:
                        future.set_exception(WorkerDied(f"a worker process ended (exit code {worker.process.poll()})"))
                        continue
                    worker.future = future
                    busy[worker.inbox] = worker
                if self._closing and not busy and not self._queue:
                    return
                if not idle and not busy:       # every worker died
                    for future, _ in self._queue:
                        future.set_exception(WorkerDied("every worker process of the pool ended"))
                    self._queue.clear()
                    if self._closing:
                        return
            for ready in wait_connections([*busy, self._wake_r]):
                if ready == self._wake_r:
                    os.read(self._wake_r, 4096)
                    continue
                worker = busy.pop(ready)
                future, worker.future = worker.future, None
                try:
                    ok, value = pickle.loads(ready.recv_bytes())
                except (EOFError, OSError):
                    code = worker.process.wait()
                    future.set_exception(WorkerDied(
                        f"a worker process ended (exit code {code}) while running a task; "
                        "it may have run out of memory"))
                    continue
                (future.set_result if ok else future.set_exception)(value)
                idle.append(worker)

    def shutdown(self, kill: bool = False):
        with self._lock:
            self._closing = True
            if kill:
                for future, _ in self._queue:
                    future.cancel()
                self._queue.clear()
        if kill:
            for w in self._workers:
                if w.process.poll() is None:
                    w.process.kill()
        os.write(self._wake_w, b"x")
        self._thread.join()
        for w in self._workers:
            w.outbox.close()                  # EOF: an idle worker returns
            w.process.wait()
            w.inbox.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.shutdown(kill=exc_type is not None)
        return False


# ---------------------------------------------------------------------------------------
# Executors of stacks


class InProcess:
    """Every stack in this process, one after the other; a stack's members on ``threads`` threads."""

    name = "in-process"

    def __init__(self, threads: int = 1):
        self.threads = threads

    def workers(self) -> int:
        return 1

    def run(self, groups, finish) -> None:
        from .runner import run_stack
        for group in groups:
            start = time.perf_counter()
            results = run_stack(group, threads=self.threads)
            finish(group, results, time.perf_counter() - start)

    def close(self):
        pass


class LocalProcesses:
    """Stacks on a :class:`LocalPool` of ``jobs`` processes, started in the order given."""

    name = "local processes"

    def __init__(self, jobs: int):
        self.jobs = jobs

    def workers(self) -> int:
        return self.jobs

    def run(self, groups, finish) -> None:
        with LocalPool(min(self.jobs, len(groups))) as pool:
            pending = {pool.submit(run_group, g): g for g in groups}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    results, seconds, _ = fut.result()
                    finish(pending.pop(fut), results, seconds)

    def close(self):
        pass


def check_scheduler_address(address: str) -> str:
    """A scheduler address as Dask takes it: tcp://HOST:PORT (or tls://, ws://, ...)."""
    if not isinstance(address, str) or "://" not in address or not address.split("://", 1)[1]:
        raise InitReportError(f"scheduler address {address!r} is not allowed; give one like tcp://HOST:8786")
    return address


class DaskExecutor:
    """Stacks on a running Dask distributed cluster; results written by the caller as they arrive."""

    name = "dask"

    def __init__(self, address: str, timeout: float | None = None):
        check_scheduler_address(address)
        timeout = timeout if timeout is not None else _timeout_from_env()
        try:
            from dask.distributed import Client
        except ImportError:
            raise InitReportError("--scheduler needs Dask: pip install 'initreport[dask]' "
                                  "(dask and distributed)") from None
        self.address = address
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InitReportError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                                  f"({type(exc).__name__}); is `dask scheduler` running there?") from None

    def workers(self) -> int:
        """Threads over the cluster's workers now (one stack runs on one thread)."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except (OSError, TimeoutError):
            return 1

    def run(self, groups, finish) -> None:
        from dask.distributed import as_completed

        from .cache import engine_fingerprint
        from .runner import RunConfig  # noqa: F401  (workers unpickle it)
        ours = engine_fingerprint()
        futures = {}
        for i, group in enumerate(groups):
            # pure=False: a resubmitted build must run again, not reuse a stale future by key.
            # priority: Dask starts the highest first; keep the order we were given.
            fut = self.client.submit(run_group, group, pure=False, retries=DASK_RETRIES, priority=len(groups) - i,
                                     key=f"initreport-stack-{i}-{os.getpid()}-{time.time_ns()}")
            futures[fut] = group
        from distributed import KilledWorker
        try:
            for fut in as_completed(list(futures), loop=self.client.loop):
                try:
                    results, seconds, theirs = fut.result()
                except KilledWorker:
                    g = futures[fut][0]
                    raise InitReportError(
                        f"a stack ({g.activation}, {g.dataset}, depth {g.depth}, width {g.width}) ended "
                        "every Dask worker that ran it (out of memory?); give the workers more memory") from None
                except (OSError, CancelledError) as exc:
                    raise InitReportError(f"lost the Dask scheduler at {self.address} mid-build "
                                          f"({type(exc).__name__}); finished results are kept") from None
                if theirs != ours:
                    raise InitReportError(
                        f"a Dask worker ({_worker_of(fut)}) runs a different initreport engine "
                        "(source, NumPy or Python version); its results would not match this build's. "
                        "Install the same versions on the workers")
                finish(futures.pop(fut), results, seconds)
        finally:
            if futures:
                self.client.cancel(list(futures))

    def close(self):
        self.client.close()


def _timeout_from_env() -> float:
    raw = os.environ.get("INITREPORT_SCHEDULER_TIMEOUT", "")
    if not raw:
        return CONNECT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise InitReportError(f"INITREPORT_SCHEDULER_TIMEOUT={raw!r} is not allowed; give seconds from 0 to 3600")
    return value


def _worker_of(fut) -> str:
    try:
        return ", ".join(sorted(fut.client.who_has([fut]).get(fut.key, []))) or "unknown"
    except Exception:
        return "unknown"


def make_executor(*, jobs: int, n_groups: int, scheduler: str | None = None):
    """The executor a build uses: Dask when a scheduler is given, else processes or this process."""
    if scheduler:
        return DaskExecutor(scheduler)
    if jobs <= 1 or n_groups <= 1:
        # A single stack (one changed experiment, say) still gets every core, as threads over
        # blocks of its members.
        return InProcess(threads=jobs)
    return LocalProcesses(jobs)
