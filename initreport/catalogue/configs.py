"""The run configurations the catalogue is made of: digits and 2-D nets, the matrix, the depth grid."""

from __future__ import annotations

from ..runner import RunConfig, make_config
from .matrix import MATRIX_ACTIVATIONS, MATRIX_INITS
from .model import Run
from .profiles import Profile

# Learning rates (SGD, momentum 0.9). Sigmoid gets a step 10× (digits) or 6× (2-D sets) larger:
# its slope is at most 1/4, and at the common step even Glorot-initialised sigmoid nets barely
# move in the epochs we give them (measured: digits, depth 4, 20 epochs: 4.9% of the loss
# removed at lr 0.01, 80% accuracy at lr 0.1), which would make every sigmoid comparison moot.
LEARNING_RATES = {"digits": {"sigmoid": 0.1, "other": 0.01}, "2d": {"sigmoid": 0.3, "other": 0.05}}


def _lr(kind: str, activation: str) -> float:
    table = LEARNING_RATES[kind]
    return table.get(activation, table["other"])


def digits(p: Profile, **kw) -> RunConfig:
    """A net on the 8×8 digits (depth 3, the profile's width, its epochs) with ``kw`` overriding."""
    base = dict(dataset="digits", depth=3, width=p.width, epochs=p.epochs, batch_size=64, momentum=0.9,
                seeds=p.seeds, checkpoints=(p.epochs // 2,) if p.epochs > 1 else ())
    base["lr"] = _lr("digits", kw.get("activation", "relu"))
    base.update(kw)
    return make_config(**base)


def two_d(p: Profile, dataset="circles", **kw) -> RunConfig:
    """A small net on a 2-D set (depth 2, width 16) with ``kw`` overriding."""
    base = dict(dataset=dataset, depth=2, width=16, epochs=p.epochs_2d, batch_size=32, momentum=0.9,
                seeds=p.seeds, checkpoints=(p.epochs_2d // 2,) if p.epochs_2d > 1 else ())
    base["lr"] = _lr("2d", kw.get("activation", "relu"))
    base.update(kw)
    return make_config(**base)


def matrix_runs(p: Profile) -> tuple[Run, ...]:
    """Every matrix initialiser × activation, on every matrix dataset (role "matrix")."""
    runs = []
    for dataset in p.matrix_datasets:
        for act in MATRIX_ACTIVATIONS:
            for init in MATRIX_INITS:
                if dataset == "digits":
                    c = digits(p, init=init, activation=act, depth=4, seeds=p.cmp_seeds)
                else:
                    c = two_d(p, dataset=dataset, init=init, activation=act, depth=4, width=32, seeds=p.cmp_seeds)
                runs.append(Run("matrix", c, f"{init}, {act}, {dataset}"))
    return tuple(runs)


# The depth study's pairs: (activation, (the heuristic, the initialiser that should stall)).
DEPTH_PAIRS = (("relu", ("he_normal", "lecun_normal")), ("tanh", ("glorot_normal", "small_random")))


def depth_runs(p: Profile) -> tuple[Run, ...]:
    """The depth grid (role "depth"): each pair of DEPTH_PAIRS at every depth of the profile."""
    runs = []
    for depth in p.depths:
        for act, inits in DEPTH_PAIRS:
            for init in inits:
                runs.append(Run("depth", digits(p, init=init, activation=act, depth=depth, epochs=p.depth_epochs,
                                                lr=0.005, checkpoints=(), seeds=p.cmp_seeds),
                                f"{init}, {act}, depth {depth}"))
    return tuple(runs)


def variance_net(p: Profile, init: str) -> RunConfig:
    """The untrained deep ReLU net of the variance study."""
    return digits(p, init=init, activation="relu", depth=p.variance_depth, width=p.variance_width,
                  epochs=0, checkpoints=())
