"""Profiles: the knobs that scale the catalogue.

``default`` builds the published site, ``quick`` a preview for tests and drafts. A settings
file (``initreport.toml``, see :mod:`initreport.settings`) may override knobs or add profiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import choice_error


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    seeds: tuple
    epochs: int              # digits experiments
    epochs_2d: int           # the small 2-D sets train longer (they are cheap)
    depth_epochs: int
    depths: tuple            # depth study
    sweep_gains: tuple       # weight-scale sweep, in units of 1/√n_in
    matrix_datasets: tuple
    deep: int                # "deep" nets of the small-random and variance experiments
    variance_depth: int      # depth of the at-initialisation variance study
    variance_width: int
    width: int = 64          # hidden units per layer of the digits networks (most of the catalogue)
    # Seeds of the runs whose verdicts come from comparisons with intervals (the matrix, the depth
    # study, small/large random weights, constant and zero weights): at least 8 in the default
    # profile (issue 10). Empty: the same as ``seeds``.
    compare_seeds: tuple = ()
    explorer: str = "small"  # the Explore page's grid: a key of initreport.explorer.GRIDS
    # The depth axis of the comparative claims (catalogue/axis.py): its depths, the epochs each
    # cell trains, and the seeds that choose each cell's learning rate on the validation split
    # (disjoint from the comparison seeds).
    axis_depths: tuple = (2, 8)
    axis_epochs: int = 4
    selection_seeds: tuple = (100,)
    # Seeds added to both cells of an axis comparison still undecided after the comparison seeds
    # (catalogue/axis.py, step 3). Empty: no second look.
    extend_seeds: tuple = ()

    @property
    def cmp_seeds(self) -> tuple:
        return self.compare_seeds or self.seeds


PROFILES = {
    "default": Profile(
        "default", "the published site: 3 seeds (8 for the comparisons), depth study to 30 layers, "
        "14-point sweep",
        seeds=(0, 1, 2), epochs=20, epochs_2d=60, depth_epochs=15, depths=(2, 5, 10, 20, 30),
        # 13 points from 0.001 to 10, plus √2 (He) beside 1 (LeCun), so the sweep can place them (issue 10).
        sweep_gains=tuple(sorted([float(f"{g:.3g}") for g in np.logspace(-3, 1, 13)] + [math.sqrt(2.0)])),
        matrix_datasets=("digits", "spirals"), deep=8, variance_depth=20, variance_width=256,
        compare_seeds=tuple(range(8)),
        explorer="large", axis_depths=(2, 4, 10, 20), axis_epochs=20, extend_seeds=tuple(range(8, 16)),
    ),
    "quick": Profile(
        "quick", "a preview for tests and drafts: 2 seeds, few epochs, a coarse sweep",
        seeds=(0, 1), epochs=4, epochs_2d=15, depth_epochs=3, depths=(2, 10, 30),
        sweep_gains=(0.001, 0.1, 1.0, math.sqrt(2.0), 10.0), matrix_datasets=("digits", "spirals"),
        deep=6, variance_depth=20, variance_width=128,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise choice_error("profile", name, PROFILES) from None
