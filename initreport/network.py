"""A multilayer perceptron whose every seed trains at once, as one stack of arrays.

A *member* is one network: an initialiser, a seed and a learning rate. All members of a
stack share the architecture (depth, width, activation) and the data; their weights are
stored as arrays of shape ``(members, fan_in, fan_out)``, so each layer is a single batched
matmul for the whole stack instead of a Python loop over networks. Members never mix:
slice ``m`` of every array is computed from slice ``m`` only, so one member's result does not
depend on which others share its stack (a test checks this to the bit).

Notation (as in the notes): ``Z_l = A_{l-1} W_l + b_l``, ``A_l = g(Z_l)``; the output layer is
a softmax with cross-entropy loss. Inputs are row vectors (batch, features) and kernels are
(fan_in, fan_out), the Keras Dense convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import initializers
from .activations import Activation, softmax_cross_entropy, softmax_cross_entropy_grad_
from .diagnostics import HIST_SAMPLE, blocked_layer_statistics, layer_statistics
from .threads import MemberThreads, keep_heap  # noqa: F401  (part of the engine's interface)


@dataclass(frozen=True)
class Member:
    """One network of a stack."""

    init: str
    seed: int
    lr: float
    init_params: tuple = ()          # sorted (name, value) pairs passed to the initialiser
    bias: float | None = None        # None: the initialiser's default bias (0, or the constant)

    def rngs(self):
        """Independent generators for the weights and the minibatch order of this seed.

        The same seed gives the same data order whatever the initialiser, so comparisons
        between initialisers at one seed are paired.
        """
        return np.random.default_rng([self.seed, 0]), np.random.default_rng([self.seed, 1])


def layer_sizes(n_features: int, depth: int, width: int, n_classes: int) -> list[int]:
    """[n_features, width × depth, n_classes]: ``depth`` hidden layers and one output layer."""
    return [n_features] + [width] * depth + [n_classes]


def init_stack(members: list[Member], sizes: list[int], dtype, pool: "MemberThreads | None" = None) -> tuple[list, list]:
    """Weights (members, fan_in, fan_out) and biases (members, 1, fan_out) of every layer.

    Each member draws from its own generator, layer by layer (weights, then a random bias if its
    initialiser has one), so blocks of members can be drawn on ``pool``'s threads with the same
    numbers as in one thread.
    """
    def block(a, b):
        weights, biases = [], []
        rngs = [m.rngs()[0] for m in members[a:b]]
        layers = [[] for _ in sizes[1:]]
        for m, rng in zip(members[a:b], rngs):
            for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                w = initializers.initialize(m.init, rng, fan_in, fan_out, np.float64, **dict(m.init_params))
                drawn = initializers.draw_bias(m.init, rng, fan_in, fan_out) if m.bias is None else None
                if drawn is not None:        # a random default bias (PyTorch's nn.Linear)
                    layers[l].append((w, drawn[None, :]))
                    continue
                bias = initializers.get_info(m.init).bias(**dict(m.init_params)) if m.bias is None else m.bias
                layers[l].append((w, np.full((1, fan_out), bias)))
        # A weight too large for dtype (a huge gain) becomes Inf: recorded as divergence at epoch 0.
        with np.errstate(over="ignore"):
            for per_member in layers:
                weights.append(np.stack([w for w, _ in per_member]).astype(dtype))
                biases.append(np.stack([b for _, b in per_member]).astype(dtype))
        return weights, biases

    parts = [block(0, len(members))] if pool is None else pool.map(block, len(members))
    if len(parts) == 1:
        return parts[0]
    return ([np.concatenate([p[0][l] for p in parts]) for l in range(len(sizes) - 1)],
            [np.concatenate([p[1][l] for p in parts]) for l in range(len(sizes) - 1)])


# forward and forward_logits share their loop on purpose: forward is the readable reference
# (kept for backward and the gradient checks), forward_logits the in-place evaluation path;
# tests/test_network_paths.py checks the two give the same logits.
def forward(weights, biases, x, act: Activation):
    """Forward pass. Returns (logits, pre_activations, activations).

    ``activations[0]`` is the input; ``pre_activations[l]`` and ``activations[l + 1]`` belong to
    hidden layer l + 1. ``x`` is (B, d) shared by every member, or (members, B, d).
    """
    pre, acts = [], [x]
    a = x
    last = len(weights) - 1
    for l, (w, b) in enumerate(zip(weights, biases)):
        z = np.matmul(a, w)
        z += b
        if l == last:
            return z, pre, acts
        a = act.forward(z)
        pre.append(z)
        acts.append(a)
    raise ValueError("a network needs at least one layer")


def forward_logits(weights, biases, x, act: Activation):
    """The forward pass for evaluation: logits only, activations computed in place."""
    a = x
    last = len(weights) - 1
    for l, (w, b) in enumerate(zip(weights, biases)):
        z = np.matmul(a, w)
        z += b
        if l == last:
            return z
        a = act.forward_(z)


def backward(weights, pre, acts, dlogits, act: Activation):
    """Back-propagation. Returns (dW per layer, db per layer, dL/dZ per hidden layer).

    dW_l = A_{l-1}ᵀ dZ_l,  db_l = Σ_batch dZ_l,  dZ_{l-1} = (dZ_l W_lᵀ) ⊙ g'(Z_{l-1}).
    """
    n = len(weights)
    d_w, d_b, d_z = [None] * n, [None] * n, [None] * (n - 1)
    dz = dlogits
    for l in range(n - 1, -1, -1):
        a_prev = acts[l]
        if a_prev.ndim == 2:
            d_w[l] = np.matmul(a_prev.T, dz)
        else:
            d_w[l] = np.matmul(a_prev.transpose(0, 2, 1), dz)
        d_b[l] = dz.sum(axis=-2, keepdims=True)
        if l > 0:
            da = np.matmul(dz, weights[l].transpose(0, 2, 1))
            dz = da * act.grad(pre[l - 1], acts[l])
            d_z[l - 1] = dz
    return d_w, d_b, d_z


def pack(weights, biases) -> list:
    """Each layer's kernel and bias in one array (members, fan_in + 1, fan_out), the bias as its last
    row: the layout the training loop updates. :func:`unpack` gives views of the two parts."""
    return [np.concatenate([w, b], axis=1) for w, b in zip(weights, biases)]


def unpack(params) -> tuple[list, list]:
    """(kernels, biases) as views of packed parameters: writing to the one changes the other."""
    return [p[:, :-1] for p in params], [p[:, -1:] for p in params]


def with_ones(x) -> np.ndarray:
    """The inputs (n, d) with a column of ones appended (n, d + 1): the row that multiplies the bias."""
    return np.concatenate([x, np.ones(x.shape[:-1] + (1,), dtype=x.dtype)], axis=-1)


def activation_buffers(members: int, batch_size: int, params, dtype) -> list:
    """One (members, batch, width + 1) buffer per hidden layer of the packed ``params``, its last column
    ones, for :func:`step_views`."""
    return [np.ones((members, batch_size, p.shape[1]), dtype=dtype) for p in params[1:]]


def step_views(params, buffers, n_rows: int) -> tuple:
    """The views a step of ``n_rows`` examples reads and writes, made once and reused step after
    step (they are views of arrays updated in place): per hidden layer the activation buffer's
    first ``n_rows`` rows with and without the column of ones, its transpose, and per layer l > 0
    the kernel's transpose Wᵀ. Less Python between NumPy calls: less time holding the GIL, which
    the other block's thread waits for."""
    bufs = [b[:, :n_rows] for b in buffers[:len(params) - 1]]
    return ([b[:, :, :-1] for b in bufs], bufs, [b.transpose(0, 2, 1) for b in bufs],
            [None] + [p[:, :-1].transpose(0, 2, 1) for p in params[1:]])


def sgd_step(params, velocity, xb, yb, act: Activation, lr, momentum: float, views=None) -> None:
    """One minibatch step of SGD (with momentum if ``velocity`` is given), in place.

    The same maths as :func:`forward` + :func:`backward`, written for speed. ``params`` are packed
    (:func:`pack`): [W_l; b_l], and ``xb`` (members, B, d + 1) ends with a column of ones
    (:func:`with_ones`), so each layer's bias is added inside its matmul, its gradient
    Σ_batch dZ comes out of the weight-gradient matmul as the last row, and one update moves kernel
    and bias together: a third fewer NumPy calls per layer, which matters where the arrays are
    small (two threads stepping at once wait on each other's calls). Activations are computed in
    place into buffers (:func:`activation_buffers`) whose last column of ones feeds the next layer's
    bias; every derivative here can be read off A, so Z is never kept. ``views``: :func:`step_views`
    of these params and buffers for this batch size (made, with new buffers, when None).
    Each layer is updated as soon as its gradient and the gradient flowing below it are known.
    """
    last = len(params) - 1
    if views is None:
        views = step_views(params, activation_buffers(xb.shape[0], xb.shape[-2], params, xb.dtype), xb.shape[-2])
    outs, acts, acts_t, kernels_t = views
    a = xb
    for l in range(last):
        act.forward_(np.matmul(a, params[l], out=outs[l]))
        a = acts[l]
    # Back-propagation is linear in dL/dlogits: scaling it by each member's learning rate once gives
    # every layer's gradient already multiplied by it (lr·∇ instead of one scaling per layer).
    dz = softmax_cross_entropy_grad_(np.matmul(a, params[last]), yb)
    dz *= lr
    for l in range(last, -1, -1):
        if l > 0:
            da = np.matmul(dz, kernels_t[l])
            g = np.matmul(acts_t[l - 1], dz)
            dz = act.backprop_(da, outs[l - 1])
        else:
            g = np.matmul(xb.transpose(0, 2, 1), dz)
        if velocity is not None:
            v = velocity[l]
            v *= momentum
            v -= g
            params[l] += v
        else:
            params[l] -= g


def run_epoch(params, velocity, x1, y, order, batch_size: int, act: Activation,
              lr, momentum: float, threads: "MemberThreads | None" = None) -> np.ndarray:
    """One epoch of minibatch steps for every member, in place; returns the mask of members whose
    parameters are all still finite afterwards (divergence between evaluations).

    ``params``/``velocity`` are packed (:func:`pack`), ``x1`` the inputs with a column of ones
    (:func:`with_ones`). ``order`` (members, n) is each member's shuffle of the training set;
    minibatch ``k`` of member ``m`` is ``x1[order[m, k·B:(k+1)·B]]``. With ``threads``, the stack is
    cut into one contiguous block of members per thread and each block steps through the epoch on
    views of the same arrays (and checks its own members' parameters); blocks share nothing, so the
    numbers are the same as in one thread.
    """
    n = order.shape[1]
    starts = range(0, n, batch_size)

    def block(a, b, stop=None):
        ps = [p[a:b] for p in params]
        vs = [v[a:b] for v in velocity] if velocity is not None else None
        lr_ab, order_ab = lr[a:b], order[a:b]
        buffers = activation_buffers(b - a, min(batch_size, n), ps, x1.dtype)
        views = {}                     # batch size → step_views (the full batch and the last one)
        for start in starts:
            if stop is not None and stop.is_set():
                return
            idx = order_ab[:, start:start + batch_size]
            rows = idx.shape[1]
            if rows not in views:
                views[rows] = step_views(ps, buffers, rows)
            sgd_step(ps, vs, x1[idx], y[idx], act, lr_ab, momentum, views=views[rows])
        return finite_params(ps)

    if threads is None:
        return block(0, len(order))
    return np.concatenate(threads.map(block, len(order), interruptible=True))


def finite_params(params) -> np.ndarray:
    """Mask of the members whose packed parameters are all finite."""
    finite = np.ones(len(params[0]), dtype=bool)
    for p in params:
        finite &= np.isfinite(p).all(axis=(1, 2))
    return finite


def evaluate(weights, biases, x, y, act: Activation):
    """Loss and accuracy of every member on (x, y), as float64 arrays of shape (members,)."""
    with np.errstate(all="ignore"):
        logits = forward_logits(weights, biases, x, act)
        loss, _ = softmax_cross_entropy(logits, np.broadcast_to(y, logits.shape[:-1]))
        accuracy = (logits.argmax(axis=-1) == y).mean(axis=-1)
    loss = loss.astype(np.float64)
    loss[~np.isfinite(loss)] = np.nan
    return loss, accuracy.astype(np.float64)


# Evaluation schedule. Evaluating the full training and test sets costs a forward pass over
# both, about 0.4 of a training epoch on the digits; at every epoch of a long run that is
# nearly half the work again. Up to EVAL_EVERY_EPOCH_UP_TO epochs (every run of the built-in
# profiles) every epoch is evaluated; beyond, a fixed schedule of at most about EVAL_POINTS
# epochs: a geometric grid (dense at the start, where the loss moves fastest) joined with an
# even grid (so late training is covered too), always with 0, the checkpoints and the last.
EVAL_EVERY_EPOCH_UP_TO = 64
EVAL_POINTS = 64


EVAL_SCHEDULE = (
    f"Loss and accuracy are measured on the full training and test sets at initialisation and after every "
    f"epoch, for runs of up to {EVAL_EVERY_EPOCH_UP_TO} epochs (every run of the built-in profiles). A longer "
    f"run is measured at about {EVAL_POINTS} epochs: a geometric grid from epoch 1 to the last "
    f"({EVAL_POINTS * 3 // 4} points, dense at the start, where the loss moves fastest), an even grid "
    f"({EVAL_POINTS // 4 + 1} points), the checkpoints and the last epoch; its curves join those epochs. "
    "The final loss and accuracy are always those of the last epoch, on the full sets. Divergence (a loss or "
    "weight that became NaN or infinite) is checked after every epoch. The per-layer statistics (activations, "
    "back-propagated gradients and weights, on a fixed batch of the first 512 training examples) are taken at "
    "initialisation, at the extra checkpoints a run asks for and after the last epoch; the per-layer "
    "histograms at initialisation only, where the figures draw them, each from an evenly strided sample of "
    f"up to {HIST_SAMPLE:,} of the layer's values that passes through every unit.")


def eval_epochs(epochs: int, checkpoints=()) -> tuple:
    """The epochs at which the training and test sets are evaluated (sorted, with 0 and the last)."""
    if epochs <= EVAL_EVERY_EPOCH_UP_TO:
        return tuple(range(epochs + 1))
    geometric = np.unique(np.round(np.geomspace(1, epochs, EVAL_POINTS * 3 // 4)).astype(int))
    even = np.unique(np.round(np.linspace(0, epochs, EVAL_POINTS // 4 + 1)).astype(int))
    chosen = {0, epochs, *(int(e) for e in geometric), *(int(e) for e in even),
              *(int(c) for c in checkpoints if 0 <= c <= epochs)}
    return tuple(sorted(chosen))


@dataclass
class TrainResult:
    """Raw per-member outcome of a stack; ``diagnostics`` reduces it to statistics."""

    members: list[Member]
    sizes: list[int]
    epochs: int
    train_loss: np.ndarray          # (members, epochs + 1), NaN after divergence; column 0 = at init
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    diverged_at: np.ndarray         # (members,) epoch of divergence, -1 if never
    evaluated: tuple = ()           # epochs whose columns above were measured (see eval_epochs)
    checkpoints: dict = field(default_factory=dict)   # epoch -> per-layer statistics
    grid_classes: np.ndarray | None = None            # (members, G) predicted class on a grid (2-D sets)
    final_weights: list | None = None                 # only when asked (tests)
    initial_weights: list | None = None


def train_stack(
    members: list[Member],
    data,
    *,
    activation: Activation,
    depth: int,
    width: int,
    epochs: int,
    batch_size: int,
    momentum: float = 0.0,
    dtype=np.float32,
    checkpoints=(0,),
    diag_samples: int = 512,
    hist_bins: int = 40,
    keep_weights: bool = False,
    groups: list | None = None,
    grid: np.ndarray | None = None,
    threads: int = 1,
    on_epoch=None,
    eval_at=None,
    diagnostics: str = "all",
) -> TrainResult:
    """Train every member with minibatch SGD (optional momentum) and record what happens.

    A member whose loss or weights become NaN/Inf is recorded as diverged at that epoch and
    removed from the stack; the others go on. Epoch 0 is the state at initialisation.
    ``threads`` > 1 trains and evaluates blocks of members in parallel threads (see
    :class:`MemberThreads`); the numbers do not depend on it. The caller should hold BLAS to
    one thread (``runner.run_stack`` does). ``on_epoch(epoch)`` is called after each epoch.
    ``eval_at``: the epochs to evaluate the full training and test sets at, besides 0, the
    checkpoints and the last (default: :func:`eval_epochs`; ``()`` for only those). Between
    evaluations, divergence is detected from the weights after every epoch. ``diagnostics="table"``:
    at the checkpoints, only the statistics of the activations and back-propagated gradients
    (what ``initreport run`` prints), no weight statistics or histograms.
    """
    keep_heap()
    with MemberThreads(threads) as pool:
        return _train_stack(members, data, activation=activation, depth=depth, width=width, epochs=epochs,
                            batch_size=batch_size, momentum=momentum, dtype=dtype, checkpoints=checkpoints,
                            diag_samples=diag_samples, hist_bins=hist_bins, keep_weights=keep_weights,
                            groups=groups, grid=grid, pool=pool, on_epoch=on_epoch,
                            eval_at=eval_at, full=diagnostics != "table")


# One function on purpose (~120 lines): the fused training loop keeps every buffer and step of
# an epoch in one scope so the in-place arrays are reused without being passed around.
def _train_stack(members, data, *, activation, depth, width, epochs, batch_size, momentum, dtype,
                 checkpoints, diag_samples, hist_bins, keep_weights, groups, grid, pool: MemberThreads,
                 on_epoch=None, eval_at=None, full=True):
    dtype = np.dtype(dtype)
    sizes = layer_sizes(data.n_features, depth, width, data.n_classes)
    x_train = np.ascontiguousarray(data.x_train, dtype=dtype)
    y_train = np.asarray(data.y_train, dtype=np.int64)
    x_test = np.ascontiguousarray(data.x_test, dtype=dtype)
    y_test = np.asarray(data.y_test, dtype=np.int64)
    n_members, n_train = len(members), len(y_train)
    groups = groups if groups is not None else [np.arange(n_members)]
    # The diagnostic batch: a fixed slice of the training set, the same for every member.
    diag_x, diag_y = x_train[:diag_samples], y_train[:diag_samples]

    w0, b0 = init_stack(members, sizes, dtype, pool)
    params = pack(w0, b0)                   # trained in place; weights/biases are views of it
    weights, biases = unpack(params)
    x1_train = with_ones(x_train)
    lr = np.array([m.lr for m in members], dtype=dtype).reshape(-1, 1, 1)
    velocity = [np.zeros_like(p) for p in params] if momentum else None
    shuffle_rngs = [m.rngs()[1] for m in members]

    shape = (n_members, epochs + 1)
    result = TrainResult(
        members=list(members), sizes=sizes, epochs=epochs,
        train_loss=np.full(shape, np.nan), train_accuracy=np.full(shape, np.nan),
        test_loss=np.full(shape, np.nan), test_accuracy=np.full(shape, np.nan),
        diverged_at=np.full(n_members, -1, dtype=np.int64),
        evaluated=(eval_epochs(epochs, checkpoints) if eval_at is None else
                   tuple(sorted({0, epochs, *checkpoints, *(e for e in eval_at if 0 <= e <= epochs)}))),
    )
    active = np.arange(n_members)          # original indices of the members still training
    checkpoint_set = set(checkpoints)
    evaluated = set(result.evaluated)

    def record(epoch, weights_ok):
        """Evaluate, detect divergence, take a checkpoint; returns the mask of members kept.
        ``weights_ok``: the members whose weights are all finite."""
        def block_eval(a, b):
            ws, bs_ = [w[a:b] for w in weights], [v[a:b] for v in biases]
            return (*evaluate(ws, bs_, x_train, y_train, activation), *evaluate(ws, bs_, x_test, y_test, activation))

        parts = pool.map(block_eval, len(active))
        tr_loss, tr_acc, te_loss, te_acc = (np.concatenate([p[i] for p in parts]) for i in range(4))
        finite = np.isfinite(tr_loss) & weights_ok
        result.train_loss[active, epoch] = np.where(finite, tr_loss, np.nan)
        result.train_accuracy[active, epoch] = np.where(finite, tr_acc, np.nan)
        result.test_loss[active, epoch] = np.where(finite, te_loss, np.nan)
        result.test_accuracy[active, epoch] = np.where(finite, te_acc, np.nan)
        result.diverged_at[active[~finite]] = epoch
        if epoch in checkpoint_set and finite.any():
            keep = np.flatnonzero(finite)
            # Only the finite members are measured; no copy when that is all of them.
            sub = (lambda arrays: arrays) if finite.all() else (lambda arrays: [a[keep] for a in arrays])  # noqa: E731
            with np.errstate(all="ignore"):
                # At epoch 0 the weights are the initial ones: no change to measure (None). The
                # per-layer histograms are taken at epoch 0 only: the figures and the Explore page
                # draw the distributions at initialisation, and nothing reads them later.
                args = (sub(weights), sub(biases), sub(w0) if epoch else None, sub(b0) if epoch else None,
                        lr[keep], diag_x, diag_y, activation, hist_bins)
                common = {"members": active[keep], "n_members": n_members, "groups": groups, "weight_stats": full}
                if full and epoch == 0:      # histograms pool a configuration's seeds: one pass over all
                    result.checkpoints[epoch] = layer_statistics(
                        *args, **common, submit=pool.submit, blocks=pool.blocks(len(keep)), histograms=True)
                else:
                    result.checkpoints[epoch] = blocked_layer_statistics(
                        *args, **common, map_blocks=pool.map, blocks=pool.blocks(len(keep)))
        return finite

    def drop(keep_mask):
        nonlocal params, weights, biases, w0, b0, lr, velocity, active, shuffle_rngs
        keep = np.flatnonzero(keep_mask)
        params = [p[keep] for p in params]
        weights, biases = unpack(params)
        w0 = [w[keep] for w in w0]
        b0 = [b[keep] for b in b0]
        lr = lr[keep]
        if momentum:
            velocity = [v[keep] for v in velocity]
        shuffle_rngs = [shuffle_rngs[i] for i in keep]
        active = active[keep]

    finite = record(0, finite_params(params))
    if not finite.all():
        drop(finite)
    if keep_weights:
        result.initial_weights = [w.copy() for w in w0]

    with np.errstate(all="ignore"):   # overflow is an outcome here, recorded as divergence
        for epoch in range(1, epochs + 1):
            if len(active) == 0:
                break
            order = np.stack([rng.permutation(n_train) for rng in shuffle_rngs])
            finite = run_epoch(params, velocity, x1_train, y_train, order, batch_size,
                               activation, lr, momentum, pool)
            if epoch in evaluated:
                finite = record(epoch, finite)
            else:
                result.diverged_at[active[~finite]] = epoch
            if not finite.all():
                drop(finite)
            if on_epoch is not None:
                on_epoch(epoch)

    if grid is not None:
        result.grid_classes = np.full((n_members, len(grid)), -1, dtype=np.int64)
        if len(active):
            with np.errstate(all="ignore"):
                logits, _, _ = forward(weights, biases, np.asarray(grid, dtype=dtype), activation)
            result.grid_classes[active] = logits.argmax(axis=-1)
    if keep_weights:
        final = [np.full((n_members,) + w.shape[1:], np.nan) for w in weights]
        for f, w in zip(final, weights):
            f[active] = w
        result.final_weights = final
    return result
