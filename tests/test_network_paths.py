"""The evaluation fast path (in-place activations, logits only) against the readable forward pass."""

import numpy as np
import pytest

from initreport.activations import ACTIVATIONS
from initreport.network import forward, forward_logits


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_logits_equals_the_reference_forward(name, dtype):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    sizes = [5, 8, 8, 3]
    weights = [rng.normal(0, 1.2, (2, a, b)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.3, (2, 1, b)).astype(dtype) for b in sizes[1:]]
    x = rng.normal(size=(9, sizes[0])).astype(dtype)
    reference, _, _ = forward(weights, biases, x, act)
    fast = forward_logits(weights, biases, x, act)
    assert fast.dtype == reference.dtype
    np.testing.assert_array_equal(fast, reference)
