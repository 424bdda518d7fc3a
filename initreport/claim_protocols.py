"""The protocol of each comparative claim, as data (design: ``docs-dev/verdict-protocol.md``).

:func:`claim_protocols` gives them for a profile: ``default`` (8 seeds extended to 16 where
undecided, depths 2–20, a three-rate grid per activation picked on a validation split) and
``quick`` (3 seeds, two depths, a short budget, for previews and tests). Runs are shared:
the Xavier/He claims, the conclusion and the small-random claims use the same cells, and
:func:`total_cost` counts each cell once.

Conventions (see :mod:`initreport.protocol`): in every :class:`Contrast`, ``a`` is the side
the claim predicts to be better (or, for "not better", the side predicted not to gain);
``at`` lists the axis values where the claim makes its prediction (its own conditions),
the other values are reported as context and do not decide.

``glorot_normal`` stands for "√(1/n_in)" in the depth contrasts: on the 64-wide hidden
layers of these nets (64 inputs, 64 units), √(2/(n_in + n_out)) = √(1/n_in) exactly, so
Xavier and LeCun coincide there and one run serves both names.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import choice_error
from .protocol import Axis, ClaimProtocol, Condition, Contrast, Prediction

DEPTHS = (2, 4, 10, 20)          # from shallow to 20 hidden layers
DEEP = (10, 20)                  # "deep": at least 8 hidden layers (claims.md)
# SGD with momentum 0.9, batch 64, digits. Sigmoid's grid sits 10× higher: its slope is at most 1/4.
GRID = {"relu": (0.003, 0.01, 0.03), "leaky_relu": (0.003, 0.01, 0.03), "tanh": (0.003, 0.01, 0.03),
        "sigmoid": (0.03, 0.1, 0.3)}
GRID_2D = {"relu": (0.01, 0.03, 0.1), "tanh": (0.01, 0.03, 0.1), "sigmoid": (0.1, 0.3, 1.0)}
SWEEP = {"relu": (0.001, 0.003, 0.01, 0.03)}   # instability is measured over a range of rates
LARGE = ("large_random", "large_uniform", "large_uniform_positive")

C = Condition
BETTER = Prediction("better")


def _depth(id_, contrasts, metric, **kw):
    return ClaimProtocol(id=id_, axis=Axis("depth", DEPTHS), metric=metric, contrasts=tuple(contrasts),
                         lr_grid=GRID, **kw)


def _default() -> list[ClaimProtocol]:
    xavier = [Contrast(C("glorot_normal", act), C("he_normal", act), BETTER, DEEP) for act in ("tanh", "sigmoid")]
    he = [Contrast(C("he_normal", act), C("glorot_normal", act), BETTER, DEEP) for act in ("relu", "leaky_relu")]
    small = {act: Contrast(C(ref, act), C("small_random", act), BETTER, DEEP)
             for act, ref in (("tanh", "glorot_normal"), ("sigmoid", "glorot_normal"))}
    return [
        _depth("xavier-for-tanh", xavier, "heldout_accuracy", secondary=("train_loss_after_budget",),
               negligible=0.005),
        _depth("he-for-relu", he, "heldout_accuracy", secondary=("train_loss_after_budget",), negligible=0.005),
        _depth("conclusion", xavier + he, "heldout_accuracy", secondary=("train_loss_after_budget",),
               negligible=0.005, notes="the union of the two claims above; the bottom line is generated from it"),
        _depth("small-tanh", [small["tanh"]], "train_loss_after_budget", secondary=("heldout_accuracy",),
               negligible=0.02),
        _depth("small-sigmoid", [small["sigmoid"]], "train_loss_after_budget", secondary=("heldout_accuracy",),
               negligible=0.02),
        _depth("small-relu", [Contrast(C("he_normal", "relu"), C("small_random", "relu"), BETTER, ())],
               "epochs_to_target", target=0.5, secondary=("train_loss_after_budget",), negligible=1.0),
        ClaimProtocol(id="large-relu", axis=Axis("none"), metric="instability", lr_grid=SWEEP, lr_mode="sweep",
                      contrasts=tuple(Contrast(C("he_normal", "relu"), C(init, "relu"), BETTER) for init in LARGE),
                      secondary=("stall", "train_loss_after_budget"), negligible=0.1, selection_seeds=(),
                      notes="a large init that stalls is reported as a stall: instability indistinguishable, "
                            "stall share significantly higher"),
        ClaimProtocol(id="large-saturate", axis=Axis("none"), metric="saturation", lr_grid=GRID,
                      contrasts=tuple(Contrast(C("glorot_normal", act), C(init, act), BETTER)
                                      for act in ("tanh", "sigmoid") for init in LARGE),
                      secondary=("train_loss_after_budget", "heldout_accuracy"), negligible=0.05),
        ClaimProtocol(id="constant", axis=Axis("width", (4, 16, 64)), metric="heldout_accuracy", lr_grid=GRID_2D,
                      dataset="circles", depth=2, epochs=60,
                      contrasts=tuple(c for act in ("relu", "tanh", "sigmoid") for c in (
                          Contrast(C("constant", act), C("constant", act, width=1), Prediction("not better", 0.03),
                                   control=None),
                          Contrast(C("glorot_normal", act), C("constant", act), BETTER))),
                      negligible=0.01, notes="a wide constant net doing worse than one unit supports the claim"),
        ClaimProtocol(id="zero-sigmoid", axis=Axis("width", (4, 16, 64)), metric="heldout_accuracy",
                      lr_grid={"sigmoid": GRID_2D["sigmoid"]}, dataset="circles", depth=2, epochs=60,
                      contrasts=(Contrast(C("zeros", "sigmoid"), C("zeros", "sigmoid", width=1),
                                          Prediction("not better", 0.03), control=None),
                                 Contrast(C("glorot_normal", "sigmoid"), C("zeros", "sigmoid"), BETTER)),
                      negligible=0.01),
    ]


def _quick(p: ClaimProtocol) -> ClaimProtocol:
    """The quick profile: 3 seeds, no extension, one selection seed, two depths, a short budget."""
    axis = p.axis
    if axis.name == "depth":
        axis = Axis("depth", (2, 10))
    elif axis.name == "width":
        axis = Axis("width", (16,))
    contrasts = tuple(replace(c, at=tuple(v for v in c.at if v in axis.values)) for c in p.contrasts)
    return replace(p, axis=axis, contrasts=contrasts, seeds=(0, 1, 2), schedule=(3,),
                   selection_seeds=p.selection_seeds[:1], epochs=max(1, p.epochs // 5))


def claim_protocols(profile: str = "default") -> list[ClaimProtocol]:
    if profile == "default":
        return _default()
    if profile == "quick":
        return [_quick(p) for p in _default()]
    raise choice_error("protocol profile", profile, ("default", "quick"))


def total_cost(protocols: list[ClaimProtocol], extended: float = 0.0) -> dict:
    """Networks and network-layer-epochs of a set of protocols, each shared cell counted once.

    Cells are shared when they train the same thing: condition, depth, width, dataset, budget,
    learning-rate grid and mode, and seeds. ``extended``: share of cells given the extra seeds.
    """
    seen: dict = {}
    for p in protocols:
        for cond, depth, width in p.cells():
            key = (cond, depth, width, p.dataset, p.epochs, p.lr_grid[cond.activation], p.lr_mode,
                   p.seeds, p.selection_seeds, p.common_lr)
            if key not in seen:
                one = replace(p, contrasts=(Contrast(cond, cond),), axis=Axis("none") if p.axis.name != "none"
                              else p.axis, depth=depth, width=width)
                seen[key] = (p.dataset, one.cost(extended))
    out = {"cells": len(seen), "networks": 0, "by_dataset": {}}
    for dataset, c in seen.values():
        out["networks"] += c["networks"]
        d = out["by_dataset"].setdefault(dataset, {"networks": 0, "layer_epochs": 0.0})
        d["networks"] += c["networks"]
        d["layer_epochs"] += c["layer_epochs"]
    return out
