"""Side-by-side benchmark of initreport's training engine, and timing of the site build.

Run from the repository root:

    python benchmarks/bench.py              # full: ~3-4 minutes including the builds
    python benchmarks/bench.py --quick      # smoke test: fewer steps, 1 round
    python benchmarks/bench.py --skip-build # engine numbers only

What it measures (see benchmarks/README.md):

1. initreport's engine (``network.run_epoch``, exactly train_stack's training loop, on one
   thread and on one thread per CPU; evaluation excluded) against a plain per-network PyTorch
   CPU eager loop on the same workloads, members, minibatches, step count and initial
   weights; engines alternate round by round and the median of each is reported.
2. The engine's achieved training FLOP rate against NumPy's own batched float32 matmul.
3. Cold, warm and one-change build times of the default site (subprocesses, --jobs 2).
4. Peak memory of the cold build.
5. Targets, PASS/FAIL, and a correctness check that both engines do the same work.
6. A whole `initreport run` (all its work) against NumPy doing only the matrix products
   (ceiling/run, width 256) and against a PyTorch eager loop (PyTorch/run, width 64):
   benchmarks/whole_run.py, also runnable alone.

PyTorch is optional only in the sense that its absence is reported; the comparison needs
``pip install torch==2.13.0``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from initreport.activations import get_activation  # noqa: E402
from initreport.datasets import load_dataset  # noqa: E402
from initreport.catalogue import build_catalogue, catalogue_configs  # noqa: E402
from initreport.network import (Member, MemberThreads, evaluate, init_stack, keep_heap, layer_sizes,  # noqa: E402
                                pack, run_epoch, sgd_step, train_stack, unpack, with_ones)
from initreport.runner import group_stacks  # noqa: E402

torch = None   # imported only in the PyTorch worker process (see _torch_import), never beside the engine


def _torch_import():
    global torch
    if torch is None:
        import torch as _t
        torch = _t
    return torch


def torch_version():
    try:
        from importlib.metadata import version
        return version("torch")
    except Exception:
        return None

MOMENTUM = 0.9
CPUS = os.cpu_count() or 1
GIB = 1024 ** 3

# --------------------------------------------------------------------------------------------
# Workloads


@dataclass
class Workload:
    name: str
    members: list            # list[Member]
    activation: str
    dataset: str
    depth: int
    width: int
    epochs: int              # as benchmarked (possibly capped)
    full_epochs: int         # as the catalogue runs it
    batch_size: int

    def prepare(self):
        """Data, sizes, initial weights and every epoch's per-member order, outside the timing."""
        self.data = load_dataset(self.dataset)
        self.x = np.ascontiguousarray(self.data.x_train, dtype=np.float32)
        self.y = np.asarray(self.data.y_train, dtype=np.int64)
        self.sizes = layer_sizes(self.data.n_features, self.depth, self.width, self.data.n_classes)
        self.w0, self.b0 = init_stack(self.members, self.sizes, np.float32)
        self.lr = np.array([m.lr for m in self.members], dtype=np.float32).reshape(-1, 1, 1)
        n = len(self.y)
        rngs = [m.rngs()[1] for m in self.members]
        # the same draws train_stack makes: one permutation per member per epoch
        self.orders = [np.stack([r.permutation(n) for r in rngs]) for _ in range(self.epochs)]
        self.starts = list(range(0, n, self.batch_size))
        self.steps = self.epochs * len(self.starts)
        self.batches = [min(self.batch_size, n - s) for s in self.starts]

    def flops(self) -> float:
        """6·B·fan_in·fan_out per layer per step per member (forward + both backward matmuls)."""
        per_sample = sum(fi * fo for fi, fo in zip(self.sizes[:-1], self.sizes[1:]))
        return 6.0 * per_sample * sum(self.batches) * self.epochs * len(self.members)

    @property
    def label(self) -> str:
        capped = f" (of {self.full_epochs})" if self.full_epochs != self.epochs else ""
        return (f"{self.name}: {self.activation} {self.dataset} d{self.depth} w{self.width} "
                f"×{len(self.members)} members, {self.epochs} ep{capped} = {self.steps} steps B{self.batch_size}")


def catalogue_workloads(n: int, epoch_cap: int) -> list[Workload]:
    """The n most expensive stacks the default catalogue trains (members × steps × layers × width²)."""
    stacks = []
    for group in group_stacks(catalogue_configs(build_catalogue("default"))):
        c = group[0]
        if c.epochs == 0:        # studied at initialisation only: no training to benchmark
            continue
        members = [Member(g.init, s, float(g.lr), g.init_params, g.bias) for g in group for s in g.seeds]
        n_train = len(load_dataset(c.dataset).y_train)
        steps = c.epochs * -(-n_train // c.batch_size)
        cost = len(members) * steps * (c.depth + 1) * c.width ** 2
        stacks.append((cost, c, members))
    stacks.sort(key=lambda t: -t[0])      # stable: ties keep the catalogue's order
    out = []
    for i, (cost, c, members) in enumerate(stacks[:n]):
        out.append(Workload(f"catalogue #{i + 1}", members, c.activation, c.dataset, c.depth, c.width,
                            min(c.epochs, epoch_cap), c.epochs, c.batch_size))
    return out


def digits_workload(width: int, epochs: int) -> Workload:
    members = [Member("he_normal", s, 0.01) for s in range(8)]
    return Workload("digits 10 layers", members, "relu", "digits", 10, width, epochs, epochs, 128)


# --------------------------------------------------------------------------------------------
# The two engines


def engine_train(wl: Workload, *, steps: int | None = None, record_loss: bool = False, dtype=np.float32,
                 threads: int = 1):
    """train_stack's training loop, from fresh copies of the initial weights.

    Whole epochs go through ``run_epoch`` exactly as train_stack calls it (``threads`` blocks of
    members in parallel). A step-limited or loss-recording run (warm-up, correctness check)
    calls ``sgd_step`` per minibatch in one thread: the same steps, the same numbers.
    dtype=float64 starts from the same (float32) initial values: the reference for the correctness check.
    """
    keep_heap()                       # as train_stack does
    act = get_activation(wl.activation)
    params = pack([w.astype(dtype) for w in wl.w0], [b.astype(dtype) for b in wl.b0])
    weights, biases = unpack(params)          # views: they follow the training
    velocity = [np.zeros_like(p) for p in params]
    x, y, lr, bs = wl.x.astype(dtype, copy=False), wl.y, wl.lr.astype(dtype, copy=False), wl.batch_size
    x1 = with_ones(x)
    losses = []
    done = 0
    if steps is None and not record_loss:
        with MemberThreads(threads) as pool, np.errstate(all="ignore"):
            t0 = time.perf_counter()
            for order in wl.orders:
                run_epoch(params, velocity, x1, y, order, bs, act, lr, MOMENTUM, pool)
            seconds = time.perf_counter() - t0
        return seconds, weights, biases, losses
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for order in wl.orders:
            for start in wl.starts:
                if steps is not None and done == steps:
                    break
                idx = order[:, start:start + bs]
                yb = y[idx]
                if record_loss:
                    losses.append(evaluate(weights, biases, x[idx], yb, act)[0])
                sgd_step(params, velocity, x1[idx], yb, act, lr, MOMENTUM)
                done += 1
    seconds = time.perf_counter() - t0
    return seconds, weights, biases, losses


def TORCH_ACT(name):
    return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
            "leaky_relu": lambda: torch.nn.LeakyReLU(0.01)}[name]()


def torch_models(wl: Workload):
    """One nn.Sequential + SGD per member, holding the engine's initial weights (transposed)."""
    models = []
    for m, member in enumerate(wl.members):
        layers = []
        for l, (fi, fo) in enumerate(zip(wl.sizes[:-1], wl.sizes[1:])):
            lin = torch.nn.Linear(fi, fo)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(wl.w0[l][m].T)))
                lin.bias.copy_(torch.from_numpy(wl.b0[l][m, 0]))
            layers.append(lin)
            if l < len(wl.sizes) - 2:
                layers.append(TORCH_ACT(wl.activation))
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=member.lr, momentum=MOMENTUM)
        models.append((model, opt))
    return models


def torch_train(wl: Workload, threads: int, *, steps: int | None = None, record_loss: bool = False):
    """The loop a user writes: for each seed, for each minibatch: zero_grad, forward, loss, backward, step."""
    _torch_import()
    torch.set_num_threads(threads)
    models = torch_models(wl)
    X = torch.from_numpy(wl.x.copy())
    Y = torch.from_numpy(wl.y.copy())
    orders = [torch.from_numpy(o) for o in wl.orders]
    loss_fn = torch.nn.CrossEntropyLoss()
    bs = wl.batch_size
    losses = [[] for _ in models]
    t0 = time.perf_counter()
    for m, (model, opt) in enumerate(models):
        done = 0
        for order in orders:
            for start in wl.starts:
                if steps is not None and done == steps:
                    break
                idx = order[m, start:start + bs]
                xb, yb = X[idx], Y[idx]
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                if record_loss:
                    losses[m].append(loss.item())
                done += 1
    seconds = time.perf_counter() - t0
    return seconds, models, losses


# --------------------------------------------------------------------------------------------
# Worker processes: the engine and PyTorch each run in a process of their own (spawned), so
# neither's thread pools (OpenBLAS pthreads, PyTorch's OpenMP) compete with the other's, as
# for a user who runs one or the other. The parent alternates requests between them.

_PREPARED: dict = {}


def _prepared(wl: Workload) -> Workload:
    if wl.label not in _PREPARED:
        wl.prepare()
        _PREPARED[wl.label] = wl
    return _PREPARED[wl.label]


def w_engine(wl: Workload, threads: int) -> float:
    """Seconds of one engine training run on `threads` member threads, one BLAS thread each (as run_stack)."""
    wl = _prepared(wl)
    with threadpool_limits(limits=1, user_api="blas"):
        return engine_train(wl, threads=threads)[0]


def w_engine_warmup(wl: Workload) -> None:
    wl = _prepared(wl)
    with threadpool_limits(limits=1, user_api="blas"):
        engine_train(wl, steps=3)


def w_torch(wl: Workload, threads: int | None) -> float:
    _torch_import()
    wl = _prepared(wl)
    default = torch.get_num_threads()
    try:
        return torch_train(wl, threads or default)[0]
    finally:
        torch.set_num_threads(default)


def w_torch_warmup(wl: Workload) -> None:
    _torch_import()
    wl = _prepared(wl)
    default = torch.get_num_threads()
    torch_train(wl, default, steps=3)
    torch_train(wl, 1, steps=3)
    torch.set_num_threads(default)


def w_torch_info() -> dict:
    _torch_import()
    return {"version": torch.__version__, "threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available()}


# --------------------------------------------------------------------------------------------
# 1. Engine vs PyTorch


def median(values):
    return statistics.median(values) if values else float("nan")


def compare(workloads, rounds: int, eng_pool, torch_pool) -> list[dict]:
    rows = []
    for wl in workloads:
        eng_pool.submit(w_engine_warmup, wl).result()
        if torch_pool is not None:
            torch_pool.submit(w_torch_warmup, wl).result()
        times = {"eng1": [], "engN": [], "torchD": [], "torch1": []}
        for _ in range(rounds):           # alternate: engine, torch, engine, torch, ...
            times["eng1"].append(eng_pool.submit(w_engine, wl, 1).result())
            if torch_pool is not None:
                times["torchD"].append(torch_pool.submit(w_torch, wl, None).result())
            times["engN"].append(eng_pool.submit(w_engine, wl, CPUS).result())
            if torch_pool is not None:
                times["torch1"].append(torch_pool.submit(w_torch, wl, 1).result())
        row = {"wl": wl, **{k: median(v) for k, v in times.items()}, "raw": times}
        rows.append(row)
        print_row(row)
    return rows


def best_torch(r) -> float:
    return min(r["torchD"], r["torch1"])


def print_row(r):
    wl = r["wl"]
    raw = "  ".join(f"{k}=[{', '.join(f'{t:.3f}' for t in v)}]" for k, v in r["raw"].items())
    print(f"  {wl.label}")
    print(f"      engine 1 thr {r['eng1']:7.3f} s   engine {CPUS} thr {r['engN']:7.3f} s   "
          f"torch default {r['torchD']:7.3f} s   torch 1 thr {r['torch1']:7.3f} s   "
          f"ratio torch(best)/engine({CPUS} thr) {best_torch(r) / r['engN']:6.2f}×")
    print(f"      rounds: {raw}", flush=True)


def w_eval_cost(wl: Workload) -> tuple[float, float]:
    """train_stack with checkpoints=() vs the bare loop, both one BLAS thread: what evaluation adds."""
    wl = _prepared(wl)
    with threadpool_limits(limits=1, user_api="blas"):
        bare = engine_train(wl)[0]
        t0 = time.perf_counter()
        train_stack(wl.members, wl.data, activation=get_activation(wl.activation), depth=wl.depth,
                    width=wl.width, epochs=wl.epochs, batch_size=wl.batch_size, momentum=MOMENTUM,
                    checkpoints=())
        full = time.perf_counter() - t0
    return bare, full


# --------------------------------------------------------------------------------------------
# Correctness: the same weights and minibatches give the same losses


def w_check_same_work(wl: Workload, steps: int = 5) -> dict:
    """Losses of every member at each of `steps` minibatches (before each update), engine vs PyTorch.

    Runs in the PyTorch worker (timing plays no part). "Float32 tolerance" is taken per member
    from the engine itself: the engine is rerun in float64 from the same initial values, and
    PyTorch passes a member when |L_torch − L_64| ≤ max(10·|L_engine32 − L_64|, 1e-5·|L_64|),
    i.e. PyTorch is as close to exact arithmetic as the float32 engine is, within 10×. This
    matters for the chaotic members of the catalogue (deep tanh with weight gain ≫ 1), where any
    float32 rounding grows by ~30× per step; for ordinary members both differences are ~1e-7.
    """
    _torch_import()
    wl = _prepared(wl)
    with threadpool_limits(limits=1, user_api="blas"):
        _, w_e, _, loss_e = engine_train(wl, steps=steps, record_loss=True)
        _, _, _, loss_64 = engine_train(wl, steps=steps, record_loss=True, dtype=np.float64)
    _, models, loss_t = torch_train(wl, 1, steps=steps, record_loss=True)
    le = np.stack(loss_e, axis=1).astype(np.float64)            # (members, steps)
    l64 = np.stack(loss_64, axis=1)
    lt = np.array(loss_t, dtype=np.float64)
    finite = np.isfinite(le).all(axis=1) & np.isfinite(lt).all(axis=1) & np.isfinite(l64).all(axis=1)
    rel = np.abs(le - lt) / np.maximum(np.abs(lt), 1e-12)
    ok = np.abs(lt - l64) <= np.maximum(10 * np.abs(le - l64), 1e-5 * np.abs(l64))
    member_ok = ok.all(axis=1) | ~finite
    worst = int(np.argmax(np.where(finite, rel.max(axis=1), -1)))
    # weights after the steps, relative to the largest weight of the layer
    wrel = []
    for m, (model, _) in enumerate(models):
        if not finite[m]:
            continue
        lins = [mod for mod in model if isinstance(mod, torch.nn.Linear)]
        for l, lin in enumerate(lins):
            wt = lin.weight.detach().numpy().T
            scale = max(np.abs(wt).max(), 1e-12)
            wrel.append(float(np.abs(w_e[l][m] - wt).max() / scale))
    member = wl.members[worst]
    return {"loss_rel_first": float(rel[finite, :2].max()) if finite.any() else float("nan"),
            "loss_rel": float(rel[finite].max()) if finite.any() else float("nan"),
            "worst": f"{member.init}{dict(member.init_params) or ''} seed {member.seed}",
            "weight_rel": max(wrel) if wrel else float("nan"),
            "members": len(wl.members), "finite": int(finite.sum()), "within_tol": int(member_ok.sum()),
            "steps": steps}


# --------------------------------------------------------------------------------------------
# 2. FLOP rate against NumPy's own matmul


def w_matmul_rate(*args) -> float:
    with threadpool_limits(limits=1, user_api="blas"):
        return matmul_rate(*args)


def matmul_rate(members: int, batch: int, fan_in: int, fan_out: int, threads: int = 1,
                min_seconds: float = 0.5) -> float:
    """FLOP/s of np.matmul((members, batch, fan_in), (members, fan_in, fan_out)), one BLAS thread per
    thread, the members cut into `threads` blocks computed concurrently (as MemberThreads cuts a stack)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((members, batch, fan_in), dtype=np.float32)
    w = rng.standard_normal((members, fan_in, fan_out), dtype=np.float32)
    out = np.empty((members, batch, fan_out), dtype=np.float32)
    pool = MemberThreads(threads)

    def once():
        pool.map(lambda i, j: np.matmul(a[i:j], w[i:j], out=out[i:j]), members)

    once()
    best = float("inf")
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while True:
            for _ in range(10):
                once()
            n += 10
            elapsed = time.perf_counter() - t0
            if elapsed >= min_seconds / 3:
                break
        best = min(best, elapsed / n)
    pool.close()
    return 2.0 * members * batch * fan_in * fan_out / best


# --------------------------------------------------------------------------------------------
# 3-4. Builds


DRIVER = textwrap.dedent('''
    """Build with one run of one experiment changed: zero-bias's "he_normal, bias 0.1" gets bias 0.2."""
    import json, sys
    from dataclasses import replace
    from pathlib import Path
    import initreport.build as B
    import initreport.catalogue as E

    _original = E.build_catalogue

    def patched(profile="default"):
        out = []
        for e in _original(profile):
            if e.id == "zero-bias":
                runs = tuple(replace(r, config=r.config.with_(bias=0.2)) if r.role == "reference" else r
                             for r in e.runs)
                e = replace(e, runs=runs)
            out.append(e)
        return out

    # Module level, so that the spawned worker processes (which re-import this file) agree.
    E.build_catalogue = patched
    B.build_catalogue = patched

    if __name__ == "__main__":
        report = B.build(Path(sys.argv[1]), profile="default", jobs=int(sys.argv[2]))
        r = report.runs
        print("RESULT " + json.dumps({"total": r.total, "ran": r.ran, "cached": r.cached,
                                      "seconds": report.seconds}))
''')


def tree_rss_sampler(root_pid: int, stop: threading.Event, peak: list):
    """Sum of RSS over root_pid and its descendants, sampled every 50 ms (from /proc)."""
    page = os.sysconf("SC_PAGE_SIZE")
    while not stop.is_set():
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    parents[int(entry)] = (int(fields[1]), int(fields[21]) * page)
                except (OSError, IndexError, ValueError):
                    pass
        tree, frontier = {root_pid}, [root_pid]
        while frontier:
            p = frontier.pop()
            for pid, (ppid, _) in parents.items():
                if ppid == p and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        total = sum(parents[p][1] for p in tree if p in parents)
        peak[0] = max(peak[0], total)
        stop.wait(0.05)


def run_timed(cmd: list[str], cwd: Path) -> dict:
    """Run a command; wall time, output, and (via wait4) the max RSS of it and its waited-for descendants."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=tree_rss_sampler, args=(proc.pid, stop, peak), daemon=True)
    sampler.start()
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    return {"seconds": seconds, "output": output, "rc": proc.returncode,
            "maxrss_mib": usage.ru_maxrss / 1024, "tree_peak_mib": peak[0] / 2 ** 20}


def ran_from_cli(output: str) -> int | None:
    m = re.search(r"(\d+) runs, (\d+) run, (\d+) cached", output)
    return int(m.group(2)) if m else None


def builds(jobs: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="initreport-bench-"))
    try:
        shutil.copy2(REPO / "mkdocs.yml", tmp / "mkdocs.yml")
        shutil.copytree(REPO / "templates", tmp / "templates", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "docs" / "assets", tmp / "docs" / "assets")
        driver = tmp / "one_change_driver.py"
        driver.write_text(DRIVER)
        cli = [sys.executable, "-m", "initreport.cli", "build", "--project-dir", str(tmp), "--jobs", str(jobs)]
        out = {}
        for name, cmd in (("cold", cli), ("warm", cli),
                          ("one change", [sys.executable, str(driver), str(tmp), str(jobs)])):
            r = run_timed(cmd, REPO)
            if name == "one change":
                m = re.search(r"^RESULT (.*)$", r["output"], re.M)
                r["ran"] = json.loads(m.group(1))["ran"] if m else None
            else:
                r["ran"] = ran_from_cli(r["output"])
            out[name] = r
            print(f"  {name:<10} {r['seconds']:7.1f} s   runs executed: {r['ran']}   exit {r['rc']}   "
                  f"max RSS one process {r['maxrss_mib']:.0f} MiB, process tree {r['tree_peak_mib']:.0f} MiB",
                  flush=True)
            if r["rc"] != 0:
                print(textwrap.indent(r["output"][-3000:], "      | "))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------


def header(torch_info):
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "initreport"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        rev += " (initreport/ has uncommitted changes)" if dirty else ""
    except OSError:
        rev = "unknown"
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print("initreport benchmark")
    print(f"  commit {rev}; python {platform.python_version()}; numpy {np.__version__}; "
          f"torch {torch_info['version'] if torch_info else 'NOT INSTALLED (pip install torch==2.13.0)'}")
    print(f"  cpu: {cpu}; os.cpu_count() = {os.cpu_count()}")
    print(f"  numpy BLAS: {'; '.join(blas)}")
    if torch_info:
        print(f"  torch default threads = {torch_info['threads']}; mkldnn {torch_info['mkldnn']}")
    print(f"  OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '<unset>')!r}  "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '<unset>')!r}  "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '<unset>')!r}")
    print("  engine and PyTorch each run in a spawned worker process of their own; the parent alternates them")


def verdict(ok) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def main(argv=None):
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few steps and one round: a smoke test")
    ap.add_argument("--skip-build", action="store_true", help="skip the build timings")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3, quick 1)")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the timed builds (default 2)")
    ap.add_argument("--skip-whole-run", action="store_true", help="skip section 6 (whole run vs ceiling, PyTorch)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    cat_epochs = 1 if args.quick else 2
    d64_epochs, d256_epochs = (2, 1) if args.quick else (10, 3)

    t_start = time.perf_counter()
    ctx = get_context("spawn")
    eng_pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
    torch_pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx) if torch_version() else None
    try:
        torch_info = torch_pool.submit(w_torch_info).result() if torch_pool else None
        header(torch_info)
        workloads = catalogue_workloads(4, cat_epochs) + [digits_workload(64, d64_epochs),
                                                          digits_workload(256, d256_epochs)]
        for wl in workloads:
            wl.prepare()       # here for sizes, steps and FLOP counts; each worker prepares its own copy

        print(f"\n1. Training time, engine vs PyTorch CPU eager (median of {rounds} alternating rounds "
              f"after a 3-step warm-up; training steps only, evaluation excluded)")
        rows = compare(workloads, rounds, eng_pool, torch_pool)

        checks = []
        if torch_pool:
            print("\n   correctness: same initial weights (transposed into torch), same minibatches, 5 steps; "
                  "loss of every member at every step")
            for wl in workloads:
                c = torch_pool.submit(w_check_same_work, wl).result()
                checks.append(c)
                print(f"     {wl.name:<18} {wl.activation:<8} w{wl.width:<4} max rel. loss diff: steps 1-2 "
                      f"{c['loss_rel_first']:.1e}, steps 1-5 {c['loss_rel']:.1e} (worst: {c['worst']}); "
                      f"weights {c['weight_rel']:.1e}; within float32 tolerance {c['within_tol']}/{c['members']}"
                      f" ({c['finite']} finite)", flush=True)

        print("\n   evaluation cost (one BLAS thread): bare training loop vs train_stack(checkpoints=()), "
              "which also inits and evaluates train+test every epoch")
        for wl in workloads[:1] + workloads[-2:]:
            bare, full = eng_pool.submit(w_eval_cost, wl).result()
            print(f"     {wl.name:<18} w{wl.width:<4}: loop {bare:.3f} s, train_stack {full:.3f} s "
                  f"(+{100 * (full / bare - 1):.0f}%)", flush=True)

        print(f"\n   table (seconds; torch/engine = PyTorch at its better thread setting / the engine, both "
              f"using all {CPUS} CPUs; per core = the same with both held to one thread)")
        print(f"   {'workload':<52} {'engine 1thr':>11} {f'engine {CPUS}thr':>11} {'torch dflt':>10} {'torch 1thr':>10} "
              f"{'torch/engine':>12} {'per core':>9}")
        nan = float("nan")
        for r in rows:
            wl = r["wl"]
            short = f"{wl.name} {wl.activation} d{wl.depth} w{wl.width} ×{len(wl.members)}, {wl.steps} steps"
            print(f"   {short:<52} {r['eng1']:10.3f}s {r['engN']:10.3f}s {r['torchD']:9.3f}s {r['torch1']:9.3f}s "
                  f"{best_torch(r) / r['engN'] if torch_pool else nan:11.2f}× "
                  f"{r['torch1'] / r['eng1'] if torch_pool else nan:8.2f}×")
        total_e = sum(r["engN"] for r in rows[:4])
        total_t = sum(best_torch(r) for r in rows[:4]) if torch_pool else nan
        print(f"   {'4 catalogue stacks together':<52} {'':>11} {total_e:10.3f}s {'':>10} {total_t:9.3f}s "
              f"{total_t / total_e:11.2f}×")

        print(f"\n2. FLOP rate: engine training vs NumPy's batched matmul at the same shape, on 1 and on "
              f"{CPUS} threads (the matmul split into blocks of members the way the engine splits them)")
        rates, ceilings = {}, {}
        for r in rows[-2:]:
            wl = r["wl"]
            M = len(wl.members)
            torch_rate = wl.flops() / best_torch(r) if torch_pool else nan
            for threads, key in ((1, "eng1"), (CPUS, "engN")):
                engine_rate = wl.flops() / r[key]
                np_rate = eng_pool.submit(w_matmul_rate, M, wl.batch_size, wl.width, wl.width, threads).result()
                rates[wl.width, threads] = engine_rate / np_rate
                print(f"   width {wl.width:>3}, {threads} thr: engine {engine_rate / 1e9:6.1f} GFLOP/s; numpy matmul "
                      f"({M},{wl.batch_size},{wl.width})@({M},{wl.width},{wl.width}) {np_rate / 1e9:6.1f} GFLOP/s; "
                      f"ratio {engine_rate / np_rate:.2f}")
                if key == "eng1":
                    one_core = np_rate
                else:                     # by key, not thread count: on a 1-CPU machine both are 1
                    ceilings[wl.width] = np_rate / torch_rate
            print(f"   width {wl.width:>3}: PyTorch (best) trains at {torch_rate / 1e9:.1f} GFLOP/s")
            if wl.width >= 256:   # matmul-bound: the ceiling is meaningful (at width 64 per-call overhead rules)
                print(f"      so an engine built on NumPy's matmul could be at most {ceilings[wl.width]:.2f}× faster "
                      f"than PyTorch here if training were nothing but matmuls at NumPy's {CPUS}-thread rate, "
                      f"and at most {CPUS * one_core / torch_rate:.2f}× if {CPUS} threads ran at {CPUS}× the "
                      f"one-thread rate")
        print("   (FLOPs counted as 6·B·fan_in·fan_out per layer per step per member; the first layer needs no "
              "input gradient, so this overcounts the work done by 2·B·64·width per step, both engines alike)")
    finally:
        eng_pool.shutdown()
        if torch_pool:
            torch_pool.shutdown()

    whole = None
    if not args.skip_whole_run:
        import whole_run
        print(f"\n6. Whole `initreport run` (all its work) against the matrix-product ceiling and PyTorch "
              f"(fresh processes, alternating, median of {rounds} rounds; see benchmarks/whole_run.py)")
        whole = whole_run.measure(rounds)
        whole_run.report(whole)

    build_res = None
    if not args.skip_build:
        print(f"\n3-4. Builds of the default site in a temp copy of the project (subprocesses, --jobs {args.jobs})")
        build_res = builds(args.jobs)

    print("\n5. Targets")
    ratio = {r["wl"].width: best_torch(r) / r["engN"] for r in rows[-2:]} if torch_pool else {}
    lines = [
        ("engine ≥ 3× PyTorch (best), digits 10 layers width 64", ratio.get(64), 3.0, "×", "≥"),
        ("engine ≥ 2× PyTorch (best), digits 10 layers width 256", ratio.get(256), 2.0, "×", "≥"),
        (f"engine ≥ 0.5 × NumPy matmul rate, width 256, {CPUS} threads", rates.get((256, CPUS)), 0.5, "", "≥"),
        ("engine ≥ 0.5 × NumPy matmul rate, width 256, 1 thread", rates.get((256, 1)), 0.5, "", "≥"),
        ("(not a target) engine / NumPy matmul rate, width 64, 1 thread", rates.get((64, 1)), None, "", "≥"),
        ("(not a target) most the engine could gain over PyTorch at width 256 (matmul-bound)",
         ceilings.get(256), None, "×", "≥"),
    ]
    if whole:
        lines += [
            ("whole `initreport run` ≥ 0.7 × matrix-product ceiling, width 256", whole["ceiling_ratio"], 0.7, "", "≥"),
            ("whole `initreport run` ≥ 6× PyTorch eager loop, width 64", whole["torch_ratio"], 6.0, "×", "≥"),
        ]
    if build_res:
        lines += [
            ("cold build ≤ 60 s", build_res["cold"]["seconds"], 60, " s", "≤"),
            ("warm build ≤ 5 s", build_res["warm"]["seconds"], 5, " s", "≤"),
            ("one-change build ≤ 15 s", build_res["one change"]["seconds"], 15, " s", "≤"),
            ("cold build peak memory ≤ 1 GiB (max RSS of one process, ru_maxrss)",
             build_res["cold"]["maxrss_mib"], 1024, " MiB", "≤"),
            ("cold build peak memory ≤ 1 GiB (whole process tree, summed)",
             build_res["cold"]["tree_peak_mib"], 1024, " MiB", "≤"),
        ]
    for text, value, target, unit, op in lines:
        if value is None:
            ok, shown = None, "n/a"
        else:
            ok = None if target is None else (value >= target if op == "≥" else value <= target)
            shown = f"{value:.2f}{unit}"
        print(f"   [{verdict(ok)}] {text:<70} measured {shown}")
    if build_res:
        ok = build_res["one change"]["ran"] == 1
        print(f"   [{verdict(ok)}] {'one-change build runs exactly 1 run':<70} measured {build_res['one change']['ran']}")
        ok = build_res["warm"]["ran"] == 0
        print(f"   [{verdict(ok)}] {'warm build runs 0 runs':<70} measured {build_res['warm']['ran']}")
    if checks:
        ok = all(c["within_tol"] == c["members"] for c in checks)
        n_ok = sum(c["within_tol"] for c in checks)
        n = sum(c["members"] for c in checks)
        print(f"   [{verdict(ok)}] {'engine and PyTorch losses agree to float32 tolerance':<70} measured "
              f"{n_ok}/{n} members; max rel. diff after 1 update "
              f"{max(c['loss_rel_first'] for c in checks):.1e}")
    print(f"\nbenchmark took {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
