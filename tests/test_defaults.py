"""Framework defaults and the leaky-ReLU gain, measured: PyTorch nn.Linear's default bias, and the
gain √(2/(1+α²)) that keeps the variance of a deep leaky-ReLU net level."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initreport import initializers, network
from initreport.activations import get_activation


def test_pytorch_default_bias_is_uniform_on_plus_minus_one_over_sqrt_fan_in():
    fan_in, fan_out = 100, 40_000
    b = initializers.draw_bias("pytorch_default", np.random.default_rng(3), fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    assert b.shape == (fan_out,)
    assert b.min() >= -bound and b.max() <= bound
    assert b.min() < -0.99 * bound and b.max() > 0.99 * bound       # it fills the interval
    # Var U[-l, l] = l²/3; the sample std of 40 000 draws is within 1.5 % of it
    assert b.std() == pytest.approx(bound / math.sqrt(3), rel=0.015)
    assert abs(b.mean()) < 4 * bound / math.sqrt(3) / math.sqrt(fan_out)


def test_other_initialisers_keep_a_constant_bias():
    assert initializers.draw_bias("glorot_uniform", np.random.default_rng(0), 10, 5) is None
    assert initializers.draw_bias("he_normal", np.random.default_rng(0), 10, 5) is None


def test_networks_with_pytorch_default_get_a_random_bias_in_every_layer_and_keras_default_zero():
    sizes = [64, 256, 256, 10]
    members = [network.Member("pytorch_default", 0, 0.01), network.Member("glorot_uniform", 0, 0.01),
               network.Member("pytorch_default", 0, 0.01, bias=0.0)]
    _, biases = network.init_stack(members, sizes, np.float64)
    for b, fan_in in zip(biases, sizes[:-1]):
        torch_like, keras_like, overridden = b[0, 0], b[1, 0], b[2, 0]
        assert np.all(np.abs(torch_like) <= 1 / math.sqrt(fan_in))
        assert torch_like.std() > 0.4 / math.sqrt(fan_in)          # random, not a constant (≈ 0.577/√n_in)
        assert np.all(keras_like == 0) and np.all(overridden == 0)


def test_pytorch_default_bias_matches_torch_when_available():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    lin = torch.nn.Linear(100, 20_000)
    theirs = lin.bias.detach().numpy()
    ours = initializers.draw_bias("pytorch_default", np.random.default_rng(1), 100, 20_000)
    for stat in (np.min, np.max, np.std):
        assert stat(ours) == pytest.approx(float(stat(theirs)), rel=0.03)


def _leaky_alpha() -> float:
    act = get_activation("leaky_relu")
    return float(-act.forward(np.array([-1.0]))[0])        # the slope for z < 0


def test_leaky_relu_he_gain_keeps_the_variance_level_through_the_layers():
    """Var(W) = gain²/n_in with gain² = 2/(1+α²): E[a²] = (1+α²)/2·E[z²] for symmetric z, so E[z²] stays level
    (in expectation over the weights: averaged over independent nets); with gain² = 1 (LeCun) it loses a factor
    (1+α²)/2 per layer."""
    alpha = _leaky_alpha()
    assert alpha == pytest.approx(0.01)
    act = get_activation("leaky_relu")
    rng = np.random.default_rng(0)
    width, depth, nets = 256, 10, 40
    x = rng.standard_normal((500, width))
    ratios = {"he": [], "lecun": []}
    for _ in range(nets):
        for name, gain2 in (("he", 2 / (1 + alpha**2)), ("lecun", 1.0)):
            a, second_moments = x, []
            for _ in range(depth):
                z = a @ (rng.standard_normal((width, width)) * math.sqrt(gain2 / width))
                second_moments.append(np.mean(z**2))
                a = act.forward(z)
            ratios[name].append(second_moments[-1] / second_moments[0])
    assert np.mean(ratios["he"]) == pytest.approx(1.0, abs=0.15)               # level
    expected = ((1 + alpha**2) / 2) ** (depth - 1)                            # ≈ 0.00195: halved per layer
    assert np.mean(ratios["lecun"]) == pytest.approx(expected, rel=0.15)


def test_he_normal_sample_std_against_the_leaky_gain_formula():
    """He normal (Keras, gain² = 2) draws std √(2/n_in); for leaky ReLU the formula asks √(2/((1+α²)·n_in)),
    which for α = 0.01 differs by 0.005 %: the sample std matches both to the sampling error."""
    alpha = _leaky_alpha()
    fan_in = 256
    w = initializers.initialize("he_normal", np.random.default_rng(5), fan_in, 4096, np.float64)
    leaky = math.sqrt(2 / ((1 + alpha**2) * fan_in))
    assert w.std() == pytest.approx(leaky, rel=0.01)
    assert abs(leaky / math.sqrt(2 / fan_in) - 1) < 1e-4
