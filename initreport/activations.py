"""Activation functions, each beside its derivative, and the softmax cross-entropy output.

Derivatives take both the pre-activation ``z`` and the activation ``a = g(z)`` so that
each can use whichever is cheaper (tanh' = 1 - a², sigmoid' = a(1 - a)) without
recomputing ``g``. At ``z = 0`` the ReLU derivative is taken as 0, the convention of
every framework; it is what makes zero initialisation freeze a ReLU network exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import choice_error

LEAKY_SLOPE = 0.01


def sigmoid(z):
    """σ(z) = 1 / (1 + e^-z), written as ½(1 + tanh(z/2)): same value, no overflow for large |z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_grad(z, a):
    """σ'(z) = σ(z)(1 − σ(z)); its maximum is 1/4, at z = 0."""
    return a * (1.0 - a)


def sigmoid_(z):
    """In place: z ← σ(z)."""
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def sigmoid_backprop_(da, a):
    """In place: da ← da · σ'(z), with σ' = a(1 − a) from the activation alone.

    Same operations in the same order as ``da * sigmoid_grad(z, a)``, so the same bits.
    """
    slope = 1.0 - a
    slope *= a
    da *= slope
    return da


def tanh(z):
    return np.tanh(z)


def tanh_(z):
    return np.tanh(z, out=z)


def tanh_backprop_(da, a):
    """In place: da ← da · (1 − a²), rounded exactly as ``da * tanh_grad(z, a)``."""
    slope = a * a
    np.subtract(1.0, slope, out=slope)
    da *= slope
    return da


def tanh_grad(z, a):
    """tanh'(z) = 1 − tanh²(z); its maximum is 1, at z = 0."""
    return 1.0 - a * a


def relu(z):
    # Against a row of zeros rather than the scalar 0: the same values bit for bit (−0.0, NaN and
    # ±Inf included), but NumPy's vectorised loop instead of its scalar-broadcast one, 2–2.5× faster.
    return np.maximum(z, np.zeros(z.shape[-1:], z.dtype))


def relu_grad(z, a):
    """ReLU'(z) = 1 for z > 0, else 0 (0 at z = 0 by convention)."""
    return (z > 0).astype(z.dtype)


def relu_(z):
    return np.maximum(z, np.zeros(z.shape[-1:], z.dtype), out=z)     # (see relu)


def relu_backprop_(da, a):
    """In place: da ← da · 1[a > 0] (a > 0 exactly where z > 0)."""
    np.multiply(da, a > 0, out=da)      # (a masked multiply is ~6× slower in NumPy 2)
    return da


def leaky_relu(z):
    """max(z, 0.01·z)."""
    return np.where(z > 0, z, LEAKY_SLOPE * z).astype(z.dtype, copy=False)


def leaky_relu_grad(z, a):
    """1 for z > 0, else 0.01."""
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype, copy=False)


def leaky_relu_(z):
    np.multiply(z, LEAKY_SLOPE, out=z, where=z <= 0)
    return z


def leaky_relu_backprop_(da, a):
    """In place: da ← da · (1 if a > 0 else 0.01) (a > 0 exactly where z > 0)."""
    np.multiply(da, np.where(a > 0, da.dtype.type(1), da.dtype.type(LEAKY_SLOPE)), out=da)
    return da


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Callable
    grad: Callable
    formula_tex: str
    saturates: bool       # has flat tails where the derivative vanishes (tanh, sigmoid)
    can_die: bool         # a unit can be zero (or flat) on every input (ReLU family)
    forward_: Callable = None      # in-place forward, for the training loop
    backprop_: Callable = None     # in-place da ← da · g'(z), from the activation a alone

    def saturated(self, a):
        """Boolean mask of saturated outputs: |tanh| > 0.99, sigmoid < 0.01 or > 0.99."""
        if self.name == "tanh":
            return np.abs(a) > 0.99
        if self.name == "sigmoid":
            return (a < 0.01) | (a > 0.99)
        return None


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, sigmoid_grad, r"\sigma(z) = \frac{1}{1+e^{-z}}", True, False,
                   sigmoid_, sigmoid_backprop_),
        Activation("tanh", tanh, tanh_grad, r"\tanh(z) = \frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}", True, False,
                   tanh_, tanh_backprop_),
        Activation("relu", relu, relu_grad, r"\mathrm{ReLU}(z) = \max(0, z)", False, True,
                   relu_, relu_backprop_),
        Activation("leaky_relu", leaky_relu, leaky_relu_grad, r"\mathrm{LReLU}(z) = \max(0.01z, z)", False, True,
                   leaky_relu_, leaky_relu_backprop_),
    )
}


# How the site and the figures name each activation in prose ("ReLU"); the registry names
# (``relu``) are for code and the command line.
DISPLAY = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU"}


def display_name(name: str) -> str:
    """The activation's name in prose ("leaky ReLU"); a name not in DISPLAY reads as its words."""
    return DISPLAY.get(name) or name.replace("_", " ")


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise choice_error("activation", name, ACTIVATIONS) from None


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (..., B, K); labels: (..., B) integers. Returns (loss per leading index, dL/dlogits).
    L = −(1/B) Σ_b log p_b[y_b] with p = softmax(logits); dL/dlogits = (p − onehot(y)) / B.
    Shifting by the row maximum keeps exp() from overflowing; a non-finite logit gives NaN,
    which the trainer records as divergence.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    log_total = np.log(total)
    batch = logits.shape[-2]
    picked = np.take_along_axis(shifted, labels[..., None], axis=-1)[..., 0]
    loss = (log_total[..., 0] - picked).mean(axis=-1)
    grad = exp / total
    np.put_along_axis(grad, labels[..., None], np.take_along_axis(grad, labels[..., None], axis=-1) - 1, axis=-1)
    grad /= batch
    return loss, grad


def softmax_cross_entropy_grad_(logits, labels):
    """In place: logits ← dL/dlogits = (softmax(logits) − onehot(labels)) / B. No loss value."""
    logits -= logits.max(axis=-1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=-1, keepdims=True)
    # p_y − 1 on each row's label, by flat index (put/take_along_axis build the same index in ~10 calls).
    if logits.flags.c_contiguous:
        rows = logits.reshape(-1, logits.shape[-1])          # a view
        rows[np.arange(len(rows)), labels.reshape(-1)] -= 1
    else:
        np.put_along_axis(logits, labels[..., None], np.take_along_axis(logits, labels[..., None], axis=-1) - 1,
                          axis=-1)
    logits /= logits.shape[-2]
    return logits
