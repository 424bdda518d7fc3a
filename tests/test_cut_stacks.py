"""Stacks cut for a cluster with many workers (costmodel.cut_stacks): the schedule changes, no result."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from initreport.cache import canonical_json
from initreport.catalogue import build_catalogue, catalogue_configs
from initreport.costmodel import cut_stacks, makespan, stack_seconds
from initreport.explorer import explorer_configs
from initreport.runner import group_stacks, make_config, run_stack
from initreport.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def _default_groups():
    prof = load_settings(ROOT).profile("default")
    return group_stacks(list(dict.fromkeys(catalogue_configs(build_catalogue(prof)) + explorer_configs(prof))))


@pytest.mark.parametrize("workers", [8, 32, 128])
def test_cutting_keeps_every_configuration_whole_once_and_shortens_the_critical_path(workers):
    groups = _default_groups()
    cut = cut_stacks(groups, workers)
    before = Counter(c for g in groups for c in g)
    assert Counter(c for g in cut for c in g) == before                     # each configuration once
    assert set(before.values()) == {1}
    assert all(len({c.stack_key() for c in g}) == 1 for g in cut)          # a part is still one stack
    total = sum(stack_seconds(g) for g in groups)
    assert all(len(g) == 1 or stack_seconds(g) <= total / workers for g in cut)
    assert [stack_seconds(g) for g in cut] == sorted((stack_seconds(g) for g in cut), reverse=True)
    longest = max(stack_seconds(g) for g in groups)
    if longest > total / workers:
        assert len(cut) > len(groups)
        assert makespan([stack_seconds(g) for g in cut], workers) < makespan(
            sorted((stack_seconds(g) for g in groups), reverse=True), workers)


def test_with_two_workers_no_stack_of_the_default_profile_is_cut():
    groups = _default_groups()
    assert sorted(map(len, cut_stacks(groups, 2))) == sorted(map(len, groups))
    assert cut_stacks(groups, 1) == sorted(groups, key=lambda g: -stack_seconds(g))


def test_a_stack_cut_in_parts_gives_the_results_of_the_whole_stack_byte_for_byte():
    configs = [make_config(init=init, activation="tanh", dataset="digits", depth=2, width=16, epochs=2,
                           seeds=(0, 1), lr=lr)
               for init in ("he_normal", "glorot_uniform", "small_random") for lr in (0.01, 0.1)]
    [whole_group] = group_stacks(configs)
    parts = cut_stacks([whole_group], workers=64)
    assert len(parts) == len(configs)                 # every configuration on a stack of its own
    whole = dict(zip(whole_group, run_stack(whole_group)))
    for part in parts:
        for c, r in zip(part, run_stack(part)):
            assert canonical_json(r) == canonical_json(whole[c])
