"""A whole `initreport run` against the matrix-product ceiling and against a PyTorch eager loop.

    python benchmarks/whole_run.py [--rounds 3]

Every measurement runs in a fresh process of its own, and the three kinds alternate round by
round (ceiling, run, PyTorch, run, ...), so a machine shared with other work slows them alike:

- **ceiling**: NumPy doing nothing but the matrix products every engine needs for the same
  training (per layer and step: forward, weight gradient and, except for the first layer,
  input gradient; batched over the seeds, the stack cut into one block of seeds per CPU
  thread, one BLAS thread each, as the engine cuts it). No evaluation, no diagnostics.
- **run**: the real command, ``initreport run --depth 10 --width W --seeds 8 --epochs 10
  --batch-size 128`` (digits, He normal, ReLU), all its work included: initialisation, training,
  evaluation at the start and the end, the per-layer statistics its table prints, result
  reduction; the time it prints.
- **with --output** (no target): the same command writing its result file, which takes every
  statistic at every checkpoint and evaluates every epoch for the curves (a build's run).
- **PyTorch**: a plain eager loop, one ``nn.Sequential`` + ``optim.SGD`` per seed (the same
  minibatch order and momentum), plus the evaluation the run reports (full training and test
  sets at initialisation and at the end), at PyTorch's better thread setting (default or 1).

Printed: ceiling/run (target ≥ 0.7 at width 256) and PyTorch/run (target ≥ 6× at width 64), and
both for the run with --output.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPUS = os.cpu_count() or 1
DEPTH, SEEDS, EPOCHS, BATCH, LR, MOMENTUM = 10, 8, 10, 128, 0.01, 0.9


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO), NO_MKDOCS_2_WARNING="1")


# --------------------------------------------------------------------------------------- in a child


def ceiling_seconds(width: int) -> tuple[float, float]:
    import numpy as np
    from threadpoolctl import threadpool_limits

    sys.path.insert(0, str(REPO))
    from initreport.datasets import load_dataset
    from initreport.network import MemberThreads, keep_heap, layer_sizes

    keep_heap()
    data = load_dataset("digits")
    n = data.n_train
    sizes = layer_sizes(data.n_features, DEPTH, width, data.n_classes)
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((SEEDS, a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((SEEDS, BATCH, sizes[0]), dtype=np.float32)
    starts = list(range(0, n, BATCH))

    def block(a, b):
        w = [v[a:b] for v in ws]
        for _ in range(EPOCHS):
            for s in starts:
                bs = min(BATCH, n - s)
                acts = [x[a:b, :bs]]
                for l in range(len(w)):
                    acts.append(np.matmul(acts[-1], w[l]))
                dz = acts[-1]
                for l in range(len(w) - 1, -1, -1):
                    np.matmul(acts[l].transpose(0, 2, 1), dz)          # weight gradient
                    if l > 0:
                        dz = np.matmul(dz, w[l].transpose(0, 2, 1))     # input gradient

    with threadpool_limits(limits=1, user_api="blas"), MemberThreads(CPUS) as pool:
        pool.map(lambda a, b: None, SEEDS)
        t0, c0 = time.perf_counter(), time.process_time()
        pool.map(block, SEEDS)
        return time.perf_counter() - t0, time.process_time() - c0


def torch_seconds(width: int, threads: int) -> tuple[float, float]:
    import numpy as np
    import torch

    sys.path.insert(0, str(REPO))
    from initreport.datasets import load_dataset
    from initreport.network import Member, init_stack, layer_sizes

    torch.set_num_threads(threads)
    data = load_dataset("digits")
    sizes = layer_sizes(data.n_features, DEPTH, width, data.n_classes)
    members = [Member("he_normal", s, LR) for s in range(SEEDS)]
    w0, b0 = init_stack(members, sizes, np.float32)
    X, Y = torch.from_numpy(np.asarray(data.x_train, np.float32)), torch.from_numpy(np.asarray(data.y_train, np.int64))
    Xt, Yt = torch.from_numpy(np.asarray(data.x_test, np.float32)), torch.from_numpy(np.asarray(data.y_test, np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()

    def evaluate(model):
        with torch.no_grad():
            for xs, ys in ((X, Y), (Xt, Yt)):
                out = model(xs)
                loss_fn(out, ys).item()
                (out.argmax(1) == ys).float().mean().item()

    t0, c0 = time.perf_counter(), time.process_time()
    for m, member in enumerate(members):
        layers = []
        for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = torch.nn.Linear(a, b)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w0[l][m].T)))
                lin.bias.copy_(torch.from_numpy(b0[l][m, 0]))
            layers += [lin] + ([torch.nn.ReLU()] if l < len(sizes) - 2 else [])
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        rng = member.rngs()[1]
        evaluate(model)
        for _ in range(EPOCHS):
            order = torch.from_numpy(rng.permutation(len(Y)))
            for s in range(0, len(Y), BATCH):
                idx = order[s:s + BATCH]
                opt.zero_grad()
                loss_fn(model(X[idx]), Y[idx]).backward()
                opt.step()
        evaluate(model)
    return time.perf_counter() - t0, time.process_time() - c0


# --------------------------------------------------------------------------------------- the parent


def child(kind: str, width: int, threads: int = 0) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all the process's threads) of one measurement in a fresh process."""
    out = subprocess.run([sys.executable, __file__, f"--{kind}", str(width), "--threads", str(threads)],
                         env=_env(), capture_output=True, text=True, check=True, cwd=REPO).stdout
    wall, cpu = out.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def run_args(width: int) -> list[str]:
    return ["run", "--init", "he_normal", "--activation", "relu", "--dataset", "digits", "--depth", str(DEPTH),
            "--width", str(width), "--seeds", str(SEEDS), "--epochs", str(EPOCHS), "--batch-size", str(BATCH),
            "--lr", str(LR), "--momentum", str(MOMENTUM), "--jobs", str(CPUS)]


def run_in_child(width: int, output: bool = False) -> tuple[float, float]:
    """The real `initreport run` command (its Click entry point, in this fresh process): the wall time it
    prints (its training call: initialisation, training, evaluation, diagnostics, results) and the CPU
    time measured around the whole command (so also its option parsing, data loading and estimate)."""
    import contextlib
    import io
    import tempfile

    from initreport.cli import main as cli_main
    buf = io.StringIO()
    c0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(buf):
        extra = ["--output", str(Path(tmp) / "result.json")] if output else []
        cli_main(run_args(width) + extra, standalone_mode=False)
    cpu = time.process_time() - c0
    return float(re.search(r"^([\d.]+) s for \d+ seed", buf.getvalue(), re.M).group(1)), cpu


def run_seconds(width: int, output: bool = False) -> tuple[float, float]:
    """(the wall time a real `initreport run` prints for the workload, its CPU time); ``output``: the
    same run with ``--output``, which also takes every per-layer statistic at every checkpoint and
    evaluates every epoch for the curves the result file carries."""
    return child("run-output" if output else "run", width)


def have_torch() -> bool:
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def measure(rounds: int = 3, verbose: bool = True) -> dict:
    """Alternating rounds; medians and the raw (wall, CPU) times."""
    raw = {"ceiling256": [], "run256": [], "torch64": [], "run64": [], "out256": [], "out64": []}
    torch_ok = have_torch()
    for r in range(rounds):
        raw["ceiling256"].append(child("ceiling", 256))
        raw["run256"].append(run_seconds(256))
        if torch_ok:
            raw["torch64"].append(min((child("torch", 64, 0 if t == "default" else 1) for t in ("default", "1")),
                                      key=lambda wc: wc[0]))
        raw["run64"].append(run_seconds(64))
        raw["out256"].append(run_seconds(256, output=True))
        raw["out64"].append(run_seconds(64, output=True))
        if verbose:
            print(f"   round {r + 1}: " + "  ".join(f"{k} {v[-1][0]:.3f} s ({v[-1][1]:.2f} s CPU)"
                                                   for k, v in raw.items() if v), flush=True)
    med = {k: statistics.median(w for w, _ in v) if v else float("nan") for k, v in raw.items()}
    cpu = {k: statistics.median(c for _, c in v) if v else float("nan") for k, v in raw.items()}
    return {"raw": raw, "median": med, "cpu": cpu, "ceiling_ratio": med["ceiling256"] / med["run256"],
            "ceiling_ratio_cpu": cpu["ceiling256"] / cpu["run256"],
            "ceiling_ratio_output": med["ceiling256"] / med["out256"],
            "torch_ratio_output": med["torch64"] / med["out64"] if torch_ok else None,
            "torch_ratio": med["torch64"] / med["run64"] if torch_ok else None,
            "torch_ratio_cpu": cpu["torch64"] / cpu["run64"] if torch_ok else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ceiling", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--torch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--run", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--run-output", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ceiling:
        print(*ceiling_seconds(args.ceiling))
        return
    if args.run:
        print(*run_in_child(args.run))
        return
    if args.run_output:
        print(*run_in_child(args.run_output, output=True))
        return
    if args.torch:
        import torch
        print(*torch_seconds(args.torch, args.threads or torch.get_num_threads()))
        return
    print(f"Whole run vs ceiling and PyTorch: {DEPTH} hidden layers, {SEEDS} seeds, {EPOCHS} epochs, "
          f"batch {BATCH}, digits, ReLU, {CPUS} threads (median of {args.rounds} alternating rounds)")
    res = measure(args.rounds)
    report(res)


def report(res: dict) -> None:
    m, c = res["median"], res["cpu"]
    print(f"   width 256: ceiling {m['ceiling256']:.3f} s, whole `initreport run` {m['run256']:.3f} s: "
          f"ceiling/run = {res['ceiling_ratio']:.2f}  [{'PASS' if res['ceiling_ratio'] >= 0.7 else 'FAIL'}: ≥ 0.7]")
    print(f"              CPU time: ceiling {c['ceiling256']:.2f} s, run {c['run256']:.2f} s: "
          f"ceiling/run = {res['ceiling_ratio_cpu']:.2f} (steadier than wall time on a shared machine)")
    if res["torch_ratio"] is None:
        print("   width 64: PyTorch not installed (pip install torch==2.13.0)")
    else:
        print(f"   width  64: PyTorch eager (better thread setting) {m['torch64']:.3f} s, whole `initreport run` "
              f"{m['run64']:.3f} s: PyTorch/run = {res['torch_ratio']:.2f}×  "
              f"[{'PASS' if res['torch_ratio'] >= 6 else 'FAIL'}: ≥ 6×]")
        print(f"              CPU time: PyTorch {c['torch64']:.2f} s, run {c['run64']:.2f} s: "
              f"PyTorch/run = {res['torch_ratio_cpu']:.2f}×")
    line = (f"   with --output (every statistic at every checkpoint, every epoch evaluated for the curves; no target): "
            f"width 256 {m['out256']:.3f} s, ceiling/run = {res['ceiling_ratio_output']:.2f}")
    if res["torch_ratio_output"] is not None:
        line += f"; width 64 {m['out64']:.3f} s, PyTorch/run = {res['torch_ratio_output']:.2f}×"
    print(line)


if __name__ == "__main__":
    main()
