"""Backprop against centred finite differences, in float64, for every activation."""

import numpy as np
import pytest

from initreport.activations import ACTIVATIONS, softmax_cross_entropy
from initreport.network import backward, forward


def _loss(weights, biases, x, y, act):
    logits, _, _ = forward(weights, biases, x, act)
    loss, _ = softmax_cross_entropy(logits, np.broadcast_to(y, logits.shape[:-1]))
    return loss  # (members,)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shared_input", [True, False])
def test_backprop_matches_finite_differences(name, shared_input):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(7)
    sizes = [5, 6, 4, 3]
    members, batch = 2, 7
    weights = [rng.normal(0, 0.8, (members, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.3, (members, 1, b)) for b in sizes[1:]]
    x = rng.normal(size=(batch, sizes[0])) if shared_input else rng.normal(size=(members, batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)

    logits, pre, acts = forward(weights, biases, x, act)
    _, dlogits = softmax_cross_entropy(logits, np.broadcast_to(y, logits.shape[:-1]))
    d_w, d_b, _ = backward(weights, pre, acts, dlogits, act)

    eps = 1e-6
    for params, grads, label in ((weights, d_w, "W"), (biases, d_b, "b")):
        for l, (p, g) in enumerate(zip(params, grads)):
            numeric = np.zeros_like(p)
            it = np.nditer(p, flags=["multi_index"])
            for _ in it:
                i = it.multi_index
                old = p[i]
                p[i] = old + eps
                up = _loss(weights, biases, x, y, act)[i[0]]
                p[i] = old - eps
                down = _loss(weights, biases, x, y, act)[i[0]]
                p[i] = old
                numeric[i] = (up - down) / (2 * eps)
            rel = np.linalg.norm(numeric - g) / max(np.linalg.norm(numeric) + np.linalg.norm(g), 1e-12)
            assert rel < 1e-6, f"{name}: d{label}{l + 1} relative error {rel:.2e}"


def test_members_do_not_mix():
    """Slice m of the gradient depends only on member m: perturbing member 1 leaves member 0's gradient intact."""
    act = ACTIVATIONS["tanh"]
    rng = np.random.default_rng(1)
    sizes = [4, 5, 3]
    weights = [rng.normal(size=(3, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros((3, 1, b)) for b in sizes[1:]]
    x = rng.normal(size=(6, 4))
    y = rng.integers(0, 3, size=6)

    def grads():
        logits, pre, acts = forward(weights, biases, x, act)
        _, dl = softmax_cross_entropy(logits, np.broadcast_to(y, logits.shape[:-1]))
        return backward(weights, pre, acts, dl, act)[0]

    before = [g[0].copy() for g in grads()]
    weights[0][1] += 10.0
    after = [g[0] for g in grads()]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_softmax_cross_entropy_value():
    logits = np.array([[[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]])
    y = np.array([[0, 2]])
    loss, _ = softmax_cross_entropy(logits, y)
    p0 = np.exp(2) / (np.exp(2) + 1 + np.exp(-1))
    expected = (-np.log(p0) + np.log(3)) / 2
    assert loss[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_difference(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-4, 4, 81) + 0.0137  # avoid the ReLU kink at exactly 0
    eps = 1e-6
    numeric = (act.forward(z + eps) - act.forward(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.grad(z, act.forward(z)), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_fast_training_step_matches_reference_backprop(name, momentum):
    """sgd_step (in place, fused) gives the update that forward + backward + SGD define."""
    from initreport.network import pack, sgd_step, unpack, with_ones

    act = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    sizes = [6, 5, 5, 3]
    members, batch = 3, 8
    weights = [rng.normal(0, 0.7, (members, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.2, (members, 1, b)) for b in sizes[1:]]
    vel_w = [rng.normal(0, 0.01, w.shape) for w in weights]
    vel_b = [rng.normal(0, 0.01, b.shape) for b in biases]
    x = rng.normal(size=(members, batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=(members, batch))
    lr = np.array([0.1, 0.2, 0.05]).reshape(-1, 1, 1)

    logits, pre, acts = forward(weights, biases, x, act)
    _, dlogits = softmax_cross_entropy(logits, y)
    d_w, d_b, _ = backward(weights, pre, acts, dlogits, act)
    expected_w, expected_b = [], []
    for l in range(len(weights)):
        if momentum:
            expected_w.append(weights[l] + (momentum * vel_w[l] - lr * d_w[l]))
            expected_b.append(biases[l] + (momentum * vel_b[l] - lr * d_b[l]))
        else:
            expected_w.append(weights[l] - lr * d_w[l])
            expected_b.append(biases[l] - lr * d_b[l])

    params = pack(weights, biases)
    velocity = pack(vel_w, vel_b) if momentum else None
    sgd_step(params, velocity, with_ones(x), y, act, lr, momentum)
    w, b = unpack(params)
    for l in range(len(w)):
        np.testing.assert_allclose(w[l], expected_w[l], rtol=1e-12, atol=1e-14, err_msg=f"{name} W{l + 1}")
        np.testing.assert_allclose(b[l], expected_b[l], rtol=1e-12, atol=1e-14, err_msg=f"{name} b{l + 1}")
