"""Claim protocols: learning-rate choice, metrics from results, claim status, verdicts.json records."""

from __future__ import annotations

import json
import math

import pytest

from initreport import initializers
from initreport.activations import get_activation
from initreport.claim_protocols import claim_protocols, total_cost
from initreport.errors import InitReportError
from initreport.protocol import (STATUSES, Axis, ClaimProtocol, Condition, Contrast, Prediction,
                                 comparison_record, control_trains, decide_claim, experiment_record,
                                 grid_share_per_seed, outcome, per_seed, pick_lr, stalled, unstable,
                                 validate_verdicts)
from initreport.stats import Sample, compare, mark_inconclusive

# --- pick_lr -------------------------------------------------------------------------------


def test_pick_lr_takes_the_best_validation_number():
    assert pick_lr({0.003: 0.40, 0.01: 0.21, 0.03: 0.35}, higher_is_better=False) == 0.01
    assert pick_lr({0.003: [0.90, 0.92], 0.01: [0.95, 0.93], 0.03: [0.91, 0.90]}, higher_is_better=True) == 0.01


def test_pick_lr_ties_go_to_the_smaller_rate():
    assert pick_lr({0.03: 0.2, 0.01: 0.2, 0.1: 0.5}, higher_is_better=False) == 0.01
    assert pick_lr({0.01: 0.91, 0.03: 0.915}, higher_is_better=True, tol=0.01) == 0.01
    assert pick_lr({0.01: 0.91, 0.03: 0.915}, higher_is_better=True) == 0.03


def test_pick_lr_excludes_rates_where_a_seed_diverged():
    values = {0.003: [0.5, 0.52], 0.01: [0.2, None], 0.03: [float("nan"), float("nan")]}
    assert pick_lr(values, higher_is_better=False) == 0.003
    assert pick_lr({0.01: [None], 0.03: float("nan")}, higher_is_better=False) is None
    with pytest.raises(InitReportError, match="learning rate"):
        pick_lr({-0.1: 0.2}, higher_is_better=False)


# --- outcomes and the claim status ---------------------------------------------------------


def _cmp(a, b, higher=True, **kw):
    return compare(a, b, paired=True, higher_is_better=higher, **kw)


BETTER = _cmp([0.95, 0.96, 0.97, 0.96], [0.80, 0.82, 0.81, 0.79])
WORSE = _cmp([0.80, 0.82, 0.81, 0.79], [0.95, 0.96, 0.97, 0.96])
OPEN = _cmp([0.90, 0.80, 0.95, 0.85], [0.85, 0.90, 0.88, 0.86])
FEW = _cmp([0.9, None, None], [0.8, 0.7, 0.6])


def test_comparison_fixtures_decide_as_named():
    assert [c.decision for c in (BETTER, WORSE, OPEN, FEW)] == ["better", "worse", "indistinguishable", "inconclusive"]


@pytest.mark.parametrize("comparisons, status", [
    ([BETTER, BETTER], "confirmed"),
    ([BETTER, OPEN], "partly confirmed"),
    ([BETTER, WORSE], "partly confirmed"),
    ([BETTER, FEW], "partly confirmed"),
    ([WORSE, OPEN], "refuted"),
    ([WORSE], "refuted"),
    ([OPEN, OPEN], "inconclusive"),
    ([OPEN, FEW], "inconclusive"),
    ([], "inconclusive"),
])
def test_decide_claim_covers_every_status(comparisons, status):
    decision = decide_claim(comparisons)
    assert decision.status == status
    assert decision.status in STATUSES
    assert sum(decision.counts.values()) == len(comparisons)


def test_a_comparison_whose_control_does_not_train_is_inconclusive_with_its_reason():
    untrained = mark_inconclusive(BETTER, "the control (glorot_normal, sigmoid, depth 20) did not train")
    decision = decide_claim([untrained, OPEN])
    assert decision.status == "inconclusive"
    assert "did not train" in decision.reason


def test_not_better_prediction_reads_the_favourable_bound():
    # "Adding units does not help": wide − narrow accuracy. Wide much worse supports the claim.
    wide_worse = _cmp([0.50, 0.52, 0.49, 0.51], [0.57, 0.58, 0.575, 0.57], one_sided=True)
    wide_better = _cmp([0.80, 0.82, 0.81, 0.83], [0.57, 0.58, 0.575, 0.57], one_sided=True)
    p = Prediction("not better", margin=0.03)
    assert outcome(wide_worse, p) == "as predicted"
    assert outcome(wide_better, p) == "opposite"
    assert outcome(OPEN, p) == "open"
    assert decide_claim([wide_worse], p).status == "confirmed"
    assert decide_claim([wide_better], p).status == "refuted"


def test_not_better_on_a_lower_is_better_metric_uses_the_other_bound():
    # loss: a's loss not lower than b's by more than the margin.
    same = _cmp([0.30, 0.31, 0.29, 0.30], [0.30, 0.30, 0.30, 0.31], higher=False, one_sided=True)
    much_lower = _cmp([0.10, 0.11, 0.09, 0.10], [0.30, 0.30, 0.30, 0.31], higher=False, one_sided=True)
    p = Prediction("not better", margin=0.05)
    assert outcome(same, p) == "as predicted"
    assert outcome(much_lower, p) == "opposite"


def test_equivalence_needs_the_whole_interval_inside_the_margin():
    near = _cmp([0.900, 0.901, 0.899, 0.900], [0.900, 0.900, 0.901, 0.899], one_sided=True)
    assert outcome(near, Prediction("equivalent", 0.01)) == "as predicted"
    assert outcome(BETTER, Prediction("equivalent", 0.01)) == "opposite"
    assert outcome(OPEN, Prediction("equivalent", 0.01)) == "open"
    with pytest.raises(InitReportError, match="margin"):
        Prediction("equivalent")


def test_per_comparison_predictions():
    wide_worse = _cmp([0.50, 0.52, 0.49, 0.51], [0.57, 0.58, 0.575, 0.57], one_sided=True)
    decision = decide_claim([wide_worse, BETTER], [Prediction("not better", 0.03), Prediction("better")])
    assert decision.status == "confirmed"
    with pytest.raises(InitReportError, match="predictions"):
        decide_claim([BETTER], [Prediction(), Prediction()])


# --- metrics from results -------------------------------------------------------------------


def _result(losses, test_acc=None, seeds=(0, 1, 2), diverged=(), saturated=None, classes=10):
    """A minimal initreport.result/1 dict: losses[epoch][seed] (None where diverged)."""
    stat = lambda vals: {"values": list(vals)}  # noqa: E731
    history = [{"epoch": e, "loss": stat(row)} for e, row in enumerate(losses)]
    layers = [{"saturated_fraction": stat(s)} for s in (saturated or [[0.0] * len(seeds)])]
    return {"config": {"seeds": list(seeds), "epochs": len(losses) - 1}, "sizes": [64, 64, classes],
            "history": history, "final": {"loss": history[-1]["loss"], "test_accuracy": stat(test_acc or [0.5] * len(seeds))},
            "diverged": [{"seed": s, "epoch": e} for s, e in diverged], "checkpoints": [{"layers": layers}]}


def test_train_loss_after_budget_counts_a_diverged_seed_as_having_learnt_nothing():
    # reference: the initial loss, or ln 10 (uniform prediction) when that is lower
    r = _result([[2.3, 2.4, 2.2], [1.0, None, None], [0.4, None, None]], diverged=[(1, 1), (2, 1)])
    s = per_seed(r, "train_loss_after_budget", name="he")
    assert s.values == pytest.approx((0.4, math.log(10), 2.2)) and s.seeds == (0, 1, 2) and s.name == "he"


def test_a_net_that_falls_from_a_huge_initial_loss_to_chance_has_stalled():
    # large_uniform_positive with ReLU (measured): 283164 at initialisation, then flat at 2.3026
    r = _result([[283164.0, 2.85], [2.30256, 0.5], [2.30252, 0.15]], seeds=(0, 1))
    assert stalled(r) == [True, False]
    assert not control_trains(_result([[283164.0] * 2, [2.30256] * 2], seeds=(0, 1)))


def test_epochs_to_target_is_censored_at_budget_plus_one():
    r = _result([[2.3, 2.3, 2.3], [0.6, 2.0, 0.4], [0.45, 1.9, 0.3]])
    assert per_seed(r, "epochs_to_target", target=0.5).values == (2, 3, 1)
    with pytest.raises(InitReportError, match="target"):
        per_seed(r, "epochs_to_target")


def test_heldout_accuracy_counts_divergence_as_chance_and_saturation_averages_layers():
    r = _result([[2.3] * 3, [1.0] * 3], test_acc=[0.9, None, 0.8],
                saturated=[[0.9, 1.0, 0.8], [0.5, 0.6, 0.4]])
    assert per_seed(r, "heldout_accuracy").values == (0.9, 0.1, 0.8)
    assert per_seed(r, "saturation").values == pytest.approx((0.7, 0.8, 0.6))


def test_instability_and_stall_shares_over_the_grid():
    spiky = _result([[2.3, 2.3], [1.0, 2.2], [1.2, 2.25], [1.4, 2.2]])            # seed 0 rises twice
    diverged = _result([[2.3, 2.3], [None, 2.2], [None, 2.2], [None, 2.25]], diverged=[(0, 1)], seeds=(0, 1))
    spiky["config"]["seeds"] = [0, 1]
    assert unstable(spiky) == [True, False] and stalled(spiky) == [False, True]
    assert unstable(diverged) == [True, False] and stalled(diverged) == [False, True]
    assert grid_share_per_seed([spiky, diverged]).values == (1.0, 0.0)
    assert grid_share_per_seed([spiky, diverged], "stall").values == (0.0, 1.0)
    with pytest.raises(InitReportError, match="same seeds"):
        grid_share_per_seed([spiky, _result([[2.3] * 3, [1.0] * 3])])


def test_control_trains():
    assert control_trains(_result([[2.3] * 3, [0.5] * 3]))
    assert not control_trains(_result([[2.3] * 3, [2.25] * 3]))
    assert not control_trains(_result([[2.3] * 3, [0.5, None, None]], diverged=[(1, 1), (2, 1)]))


# --- verdicts.json --------------------------------------------------------------------------


def test_records_follow_the_public_schema_and_survive_json():
    c = compare(Sample("he_normal", (0.95, 0.96, 0.97, 0.96)), Sample("glorot_normal", (0.80, 0.82, 0.81, 0.79)),
                paired=True, higher_is_better=True, metric="heldout_accuracy")
    few = compare(Sample("a", (0.9, None)), Sample("b", (0.8, 0.7)), paired=True, higher_is_better=True)
    doc = {"schema": "initreport.verdicts/1", "experiments": [
        experiment_record("he-for-relu", "confirmed", [comparison_record(c, depth=20, lr_a=0.01, lr_b=0.03)]),
        experiment_record("small-tanh", "inconclusive", [comparison_record(few)])]}
    doc = json.loads(json.dumps(doc, allow_nan=False))
    assert validate_verdicts(doc) == []
    rec = doc["experiments"][0]["comparisons"][0]
    assert {k: rec[k] for k in ("a", "b", "metric", "n_seeds", "decision", "depth")} == {
        "a": "he_normal", "b": "glorot_normal", "metric": "heldout_accuracy", "n_seeds": 4,
        "decision": "better", "depth": 20}
    assert rec["ci_low"] <= rec["estimate"] <= rec["ci_high"] and rec["lr_b"] == 0.03
    assert doc["experiments"][1]["comparisons"][0]["ci_low"] is None
    assert "depth" not in doc["experiments"][1]["comparisons"][0]


def test_validate_verdicts_names_each_problem():
    bad = {"experiments": [{"id": "x", "status": "tied", "comparisons": [
        {"a": "p", "b": "q", "metric": "m", "estimate": 1.0, "ci_low": 2.0, "ci_high": 3.0, "n_seeds": 8,
         "decision": "better"}, {"a": "p"}]}]}
    problems = validate_verdicts(bad)
    assert any("status 'tied'" in p for p in problems)
    assert any("ci_low ≤ estimate ≤ ci_high" in p for p in problems)
    assert any("missing b, metric" in p for p in problems)
    with pytest.raises(InitReportError, match="unknown status"):
        experiment_record("x", "tied")


# --- the protocols themselves ----------------------------------------------------------------


@pytest.mark.parametrize("profile", ["default", "quick"])
def test_every_protocol_names_real_initialisers_activations_and_conditions(profile):
    for p in claim_protocols(profile):
        assert p.contrasts, p.id
        for c in p.contrasts:
            for side in (c.a, c.b):
                initializers.get_info(side.init)
                get_activation(side.activation)
            assert set(c.at) <= set(p.axis.values)
        assert not set(p.seeds) & set(p.selection_seeds)
        if p.axis.name == "depth" and profile == "default":
            assert max(p.axis.values) >= 20 and len(p.seeds) >= 8      # the floor


def test_shared_cells_are_counted_once():
    ps = claim_protocols("default")
    alone = sum(p.cost()["networks"] for p in ps)
    shared = total_cost(ps)["networks"]
    assert shared < alone
    by_id = {p.id: p for p in ps}
    # the conclusion adds nothing to the Xavier and He claims
    assert total_cost([by_id["xavier-for-tanh"], by_id["he-for-relu"], by_id["conclusion"]])["networks"] == \
        total_cost([by_id["xavier-for-tanh"], by_id["he-for-relu"]])["networks"]
    assert total_cost(ps, extended=1.0)["networks"] > shared


def test_protocol_validation_errors_are_one_line():
    good = dict(id="x", axis=Axis("depth", (2, 10)), metric="heldout_accuracy", lr_grid={"relu": (0.01,)},
                contrasts=(Contrast(Condition("he_normal", "relu"), Condition("glorot_normal", "relu"), at=(10,)),))
    ClaimProtocol(**good)
    with pytest.raises(InitReportError, match="unknown metric"):
        ClaimProtocol(**{**good, "metric": "loss"})
    with pytest.raises(InitReportError, match="outside the axis"):
        ClaimProtocol(**{**good, "contrasts": (Contrast(Condition("he_normal", "relu"),
                                                        Condition("glorot_normal", "relu"), at=(30,)),)})
    with pytest.raises(InitReportError, match="no learning-rate grid"):
        ClaimProtocol(**{**good, "lr_grid": {"tanh": (0.01,)}})
    with pytest.raises(InitReportError, match="selection seeds"):
        ClaimProtocol(**{**good, "selection_seeds": (0,)})
    with pytest.raises(InitReportError, match="unknown axis"):
        Axis("height", (1,))
