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
