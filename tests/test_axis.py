"""The depth axis of the comparative claims (issue 10): the validation split, the choice of a
learning rate per cell on it, and that the build's comparison runs train at the chosen rates."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from initreport.build import CACHE_DIR, resolve_catalogue
from initreport.cache import ResultCache
from initreport.catalogue import ExpId, build_catalogue, get_experiment, get_profile
from initreport.catalogue.axis import GRID, cells, pick_rates, selection_runs
from initreport.datasets import load_dataset, load_split
from initreport.errors import InitReportError
from initreport.keys import run_key
from initreport.runner import make_config


def _rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.ascontiguousarray(x)}


def test_validation_split_is_carved_from_the_training_split_only():
    full, val = load_dataset("digits"), load_split("digits", "validation")
    train, held, test = _rows(full.x_train), _rows(val.x_test), _rows(full.x_test)
    assert held and held <= train                     # validation rows come from the training split
    assert _rows(val.x_train) | held == train         # together they are the training split
    assert not _rows(val.x_train) & held              # and do not overlap
    assert not held & test                            # the test split is never seen
    assert val.n_train + val.n_test == full.n_train
    for k in range(full.n_classes):                   # a fifth of every class, stratified
        n_k = int((full.y_train == k).sum())
        assert abs(int((val.y_test == k).sum()) - 0.2 * n_k) <= 1
    assert load_split("digits", "test") is load_dataset("digits") or np.array_equal(
        load_split("digits").x_test, full.x_test)


def test_the_split_is_part_of_the_key_and_checked():
    c = make_config(depth=1, epochs=1, seeds=(0,))
    assert run_key(c) != run_key(c.with_(split="validation"))
    assert "split" not in c.to_dict()                 # the default keeps the keys made before the field
    with pytest.raises(InitReportError, match="unknown split 'holdout'; choose one of: test, validation"):
        make_config(split="holdout")


def _selection_result(loss_by_seed):
    return {"final": {"test_loss": {"values": loss_by_seed}}}


def test_the_rate_with_the_lowest_validation_loss_wins_and_a_diverged_rate_is_excluded():
    prof = replace(get_profile("quick"), axis_depths=(2,), selection_seeds=(100, 101))
    results = {}
    for run in selection_runs(prof):
        grid = GRID[run.config.activation]
        lr = run.config.lr
        # lowest loss at the largest rate, but a seed diverged there: the next best must win
        loss = {grid[-1]: [0.05, None], grid[1]: [0.2, 0.3], grid[0]: [0.9, 0.8]}.get(lr, [0.5, 0.5])
        results[run.config] = _selection_result(loss)
    picks = pick_rates(prof, results)
    assert set(picks) == set(cells(prof))
    assert all(picks[cell] == GRID[cell[1]][1] for cell in picks)


def test_the_build_trains_each_cell_at_its_chosen_rate(quick_project):
    """On the quick build's cache: every axis run's rate is the argmin of its cell's validation losses."""
    project, _ = quick_project
    prof = get_profile("quick")
    experiments, results, stats = resolve_catalogue(prof, ResultCache(project / CACHE_DIR))
    assert stats.ran == 0
    conclusion = get_experiment(experiments, ExpId.CONCLUSION)
    checked = 0
    for run in conclusion.select("axis"):
        c = run.config
        losses = {}
        for sel in conclusion.select("selection", init=c.init, activation=c.activation, depth=c.depth):
            values = results[sel.config]["final"]["test_loss"]["values"]
            losses[sel.config.lr] = math.inf if any(v is None for v in values) else sum(values) / len(values)
            assert sel.config.split == "validation" and set(sel.config.seeds).isdisjoint(c.seeds)
        assert sorted(losses) == sorted(GRID[c.activation])
        best = min(losses.values())
        assert c.lr == min(lr for lr, v in losses.items() if v == best), (c, losses)
        assert c.split == "test" and c.seeds == prof.cmp_seeds
        checked += 1
    assert checked == len([cell for cell in cells(prof) if cell[0] != "small_random"])
    # the same cells without picks take the grid's middle rate: a different catalogue, same shape
    plain = get_experiment(build_catalogue(prof), ExpId.CONCLUSION)
    assert [(r.role, r.label) for r in plain.runs] == [(r.role, r.label) for r in conclusion.runs]
