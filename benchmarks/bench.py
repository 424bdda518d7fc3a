"""Side-by-side benchmark of initreport's training engine, and timing of the site build.

Run from the repository root:

    python benchmarks/bench.py              # full: ~3-4 minutes including the builds
    python benchmarks/bench.py --quick      # smoke test: fewer steps, 1 round
    python benchmarks/bench.py --skip-build # engine numbers only

What it measures (see benchmarks/README.md):

1. initreport's engine (``sgd_step`` over the stack, exactly train_stack's inner loop,
   evaluation excluded) against a plain per-network PyTorch CPU eager loop on the same
   workloads, members, minibatches, step count and initial weights; engines alternate
   round by round in one process and the median of each is reported.
2. The engine's achieved training FLOP rate against NumPy's own batched float32 matmul.
3. Cold, warm and one-change build times of the default site (subprocesses, --jobs 2).
4. Peak memory of the cold build.
5. Targets, PASS/FAIL, and a correctness check that both engines do the same work.

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

from initreport.activations import get_activation, softmax_cross_entropy  # noqa: E402
from initreport.datasets import load_dataset  # noqa: E402
from initreport.experiments import build_catalogue, catalogue_configs  # noqa: E402
from initreport.network import Member, evaluate, init_stack, layer_sizes, sgd_step, train_stack  # noqa: E402
from initreport.runner import group_stacks  # noqa: E402

try:
    import torch
except ImportError:  # reported in the header; the comparison columns read "n/a"
    torch = None

MOMENTUM = 0.9
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
    return Workload(f"digits 10 layers", members, "relu", "digits", 10, width, epochs, epochs, 128)


# --------------------------------------------------------------------------------------------
# The two engines


def engine_train(wl: Workload, *, steps: int | None = None, record_loss: bool = False):
    """train_stack's inner loop (same gather, same sgd_step), from fresh copies of the initial weights."""
    act = get_activation(wl.activation)
    weights = [w.copy() for w in wl.w0]
    biases = [b.copy() for b in wl.b0]
    vw = [np.zeros_like(w) for w in weights]
    vb = [np.zeros_like(b) for b in biases]
    x, y, lr, bs = wl.x, wl.y, wl.lr, wl.batch_size
    losses = []
    done = 0
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        for order in wl.orders:
            for start in wl.starts:
                if steps is not None and done == steps:
                    break
                idx = order[:, start:start + bs]
                xb, yb = x[idx], y[idx]
                if record_loss:
                    losses.append(evaluate(weights, biases, xb, yb, act)[0])
                sgd_step(weights, biases, vw, vb, xb, yb, act, lr, MOMENTUM)
                done += 1
    seconds = time.perf_counter() - t0
    return seconds, weights, biases, losses


TORCH_ACT = {"relu": lambda: torch.nn.ReLU(), "tanh": lambda: torch.nn.Tanh(),
             "sigmoid": lambda: torch.nn.Sigmoid(), "leaky_relu": lambda: torch.nn.LeakyReLU(0.01)}


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
                layers.append(TORCH_ACT[wl.activation]())
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=member.lr, momentum=MOMENTUM)
        models.append((model, opt))
    return models


def torch_train(wl: Workload, threads: int, *, steps: int | None = None, record_loss: bool = False):
    """The loop a user writes: for each seed, for each minibatch: zero_grad, forward, loss, backward, step."""
    torch.set_num_threads(threads)
    models = torch_models(wl)
    X = torch.from_numpy(wl.x)
    Y = torch.from_numpy(wl.y)
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
# 1. Engine vs PyTorch


def median(values):
    return statistics.median(values) if values else float("nan")


def compare(workloads, rounds: int) -> list[dict]:
    rows = []
    default_threads = torch.get_num_threads() if torch is not None else None
    for wl in workloads:
        times = {"eng1": [], "engD": [], "torchD": [], "torch1": []}
        for _ in range(rounds):           # alternate: engine, engine, torch, torch, engine, ...
            with threadpool_limits(limits=1, user_api="blas"):
                times["eng1"].append(engine_train(wl)[0])
            times["engD"].append(engine_train(wl)[0])
            if torch is not None:
                times["torchD"].append(torch_train(wl, default_threads)[0])
                times["torch1"].append(torch_train(wl, 1)[0])
                torch.set_num_threads(default_threads)
        row = {"wl": wl, **{k: median(v) for k, v in times.items()}, "raw": times}
        rows.append(row)
        print_row(row)
    return rows


def print_row(r):
    wl = r["wl"]
    best_torch = min(r["torchD"], r["torch1"]) if torch is not None else float("nan")
    print(f"  {wl.label}")
    print(f"      engine 1 thr {r['eng1']:7.3f} s   engine default {r['engD']:7.3f} s   "
          f"torch default {r['torchD']:7.3f} s   torch 1 thr {r['torch1']:7.3f} s   "
          f"ratio torch(best)/engine(1 thr) {best_torch / r['eng1']:6.2f}×", flush=True)


def eval_cost(wl: Workload) -> tuple[float, float]:
    """train_stack with checkpoints=() vs the bare loop, both one BLAS thread: what evaluation adds."""
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


def check_same_work(wl: Workload, steps: int = 5) -> dict:
    with threadpool_limits(limits=1, user_api="blas"):
        _, w_e, b_e, loss_e = engine_train(wl, steps=steps, record_loss=True)
    _, models, loss_t = torch_train(wl, torch.get_num_threads(), steps=steps, record_loss=True)
    le = np.stack(loss_e, axis=1)                     # (members, steps), loss before each step
    lt = np.array(loss_t, dtype=np.float64)
    finite = np.isfinite(le).all(axis=1) & np.isfinite(lt).all(axis=1)
    rel = np.abs(le - lt) / np.maximum(np.abs(lt), 1e-12)
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
    return {"loss_rel": float(rel[finite].max()) if finite.any() else float("nan"),
            "weight_rel": max(wrel) if wrel else float("nan"),
            "members": len(wl.members), "finite": int(finite.sum()), "steps": steps}


# --------------------------------------------------------------------------------------------
# 2. FLOP rate against NumPy's own matmul


def matmul_rate(members: int, batch: int, fan_in: int, fan_out: int, min_seconds: float = 0.5) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((members, batch, fan_in), dtype=np.float32)
    w = rng.standard_normal((members, fan_in, fan_out), dtype=np.float32)
    out = np.empty((members, batch, fan_out), dtype=np.float32)
    np.matmul(a, w, out=out)
    best = float("inf")
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while True:
            for _ in range(10):
                np.matmul(a, w, out=out)
            n += 10
            elapsed = time.perf_counter() - t0
            if elapsed >= min_seconds / 3:
                break
        best = min(best, elapsed / n)
    return 2.0 * members * batch * fan_in * fan_out / best


# --------------------------------------------------------------------------------------------
# 3-4. Builds


DRIVER = textwrap.dedent('''
    """Build with one run of one experiment changed: zero-bias's "he_normal, bias 0.1" gets bias 0.2."""
    import json, sys
    from dataclasses import replace
    from pathlib import Path
    import initreport.build as B
    import initreport.experiments as E

    _original = E.build_catalogue

    def patched(profile="default"):
        out = []
        for e in _original(profile):
            if e.id == "zero-bias":
                runs = tuple((label, c.with_(bias=0.2) if label == "he_normal, bias 0.1" else c)
                             for label, c in e.runs)
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


def header():
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
          f"torch {torch.__version__ if torch else 'NOT INSTALLED'}")
    print(f"  cpu: {cpu}; os.cpu_count() = {os.cpu_count()}")
    print(f"  numpy BLAS: {'; '.join(blas)}")
    if torch is not None:
        print(f"  torch threads (default) = {torch.get_num_threads()}; mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"  OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '<unset>')!r}  "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '<unset>')!r}  "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '<unset>')!r}")


def verdict(ok) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few steps and one round: a smoke test")
    ap.add_argument("--skip-build", action="store_true", help="skip the build timings")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3, quick 1)")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the timed builds (default 2)")
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    cat_epochs = 1 if args.quick else 2
    d64_epochs, d256_epochs = (2, 1) if args.quick else (10, 3)

    t_start = time.perf_counter()
    header()
    workloads = catalogue_workloads(4, cat_epochs) + [digits_workload(64, d64_epochs),
                                                      digits_workload(256, d256_epochs)]
    for wl in workloads:
        wl.prepare()

    print(f"\n1. Training time, engine vs PyTorch CPU eager (median of {rounds} alternating rounds; "
          f"training steps only)")
    rows = compare(workloads, rounds)

    print("\n   correctness: same initial weights (transposed into torch) and minibatches, 5 steps")
    checks = []
    if torch is not None:
        for wl in workloads:
            c = check_same_work(wl)
            checks.append(c)
            print(f"     {wl.name:<18} w{wl.width:<4} {wl.activation:<8} max rel. loss diff {c['loss_rel']:.2e}   "
                  f"max weight diff / max |w| {c['weight_rel']:.2e}   ({c['finite']}/{c['members']} members finite)")

    print("\n   evaluation cost (one BLAS thread): bare training loop vs train_stack(checkpoints=()), "
          "which also evaluates train+test every epoch")
    for wl in workloads[:1] + workloads[-2:-1]:
        bare, full = eval_cost(wl)
        print(f"     {wl.name:<18} w{wl.width}: loop {bare:.3f} s, train_stack {full:.3f} s "
              f"(+{100 * (full / bare - 1):.0f}% evaluation, init and bookkeeping)")

    print("\n   table")
    print(f"   {'workload':<62} {'engine 1thr':>11} {'engine dflt':>11} {'torch dflt':>10} {'torch 1thr':>10} "
          f"{'torch/engine':>12}")
    for r in rows:
        wl = r["wl"]
        best = min(r["torchD"], r["torch1"]) if torch is not None else float("nan")
        short = f"{wl.name} {wl.activation} d{wl.depth} w{wl.width} ×{len(wl.members)} {wl.steps} steps"
        print(f"   {short:<62} {r['eng1']:10.3f}s {r['engD']:10.3f}s {r['torchD']:9.3f}s {r['torch1']:9.3f}s "
              f"{best / r['eng1']:11.2f}×")
    total_e = sum(r["eng1"] for r in rows[:4])
    total_t = sum(min(r["torchD"], r["torch1"]) for r in rows[:4]) if torch is not None else float("nan")
    print(f"   {'catalogue stacks together':<62} {total_e:10.3f}s {'':>11} {'':>10} {'':>10} {total_t / total_e:11.2f}×")

    print("\n2. FLOP rate (one BLAS thread): engine training vs NumPy batched matmul at the same shape")
    rates = {}
    for r in rows[-2:]:
        wl = r["wl"]
        engine_rate = wl.flops() / r["eng1"]
        with threadpool_limits(limits=1, user_api="blas"):
            np_rate = matmul_rate(len(wl.members), wl.batch_size, wl.width, wl.width)
        rates[wl.width] = engine_rate / np_rate
        print(f"   width {wl.width:>3}: engine {engine_rate / 1e9:6.2f} GFLOP/s, numpy matmul "
              f"({len(wl.members)},{wl.batch_size},{wl.width})@({len(wl.members)},{wl.width},{wl.width}) "
              f"{np_rate / 1e9:6.2f} GFLOP/s, ratio {engine_rate / np_rate:.2f}")

    build_res = None
    if not args.skip_build:
        print(f"\n3-4. Builds of the default site in a temp copy of the project (subprocesses, --jobs {args.jobs})")
        build_res = builds(args.jobs)

    print("\n5. Targets")
    ratio = {r["wl"].width: min(r["torchD"], r["torch1"]) / r["eng1"] for r in rows[-2:]} if torch else {}
    checks_ok = all(c["loss_rel"] < 1e-4 for c in checks) if checks else None
    lines = [
        ("engine ≥ 3× PyTorch (best), digits 10 layers width 64", ratio.get(64), 3.0, "×", "≥"),
        ("engine ≥ 2× PyTorch (best), digits 10 layers width 256", ratio.get(256), 2.0, "×", "≥"),
        ("engine ≥ 0.5 × NumPy matmul rate, width 256", rates.get(256), 0.5, "", "≥"),
    ]
    if build_res:
        lines += [
            ("cold build ≤ 60 s", build_res["cold"]["seconds"], 60, " s", "≤"),
            ("warm build ≤ 5 s", build_res["warm"]["seconds"], 5, " s", "≤"),
            ("one-change build ≤ 15 s", build_res["one change"]["seconds"], 15, " s", "≤"),
            ("peak memory of the cold build ≤ 1 GiB (max RSS of one process)",
             build_res["cold"]["maxrss_mib"], 1024, " MiB", "≤"),
            ("peak memory of the cold build ≤ 1 GiB (process tree, summed)",
             build_res["cold"]["tree_peak_mib"], 1024, " MiB", "≤"),
        ]
    for text, value, target, unit, op in lines:
        if value is None:
            ok, shown = None, "n/a"
        else:
            ok = value >= target if op == "≥" else value <= target
            shown = f"{value:.2f}{unit}"
        print(f"   [{verdict(ok)}] {text:<66} measured {shown}")
    if build_res:
        ok = build_res["one change"]["ran"] == 1
        print(f"   [{verdict(ok)}] {'one-change build runs exactly 1 run':<66} measured {build_res['one change']['ran']}")
        ok = build_res["warm"]["ran"] == 0
        print(f"   [{verdict(ok)}] {'warm build runs 0 runs':<66} measured {build_res['warm']['ran']}")
    print(f"   [{verdict(checks_ok)}] {'engine and PyTorch losses agree (max rel. diff < 1e-4)':<66} measured "
          f"{max((c['loss_rel'] for c in checks), default=float('nan')):.1e}")
    print(f"\nbenchmark took {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
