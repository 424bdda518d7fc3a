"""The engine's behaviour against theory: variance at initialisation, symmetry, divergence, determinism."""

import json
import math
import time
import warnings

import numpy as np
import pytest

from initreport.activations import get_activation
from initreport.cache import canonical_json
from initreport.datasets import load_dataset
from initreport.network import Member, train_stack
from initreport.runner import make_config, run_configs, run_stack


def _var_per_layer(result):
    return [layer["pre_activation_std"]["mean"] ** 2 for layer in result["layers"]]


def test_he_keeps_relu_variance_level_and_lecun_halves_it():
    """20-layer ReLU net of width 256 at initialisation (He et al. 2015, §2.2)."""
    base = dict(activation="relu", dataset="digits", depth=20, width=256, epochs=0, seeds=(0, 1))
    he, lecun = run_configs([make_config(init="he_normal", **base), make_config(init="lecun_normal", **base)])
    var_he = _var_per_layer(he)
    assert 0.5 <= var_he[-1] / var_he[0] <= 2.0, f"He: Var(Z20)/Var(Z1) = {var_he[-1] / var_he[0]:.3f}"
    var_lecun = _var_per_layer(lecun)
    ratios = [b / a for a, b in zip(var_lecun, var_lecun[1:])]
    for l, r in enumerate(ratios, start=2):
        assert 0.4 <= r <= 0.6, f"√(1/n_in): Var(Z{l})/Var(Z{l - 1}) = {r:.3f}, theory 0.5"


def _train(init, activation, *, seeds=(0, 1), epochs=5, width=8, dataset="circles", lr=0.1, depth=2):
    data = load_dataset(dataset)
    members = [Member(init, s, lr) for s in seeds]
    return train_stack(members, data, activation=get_activation(activation), depth=depth, width=width,
                       epochs=epochs, batch_size=32, momentum=0.9, keep_weights=True)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_zero_init_never_moves_hidden_weights(activation):
    raw = _train("zeros", activation)
    hidden = len(raw.final_weights) - 1
    for l in range(hidden):
        np.testing.assert_array_equal(raw.final_weights[l], raw.initial_weights[l],
                                      err_msg=f"hidden layer {l + 1} moved")
    # The output layer's weights stay zero too (their gradient is a_last = 0), the loss still falls
    # a little because the output bias learns the class frequencies.
    assert np.all(raw.final_weights[-1] == 0)


@pytest.mark.parametrize("init,activation", [("zeros", "sigmoid"), ("constant", "relu"),
                                             ("constant", "tanh"), ("constant", "sigmoid")])
def test_symmetric_inits_keep_units_identical(init, activation):
    raw = _train(init, activation, epochs=8)
    for l, w in enumerate(raw.final_weights[:-1]):
        alive = w[np.isfinite(w).all(axis=(1, 2))]
        assert alive.size, "every seed diverged"
        # Every unit's incoming weight vector equals unit 0's, to the bit.
        assert np.array_equal(alive, np.broadcast_to(alive[:, :, :1], alive.shape)), f"layer {l + 1}"
        moved = np.abs(alive - raw.initial_weights[l][: len(alive)]).max()
        if init == "zeros":
            assert moved > 0, "sigmoid zero init: the hidden weights should move (in lockstep)"


@pytest.mark.parametrize("init", ["glorot_uniform", "he_normal", "small_random"])
def test_random_inits_do_not_keep_units_identical(init):
    raw = _train(init, "sigmoid", epochs=3)
    for w in raw.final_weights[:-1]:
        spread = np.abs(w - w[:, :, :1]).max(axis=(1, 2))
        assert np.all(spread > 0)


def test_member_result_does_not_depend_on_its_stack():
    a = make_config(init="he_normal", activation="tanh", dataset="spirals", depth=2, width=8, epochs=3, seeds=(0, 1))
    b = a.with_(init="small_random")
    c = a.with_(init="large_random", lr=0.5)
    alone = run_stack([a])[0]
    stacked = run_stack([b, a, c])[1]
    assert canonical_json(alone) == canonical_json(stacked)


def test_threads_change_no_number_even_when_members_diverge_and_leave():
    """Blocks of members on threads: byte-identical to one thread, with momentum, checkpoints,
    a member diverging mid-run (the blocks are re-cut after it leaves) and uneven blocks."""
    a = make_config(init="he_normal", activation="relu", dataset="digits", depth=4, width=32, epochs=4,
                    momentum=0.9, seeds=(0, 1, 2), checkpoints=(0, 2, 4))
    b = a.with_(init="large_random", lr=0.05)          # seed 2 diverges in epoch 1, the others go on
    one = run_stack([a, b], threads=1)
    assert any(r["diverged"] and all(d["epoch"] > 0 for d in r["diverged"]) for r in one)
    for threads in (2, 4, 16):
        with warnings.catch_warnings():
            warnings.simplefilter("error")              # overflow in a worker thread must stay silent too
            many = run_stack([a, b], threads=threads)
        assert [canonical_json(r) for r in many] == [canonical_json(r) for r in one]


def test_member_threads_stop_every_block_when_one_fails():
    from initreport.network import MemberThreads

    steps = []

    def block(a, b, stop=None):
        if a == 0:
            raise ValueError("boom")
        for _ in range(200):
            if stop.is_set():
                return
            steps.append(a)
            time.sleep(0.005)

    with MemberThreads(2) as pool:
        assert pool.blocks(5) == [(0, 2), (2, 5)]
        assert pool.blocks(1) == [(0, 1)]
        with pytest.raises(ValueError, match="boom"):
            pool.map(block, 4, interruptible=True)
    assert len(steps) < 200          # the other block noticed and stopped early


def test_subnormal_gradients_of_a_40_layer_net_still_get_histograms():
    """Small random weights at depth 40: float32 gradients shrink through the subnormal range
    (below 1.2e-38), too narrow for 40 float32 bin edges. Found by a 40-layer depth study."""
    config = make_config(init="small_random", activation="tanh", dataset="digits", depth=40, width=64,
                         epochs=0, seeds=(0,))
    result = run_stack([config])[0]
    stds = [l["gradient_std"]["values"][0] for l in result["layers"]]
    assert any(0 < s < 1.2e-38 for s in stds), stds          # the subnormal case is exercised
    for layer in result["layers"]:
        for key in ("gradient_hist", "activation_hist"):
            h = layer[key]
            assert np.all(np.diff(h["edges"]) > 0)
            assert math.isclose(sum(h["fraction"]), 1.0, rel_tol=1e-5)    # fractions stored to 6 digits


def test_results_are_byte_identical_from_run_to_run():
    config = make_config(init="glorot_uniform", activation="relu", dataset="digits", depth=2, width=16,
                         epochs=2, seeds=(0, 1))
    assert canonical_json(run_stack([config])[0]) == canonical_json(run_stack([config])[0])


def test_divergence_is_recorded_and_no_nan_reaches_the_result():
    config = make_config(init="large_random", activation="relu", dataset="digits", depth=4, width=64,
                         epochs=3, lr=0.5, seeds=(0, 1, 2))
    result = run_stack([config])[0]
    assert len(result["diverged"]) >= 1
    for d in result["diverged"]:
        assert d["seed"] in (0, 1, 2) and 0 <= d["epoch"] <= 3
    text = canonical_json(result)            # allow_nan=False: raises on NaN/Inf
    assert "NaN" not in text and "Infinity" not in text
    # A diverged seed's history is null from its divergence on.
    d = result["diverged"][0]
    idx = config.seeds.index(d["seed"])
    assert result["history"][-1]["loss"]["values"][idx] is None


def test_seeds_differ_and_summary_spread_matches_values():
    config = make_config(init="he_normal", activation="relu", dataset="digits", depth=2, width=16, epochs=2,
                         seeds=(0, 1, 2))
    result = run_stack([config])[0]
    values = result["final"]["loss"]["values"]
    assert len(set(values)) == 3
    assert result["final"]["loss"]["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-4)
    assert result["final"]["loss"]["mean"] == pytest.approx(np.mean(values), rel=1e-5)


def test_result_schema_has_layers_and_history():
    config = make_config(init="he_normal", activation="relu", dataset="digits", depth=3, width=16, epochs=2,
                         seeds=(0, 1))
    result = json.loads(canonical_json(run_stack([config])[0]))
    assert result["schema"] == "initreport.result/1"
    assert len(result["layers"]) == 3
    for layer in result["layers"]:
        for key in ("activation_std", "gradient_std", "saturated_fraction", "dead_fraction", "weight_grad_norm",
                    "update_ratio", "distance_from_init", "unit_spread", "rank", "activation_hist", "gradient_hist"):
            assert key in layer
    assert [h["epoch"] for h in result["history"]] == [0, 1, 2]
    for h in result["history"]:
        assert {"loss", "accuracy", "test_loss", "test_accuracy"} <= set(h)
    # The first layer's activation std at init is the std of ReLU(x W) on the diagnostic batch.
    assert result["layers"][0]["activation_std"]["mean"] > 0


def test_saturation_and_dead_fractions_are_measured():
    sat = make_config(init="large_uniform", activation="tanh", dataset="digits", depth=3, width=32, epochs=0)
    dead = make_config(init="large_uniform_positive", activation="relu", dataset="digits", depth=3, width=32, epochs=0)
    calm = make_config(init="glorot_uniform", activation="tanh", dataset="digits", depth=3, width=32, epochs=0)
    r_sat, r_dead, r_calm = run_configs([sat, dead, calm])
    assert all(layer["saturated_fraction"]["mean"] > 0.5 for layer in r_sat["layers"])
    assert all(layer["saturated_fraction"]["mean"] < 0.05 for layer in r_calm["layers"])
    assert r_dead["layers"][0]["saturated_fraction"]["mean"] is None      # not defined for ReLU
    assert r_calm["layers"][0]["dead_fraction"]["mean"] is None           # not defined for tanh
    assert math.isfinite(r_dead["layers"][0]["dead_fraction"]["mean"])
