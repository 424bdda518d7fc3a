"""Where sgd_step's time goes: each operation of one training step, timed alone (one BLAS thread).

    python benchmarks/profile_step.py [--width 256] [--members 8] [--batch 128] [--depth 10]

Replays the operations of initreport.network.sgd_step (relu, momentum, packed parameters [W; b]
and inputs with a column of ones) on the same shapes and prints the seconds per step spent in
each kind: forward matmul, weight-gradient matmul ([A 1]ᵀ·dZ on transposed views, whose last
row is the bias gradient), input-gradient matmul (dZ·Wᵀ on transposed views), elementwise, and
the minibatch gather. Compares the transposed-view matmuls with the same
products on contiguous copies.
"""
import argparse
import time
from collections import defaultdict

import numpy as np
from threadpoolctl import threadpool_limits

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from initreport.activations import relu_  # noqa: E402
from initreport.network import keep_heap  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    keep_heap()                 # as the engine does
    M, B, W = a.members, a.batch, a.width
    sizes = [64] + [W] * a.depth + [10]
    rng = np.random.default_rng(0)
    f32 = np.float32
    ws = [(rng.standard_normal((M, i, o)) / np.sqrt(i)).astype(f32) for i, o in zip(sizes[:-1], sizes[1:])]
    ps = [np.concatenate([w, np.zeros((M, 1, w.shape[2]), f32)], axis=1) for w in ws]   # packed [W; b]
    vs = [np.zeros_like(p) for p in ps]
    x = np.concatenate([rng.standard_normal((1438, 64)).astype(f32), np.ones((1438, 1), f32)], axis=1)
    y = rng.integers(0, 10, 1438)
    lr = np.full((M, 1, 1), 0.01, f32)
    bufs = [np.ones((M, B, o + 1), f32) for o in sizes[1:-1]]
    t = defaultdict(float)
    ew = "elementwise (relu, softmax, lr, mask, SGD update)"

    def timed(kind, fn, *args, **kw):
        t0 = time.perf_counter()
        r = fn(*args, **kw)
        t[kind] += time.perf_counter() - t0
        return r

    with threadpool_limits(1, "blas"):
        for rep in range(a.reps + 2):
            if rep == 2:
                t.clear()
            idx = np.stack([rng.permutation(1438)[:B] for _ in range(M)])
            xb = timed("gather x[idx]", lambda: x[idx])
            acts = [xb]
            act = xb
            for l in range(len(ps) - 1):
                z = timed("matmul forward  [A 1]·[W; b]", np.matmul, act, ps[l], out=bufs[l][:, :, :-1])
                timed(ew, relu_, z)
                act = bufs[l]
                acts.append(act)
            z = timed("matmul forward  [A 1]·[W; b]", np.matmul, act, ps[-1])
            dz = z - z.max(-1, keepdims=True)
            np.exp(dz, out=dz)
            dz /= dz.sum(-1, keepdims=True)
            timed(ew, np.multiply, dz, lr, out=dz)
            for l in range(len(ps) - 1, -1, -1):
                ap_ = acts[l]
                fan_in = ps[l].shape[1] - 1
                if l > 0:
                    da = timed("matmul input grad dZ·Wᵀ (transposed view)", np.matmul, dz,
                               ps[l][:, :fan_in].transpose(0, 2, 1))
                gw = timed("matmul weight grad [A 1]ᵀ·dZ (transposed view)", np.matmul, ap_.transpose(0, 2, 1), dz)
                if l > 0:
                    timed(ew, lambda: np.multiply(da, ap_[:, :, :fan_in] > 0, out=da))
                    # the same products on contiguous operands, for comparison (not part of the step)
                    at = np.ascontiguousarray(ap_.transpose(0, 2, 1))
                    wt = np.ascontiguousarray(ps[l][:, :fan_in].transpose(0, 2, 1))
                    timed("(compare) [A 1]ᵀ·dZ with contiguous [A 1]ᵀ", np.matmul, at, dz)
                    timed("(compare) dZ·Wᵀ with contiguous Wᵀ", np.matmul, dz, wt)
                    dz = da

                def update():
                    vs[l].__imul__(0.9)
                    vs[l].__isub__(gw)
                    ps[l].__iadd__(vs[l] * 0)   # parameters kept fixed so every rep is alike
                timed(ew, update)
    step = sum(v for k, v in t.items() if not k.startswith("(compare)"))
    print(f"sgd_step-like step, {M} members × B{B}, depth {a.depth}, width {W}: {1e3 * step / a.reps:.2f} ms/step")
    for k, v in sorted(t.items(), key=lambda kv: -kv[1]):
        share = "" if k.startswith("(compare)") else f"{100 * v / step:5.1f}%"
        print(f"  {k:<55} {1e3 * v / a.reps:8.3f} ms/step  {share}")


if __name__ == "__main__":
    main()
