"""Initialisers: the variance each one produces is the variance its docs state.

Expected numbers are written here from the formulas in facts.md (Keras 3 / PyTorch / papers),
not read from the code under test; tolerances are derived from the sample size.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from initreport.errors import InitReportError
from initreport.initializers import (
    INITIALIZERS,
    get_info,
    initialize,
    initialize_stack,
    variance_scaling,
)

# --- independent formulas ------------------------------------------------------------------

PHI2 = math.exp(-2.0) / math.sqrt(2 * math.pi)  # standard normal density at 2
Z2 = math.erf(2 / math.sqrt(2))  # P(|N(0,1)| <= 2)
TRUNC_VAR = 1 - 2 * 2 * PHI2 / Z2  # variance of N(0,1) truncated to [-2, 2]
TRUNC_M4 = 3 * TRUNC_VAR - 2 * 2**3 * PHI2 / Z2  # its fourth moment (integration by parts)
KURTOSIS = {"normal": 3.0, "uniform": 9 / 5, "truncated": TRUNC_M4 / TRUNC_VAR**2, "orthogonal": 3.0}


def _truncated(std):
    """Keras truncated_normal: final std `std`, cut at ±2s with s = std / 0.8796..."""
    return 0.0, std, (-2 * std / math.sqrt(TRUNC_VAR), 2 * std / math.sqrt(TRUNC_VAR)), "truncated"


def _uniform(limit):
    return 0.0, limit / math.sqrt(3), (-limit, limit), "uniform"


# name -> (fan_in, fan_out, params) -> (mean, std, bounds, kind)
EXPECTED = {
    "zeros": lambda i, o: (0.0, 0.0, (0.0, 0.0), "constant"),
    "constant": lambda i, o, value=0.5: (value, 0.0, (value, value), "constant"),
    "small_random": lambda i, o: (0.0, 0.01, None, "normal"),
    "large_random": lambda i, o: (0.0, 1.0, None, "normal"),
    "large_uniform": lambda i, o: (0.0, math.sqrt(36 / 12), (-3.0, 3.0), "uniform"),
    "large_uniform_positive": lambda i, o: (0.5, math.sqrt(1 / 12), (0.0, 1.0), "uniform"),
    "glorot_normal": lambda i, o: _truncated(math.sqrt(2 / (i + o))),
    "glorot_uniform": lambda i, o: _uniform(math.sqrt(6 / (i + o))),
    "he_normal": lambda i, o: _truncated(math.sqrt(2 / i)),
    "he_uniform": lambda i, o: _uniform(math.sqrt(6 / i)),
    "lecun_normal": lambda i, o: _truncated(math.sqrt(1 / i)),
    "lecun_uniform": lambda i, o: _uniform(math.sqrt(3 / i)),
    "xavier_normal_untruncated": lambda i, o: (0.0, math.sqrt(1 / i), None, "normal"),
    "pytorch_default": lambda i, o: _uniform(1 / math.sqrt(i)),
    # QR columns are unit vectors of length max(i, o): mean square gain²/max(i, o), |entry| <= gain
    "orthogonal": lambda i, o, gain=1.0: (0.0, gain / math.sqrt(max(i, o)), (-gain, gain), "orthogonal"),
    "scaled_normal": lambda i, o, gain=1.0: (0.0, gain / math.sqrt(i), None, "normal"),
}

SHAPES = [(400, 300), (123, 457)]
PARAM_CASES = [(name, {}) for name in EXPECTED] + [
    ("constant", {"value": -1.25}),
    ("orthogonal", {"gain": 1.7}),
    ("scaled_normal", {"gain": 2.5}),
]
CASES = [(n, p, s) for n, p in PARAM_CASES for s in SHAPES]


def _id(case):
    name, params, (i, o) = case
    return f"{name}-{i}x{o}" + "".join(f"-{k}={v}" for k, v in params.items())


def test_registry_names_and_order():
    assert list(INITIALIZERS) == list(EXPECTED), "registry and test table must name the same initialisers"
    families = [info.family for info in INITIALIZERS.values()]
    order = {"pitfall": 0, "heuristic": 1, "other": 2}
    assert families == sorted(families, key=order.__getitem__), "pitfalls, then heuristics, then others"
    assert families.count("pitfall") == 6


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_info_is_documented(name):
    info = get_info(name)
    assert info.name == name == info.function.__name__
    for label in ("summary", "formula", "formula_tex", "source", "pytorch"):
        assert getattr(info, label).strip(), f"{name}.{label} is empty"
    assert "$" not in info.formula_tex
    assert "Source" in info.function.__doc__, f"{name} docstring lacks its source"


def test_truncation_constant_from_first_principles():
    # Keras divides by 0.87962566103423978: the std of N(0,1) truncated to [-2, 2]
    assert math.sqrt(TRUNC_VAR) == pytest.approx(0.87962566103423978, rel=1e-15)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_info_matches_published_formula(case):
    name, params, (i, o) = case
    mean, std, bounds, _ = EXPECTED[name](i, o, **params)
    info = get_info(name)
    assert info.mean(i, o, **params) == pytest.approx(mean, abs=1e-15), "mean"
    assert info.std(i, o, **params) == pytest.approx(std, rel=1e-12), "std"
    got = info.bounds(i, o, **params)
    assert (got is None) == (bounds is None), "bounded or not"
    if bounds is not None:
        assert got == pytest.approx(bounds, rel=1e-12), "bounds"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_sample_matches_formula(case):
    name, params, (i, o) = case
    info = get_info(name)
    mean, std, bounds = info.mean(i, o, **params), info.std(i, o, **params), info.bounds(i, o, **params)
    kind = EXPECTED[name](i, o, **params)[3]
    w = initialize(name, np.random.default_rng(1234), i, o, np.float64, **params)
    assert w.shape == (i, o) and w.dtype == np.float64
    n = w.size
    if kind == "constant":
        assert np.all(w == mean), "every entry equals the constant"
        return
    # standard errors: mean σ/√N; variance σ²·√((κ−1)/N), so std ≈ σ/2·√((κ−1)/N)
    se_mean = std / math.sqrt(n)
    se_std = std / 2 * math.sqrt((KURTOSIS[kind] - 1) / n)
    assert abs(w.mean() - mean) < 5 * se_mean, f"sample mean {w.mean():.6g} vs {mean:.6g}"
    assert abs(w.std() - std) < 5 * se_std, f"sample std {w.std():.6g} vs {std:.6g}"
    if bounds is None:
        return
    lo, hi = bounds
    assert w.min() >= lo and w.max() <= hi, f"draws outside [{lo}, {hi}]: [{w.min()}, {w.max()}]"
    # ... and the edges are reached: P(no draw within δ of an edge) = exp(-N·density·δ) <= e^-20
    if kind == "uniform":
        delta = 20 * (hi - lo) / n
    elif kind == "truncated":
        s = hi / 2  # pre-truncation std
        delta = 20 * s * Z2 / (n * PHI2)
    else:
        return  # orthogonal entries never reach ±gain in practice
    assert w.max() >= hi - delta and w.min() <= lo + delta, "edges of the support not reached"


@pytest.mark.parametrize("name", [n for n, info in INITIALIZERS.items() if info.bounds(50, 70) is not None])
def test_float32_stays_within_bounds(name):
    lo, hi = get_info(name).bounds(50, 70)
    w = initialize(name, np.random.default_rng(5), 50, 70, np.float32)
    # rounding to float32 is monotone, so x <= hi implies fl(x) <= fl(hi)
    assert w.min() >= np.float32(lo) and w.max() <= np.float32(hi)


@pytest.mark.parametrize("shape", [(400, 300), (300, 400), (64, 64), (1, 5), (5, 1)])
@pytest.mark.parametrize("gain", [1.0, 1.7])
def test_orthogonal_gram_is_gain_squared_identity(shape, gain):
    i, o = shape
    w = initialize("orthogonal", np.random.default_rng(3), i, o, np.float64, gain=gain)
    gram = w.T @ w if i >= o else w @ w.T  # the smaller side
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(i, o)), atol=1e-12)


def test_orthogonal_is_sign_fixed():
    # with diag(R) > 0 the QR is unique, so Q·R must rebuild the Gaussian the generator drew
    q = initialize("orthogonal", np.random.default_rng(8), 40, 30, np.float64)
    a = np.random.default_rng(8).standard_normal((40, 30))
    r = q.T @ a
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert np.all(np.diag(r) > 0)


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_deterministic_and_dtype_consistent(name):
    a = initialize(name, np.random.default_rng(42), 37, 23)
    b = initialize(name, np.random.default_rng(42), 37, 23)
    assert a.dtype == np.float32 and a.tobytes() == b.tobytes(), "same seed, same bytes"
    w64 = initialize(name, np.random.default_rng(42), 37, 23, np.float64)
    assert np.array_equal(w64.astype(np.float32), a), "float32 draw is the float64 draw, rounded"
    if get_info(name).std(37, 23) > 0:
        c = initialize(name, np.random.default_rng(43), 37, 23)
        assert not np.array_equal(a, c), "different seeds, different draws"


def test_global_numpy_random_untouched():
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    for name in INITIALIZERS:
        initialize(name, np.random.default_rng(0), 20, 10)
    assert np.array_equal(np.random.get_state()[1], before)


def test_initialize_stack_is_one_draw_per_generator():
    seeds = [0, 1, 2]
    stack = initialize_stack("he_normal", [np.random.default_rng(s) for s in seeds], 30, 20)
    assert stack.shape == (3, 30, 20) and stack.dtype == np.float32
    for k, s in enumerate(seeds):
        assert np.array_equal(stack[k], initialize("he_normal", np.random.default_rng(s), 30, 20))
    assert initialize_stack("orthogonal", [], 4, 4, gain=2.0).shape == (0, 4, 4)


def test_presets_are_the_variance_scaling_core():
    core = variance_scaling(2.0, "fan_in", "normal")  # Keras maps "normal" to truncated_normal
    a = core(np.random.default_rng(9), 50, 60, np.float64)
    b = initialize("he_normal", np.random.default_rng(9), 50, 60, np.float64)
    assert np.array_equal(a, b)


def test_bias_defaults():
    assert get_info("constant").default_bias == 0.5
    assert get_info("constant").bias(value=2.0) == 2.0
    assert all(info.default_bias == 0.0 for name, info in INITIALIZERS.items() if name != "constant")


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(list(INITIALIZERS)),
    fan_in=st.integers(1, 40),
    fan_out=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_shape_is_finite_and_in_bounds(name, fan_in, fan_out, seed):
    w = initialize(name, np.random.default_rng(seed), fan_in, fan_out, np.float64)
    assert w.shape == (fan_in, fan_out) and np.all(np.isfinite(w))
    bounds = get_info(name).bounds(fan_in, fan_out)
    if bounds is not None:
        assert bounds[0] - 1e-12 <= w.min() and w.max() <= bounds[1] + 1e-12


# --- errors --------------------------------------------------------------------------------


def test_unknown_name_lists_the_names():
    with pytest.raises(InitReportError) as exc:
        initialize("kaiming", np.random.default_rng(0), 3, 3)
    msg = str(exc.value)
    assert "'kaiming'" in msg and "\n" not in msg
    assert all(name in msg for name in INITIALIZERS)


@pytest.mark.parametrize(
    "name, fans, params, fragment",
    [
        ("he_normal", (3, 3), {"gain": 2.0}, "'gain'"),
        ("constant", (3, 3), {"scale": 1.0}, "allowed: value"),
        ("orthogonal", (3, 3), {"gain": 0.0}, "> 0"),
        ("scaled_normal", (3, 3), {"gain": -1.0}, "> 0"),
        ("scaled_normal", (3, 3), {"gain": float("nan")}, "finite"),
        ("constant", (3, 3), {"value": float("inf")}, "finite"),
        ("constant", (3, 3), {"value": "0.5"}, "number"),
        ("constant", (3, 3), {"value": True}, "number"),
        ("he_normal", (0, 3), {}, "fan_in"),
        ("he_normal", (3, -2), {}, "fan_out"),
        ("he_normal", (2.5, 3), {}, "fan_in"),
    ],
)
def test_bad_arguments_are_rejected(name, fans, params, fragment):
    with pytest.raises(InitReportError) as exc:
        initialize(name, np.random.default_rng(0), *fans, **params)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_bad_dtype_and_info_params_are_rejected():
    with pytest.raises(InitReportError, match="float"):
        initialize("zeros", np.random.default_rng(0), 3, 3, np.int32)
    with pytest.raises(InitReportError, match="gain"):
        get_info("orthogonal").std(3, 3, gain=-2.0)
    with pytest.raises(InitReportError, match="fan_in"):
        get_info("he_normal").std(0, 3)
    with pytest.raises(TypeError):
        initialize("he_normal", np.random.RandomState(0), 3, 3)  # no legacy/global generators


@pytest.mark.parametrize(
    "args, fragment",
    [((0.0, "fan_in", "uniform"), "scale"), ((1.0, "fan_sum", "uniform"), "fan_avg"),
     ((1.0, "fan_in", "gamma"), "untruncated_normal")],
)
def test_variance_scaling_rejects_bad_arguments(args, fragment):
    with pytest.raises(InitReportError, match=fragment):
        variance_scaling(*args)


# --- PyTorch, when installed ---------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, torch_init",
    [("glorot_uniform", lambda nn, w: nn.init.xavier_uniform_(w)),
     ("he_normal", lambda nn, w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
     ("pytorch_default", None)],
)
def test_std_agrees_with_pytorch(ours, torch_init):
    torch = pytest.importorskip("torch")
    fan_in, fan_out = 400, 300
    torch.manual_seed(0)
    if torch_init is None:
        w_t = torch.nn.Linear(fan_in, fan_out).weight.detach()
    else:
        w_t = torch_init(torch.nn, torch.empty(fan_out, fan_in, dtype=torch.float64))  # torch is (out, in)
    theirs = w_t.double().numpy().ravel()
    mine = initialize(ours, np.random.default_rng(0), fan_in, fan_out, np.float64).ravel()
    # two-sample test on the std; kurtosis <= 3 for all three, so each SE <= σ/√(2N)
    se = math.sqrt(2) * mine.std() / math.sqrt(2 * mine.size)
    assert abs(mine.std() - theirs.std()) < 5 * se, f"std {mine.std():.6g} vs torch {theirs.std():.6g}"
