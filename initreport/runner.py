"""Run configurations: group them into stacks, train, and reduce to JSON-ready results.

A :class:`RunConfig` is one initialiser on one architecture and dataset, over several seeds.
Configurations that differ only in initialiser, bias, seeds or learning rate share a stack
(one batched training run); each still gets its own result, byte-identical to what it would
get alone, since stack members never mix.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from . import initializers
from .activations import get_activation
from .datasets import SPLITS, load_split
from .diagnostics import empty_statistics
from .errors import InitReportError, choice_error
from .network import Member, train_stack

RESULT_SCHEMA = "initreport.result/1"
# Decision boundaries of 2-D sets are sampled on a GRID_N × GRID_N grid over this square
# (inputs are standardised, so ±3 covers the data).
GRID_N = 60
GRID_EXTENT = (-3.0, 3.0, -3.0, 3.0)


def boundary_grid() -> np.ndarray:
    xs = np.linspace(GRID_EXTENT[0], GRID_EXTENT[1], GRID_N)
    ys = np.linspace(GRID_EXTENT[2], GRID_EXTENT[3], GRID_N)
    gx, gy = np.meshgrid(xs, ys)   # row i is y = ys[i]
    return np.column_stack([gx.ravel(), gy.ravel()])


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one result. Validated on creation."""

    init: str = "he_normal"
    activation: str = "relu"
    dataset: str = "digits"
    depth: int = 3
    width: int = 64
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.0
    seeds: tuple = (0, 1, 2)
    init_params: tuple = ()          # sorted (name, value) pairs
    bias: float | None = None        # None: the initialiser's own default
    dtype: str = "float32"
    checkpoints: tuple = ()          # extra epochs to take diagnostics at (0 and the last always)
    diag_samples: int = 512
    hist_bins: int = 40
    split: str = "test"              # the held-out split evaluated: "test", or "validation" (carved from
                                     # the training split, for choosing learning rates; datasets.SPLITS)

    def __post_init__(self):
        initializers.get_info(self.init)
        get_activation(self.activation)
        for name in ("depth", "width", "epochs", "batch_size", "diag_samples", "hist_bins"):
            value = getattr(self, name)
            least = 0 if name == "epochs" else 1   # 0 epochs: a study of the network at initialisation
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise InitReportError(f"{name} must be a whole number ≥ {least}, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise InitReportError(f"learning rate must be a finite number > 0, got {self.lr!r}")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise InitReportError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not self.seeds or any(not isinstance(s, int) or s < 0 for s in self.seeds):
            raise InitReportError(f"seeds must be a non-empty list of whole numbers ≥ 0, got {self.seeds!r}")
        if len(set(self.seeds)) != len(self.seeds):
            raise InitReportError(f"seeds must be distinct, got {self.seeds!r}")
        if self.split not in SPLITS:
            raise choice_error("split", self.split, SPLITS)
        if self.dtype not in ("float32", "float64"):
            raise InitReportError(f"dtype must be float32 or float64, got {self.dtype!r}")
        if any(not isinstance(c, int) or c < 0 or c > self.epochs for c in self.checkpoints):
            raise InitReportError(f"checkpoints must be epochs between 0 and {self.epochs}, got {self.checkpoints!r}")
        if self.bias is not None and not math.isfinite(self.bias):
            raise InitReportError(f"bias must be a finite number, got {self.bias!r}")
        self._check_representable()
        # Validates the parameter names and values against the initialiser.
        initializers.initialize(self.init, np.random.default_rng(0), 2, 2, np.float64, **dict(self.init_params))

    def _check_representable(self) -> None:
        """Numbers the network stores in ``dtype`` must fit in it: 1e300 in float32 would be Inf
        before the first step (and NumPy would warn); refused here with the largest allowed."""
        if self.dtype not in ("float32", "float64"):
            return
        largest = float(np.finfo(self.dtype).max)
        values = [("learning rate", self.lr), ("bias", self.bias)]
        values += [(name, v) for name, v in self.init_params if isinstance(v, (int, float)) and not isinstance(v, bool)]
        for name, value in values:
            if value is not None and math.isfinite(value) and abs(value) > largest:
                raise InitReportError(f"{name} {value!r} does not fit in {self.dtype} (largest magnitude "
                                      f"{largest:.3g}); choose a smaller value")

    @property
    def all_checkpoints(self) -> tuple:
        return tuple(sorted({0, self.epochs, *self.checkpoints}))

    def stack_key(self) -> tuple:
        """Configurations with equal keys train together in one stack."""
        return (self.activation, self.dataset, self.depth, self.width, self.epochs, self.batch_size,
                self.momentum, self.dtype, self.all_checkpoints, self.diag_samples, self.hist_bins, self.split)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        d["init_params"] = {k: v for k, v in self.init_params}
        d["checkpoints"] = list(self.all_checkpoints)
        if self.split == "test":        # the default is left out, so keys from before the field stay valid
            del d["split"]
        return d

    def with_(self, **changes) -> "RunConfig":
        if "init_params" in changes and isinstance(changes["init_params"], dict):
            changes["init_params"] = tuple(sorted(changes["init_params"].items()))
        return replace(self, **changes)


def make_config(**kwargs) -> RunConfig:
    if isinstance(kwargs.get("init_params"), dict):
        kwargs["init_params"] = tuple(sorted(kwargs["init_params"].items()))
    if "seeds" in kwargs:
        kwargs["seeds"] = tuple(kwargs["seeds"])
    if "checkpoints" in kwargs:
        kwargs["checkpoints"] = tuple(kwargs["checkpoints"])
    return RunConfig(**kwargs)


# ---------------------------------------------------------------------------------------
# Reduction to JSON-ready values

def clean(x: float) -> float | None:
    """A float rounded to 6 significant digits for stable, compact JSON; NaN/Inf become None."""
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.6g}")


def summary(values) -> dict:
    """Mean, spread and range over the seeds whose value is finite; per-seed values kept."""
    arr = np.asarray(values, dtype=np.float64)
    ok = arr[np.isfinite(arr)]
    if ok.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0, "values": [None] * arr.size}
    with np.errstate(over="ignore", invalid="ignore"):   # finite values near 1e308 can overflow: None
        mean, std = ok.mean(), (ok.std(ddof=1) if ok.size > 1 else 0.0)
    return {
        "mean": clean(mean), "std": clean(std),
        "min": clean(ok.min()), "max": clean(ok.max()), "n": int(ok.size),
        "values": [clean(v) for v in arr],
    }


def _hist(h: dict) -> dict:
    return {"edges": [clean(e) for e in h["edges"]], "fraction": [clean(f) for f in h["fraction"]]}


def _checkpoint(stats: dict, rows: np.ndarray, group: int, sizes: list[int]) -> dict:
    layers = []
    for l, entry in enumerate(stats["hidden"]):
        layer = {"layer": l + 1, "fan_in": sizes[l], "fan_out": sizes[l + 1]}
        for key, value in entry.items():
            if key.endswith("_hist"):
                layer[key] = _hist(value[group]) if value[group] is not None else None
            else:
                layer[key] = summary(value[rows])
        layers.append(layer)
    output = {k: summary(v[rows]) for k, v in stats["output"].items()}
    return {"layers": layers, "output": output}


def _result(config: RunConfig, raw, rows: np.ndarray, group: int) -> dict:
    diverged = [
        {"seed": config.seeds[i], "epoch": int(raw.diverged_at[r])}
        for i, r in enumerate(rows) if raw.diverged_at[r] >= 0
    ]
    history = []
    for epoch in raw.evaluated:          # every epoch up to 64, else a schedule (network.eval_epochs)
        history.append({
            "epoch": epoch,
            "loss": summary(raw.train_loss[rows, epoch]),
            "accuracy": summary(raw.train_accuracy[rows, epoch]),
            "test_loss": summary(raw.test_loss[rows, epoch]),
            "test_accuracy": summary(raw.test_accuracy[rows, epoch]),
        })
    checkpoints = []
    for epoch in config.all_checkpoints:
        if epoch in raw.checkpoints:
            cp = _checkpoint(raw.checkpoints[epoch], rows, group, raw.sizes)
        else:
            # Every member of the stack had diverged by then (or the checkpoint was not asked for):
            # the same all-None statistics a diverged member gets beside live ones, so a result does
            # not depend on which stack it trained in.
            cp = _checkpoint(empty_statistics(len(raw.members), len(raw.sizes) - 2, group + 1),
                             rows, group, raw.sizes)
        checkpoints.append({"epoch": epoch, **cp})
    final = history[-1]
    boundary = None
    if raw.grid_classes is not None:
        alive = [i for i, r in enumerate(rows) if raw.diverged_at[r] < 0]
        if alive:
            i = alive[0]
            boundary = {"seed": config.seeds[i], "extent": list(GRID_EXTENT), "n": GRID_N,
                        "classes": raw.grid_classes[rows[i]].reshape(GRID_N, GRID_N).tolist()}
    return {
        "schema": RESULT_SCHEMA,
        "config": config.to_dict(),
        "sizes": list(raw.sizes),
        "n_seeds": len(config.seeds),
        "diverged": diverged,
        "layers": checkpoints[0]["layers"],           # at initialisation
        "output_layer": checkpoints[0]["output"],
        "checkpoints": checkpoints,
        "history": history,
        "final": {k: final[k] for k in ("loss", "accuracy", "test_loss", "test_accuracy")},
        "boundary": boundary,
    }


def run_stack(configs: list[RunConfig], *, dataset=None, threads: int = 1, on_epoch=None,
              history: bool = True, diagnostics: str = "all") -> list[dict]:
    """Train configurations that share a stack key together; one result per configuration.

    ``threads`` > 1 trains blocks of the stack's members in parallel threads; results do not
    depend on it. ``on_epoch(epoch)`` is called after each training epoch. ``history=False``
    evaluates the training and test sets only at 0, the checkpoints and the last epoch (for a
    caller that shows no curve). ``diagnostics="table"``: only the per-layer statistics at
    initialisation that ``initreport run`` prints (activation mean and std, gradient std, saturated
    and dead fractions); every other per-layer statistic is None and no later checkpoint is taken.
    """
    if diagnostics not in ("all", "table"):
        raise ValueError(f"diagnostics must be 'all' or 'table', got {diagnostics!r}")
    key = configs[0].stack_key()
    if any(c.stack_key() != key for c in configs):
        raise ValueError("run_stack needs configurations with one stack key")
    data = dataset if dataset is not None else load_split(configs[0].dataset, configs[0].split)
    bounds = np.cumsum([0] + [len(c.seeds) for c in configs])
    rows = [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:])]   # each config's members
    # One BLAS thread: these matmuls are small, and a multi-threaded BLAS spends more time
    # synchronising than computing (measured: up to 15× slower). Parallelism comes from
    # running stacks in separate processes (--jobs) or blocks of members in threads.
    with threadpool_limits(limits=1, user_api="blas"):
        raw = _train(configs, data, rows, threads, on_epoch, None if history else (), diagnostics)
    return [_result(c, raw, r, g) for g, (c, r) in enumerate(zip(configs, rows))]


def _train(configs, data, rows, threads=1, on_epoch=None, eval_at=None, diagnostics="all"):
    base = configs[0]
    members = [Member(c.init, s, float(c.lr), c.init_params, c.bias) for c in configs for s in c.seeds]
    return train_stack(
        members, data, activation=get_activation(base.activation), depth=base.depth,
        width=base.width, epochs=base.epochs, batch_size=base.batch_size, momentum=base.momentum,
        dtype=np.dtype(base.dtype), checkpoints=base.all_checkpoints if diagnostics == "all" else (0,),
        diag_samples=base.diag_samples, hist_bins=base.hist_bins, groups=rows,
        grid=boundary_grid() if data.is_2d else None, threads=threads, on_epoch=on_epoch, eval_at=eval_at,
        diagnostics=diagnostics,
    )


# A stack's arrays grow with members × depth × width²; past this estimate a stack is split
# (member results do not depend on the stack they train in, so splitting changes no number).
STACK_BYTES = 160 * 2**20


def stack_bytes(configs: list[RunConfig]) -> int:
    """Rough size of a stack's arrays: weights, initial weights, velocities and kept activations."""
    c = configs[0]
    members = sum(len(x.seeds) for x in configs)
    return 4 * members * (c.depth + 1) * (3 * c.width * c.width + c.diag_samples * c.width)


# ---------------------------------------------------------------------------------------
# Resource estimates, checked before anything runs (initreport.safety.check_budget)

# Rates of one training thread, float32, measured on the 2-core machine this was written on
# while other jobs shared it (tests/test_hardening.py has the calibration cases): batched
# matmuls ran at 11–35 GMAC/s (widths 32–1024), element-wise work (activations, softmax,
# updates, copies) at about 1 G elements/s. The constants below are about half of that, so
# the estimate errs towards "longer"; it is meant to tell minutes from days, not to the second.
MACS_PER_SECOND = 20e9
ELEMENTS_PER_SECOND = 0.3e9
BASE_BYTES = 120 * 2**20          # the interpreter with NumPy and initreport imported
STACK_SECONDS = 0.1               # per stack: data, diagnostics and results of tiny stacks (measured 0.05–0.5 s)


@dataclass(frozen=True)
class Estimate:
    """Peak memory (bytes) and wall time (seconds) of a stack, and its multiply-adds."""

    bytes: int
    seconds: float
    macs: float


def _float(x: int | float) -> float:
    """A float of a (possibly astronomically large) exact integer estimate; inf past float's range."""
    try:
        return float(x)
    except OverflowError:
        return math.inf


def estimate(configs: list[RunConfig], data, threads: int = 1, members: int | None = None) -> Estimate:
    """What training ``configs`` as one stack on ``data`` will cost (a deliberate over-estimate).

    ``data`` needs ``n_features``, ``n_classes``, ``n_train`` and ``n_test``. Memory counts the
    arrays that live at once in :func:`initreport.network.train_stack`: weights, initial weights
    and velocities of every member, plus the largest of the transient phases (initialisation in
    float64, evaluation on the whole training set, a checkpoint's diagnostics, one minibatch
    step, dropping diverged members) and the JSON-ready results. ``members`` overrides the
    number of seeds (to estimate a job before building a configuration of a million seeds).
    Exact integer arithmetic: absurd sizes give an absurd estimate, never an overflow.
    """
    c = configs[0]
    m = sum(len(x.seeds) for x in configs) if members is None else members
    b = np.dtype(c.dtype).itemsize
    f, w, d, k = data.n_features, c.width, c.depth, data.n_classes
    # Layers f→w, (d−1) × w→w, w→k; hidden layers f→w and (d−1) × w→w.
    p = f * w + (d - 1) * w * w + w * k
    wmax = max(f * w, w * w if d > 1 else 0, w * k)
    h, units = max(w, k), w * d + k
    n, nt, e = data.n_train, data.n_test, c.epochs
    batch, diag = min(c.batch_size, n), min(c.diag_samples, n)
    checkpoints = len(c.all_checkpoints)
    grid = GRID_N * GRID_N if data.n_features == 2 else 0
    persistent = m * p * b * (3 if c.momentum else 2) + m * wmax * b
    transient = max(
        m * wmax * (16 + b),                                                  # initialisation
        m * max(n, nt) * (2 * h * b + 4 * k * 8),                            # evaluation
        m * diag * h * b * (d + 2) + m * wmax * (4 * 8 + 2 * 4) + 3 * m * w ** 2 * 8,  # checkpoint
        m * batch * (2 * units + f) * b + 2 * m * n * 8,                      # a step, and the shuffles
        m * p * b,                                                            # dropping diverged members
        m * grid * (units + 2 * w * d) * b + m * grid * 8,                   # the decision-boundary grid
    )
    # Per-member numbers as Python floats (~32 bytes each, held twice while serialised).
    results = 64 * m * (4 * (e + 1) + 16 * (d + 1) * checkpoints) + 32 * m * (e + 1)
    macs = m * p * (3 * n * e + (n + nt) * (e + 1) + 3 * diag * checkpoints + grid)
    macs += checkpoints * m * (f * w * min(f, w) * 4 + w * w * f + (d - 1) * 5 * w ** 3)
    elements = m * units * (12 * n * e + 4 * (n + nt) * (e + 1) + 2 * grid) + m * p * 6 * e * -(-n // batch)
    parallel = max(1, min(threads, m))
    seconds = STACK_SECONDS + (_float(macs) / MACS_PER_SECOND + _float(elements) / ELEMENTS_PER_SECOND) / parallel
    return Estimate(int(BASE_BYTES + persistent + max(transient, results)), seconds, _float(macs))


def group_stacks(configs: list[RunConfig]) -> list[list[RunConfig]]:
    """Configurations grouped by stack key, in first-seen order, split where a stack gets too big."""
    groups: dict[tuple, list[list[RunConfig]]] = {}
    for c in configs:
        chunks = groups.setdefault(c.stack_key(), [[]])
        if chunks[-1] and stack_bytes(chunks[-1] + [c]) > STACK_BYTES:
            chunks.append([])
        chunks[-1].append(c)
    return [chunk for chunks in groups.values() for chunk in chunks]


def run_configs(configs: list[RunConfig]) -> list[dict]:
    """Results for configurations in any order (stacked where they can be)."""
    out: dict[RunConfig, dict] = {}
    for group in group_stacks(configs):
        for c, r in zip(group, run_stack(group)):
            out[c] = r
    return [out[c] for c in configs]
