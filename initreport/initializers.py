"""Weight initialisers: one registry of small pure functions, each with its formula and source.

(Over 500 lines on purpose: most of it is the registry table ``_TABLE``, one entry per initialiser
with its formulas, sources and framework lines; the functions themselves are short.)

Every initialiser has the signature ``(rng, fan_in, fan_out, dtype, *, params) -> ndarray`` and
returns a kernel of shape ``(fan_in, fan_out)`` (Keras Dense convention; PyTorch stores the
transpose). Draws are made in float64 from the given ``numpy.random.Generator`` only, then cast,
so float32 and float64 draws of one seed agree up to rounding.

Glorot, He and LeCun are presets of :func:`variance_scaling`, exactly as Keras 3 defines them
(``keras/src/initializers/random_initializers.py``). Each registry entry also states the
theoretical mean, std and support of its draws; ``tests/test_initializers.py`` measures them.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from initreport.errors import InitReportError, choice_error

# Std of a standard normal truncated to [-2, 2]; Keras divides by it so the kept draws have
# exactly the intended std (keras-team/keras#8048: without it the variance is ~23% short).
TRUNCATED_NORMAL_STD = 0.87962566103423978
TRUNCATION = 2.0  # cut-off in units of the pre-truncation std

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
FAMILIES = ("pitfall", "heuristic", "other")


# --- drawing helpers -----------------------------------------------------------------------


def _truncated_standard_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """N(0, 1) restricted to [-2, 2], by redrawing only the out-of-range entries.

    Vectorised and deterministic for a given Generator: each round redraws the rejected
    positions in index order (about 4.6% of them survive a round, so a handful of rounds).
    """
    z = rng.standard_normal(shape).ravel()
    bad = np.flatnonzero(np.abs(z) > TRUNCATION)
    while bad.size:
        z[bad] = rng.standard_normal(bad.size)
        bad = bad[np.abs(z[bad]) > TRUNCATION]
    return z.reshape(shape)


def _fan(mode: str, fan_in: int, fan_out: int) -> float:
    """Keras' n: max(1, fan_in) | max(1, fan_out) | max(1, (fan_in + fan_out) / 2)."""
    if mode == "fan_in":
        return max(1.0, fan_in)
    if mode == "fan_out":
        return max(1.0, fan_out)
    return max(1.0, (fan_in + fan_out) / 2.0)


# --- the variance-scaling core -------------------------------------------------------------


def variance_scaling(scale: float, mode: str, distribution: str) -> Callable:
    """Keras' VarianceScaling(scale, mode, distribution) as an initialiser function.

    With n from ``mode`` (fan_in, fan_out or their mean, each at least 1):
      - truncated_normal: N(0, s²) cut at ±2s, s = √(scale/n) / 0.87962566103423978,
        so the kept draws have std √(scale/n) ("normal" is an alias, as in Keras);
      - untruncated_normal: N(0, scale/n);
      - uniform: U[-l, l], l = √(3·scale/n) (std √(scale/n)).
    Source: Keras 3, keras/src/initializers/random_initializers.py (VarianceScaling).
    """
    if distribution == "normal":  # Keras maps the bare name to the truncated form
        distribution = "truncated_normal"
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise InitReportError(f"variance_scaling scale must be a finite number > 0, got {scale!r}")
    if mode not in MODES:
        raise choice_error("variance_scaling mode", mode, MODES)
    if distribution not in DISTRIBUTIONS:
        raise choice_error("variance_scaling distribution", distribution, DISTRIBUTIONS + ("normal",))

    def initializer(rng, fan_in, fan_out, dtype=np.float32):
        std = math.sqrt(scale / _fan(mode, fan_in, fan_out))
        shape = (fan_in, fan_out)
        if distribution == "truncated_normal":
            w = _truncated_standard_normal(rng, shape) * (std / TRUNCATED_NORMAL_STD)
        elif distribution == "untruncated_normal":
            w = rng.standard_normal(shape) * std
        else:
            limit = math.sqrt(3.0) * std
            w = rng.uniform(-limit, limit, shape)
        return w.astype(dtype, copy=False)

    return initializer


def _variance_scaling_law(scale: float, mode: str, distribution: str) -> Callable:
    """Theoretical (mean, std, bounds) of variance_scaling(scale, mode, distribution)."""

    def law(fan_in, fan_out):
        std = math.sqrt(scale / _fan(mode, fan_in, fan_out))
        if distribution == "truncated_normal":
            cut = TRUNCATION * std / TRUNCATED_NORMAL_STD
            return 0.0, std, (-cut, cut)
        if distribution == "uniform":
            return 0.0, std, (-math.sqrt(3.0) * std, math.sqrt(3.0) * std)
        return 0.0, std, None

    return law


# --- pitfalls ------------------------------------------------------------------------------


def zeros(rng, fan_in, fan_out, dtype=np.float32):
    """W = 0. Every unit computes the same thing, so symmetry is never broken.

    Source: CS231n notes, "Pitfall: all zero initialization"; Keras 'zeros'.
    """
    return np.zeros((fan_in, fan_out), dtype=dtype)


def constant(rng, fan_in, fan_out, dtype=np.float32, *, value=0.5):
    """W = c (default c = 0.5); the notes set "all weights (and biases)" to it.

    Units stay identical copies of each other, like zeros. Source: the lecture notes' constant
    pitfall; CS231n notes on symmetry breaking; Keras Constant.
    """
    return np.full((fan_in, fan_out), float(value), dtype=np.float64).astype(dtype, copy=False)


def small_random(rng, fan_in, fan_out, dtype=np.float32):
    """W = 0.01·N(0, 1): fine for shallow nets, signals shrink towards 0 with depth.

    Source: CS231n notes, W = 0.01 * np.random.randn(D, H).
    """
    return (0.01 * rng.standard_normal((fan_in, fan_out))).astype(dtype, copy=False)


def large_random(rng, fan_in, fan_out, dtype=np.float32):
    """W = N(0, 1), unscaled: pre-activations have variance ≈ fan_in, so tanh/sigmoid saturate.

    Source: CS231n lecture (scale 1.0); Coursera DL course 2 "Initialization" (randn).
    """
    return rng.standard_normal((fan_in, fan_out)).astype(dtype, copy=False)


def large_uniform(rng, fan_in, fan_out, dtype=np.float32):
    """W ~ U[-3, 3] (std √3): large weights regardless of width.

    Source: an illustrative pitfall of this project; cf. the "too large" case in deeplearning.ai
    AI Notes, "Initializing neural networks".
    """
    return rng.uniform(-3.0, 3.0, (fan_in, fan_out)).astype(dtype, copy=False)


def large_uniform_positive(rng, fan_in, fan_out, dtype=np.float32):
    """W ~ U[0, 1): all-positive weights (mean 0.5), so pre-activations drift with width.

    Source: an illustrative pitfall of this project: np.random.rand(n_in, n_out).
    """
    return rng.random((fan_in, fan_out)).astype(dtype, copy=False)


# --- heuristics: Keras presets of variance_scaling -----------------------------------------
# Each preset is a named function so its name, docstring and registry entry are one object.

_glorot_normal = variance_scaling(1.0, "fan_avg", "truncated_normal")
_glorot_uniform = variance_scaling(1.0, "fan_avg", "uniform")
_he_normal = variance_scaling(2.0, "fan_in", "truncated_normal")
_he_uniform = variance_scaling(2.0, "fan_in", "uniform")
_lecun_normal = variance_scaling(1.0, "fan_in", "truncated_normal")
_lecun_uniform = variance_scaling(1.0, "fan_in", "uniform")
_xavier_normal_untruncated = variance_scaling(1.0, "fan_in", "untruncated_normal")
_pytorch_default = variance_scaling(1.0 / 3.0, "fan_in", "uniform")


def glorot_normal(rng, fan_in, fan_out, dtype=np.float32):
    """N(0, s²) truncated at ±2s, s = √(2/(n_in+n_out))/0.8796; final std √(2/(n_in+n_out)).

    variance_scaling(1, "fan_avg", "truncated_normal"). Source: Glorot & Bengio 2010
    (AISTATS); Keras glorot_normal.
    """
    return _glorot_normal(rng, fan_in, fan_out, dtype)


def glorot_uniform(rng, fan_in, fan_out, dtype=np.float32):
    """U[-l, l], l = √(6/(n_in+n_out)): Glorot's "normalized" init, the Keras Dense default.

    variance_scaling(1, "fan_avg", "uniform"). Source: Glorot & Bengio 2010, eq. 16;
    Keras glorot_uniform.
    """
    return _glorot_uniform(rng, fan_in, fan_out, dtype)


def he_normal(rng, fan_in, fan_out, dtype=np.float32):
    """N(0, s²) truncated at ±2s, s = √(2/n_in)/0.8796; final std √(2/n_in), for ReLU.

    variance_scaling(2, "fan_in", "truncated_normal"). Source: He et al. 2015,
    arXiv:1502.01852; Keras he_normal.
    """
    return _he_normal(rng, fan_in, fan_out, dtype)


def he_uniform(rng, fan_in, fan_out, dtype=np.float32):
    """U[-l, l], l = √(6/n_in) (std √(2/n_in)).

    variance_scaling(2, "fan_in", "uniform"). Source: He et al. 2015; Keras he_uniform.
    """
    return _he_uniform(rng, fan_in, fan_out, dtype)


def lecun_normal(rng, fan_in, fan_out, dtype=np.float32):
    """N(0, s²) truncated at ±2s, s = √(1/n_in)/0.8796; final std √(1/n_in).

    This is the lecture notes' "Xavier normal σ = √(1/n_in)", truncated as Keras does it.
    variance_scaling(1, "fan_in", "truncated_normal"). Source: LeCun et al. 1998, "Efficient
    BackProp"; Keras lecun_normal.
    """
    return _lecun_normal(rng, fan_in, fan_out, dtype)


def lecun_uniform(rng, fan_in, fan_out, dtype=np.float32):
    """U[-l, l], l = √(3/n_in) (std √(1/n_in)).

    variance_scaling(1, "fan_in", "uniform"). Source: LeCun et al. 1998; Keras lecun_uniform.
    """
    return _lecun_uniform(rng, fan_in, fan_out, dtype)


def xavier_normal_untruncated(rng, fan_in, fan_out, dtype=np.float32):
    """N(0, 1/n_in), untruncated: the notes' np.random.randn(n_in, n_out) * sqrt(1/n_in).

    variance_scaling(1, "fan_in", "untruncated_normal"). Source: CS231n notes (calibrating
    the variances with 1/sqrt(n)); Keras VarianceScaling.
    """
    return _xavier_normal_untruncated(rng, fan_in, fan_out, dtype)


def pytorch_default(rng, fan_in, fan_out, dtype=np.float32):
    """U[-1/√n_in, 1/√n_in] (Var = 1/(3·n_in)): nn.Linear's default weight init.

    PyTorch calls kaiming_uniform_(w, a=√5); the gain √(2/(1+5)) makes the bound 1/√n_in.
    Same as variance_scaling(1/3, "fan_in", "uniform"). Source: torch/nn/modules/linear.py;
    pytorch/pytorch#15314, #57109.
    """
    return _pytorch_default(rng, fan_in, fan_out, dtype)


# --- others --------------------------------------------------------------------------------


def orthogonal(rng, fan_in, fan_out, dtype=np.float32, *, gain=1.0):
    """W = gain·Q, Q from the QR decomposition of a Gaussian matrix, columns sign-fixed by diag(R).

    Fixing signs by diag(R) makes Q Haar-distributed (uniform over orthogonal matrices).
    For fan_in < fan_out the QR is done on the (fan_out, fan_in) transpose, as Keras and
    PyTorch do, so WᵀW = gain²·I if fan_in >= fan_out, else WWᵀ = gain²·I.
    Entry std gain/√max(n_in, n_out). Source: Saxe et al. 2013, arXiv:1312.6120;
    Keras Orthogonal; torch.nn.init.orthogonal_.
    """
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # sign(0) would zero a column
    if fan_in < fan_out:
        q = q.T
    return (gain * q).astype(dtype, copy=False)


def scaled_normal(rng, fan_in, fan_out, dtype=np.float32, *, gain=1.0):
    """N(0, (gain/√n_in)²): one knob for the weight-scale sweep (gain 1 = LeCun, √2 = He).

    Source: He et al. 2015, arXiv:1502.01852, §2.2 (Var = gain²/n_in); torch.nn.init.normal_.
    """
    return (rng.standard_normal((fan_in, fan_out)) * (gain / math.sqrt(fan_in))).astype(dtype, copy=False)


# --- registry ------------------------------------------------------------------------------

_POSITIVE_PARAMS = frozenset({"gain"})  # a gain of 0 or below is meaningless (zero or sign flip)


@dataclass(frozen=True)
class InitInfo:
    """One initialiser: its function, how it is written and cited, and its theoretical moments."""

    name: str
    family: str  # "pitfall" | "heuristic" | "other"
    summary: str  # one sentence, plain words
    formula: str  # plain text
    formula_tex: str  # LaTeX, no $ delimiters
    source: str  # citation
    keras: str | None  # Keras code, None where Keras has no equivalent
    pytorch: str | None  # PyTorch code, with a note where not exact
    default_bias: float
    params: dict  # parameter name -> default value
    function: Callable = field(repr=False, compare=False)
    law: Callable = field(repr=False, compare=False)  # (fan_in, fan_out, **params) -> (mean, std, bounds)
    bias_param: str | None = None  # a param the bias copies (the `constant` pitfall)

    def resolve(self, params: dict) -> dict:
        """Defaults overlaid with ``params``, after checking names and values."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            allowed = ", ".join(sorted(self.params)) or "none"
            raise InitReportError(
                f"unknown parameter {unknown[0]!r} for initialiser {self.name!r}; allowed: {allowed}")
        out = dict(self.params)
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise InitReportError(f"{self.name} parameter {key} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise InitReportError(f"{self.name} parameter {key} must be finite, got {value!r}")
            if key in _POSITIVE_PARAMS and value <= 0:
                raise InitReportError(f"{self.name} parameter {key} must be > 0, got {value!r}")
            out[key] = value
        return out

    def moments(self, fan_in: int, fan_out: int, **params) -> tuple[float, float, tuple | None]:
        """Theoretical (mean, std, bounds) of one draw, after checking the fans and params."""
        fans = _check_fan("fan_in", fan_in), _check_fan("fan_out", fan_out)
        mean, std, b = self.law(*fans, **self.resolve(params))
        return float(mean), float(std), None if b is None else (float(b[0]), float(b[1]))

    def mean(self, fan_in: int, fan_out: int, **params) -> float:
        return self.moments(fan_in, fan_out, **params)[0]

    def std(self, fan_in: int, fan_out: int, **params) -> float:
        return self.moments(fan_in, fan_out, **params)[1]

    def bounds(self, fan_in: int, fan_out: int, **params) -> tuple[float, float] | None:
        """Hard support [lo, hi] of the draws, None if unbounded."""
        return self.moments(fan_in, fan_out, **params)[2]

    def bias(self, **params) -> float:
        """The bias value this initialiser prescribes (default_bias, or the copied param)."""
        if self.bias_param is None:
            self.resolve(params)
            return self.default_bias
        return float(self.resolve(params)[self.bias_param])


def _info(function, family, summary, formula, formula_tex, source, keras, pytorch, law, bias_param=None):
    """A registry entry; name and params come from the function itself so they cannot drift."""
    params = {
        p.name: p.default
        for p in inspect.signature(function).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    default_bias = float(params[bias_param]) if bias_param else 0.0
    return InitInfo(function.__name__, family, summary, formula, formula_tex, source, keras, pytorch,
                    default_bias, params, function, law, bias_param)


def _fixed(mean, std, bounds=None):
    return lambda fan_in, fan_out: (mean, std, bounds)


_TRUNC_TORCH = "nn.init.trunc_normal_(w, std=s, a=-2*s, b=2*s) with s = {std}/0.87962566 (exact)"

_TABLE = [
    # pitfalls
    _info(zeros, "pitfall", "Every weight is zero, so all units in a layer stay identical.",
          "W = 0", r"W = 0",
          "CS231n notes, 'Pitfall: all zero initialization'",
          "Dense(n, kernel_initializer='zeros')", "nn.init.zeros_(w)",
          _fixed(0.0, 0.0, (0.0, 0.0))),
    _info(constant, "pitfall", "Every weight and bias is the same constant, so all units stay identical.",
          "W = c, b = c (c = 0.5)", r"W_{ij} = c,\ b_j = c,\ c = 0.5",
          "Lecture notes' constant pitfall; CS231n notes on symmetry breaking; Keras Constant",
          "Dense(n, kernel_initializer=Constant(0.5), bias_initializer=Constant(0.5))",
          "nn.init.constant_(w, 0.5); nn.init.constant_(b, 0.5)",
          lambda fan_in, fan_out, value: (value, 0.0, (value, value)), bias_param="value"),
    _info(small_random, "pitfall", "Small Gaussian weights that make signals shrink towards zero in deep nets.",
          "0.01·N(0, 1)", r"W_{ij} \sim 0.01\,\mathcal{N}(0, 1)",
          "CS231n notes: W = 0.01 * np.random.randn(D, H)",
          "Dense(n, kernel_initializer=RandomNormal(stddev=0.01))", "nn.init.normal_(w, std=0.01)",
          _fixed(0.0, 0.01)),
    _info(large_random, "pitfall", "Unscaled standard-normal weights that saturate tanh and sigmoid units.",
          "N(0, 1)", r"W_{ij} \sim \mathcal{N}(0, 1)",
          "CS231n lecture (weight scale 1.0); Coursera DL course 2, 'Initialization'",
          "Dense(n, kernel_initializer=RandomNormal(stddev=1.0))", "nn.init.normal_(w, std=1.0)",
          _fixed(0.0, 1.0)),
    _info(large_uniform, "pitfall", "Large uniform weights whose size ignores the layer width.",
          "U[−3, 3]", r"W_{ij} \sim \mathcal{U}[-3, 3]",
          "Illustrative pitfall; cf. the 'too large' case in deeplearning.ai AI Notes, 'Initializing neural networks'",
          "Dense(n, kernel_initializer=RandomUniform(-3.0, 3.0))", "nn.init.uniform_(w, -3.0, 3.0)",
          _fixed(0.0, math.sqrt(3.0), (-3.0, 3.0))),
    _info(large_uniform_positive, "pitfall", "All-positive weights, so every pre-activation grows with the width.",
          "U[0, 1)", r"W_{ij} \sim \mathcal{U}[0, 1)",
          "Illustrative pitfall: np.random.rand(n_in, n_out)",
          "Dense(n, kernel_initializer=RandomUniform(0.0, 1.0))", "nn.init.uniform_(w, 0.0, 1.0)",
          _fixed(0.5, math.sqrt(1.0 / 12.0), (0.0, 1.0))),
    # heuristics
    _info(glorot_normal, "heuristic", "Truncated Gaussian scaled by the mean of fan-in and fan-out.",
          "N(0, s²) truncated at ±2s, s = √(2/(n_in+n_out))/0.8796, so std = √(2/(n_in+n_out))",
          r"\mathcal{N}(0, s^2)\ \text{truncated to}\ [-2s, 2s],\ s = \sqrt{2/(n_{in}+n_{out})}\,/\,0.8796",
          "Glorot & Bengio 2010, AISTATS; Keras glorot_normal",
          "Dense(n, kernel_initializer='glorot_normal')",
          _TRUNC_TORCH.format(std="sqrt(2/(in+out))")
          + "; nn.init.xavier_normal_(w) has the same std but is untruncated",
          _variance_scaling_law(1.0, "fan_avg", "truncated_normal")),
    _info(glorot_uniform, "heuristic", "Uniform weights scaled by the mean of fan-in and fan-out (Keras' default).",
          "U[−l, l], l = √(6/(n_in+n_out))",
          r"\mathcal{U}\left[-\sqrt{6/(n_{in}+n_{out})},\ \sqrt{6/(n_{in}+n_{out})}\right]",
          "Glorot & Bengio 2010, AISTATS, eq. 16; Keras glorot_uniform",
          "Dense(n, kernel_initializer='glorot_uniform')", "nn.init.xavier_uniform_(w)",
          _variance_scaling_law(1.0, "fan_avg", "uniform")),
    _info(he_normal, "heuristic", "Truncated Gaussian with variance 2/fan-in, which keeps ReLU signals level.",
          "N(0, s²) truncated at ±2s, s = √(2/n_in)/0.8796, so std = √(2/n_in)",
          r"\mathcal{N}(0, s^2)\ \text{truncated to}\ [-2s, 2s],\ s = \sqrt{2/n_{in}}\,/\,0.8796",
          "He et al. 2015, arXiv:1502.01852; Keras he_normal",
          "Dense(n, kernel_initializer='he_normal')",
          _TRUNC_TORCH.format(std="sqrt(2/in)")
          + "; nn.init.kaiming_normal_(w, nonlinearity='relu') has the same std but is untruncated",
          _variance_scaling_law(2.0, "fan_in", "truncated_normal")),
    _info(he_uniform, "heuristic", "Uniform weights with variance 2/fan-in, for ReLU.",
          "U[−l, l], l = √(6/n_in)", r"\mathcal{U}\left[-\sqrt{6/n_{in}},\ \sqrt{6/n_{in}}\right]",
          "He et al. 2015, arXiv:1502.01852; Keras he_uniform",
          "Dense(n, kernel_initializer='he_uniform')", "nn.init.kaiming_uniform_(w, nonlinearity='relu')",
          _variance_scaling_law(2.0, "fan_in", "uniform")),
    _info(lecun_normal, "heuristic", "Truncated Gaussian with variance 1/fan-in (the notes' 'Xavier normal').",
          "N(0, s²) truncated at ±2s, s = √(1/n_in)/0.8796, so std = √(1/n_in)",
          r"\mathcal{N}(0, s^2)\ \text{truncated to}\ [-2s, 2s],\ s = \sqrt{1/n_{in}}\,/\,0.8796",
          "LeCun et al. 1998, 'Efficient BackProp'; Keras lecun_normal",
          "Dense(n, kernel_initializer='lecun_normal')",
          _TRUNC_TORCH.format(std="sqrt(1/in)")
          + "; nn.init.kaiming_normal_(w, nonlinearity='linear') has the same std but is untruncated",
          _variance_scaling_law(1.0, "fan_in", "truncated_normal")),
    _info(lecun_uniform, "heuristic", "Uniform weights with variance 1/fan-in.",
          "U[−l, l], l = √(3/n_in)", r"\mathcal{U}\left[-\sqrt{3/n_{in}},\ \sqrt{3/n_{in}}\right]",
          "LeCun et al. 1998, 'Efficient BackProp'; Keras lecun_uniform",
          "Dense(n, kernel_initializer='lecun_uniform')", "nn.init.kaiming_uniform_(w, nonlinearity='linear')",
          _variance_scaling_law(1.0, "fan_in", "uniform")),
    _info(xavier_normal_untruncated, "heuristic",
          "Plain Gaussian with variance 1/fan-in, as the lecture notes write 'Xavier' init.",
          "N(0, 1/n_in)", r"\mathcal{N}\left(0, 1/n_{in}\right)",
          "CS231n notes: np.random.randn(n_in, n_out) * sqrt(1/n_in)",
          "Dense(n, kernel_initializer=VarianceScaling(1.0, 'fan_in', 'untruncated_normal'))",
          "nn.init.kaiming_normal_(w, nonlinearity='linear')",
          _variance_scaling_law(1.0, "fan_in", "untruncated_normal")),
    _info(pytorch_default, "heuristic",
          "PyTorch nn.Linear's default: uniform weights with variance 1/(3·fan-in), and a uniform bias on the "
          "same interval.",
          "W, b ~ U[−1/√n_in, 1/√n_in]", r"W_{ij},\ b_j \sim \mathcal{U}\left[-1/\sqrt{n_{in}},\ 1/\sqrt{n_{in}}\right]",
          "torch/nn/modules/linear.py (kaiming_uniform_ with a=√5); pytorch/pytorch#15314, #57109",
          "Dense(n, kernel_initializer=VarianceScaling(1/3, 'fan_in', 'uniform'), "
          "bias_initializer=RandomUniform(-1/math.sqrt(n_in), 1/math.sqrt(n_in)))",
          "nn.Linear(n_in, n_out) default, i.e. nn.init.kaiming_uniform_(w, a=math.sqrt(5)) and "
          "nn.init.uniform_(b, -1/math.sqrt(n_in), 1/math.sqrt(n_in))",
          _variance_scaling_law(1.0 / 3.0, "fan_in", "uniform")),
    # others
    _info(orthogonal, "other", "A random orthogonal matrix times a gain, so every singular value equals the gain.",
          "gain·Q, Q from QR of a Gaussian matrix, sign-fixed by diag(R)",
          r"W = g\,Q,\quad A = QR,\ A_{ij} \sim \mathcal{N}(0, 1),\ Q \leftarrow Q\,\mathrm{sign}(\mathrm{diag}\,R)",
          "Saxe et al. 2013, arXiv:1312.6120; Keras Orthogonal",
          "Dense(n, kernel_initializer=Orthogonal(gain=1.0))",
          "nn.init.orthogonal_(w, gain=1.0) (on the (out, in) weight, the transpose)",
          lambda fan_in, fan_out, gain: (0.0, gain / math.sqrt(max(fan_in, fan_out)), (-gain, gain))),
    _info(scaled_normal, "other", "Gaussian with variance gain²/fan-in, the knob of the weight-scale sweep.",
          "N(0, (gain/√n_in)²)", r"\mathcal{N}\left(0, (g/\sqrt{n_{in}})^2\right)",
          "He et al. 2015, arXiv:1502.01852, §2.2, with an explicit gain",
          "Dense(n, kernel_initializer=VarianceScaling(gain**2, 'fan_in', 'untruncated_normal'))",
          "nn.init.normal_(w, std=gain / math.sqrt(n_in))",
          lambda fan_in, fan_out, gain: (0.0, gain / math.sqrt(fan_in), None)),
]

INITIALIZERS: dict[str, InitInfo] = {info.name: info for info in _TABLE}

# How the site names each initialiser in prose ("He normal"); the registry names (``he_normal``)
# are for code, the command line and the Keras/PyTorch lines only.
DISPLAY = {
    "zeros": "Zeros", "constant": "Constant 0.5", "small_random": "Small random (0.01·N(0, 1))",
    "large_random": "Large random (N(0, 1))", "large_uniform": "Large uniform (U[−3, 3])",
    "large_uniform_positive": "Positive uniform (U[0, 1))", "glorot_normal": "Glorot normal",
    "glorot_uniform": "Glorot uniform", "he_normal": "He normal", "he_uniform": "He uniform",
    "lecun_normal": "LeCun normal", "lecun_uniform": "LeCun uniform",
    "xavier_normal_untruncated": "Xavier normal, untruncated", "pytorch_default": "PyTorch default",
    "orthogonal": "Orthogonal", "scaled_normal": "Scaled normal",
}


def display_name(name: str) -> str:
    """The initialiser's name in prose ("He normal"); a name not in DISPLAY reads as its words."""
    return DISPLAY.get(name) or name.replace("_", " ").capitalize()


def _pytorch_bias(rng, fan_in, fan_out):
    """nn.Linear's default bias: U[−1/√n_in, 1/√n_in] (torch/nn/modules/linear.py, reset_parameters)."""
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=fan_out)


# Initialisers whose default bias is random, not a constant: drawn per layer from the same
# generator, right after the layer's weights (PyTorch's order). An explicit bias overrides it.
RANDOM_BIAS = {"pytorch_default": _pytorch_bias}


def draw_bias(name: str, rng: np.random.Generator, fan_in: int, fan_out: int):
    """The layer's default bias vector (fan_out,) if ``name``'s default bias is random, else None."""
    draw = RANDOM_BIAS.get(name)
    return None if draw is None else draw(_check_rng(rng), fan_in, fan_out)


# --- entry points --------------------------------------------------------------------------


def _check_fan(label: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InitReportError(f"{label} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise InitReportError(f"dtype must be a floating type such as float32 or float64, got {dtype!r}")
    return dt


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):  # never fall back to global np.random
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def get_info(name: str) -> InitInfo:
    """The registry entry for ``name``; unknown names list the ones that exist."""
    try:
        return INITIALIZERS[name]
    except (KeyError, TypeError):
        raise choice_error("initialiser", name, INITIALIZERS) from None


def initialize(name: str, rng: np.random.Generator, fan_in: int, fan_out: int,
               dtype=np.float32, **params) -> np.ndarray:
    """Draw a (fan_in, fan_out) kernel with initialiser ``name`` from ``rng``."""
    info = get_info(name)
    fan_in, fan_out = _check_fan("fan_in", fan_in), _check_fan("fan_out", fan_out)
    return info.function(_check_rng(rng), fan_in, fan_out, _check_dtype(dtype), **info.resolve(params))


def initialize_stack(name: str, rngs: list[np.random.Generator], fan_in: int, fan_out: int,
                     dtype=np.float32, **params) -> np.ndarray:
    """Shape (len(rngs), fan_in, fan_out): one independent draw per generator (one per seed)."""
    info = get_info(name)
    fan_in, fan_out = _check_fan("fan_in", fan_in), _check_fan("fan_out", fan_out)
    dt, resolved = _check_dtype(dtype), info.resolve(params)
    out = np.empty((len(rngs), fan_in, fan_out), dtype=dt)
    for k, rng in enumerate(rngs):
        out[k] = info.function(_check_rng(rng), fan_in, fan_out, dt, **resolved)
    return out
