"""What happens inside the network: per-layer statistics taken at checkpoints.

All statistics are reduced here, in one place, from the per-layer records of one forward
and one backward pass on a fixed diagnostic batch. They are computed in float64 whatever
the training dtype. Each scalar statistic is an array over *all* members of the stack
(NaN for members that had diverged by then); histograms pool the surviving members.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, softmax_cross_entropy

# Statistics of every hidden layer, in the order the results list them. The README's "Result
# files" section defines each one in a sentence, so keep names in the field's words.
HIDDEN_STATS = (
    "activation_mean", "activation_std", "pre_activation_std", "saturated_fraction",
    "dead_fraction", "gradient_std", "weight_grad_norm", "update_ratio", "weight_norm",
    "weight_std", "weight_max_abs",
    "distance_from_init", "max_abs_change", "unit_spread", "relative_unit_spread", "rank",
)
OUTPUT_STATS = ("weight_grad_norm", "weight_norm", "distance_from_init", "max_abs_change", "bias_change")
# A hidden layer's entry of a checkpoint: its statistics, then its histograms (one per group).
LAYER_KEYS = HIDDEN_STATS + ("activation_hist", "gradient_hist")


def empty_statistics(n_members: int, n_hidden: int, n_groups: int) -> dict:
    """A checkpoint where no member was measured, shaped as :func:`layer_statistics` returns one:
    NaN for every statistic of every member, no histogram."""
    nan = np.full(n_members, np.nan)
    return {"hidden": [{k: [None] * n_groups if k.endswith("_hist") else nan for k in LAYER_KEYS}
                       for _ in range(n_hidden)],
            "output": {k: nan for k in OUTPUT_STATS}}


# A histogram is drawn from at most this many of a layer's values (a 40-bin histogram of 131,072
# values puts thousands in a typical bin); a width-256 layer of 8 seeds has 1,048,576 on the batch.
HIST_SAMPLE = 1 << 17


def strided_sample(values: np.ndarray, limit: int) -> np.ndarray:
    """At most about ``limit`` values, every k-th of the flattened array, k coprime with the last axis
    (the units), so the sample walks through every unit and every example rather than a fixed
    subset of units. All values when there are at most ``limit``."""
    flat = values.ravel()
    step = -(-flat.size // limit)
    if step <= 1:
        return flat
    units = values.shape[-1] if values.ndim else 1
    while np.gcd(step, units) != 1:
        step += 1
    return flat[::step]


def histogram(values: np.ndarray, lo: float, hi: float, bins: int, sample: int | None = None) -> dict:
    """Fraction of values per bin on [lo, hi], values outside clipped into the end bins.

    ``sample``: bin a strided sample of about that many values (:func:`strided_sample`) instead of
    all. Binned in the values' own dtype, unless [lo, hi] is too narrow for it to hold ``bins``
    distinct edges (the float32 gradients of a 40-layer net can be ~1e-40, subnormal): then
    in float64.
    """
    if sample is not None:
        values = strided_sample(values, sample)
    if values.dtype != np.float64 and not np.all(np.diff(np.linspace(lo, hi, bins + 1, dtype=values.dtype)) > 0):
        values = values.astype(np.float64)
    flat = np.clip(values.ravel(), lo, hi)
    counts, edges = np.histogram(flat, bins=bins, range=(lo, hi))
    total = counts.sum()
    return {"edges": edges, "fraction": counts / total if total else counts.astype(float)}


def _sample(values: np.ndarray, limit: int = 65536) -> np.ndarray:
    """An evenly strided subsample: percentiles of a million values need not read them all."""
    flat = values.ravel()
    return flat[:: max(1, flat.size // limit)]


def activation_range(act: Activation, values: np.ndarray) -> tuple[float, float]:
    """Fixed ranges for bounded activations (so histograms compare across inits)."""
    if act.name == "tanh":
        return -1.0, 1.0
    if act.name == "sigmoid":
        return 0.0, 1.0
    sample = _sample(values)
    lo = min(0.0, float(np.percentile(sample, 0.5)))
    hi = float(np.percentile(sample, 99.5))
    return lo, hi if hi > lo else lo + 1.0


def symmetric_range(values: np.ndarray) -> tuple[float, float]:
    m = float(np.percentile(np.abs(_sample(values)), 99.5))
    m = m if m > 0 and np.isfinite(m) else 1.0
    return -m, m


def unit_spread(w: np.ndarray, want_gram: bool = False):
    """Largest distance between two units' incoming weight vectors (columns of W), per member.

    Computed from the differences D = W − w₁1ᵀ to the first column, so units that are identical to
    the bit give exactly 0 (a Gram matrix of W itself would leave rounding noise). ``want_gram``:
    also return WᵀW, recovered from DᵀD as DᵀD + c1ᵀ + 1cᵀ − s (c = Wᵀw₁, s = w₁ᵀw₁) without a second
    product; its rounding error (~1e-16 of ‖W‖²) is far below the rank tolerance (~1e-9 of σ_max²).
    """
    w1 = w[:, :, :1]
    d = w - w1
    gram = np.matmul(d.transpose(0, 2, 1), d)
    if want_gram:
        c = np.matmul(w.transpose(0, 2, 1), w1)                # (members, units, 1): w_i · w₁
        s = np.matmul(w1.transpose(0, 2, 1), w1)               # (members, 1, 1): w₁ · w₁
        gram_w = gram + c
        gram_w += c.transpose(0, 2, 1)
        gram_w -= s
    sq = np.einsum("mii->mi", gram).copy()
    # sq_i + sq_j − 2·G_ij, rounded as written (×2 is exact), in place; max then clip = clip then max.
    dist2 = sq[:, :, None] + sq[:, None, :]
    gram *= 2
    dist2 -= gram
    spread = np.sqrt(np.clip(dist2.max(axis=(1, 2)), 0, None))
    return (spread, gram_w) if want_gram else spread


RANK_EPS = float(np.finfo(np.float32).eps)


def numerical_rank(w: np.ndarray, gram: np.ndarray | None = None) -> np.ndarray:
    """Rank of each member's kernel (members, fan_in, fan_out), given in float64: the number of
    singular values above σ_max · max(fan_in, fan_out) · ε(float32), NumPy's ``matrix_rank``
    tolerance for the float32 weights the network trains.

    From the float64 Gram matrix G (k × k, k the smaller side), whose eigenvalues are the squared
    singular values. Most kernels have full rank, which one Cholesky factorisation proves:
    G − 1.01·t·I is positive definite only if every σ² exceeds t, and t (from ‖G‖∞ ≥ σ_max²) is at
    least the squared tolerance. Otherwise the eigenvalues of G are counted. Both are exact to far
    below the tolerance (relative error ~1e-14 against 1e-9), and about 2.5× faster than an SVD.
    Every member is computed from its own slice alone. ``gram``: WᵀW when fan_out ≤ fan_in (or WWᵀ
    otherwise), already computed (``unit_spread`` gives it).
    """
    m, fan_in, fan_out = w.shape
    if gram is not None:
        g = gram
    else:
        g = np.matmul(w.transpose(0, 2, 1), w) if fan_out <= fan_in else np.matmul(w, w.transpose(0, 2, 1))
    k = g.shape[-1]
    scale = (max(fan_in, fan_out) * RANK_EPS) ** 2
    bound = np.abs(g).sum(axis=2).max(axis=1)        # ‖G‖∞ ≥ its largest eigenvalue
    out = np.empty(m)
    for i in range(m):
        if 0 < bound[i] < np.inf:
            h = g[i].copy()
            h.flat[::k + 1] -= 1.01 * scale * bound[i]
            try:
                np.linalg.cholesky(h)
                out[i] = k
                continue
            except np.linalg.LinAlgError:
                pass
        lam = np.linalg.eigvalsh(g[i])              # ascending
        out[i] = np.count_nonzero(lam > lam[-1] * scale)
    return out


def _fill(values: np.ndarray, members: np.ndarray, n_members: int) -> np.ndarray:
    full = np.full(n_members, np.nan)
    full[members] = values
    return full


def weight_statistics(weights, biases, w0, b0) -> list[dict]:
    """The statistics of each layer that depend on the weights alone, per member (rows).

    Every number is computed from one member's slices only, so a stack can be cut into blocks
    of members computed in parallel threads with the same results (``layer_statistics``'s
    ``blocks``). ``w0``/``b0`` None: the weights are the initial ones (epoch 0), so every change
    is exactly 0 (what subtracting them would give) and is not computed.
    """
    n_hidden = len(weights) - 1
    out = []
    zero = np.zeros(len(weights[0]))
    for l in range(n_hidden + 1):
        w = weights[l].astype(np.float64)
        norm_w = np.sqrt((w * w).sum(axis=(1, 2)))
        if w0 is None:
            s = {"weight_norm": norm_w, "distance_from_init": zero.copy(), "max_abs_change": zero.copy()}
        else:
            change = w - w0[l].astype(np.float64)
            s = {"weight_norm": norm_w,
                 "distance_from_init": np.sqrt((change * change).sum(axis=(1, 2))),
                 "max_abs_change": np.abs(change).max(axis=(1, 2))}
            del change
        if l == n_hidden:
            s["bias_change"] = zero.copy() if b0 is None else \
                np.abs(biases[l].astype(np.float64) - b0[l].astype(np.float64)).max(axis=(1, 2))
        else:
            mean_norm = norm_w / np.sqrt(w.shape[2])
            # For a kernel with no more units than inputs, the rank's Gram matrix WᵀW comes with
            # the unit spread's; a wider one (the first layer) has its own, smaller, WWᵀ.
            if w.shape[2] <= w.shape[1]:
                spread, gram = unit_spread(w, want_gram=True)
            else:
                spread, gram = unit_spread(w), None
            s["weight_std"] = w.std(axis=(1, 2))
            s["weight_max_abs"] = np.abs(w).max(axis=(1, 2))
            s["unit_spread"] = spread
            # spread relative to a typical unit's weight-vector length (0 when all weights are 0)
            s["relative_unit_spread"] = np.where(mean_norm > 0, spread / np.where(mean_norm > 0, mean_norm, 1), 0.0)
            s["rank"] = numerical_rank(w, gram)
        out.append(s)
    return out


class _Done:
    """The result of a call made at once (``submit`` when there are no threads)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _inline(fn, *args):
    return _Done(fn(*args))


def _add_weight_statistics(hidden: list, out: dict, weight_parts: list, norms: list, lr) -> None:
    """Each layer's weight-only statistics (joined over the blocks of members), its weight
    gradient norm, and the update ratio lr·‖dW‖/‖W‖ made of both."""
    n_hidden = len(hidden)
    parts = [p.result() for p in weight_parts]
    lr64 = lr.astype(np.float64).reshape(-1)
    for l in range(n_hidden + 1):
        target = out if l == n_hidden else hidden[l]
        target.update({k: np.concatenate([p[l][k] for p in parts]) for k in parts[0][l]})
        grad = norms[l].result()
        target["weight_grad_norm"] = grad
        if l < n_hidden:
            norm_w = target["weight_norm"]
            target["update_ratio"] = np.where(norm_w > 0, lr64 * grad / np.where(norm_w > 0, norm_w, 1), np.nan)


# Over 80 lines on purpose: one pass over the layers that fills every statistic from the same
# forward/backward buffers; split up, each part would recompute or carry them.
def layer_statistics(weights, biases, w0, b0, lr, x, y, act: Activation, bins: int,
                     *, members: np.ndarray, n_members: int, groups: list, submit=None,
                     blocks=None, histograms: bool = True, weight_stats: bool = True) -> dict:
    """Per-layer statistics of the stack on the diagnostic batch (x, y).

    ``w0``/``b0`` are the initial weights, or None at epoch 0 (the weights are the initial ones).
    ``histograms=False``: the per-layer histograms are None (the trainer takes them at epoch 0 only).
    ``weight_stats=False``: only the statistics of the passes themselves (activations and
    back-propagated gradients); those of the weights and weight gradients are NaN.
    ``members`` are the original indices of the surviving members (the rows of the arrays);
    ``groups`` lists original member indices whose histograms are pooled together (one
    configuration's seeds). Returns {"hidden": [per hidden layer: {stat: array(n_members),
    "activation_hist": [per group], "gradient_hist": [per group]}], "output": {stat: array}}.

    One forward and one backward pass, in the training dtype (what training sees), with the
    statistics of each layer reduced (in float64) as soon as its arrays exist; only the
    activations (and the arrays a pending reduction still reads) are kept between the passes.
    ``submit(fn, *args)`` (e.g. ``MemberThreads.submit``) runs the reductions on other threads
    while this one goes on with the passes, and the weight-only statistics over ``blocks`` of
    members; each number is computed by the same code from the same array either way.
    """
    run = submit or _inline
    n = len(weights[0])
    blocks = blocks or [(0, n)]
    weight_parts = [] if not weight_stats else [run(weight_statistics, [w[a:b] for w in weights], [v[a:b] for v in biases],
                        None if w0 is None else [w[a:b] for w in w0],
                        None if b0 is None else [v[a:b] for v in b0]) for a, b in blocks]
    group_rows = [np.flatnonzero(np.isin(members, g)) for g in groups]
    f64 = {"dtype": np.float64}
    nan = np.full(len(members), np.nan)
    n_hidden = len(weights) - 1
    hidden = [dict() for _ in range(n_hidden)]

    def hists(values, value_range):
        if not histograms:
            return [None] * len(group_rows)
        out = []
        for r in group_rows:
            if not r.size:
                out.append(None)
                continue
            # A group's members are contiguous rows (one configuration's seeds): a view, not a copy.
            pooled = values[r[0]:r[-1] + 1] if r[-1] - r[0] + 1 == r.size else values[r]
            out.append(histogram(pooled, *value_range(pooled), bins, sample=HIST_SAMPLE))
        return out

    def forward_stats(z, a):
        sat = act.saturated(a)
        return {"pre_activation_std": z.std(axis=(1, 2), **f64),
                "activation_mean": a.mean(axis=(1, 2), **f64),
                "activation_std": a.std(axis=(1, 2), **f64),
                "saturated_fraction": sat.mean(axis=(1, 2)) if sat is not None else nan,
                # Dead: z ≤ 0 (so a ≤ 0) on every example of the batch.
                "dead_fraction": np.all(a <= 0, axis=1).mean(axis=1) if act.can_die else nan,
                "activation_hist": hists(a, lambda v: activation_range(act, v))}

    def gradient_stats(dz):
        return {"gradient_std": dz.std(axis=(1, 2), **f64), "gradient_hist": hists(dz, symmetric_range)}

    def grad_norm(a_prev, dz):
        g_w = np.matmul(a_prev.T if a_prev.ndim == 2 else a_prev.transpose(0, 2, 1), dz).astype(np.float64)
        return np.sqrt((g_w * g_w).sum(axis=(1, 2)))

    # Forward: pre-activation and activation statistics, layer by layer.
    pending = []
    acts = [x]
    a = x
    for l in range(n_hidden):
        z = np.matmul(a, weights[l])
        z += biases[l]
        a = act.forward(z)
        pending.append((hidden[l], run(forward_stats, z, a)))
        del z                       # only the activations are kept (and z until its reduction ran)
        acts.append(a)
    logits = np.matmul(a, weights[n_hidden])
    logits += biases[n_hidden]
    _, dz = softmax_cross_entropy(logits, np.broadcast_to(y, logits.shape[:-1]))
    del logits

    # Backward: gradient statistics; the weights' own statistics come from weight_statistics.
    out = {}
    norms = [None] * (n_hidden + 1)
    for l in range(n_hidden, -1, -1):
        if weight_stats:
            norms[l] = run(grad_norm, acts[l], dz)
        if l > 0:
            da = np.matmul(dz, weights[l].transpose(0, 2, 1))
            dz = act.backprop_(da, acts[l])
            pending.append((hidden[l - 1], run(gradient_stats, dz)))
            acts[l] = None          # no longer needed here

    for target, future in pending:
        target.update(future.result())
    if weight_stats:
        _add_weight_statistics(hidden, out, weight_parts, norms, lr)

    hidden = [{k: (h[k] if k.endswith("_hist") else _fill(h.get(k, nan), members, n_members)) for k in LAYER_KEYS}
              for h in hidden]
    return {"hidden": hidden, "output": {k: _fill(out.get(k, nan), members, n_members) for k in OUTPUT_STATS}}


def blocked_layer_statistics(weights, biases, w0, b0, lr, x, y, act: Activation, bins: int, *,
                             members: np.ndarray, n_members: int, groups: list, map_blocks, blocks: list,
                             weight_stats: bool = True) -> dict:
    """:func:`layer_statistics` without histograms, its passes cut into ``blocks`` of members that run
    in parallel (``map_blocks(fn, n)`` calls fn(a, b) for each block (a, b), as ``MemberThreads.map``
    with ``MemberThreads.blocks``), each block with its own reductions.

    Every statistic is computed from one member's slices only, so the numbers are those of one
    block of all the members; with no histogram to pool over a configuration's seeds, nothing
    needs the whole stack at once, and the passes' products use every thread instead of one.
    """
    def block(a, b):
        cut = (lambda arrays: None if arrays is None else [v[a:b] for v in arrays])  # noqa: E731
        return layer_statistics(cut(weights), cut(biases), cut(w0), cut(b0), lr[a:b], x, y, act, bins,
                                members=members[a:b], n_members=n_members, groups=groups,
                                histograms=False, weight_stats=weight_stats)

    parts = map_blocks(block, len(members))
    merged = parts[0]
    for part, (a, b) in zip(parts[1:], blocks[1:]):
        rows = members[a:b]
        for target, source in zip(merged["hidden"] + [merged["output"]], part["hidden"] + [part["output"]]):
            for k, v in source.items():
                if not k.endswith("_hist"):
                    target[k][rows] = v[rows]
    return merged

