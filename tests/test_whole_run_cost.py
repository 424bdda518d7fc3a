"""What issue 12's whole-run cost work changed: cheaper checkpoint diagnostics with the same numbers,
histograms at initialisation only, and the evaluation schedule stated on the site."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initreport import activations
from initreport.diagnostics import numerical_rank
from initreport.runner import make_config, run_stack


def _matrices(rng):
    """(members, fan_in, fan_out) float32 stacks: random, low-rank, constant, zero, near the tolerance."""
    for fan_in, fan_out in ((256, 256), (64, 256), (64, 64), (10, 64), (300, 40)):
        yield rng.standard_normal((3, fan_in, fan_out)) * math.sqrt(2 / fan_in)
        r = int(rng.integers(1, min(fan_in, fan_out)))
        yield rng.standard_normal((3, fan_in, r)) @ rng.standard_normal((3, r, fan_out))
        yield np.full((2, fan_in, fan_out), 0.3)
        yield np.zeros((2, fan_in, fan_out))
        # Identical units but one, moved by 1e-9 … 1e-3: singular values on both sides of the tolerance.
        for shift in (1e-9, 1e-6, 1e-5, 3e-5, 1e-4, 1e-3):
            w = np.repeat(rng.standard_normal((1, fan_in, 1)), fan_out, axis=2)
            w[:, :, 1] += shift
            yield w
        yield rng.standard_normal((2, fan_in, fan_out)) * 1e-30
        yield rng.standard_normal((2, fan_in, fan_out)) * 1e15


def test_rank_is_numpys_matrix_rank_of_the_float32_weights():
    """The Gram/Cholesky count gives the rank NumPy's SVD-based matrix_rank gives the float32 kernel."""
    rng = np.random.default_rng(7)
    checked = 0
    for w in _matrices(rng):
        w32 = w.astype(np.float32)
        expected = np.linalg.matrix_rank(w32)
        got = numerical_rank(w32.astype(np.float64))
        assert got.tolist() == expected.tolist(), (w.shape, got, expected)
        checked += len(w)
    assert checked == 100          # every matrix above was compared


def test_rank_of_each_member_does_not_depend_on_the_others():
    rng = np.random.default_rng(3)
    w = np.concatenate([rng.standard_normal((2, 64, 64)), np.zeros((1, 64, 64)), np.full((1, 64, 64), 2.0)])
    whole = numerical_rank(w)
    assert whole.tolist() == [64, 64, 0, 1]
    assert [numerical_rank(w[i:i + 1])[0] for i in range(4)] == whole.tolist()


@pytest.mark.parametrize("shape", [(3, 5, 7), (4, 128, 64), (2, 33)])
def test_relu_against_a_row_of_zeros_has_the_bits_of_the_scalar_form(shape):
    rng = np.random.default_rng(0)
    z = rng.standard_normal(shape).astype(np.float32).reshape(-1)
    z[:7] = [-0.0, 0.0, np.nan, -np.inf, np.inf, 1e-45, -1e-45]       # signed zeros, NaN, Inf, subnormals
    z = z.reshape(shape)
    expected = np.maximum(z, 0)
    assert activations.relu(z).tobytes() == expected.tobytes()
    inplace = z.copy()
    assert activations.relu_(inplace) is inplace
    assert inplace.tobytes() == expected.tobytes()


def test_histograms_are_taken_at_initialisation_only_and_every_other_statistic_at_each_checkpoint():
    config = make_config(init="he_normal", activation="relu", dataset="digits", depth=3, width=16, epochs=3,
                         seeds=(0, 1), checkpoints=(1,))
    [result] = run_stack([config])
    assert [cp["epoch"] for cp in result["checkpoints"]] == [0, 1, 3]
    for cp in result["checkpoints"]:
        for layer in cp["layers"]:
            for key in ("activation_hist", "gradient_hist"):
                if cp["epoch"] == 0:
                    assert math.isclose(sum(layer[key]["fraction"]), 1.0, rel_tol=1e-5)
                else:
                    assert layer[key] is None
            assert layer["rank"]["values"] == [16.0, 16.0]
            assert all(v is not None for v in layer["gradient_std"]["values"])
            moved = layer["distance_from_init"]["values"]
            assert moved == [0.0, 0.0] if cp["epoch"] == 0 else all(v > 0 for v in moved)
    assert result["layers"] == result["checkpoints"][0]["layers"]


def test_the_reproducibility_page_states_the_evaluation_schedule_in_words(quick_project):
    project, _ = quick_project
    page = (project / "docs" / "reproducibility.md").read_text()
    assert "## When each number is measured" in page
    section = page.split("## When each number is measured", 1)[1]
    for phrase in ("full training and test sets", "after every epoch", "up to 64 epochs",
                   "The final loss and accuracy are always those of the last epoch",
                   "Divergence", "first 512 training examples", "histograms at initialisation only"):
        assert phrase in section, phrase


def test_rank_from_the_unit_spreads_gram_matrix_is_numpys_matrix_rank():
    """For kernels with no more units than inputs the rank reuses the Gram matrix the unit spread
    computes (WᵀW recovered from DᵀD): the same ranks as NumPy's SVD, on the near-threshold cases too."""
    from initreport.diagnostics import unit_spread
    rng = np.random.default_rng(11)
    checked = 0
    for w in _matrices(rng):
        if w.shape[2] > w.shape[1]:
            continue
        w64 = w.astype(np.float32).astype(np.float64)
        spread, gram = unit_spread(w64, want_gram=True)
        direct = np.matmul(w64.transpose(0, 2, 1), w64)
        scale = np.abs(direct).max(axis=(1, 2), keepdims=True)
        assert np.all(np.abs(gram - direct) <= 1e-12 * np.where(scale > 0, scale, 1))
        assert spread.tolist() == unit_spread(w64).tolist()
        assert numerical_rank(w64, gram).tolist() == np.linalg.matrix_rank(w.astype(np.float32)).tolist()
        checked += len(w)
    assert checked == 60


def test_a_histogram_from_a_strided_sample_walks_every_unit_and_matches_the_full_one():
    from initreport.diagnostics import HIST_SAMPLE, histogram, strided_sample
    rng = np.random.default_rng(5)
    # Units with different scales: a sample that kept a fixed subset of units would be skewed.
    values = (rng.standard_normal((8, 512, 256)) * np.linspace(0.5, 2, 256)).astype(np.float32)
    sample = strided_sample(values, HIST_SAMPLE)
    assert HIST_SAMPLE // 2 < sample.size <= HIST_SAMPLE
    unit_of = np.broadcast_to(np.arange(256), values.shape)          # the same sampling, of unit indices
    assert np.unique(strided_sample(np.ascontiguousarray(unit_of), HIST_SAMPLE)).size == 256
    full, sampled = histogram(values, -4, 4, 40), histogram(values, -4, 4, 40, sample=HIST_SAMPLE)
    assert np.array_equal(full["edges"], sampled["edges"])
    assert np.abs(full["fraction"] - sampled["fraction"]).max() < 0.005
    small = values[:1, :4]
    assert strided_sample(small, HIST_SAMPLE).size == small.size       # few values: all of them


@pytest.mark.parametrize("threads", [2, 3])
def test_checkpoint_statistics_cut_into_blocks_of_members_have_the_bits_of_one_pass(threads):
    """The statistics without histograms, each block of members on its own thread, give exactly the
    numbers of one pass over all members (members that diverged earlier left out, rows kept)."""
    from initreport.diagnostics import blocked_layer_statistics, layer_statistics
    from initreport.network import Member, MemberThreads, init_stack, layer_sizes
    rng = np.random.default_rng(2)
    sizes = layer_sizes(20, 3, 24, 5)
    members = [Member(init, s, 0.1) for init in ("he_normal", "glorot_uniform") for s in range(4)]
    weights, biases = init_stack(members, sizes, np.float32)
    w0 = [w * np.float32(0.9) for w in weights]
    b0 = [b + np.float32(0.1) for b in biases]
    x = rng.standard_normal((64, 20)).astype(np.float32)
    y = rng.integers(0, 5, 64)
    lr = np.full((8, 1, 1), 0.1, np.float32)
    alive = np.array([0, 1, 2, 4, 5, 7])            # members 3 and 6 had diverged
    args = ([w[alive] for w in weights], [b[alive] for b in biases], [w[alive] for w in w0],
            [b[alive] for b in b0], lr[alive], x, y, activations.get_activation("tanh"), 10)
    common = {"members": alive, "n_members": 8, "groups": [np.arange(4), np.arange(4, 8)]}
    one = layer_statistics(*args, **common, histograms=False)
    with MemberThreads(threads) as pool:
        cut = blocked_layer_statistics(*args, **common, map_blocks=pool.map, blocks=pool.blocks(len(alive)))
    assert len(pool.blocks(len(alive))) == threads
    for a, b in zip(one["hidden"] + [one["output"]], cut["hidden"] + [cut["output"]]):
        assert a.keys() == b.keys()
        for k in a:
            if k.endswith("_hist"):
                assert a[k] == b[k] == [None, None]
            else:
                assert a[k].tobytes() == b[k].tobytes(), k
    assert np.isnan(one["hidden"][0]["activation_std"][[3, 6]]).all()


def test_run_without_output_takes_only_the_statistics_its_table_prints():
    """`initreport run` without --output: the per-layer statistics at initialisation that the table
    shows are those of a full run to the bit, the training is the same, and nothing else is taken."""
    config = make_config(init="he_normal", activation="tanh", dataset="digits", depth=3, width=16, epochs=2,
                         seeds=(0, 1))
    [full] = run_stack([config], history=False)
    [table] = run_stack([config], history=False, diagnostics="table")
    assert table["final"] == full["final"]
    shown = ("activation_mean", "activation_std", "gradient_std", "saturated_fraction", "dead_fraction")
    for a, b in zip(full["layers"], table["layers"]):
        for k in shown:
            assert a[k] == b[k], k
        assert b["rank"]["n"] == 0 and b["weight_norm"]["n"] == 0 and b["activation_hist"] is None
        assert a["rank"]["values"] == [16.0, 16.0] and a["activation_hist"] is not None
    assert [cp["epoch"] for cp in full["checkpoints"]] == [0, 2]
    last = table["checkpoints"][1]                            # the last checkpoint is not taken
    assert [cp["epoch"] for cp in table["checkpoints"]] == [0, 2]
    assert all(v["n"] == 0 for layer in last["layers"] for k, v in layer.items() if isinstance(v, dict))
    with pytest.raises(ValueError, match="diagnostics must be"):
        run_stack([config], diagnostics="some")
