"""Statistics behind the verdicts: one metric, two conditions, per-seed values.

:func:`compare` puts a number on "a against b": the difference ``a − b`` of the metric's mean
(the mean of the per-seed differences when the runs are paired by seed), an interval for it,
a p-value and a decision, ``better`` / ``worse`` / ``indistinguishable`` for ``a`` (or
``inconclusive`` when fewer than two usable seeds are left, so nothing can be tested).

* ``method="t"``: paired t interval on the per-seed differences, or Welch's interval for
  unpaired runs. The t quantile is computed here (the regularized incomplete beta function,
  inverted by a safeguarded Newton iteration, accurate to ~1e-12): SciPy is not a dependency.
* ``method="bootstrap"``: a percentile bootstrap over seeds (pairs resampled together when
  paired, each side on its own otherwise), from a seeded generator, so it is deterministic.
  Its p-value is the one its percentile interval inverts: the interval excludes 0 exactly
  when ``p ≤ 1 − level``.

Multiple comparisons: a claim that makes ``m`` comparisons runs them through
:func:`compare_family`, which applies Holm's step-down procedure (:func:`holm`) to the
p-values and widens each interval to the level that procedure used for it
(:func:`holm_levels`): the comparison of rank ``r`` (by p-value) that Holm rejects has a
Bonferroni-adjusted interval at level ``1 − α/(m − r + 1)``; every comparison from the rank
where Holm stops onward gets the level of that rank. So an interval excludes 0 exactly when
Holm rejects, and decision and interval never disagree. ``compare(..., n_comparisons=m)``
alone uses plain Bonferroni (``1 − α/m``, Holm's first and strictest step).

Diverged seeds (``None``/NaN values) are handled explicitly by ``nan_policy``: ``"exclude"``
drops the seed (the pair, when paired) and reduces ``n``; ``"fail"`` replaces the value by
``fail_value``, a failure value the caller supplies (e.g. the initial loss, chance accuracy).

Seeds cost time, so :func:`adaptive_seeds` extends only comparisons still undecided (from 8
to 16 seeds by default), and :func:`pocock_alpha` gives the per-look level that keeps the
overall error at ``α`` across the looks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

import numpy as np

from .errors import InitReportError, choice_error

DECISIONS = ("better", "worse", "indistinguishable", "inconclusive")
METHODS = ("t", "bootstrap")
NAN_POLICIES = ("exclude", "fail")
N_BOOT = 10_000
SEED_SCHEDULE = (8, 16)

# ---------------------------------------------------------------------------------------
# Special functions: the normal and Student t distributions


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """Quantile of the standard normal: Acklam's rational approximation, then Halley steps."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {p!r}")
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
    q = min(p, 1.0 - p)
    if q < 0.02425:
        r = math.sqrt(-2.0 * math.log(q))
        x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / \
            ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1.0)
        x = x if p < 0.5 else -x
    else:
        r = p - 0.5
        s = r * r
        x = (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / \
            (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1.0)
    for _ in range(2):   # Halley refinement against the exact cdf (erfc)
        e = norm_cdf(x) - p
        u = e * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
        x -= u / (1.0 + x * u / 2.0)
    return x


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            return h
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")


def betainc(a: float, b: float, x: float, xc: float | None = None) -> float:
    """Regularized incomplete beta I_x(a, b); ``xc`` = 1 − x when known more precisely."""
    xc = 1.0 - x if xc is None else xc
    if x <= 0.0:
        return 0.0
    if xc <= 0.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(xc)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, xc) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom (any real df > 0)."""
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    t2 = t * t
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2))
    return tail if t >= 0 else 1.0 - tail


def t_cdf(t: float, df: float) -> float:
    return t_sf(-t, df)


def t_pdf(t: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(t * t / df))


@lru_cache(maxsize=4096)
def t_ppf(p: float, df: float) -> float:
    """Quantile of Student's t: the t with P(T ≤ t) = p (df > 0, not necessarily whole)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {p!r}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    q = 1.0 - p                                    # upper tail to hit: t_sf(t) = q
    z = norm_ppf(p)                                # Cornish-Fisher start (Abramowitz & Stegun 26.7.5)
    t = z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
    lo, hi = 0.0, 1.0
    while t_sf(hi, df) > q:                        # bracket the root: t_sf(lo) ≥ q ≥ t_sf(hi)
        lo, hi = hi, hi * 2.0
    t = t if lo < t < hi else (lo + hi) / 2.0
    for _ in range(200):
        f = t_sf(t, df) - q
        if f > 0:
            lo = t
        else:
            hi = t
        step = f / t_pdf(t, df)                    # Newton: d t_sf / dt = −pdf
        new = t + step
        if not lo < new < hi:                      # outside the bracket: bisect instead
            new = (lo + hi) / 2.0
        if abs(new - t) <= 1e-14 * max(1.0, abs(t)) or hi - lo <= 1e-14 * max(1.0, hi):
            return new
        t = new
    return t


_POCOCK_GRID = 601   # grid points per look: nominal levels within 1e-5 of a 1601-point grid


@lru_cache(maxsize=64)
def pocock_alpha(alpha: float = 0.05, looks: int = 2) -> float:
    """Nominal two-sided level per look of Pocock's group-sequential test with equal increments.

    Testing at this level at each of ``looks`` equally spaced looks (8 then 16 seeds) keeps
    the overall chance of a false "better"/"worse" at ``alpha`` (for a normal statistic;
    Pocock 1977: 0.0294 for 2 looks, 0.0221 for 3, at α = 0.05). Computed by numerical
    integration of the score process on a grid, bisecting on the common critical value.
    """
    if not 0 < alpha < 1 or not isinstance(looks, int) or looks < 1:
        raise ValueError(f"need 0 < alpha < 1 and looks ≥ 1, got {alpha!r}, {looks!r}")
    if looks == 1:
        return alpha

    def crossing(c: float) -> float:
        grid = np.linspace(-c, c, _POCOCK_GRID)            # S_1 = Z_1, kept while |S_k| ≤ c·√k
        h = grid[1] - grid[0]
        dens = np.exp(-grid ** 2 / 2) / math.sqrt(2 * math.pi)
        for k in range(2, looks + 1):
            new = np.linspace(-c * math.sqrt(k), c * math.sqrt(k), _POCOCK_GRID)
            kernel = np.exp(-(new[:, None] - grid[None, :]) ** 2 / 2) / math.sqrt(2 * math.pi)
            w = np.full(grid.size, h)
            w[[0, -1]] = h / 2                     # trapezoid weights
            dens, grid, h = kernel @ (dens * w), new, new[1] - new[0]
        w = np.full(grid.size, h)
        w[[0, -1]] = h / 2
        return 1.0 - float(dens @ w)

    lo, hi = norm_ppf(1 - alpha / 2), norm_ppf(1 - alpha / (2 * looks))
    for _ in range(30):             # bracket width below 1e-8 of the critical value
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if crossing(mid) > alpha else (lo, mid)
    return 2.0 * (1.0 - norm_cdf((lo + hi) / 2))


# ---------------------------------------------------------------------------------------
# Comparisons


@dataclass(frozen=True)
class Sample:
    """Per-seed values of one metric for one condition; ``None``/NaN marks a diverged seed."""

    name: str
    values: tuple
    seeds: tuple | None = None     # seed ids, to pair by seed; None: pair by position

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(self.values))
        if self.seeds is not None:
            object.__setattr__(self, "seeds", tuple(self.seeds))
            if len(self.seeds) != len(self.values):
                raise InitReportError(f"sample {self.name!r}: {len(self.values)} values for {len(self.seeds)} seeds")


@dataclass(frozen=True)
class Comparison:
    """``a`` against ``b`` on one metric: estimate = a − b (mean difference), with its interval.

    ``level`` is the confidence level of the interval. For a one-sided comparison the bound on
    the predicted side is a one-sided bound at ``level`` and ``(ci_low, ci_high)`` is the
    two-sided interval at ``2·level − 1``. ``ci_low``/``ci_high``/``p_value`` are None when
    the comparison is inconclusive for lack of seeds.
    """

    a: str
    b: str
    metric: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n_seeds: int                   # pairs when paired, else the smaller side
    decision: str                  # one of DECISIONS, for a against b
    p_value: float | None          # two-sided, or one-sided toward "a better" when one_sided
    level: float = 0.95
    method: str = "t"
    paired: bool = True
    one_sided: bool = False
    higher_is_better: bool = True
    n_a: int = 0
    n_b: int = 0
    n_excluded: int = 0            # seeds dropped as diverged (nan_policy="exclude")
    n_failed: int = 0              # values replaced by the failure value (nan_policy="fail")
    reason: str = ""               # why inconclusive, or a note from the caller
    values_a: tuple = ()           # the per-seed values used (after the NaN policy)
    values_b: tuple = ()

    @property
    def decided(self) -> bool:
        return self.decision in ("better", "worse")


def _values(sample, nan_policy: str, fail_value) -> tuple[Sample, int]:
    if not isinstance(sample, Sample):
        sample = Sample("", tuple(sample))
    out, failed = [], 0
    for v in sample.values:
        finite = v is not None and math.isfinite(float(v))
        if not finite and nan_policy == "fail":
            out.append(float(fail_value))
            failed += 1
        else:
            out.append(float(v) if finite else math.nan)
    return replace(sample, values=tuple(out)), failed


def _align(a: Sample, b: Sample, paired: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Usable values of each side (pairs aligned by seed when paired), and how many were dropped."""
    if not paired:
        xa, xb = np.array(a.values, float), np.array(b.values, float)
        dropped = int(np.sum(~np.isfinite(xa)) + np.sum(~np.isfinite(xb)))
        return xa[np.isfinite(xa)], xb[np.isfinite(xb)], dropped
    if a.seeds is not None and b.seeds is not None:
        bmap = dict(zip(b.seeds, b.values))
        pairs = [(va, bmap[s]) for s, va in zip(a.seeds, a.values) if s in bmap]
    else:
        if len(a.values) != len(b.values):
            raise InitReportError(f"paired comparison of {a.name or 'a'!r} and {b.name or 'b'!r}: "
                                  f"{len(a.values)} against {len(b.values)} values and no seed ids to pair them")
        pairs = list(zip(a.values, b.values))
    ok = [(x, y) for x, y in pairs if math.isfinite(x) and math.isfinite(y)]
    xa = np.array([x for x, _ in ok], float)
    xb = np.array([y for _, y in ok], float)
    return xa, xb, len(pairs) - len(ok)


def _t_interval(xa, xb, paired, gamma, one_sided, sign):
    """(estimate, low, high, p) of the t interval; ``gamma`` = 1 − level of the stated bound(s)."""
    if paired:
        d = xa - xb
        est, n = float(d.mean()), d.size
        se, df = float(d.std(ddof=1)) / math.sqrt(n), n - 1.0
    else:
        est = float(xa.mean() - xb.mean())
        va, vb = float(xa.var(ddof=1)) / xa.size, float(xb.var(ddof=1)) / xb.size
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va ** 2 / (xa.size - 1) + vb ** 2 / (xb.size - 1)) if se > 0 else 1.0
    tail = gamma if one_sided else gamma / 2
    if se == 0:
        # Every seed gives the same difference: the t interval has no width, and would be certain of a
        # difference seen on two seeds. The exact sign test decides instead: n differences of one sign
        # have probability 0.5ⁿ under "no difference" (one side). Significant: the point interval;
        # not: the interval from 0 to the estimate (the data cannot exclude 0).
        n = min(xa.size, xb.size)
        one_tail = 0.5 ** n
        if est == 0:
            return est, 0.0, 0.0, 1.0
        p = (one_tail if sign * est > 0 else 1.0) if one_sided else min(1.0, 2.0 * one_tail)
        if one_tail <= tail:
            return est, est, est, p
        return est, min(0.0, est), max(0.0, est), p
    q = t_ppf(1.0 - tail, df)
    stat = est / se
    p = t_sf(sign * stat, df) if one_sided else min(1.0, 2.0 * t_sf(abs(stat), df))
    return est, est - q * se, est + q * se, p


def _bootstrap_interval(xa, xb, paired, gamma, one_sided, sign, rng_seed, n_boot):
    rng = np.random.default_rng(rng_seed)
    if paired:
        d = xa - xb
        est = float(d.mean())
        boot = d[rng.integers(0, d.size, (n_boot, d.size))].mean(axis=1)
    else:
        est = float(xa.mean() - xb.mean())
        ia = rng.integers(0, xa.size, (n_boot, xa.size))
        ib = rng.integers(0, xb.size, (n_boot, xb.size))
        boot = xa[ia].mean(axis=1) - xb[ib].mean(axis=1)
    boot.sort()
    # Order-statistic percentile interval: k values may lie beyond each bound. With these
    # p-values, the interval excludes 0 exactly when p ≤ gamma (see the module docstring).
    k = int(math.floor(n_boot * (gamma if one_sided else gamma / 2) + 1e-9))
    k = min(k, n_boot - 1)
    low, high = float(boot[k]), float(boot[n_boot - 1 - k])
    below, above = int(np.sum(boot <= 0)), int(np.sum(boot >= 0))
    if one_sided:
        p = (below if sign > 0 else above) / n_boot
    else:
        p = min(1.0, 2.0 * min(below, above) / n_boot)
    return est, low, high, p


def _check(method, nan_policy, fail_value, alpha, n_comparisons):
    if method not in METHODS:
        raise choice_error("comparison method", method, METHODS)
    if nan_policy not in NAN_POLICIES:
        raise choice_error("NaN policy", nan_policy, NAN_POLICIES)
    if nan_policy == "fail" and (fail_value is None or not math.isfinite(float(fail_value))):
        raise InitReportError(f"nan_policy='fail' needs a finite fail_value, got {fail_value!r}")
    if not 0 < alpha < 1:
        raise InitReportError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not isinstance(n_comparisons, int) or n_comparisons < 1:
        raise InitReportError(f"n_comparisons must be a whole number ≥ 1, got {n_comparisons!r}")


def compare(a, b, *, paired: bool, higher_is_better: bool, alpha: float = 0.05, n_comparisons: int = 1,
            one_sided: bool = False, method: str = "t", rng_seed: int = 0, metric: str = "",
            nan_policy: str = "exclude", fail_value: float | None = None, n_boot: int = N_BOOT,
            gamma: float | None = None) -> Comparison:
    """Compare ``a`` with ``b`` (each a :class:`Sample` or a sequence of per-seed values).

    The interval's level is ``1 − alpha/n_comparisons`` (Bonferroni) unless ``gamma`` (its
    complement, as set by :func:`compare_family` from Holm's procedure) is given. With
    ``one_sided``, the claim predicts "a better than b" and the p-value tests that direction;
    a significant result the other way is still reported as "worse" (at the same level).
    Paired samples with seed ids are matched by seed (a seed present on one side only is left
    out); without ids, by position.
    """
    _check(method, nan_policy, fail_value, alpha, n_comparisons)
    sa, fa = _values(a, nan_policy, fail_value)
    sb, fb = _values(b, nan_policy, fail_value)
    name_a, name_b = sa.name or "a", sb.name or "b"
    xa, xb, dropped = _align(sa, sb, paired)
    gamma = alpha / n_comparisons if gamma is None else gamma
    sign = 1.0 if higher_is_better else -1.0
    n = min(xa.size, xb.size)
    base = dict(a=name_a, b=name_b, metric=metric, n_seeds=int(n), level=1.0 - gamma, method=method,
                paired=paired, one_sided=one_sided, higher_is_better=higher_is_better, n_a=int(xa.size),
                n_b=int(xb.size), n_excluded=dropped, n_failed=fa + fb,
                values_a=tuple(xa.tolist()), values_b=tuple(xb.tolist()))
    if n < 2:
        est = float(xa.mean() - xb.mean()) if n >= 1 else None
        return Comparison(estimate=est, ci_low=None, ci_high=None, decision="inconclusive", p_value=None,
                          reason=f"{n} usable seed{'s' if n != 1 else ''} ({dropped} diverged and excluded); "
                                 "at least 2 are needed", **base)
    if method == "t":
        est, low, high, p = _t_interval(xa, xb, paired, gamma, one_sided, sign)
    else:
        est, low, high, p = _bootstrap_interval(xa, xb, paired, gamma, one_sided, sign, rng_seed, n_boot)
    if low > 0:
        decision = "better" if higher_is_better else "worse"
    elif high < 0:
        decision = "worse" if higher_is_better else "better"
    else:
        decision = "indistinguishable"
    return Comparison(estimate=est, ci_low=low, ci_high=high, decision=decision, p_value=p, **base)


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha``.

    Sort the m p-values; reject the k-th smallest while it is ≤ α/(m − k + 1), and stop at
    the first that is not (it and every larger one are kept). Ties keep their input order.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    rejected = [False] * m
    for rank, i in enumerate(order):
        if p_values[i] <= alpha / (m - rank):
            rejected[i] = True
        else:
            break
    return rejected


def holm_levels(p_values: Sequence[float], alpha: float = 0.05) -> list[float]:
    """The significance level γ Holm's procedure applies to each test (interval level 1 − γ).

    Rank r (0-based, by p) rejected by Holm: γ = α/(m − r); every test from the rank s where
    Holm stops onward: γ = α/(m − s), the level at which it was not rejected. Hence p ≤ γ
    exactly for the rejected tests.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    levels = [0.0] * m
    stop = None
    for rank, i in enumerate(order):
        if stop is None and p_values[i] > alpha / (m - rank):
            stop = rank
        levels[i] = alpha / (m - (rank if stop is None else stop))
    return levels


def compare_family(specs: Sequence[dict], *, alpha: float = 0.05, **common) -> list[Comparison]:
    """The comparisons one claim makes, Holm-corrected together.

    Each spec holds the arguments of :func:`compare` for one comparison (``a``, ``b`` and any
    override); ``common`` holds those shared by all. Comparisons that cannot be tested (fewer
    than 2 seeds) are inconclusive and do not count in the family's m.
    """
    if "n_comparisons" in common or any("n_comparisons" in s or "gamma" in s for s in specs):
        raise InitReportError("compare_family sets the levels itself: drop n_comparisons/gamma")
    raw = [compare(**{**common, **s}, alpha=alpha) for s in specs]
    testable = [i for i, c in enumerate(raw) if c.p_value is not None]
    levels = holm_levels([raw[i].p_value for i in testable], alpha)
    out = list(raw)
    for i, gamma in zip(testable, levels):
        out[i] = compare(**{**common, **specs[i]}, alpha=alpha, gamma=gamma)
    return out


def mark_inconclusive(c: Comparison, reason: str) -> Comparison:
    """The comparison with its decision set to inconclusive, e.g. because its control did not train."""
    return replace(c, decision="inconclusive", reason=reason)


def adaptive_seeds(comparison: Comparison, seeds: Sequence[int], *, negligible: float,
                   schedule: Sequence[int] = SEED_SCHEDULE) -> tuple[int, ...]:
    """The seed set a comparison should have at the next look (``seeds`` itself: stop).

    Deterministic, from the current per-seed values only (through ``comparison``): extend to
    the next size of ``schedule`` — adding the next unused seed numbers after ``max(seeds)`` —
    when the comparison is still undecided, that is

    * inconclusive (fewer than 2 usable seeds), or
    * indistinguishable and its interval is not clearly narrow: not inside
      ``[−negligible, +negligible]``, the difference the claim would call negligible.

    A decided comparison, a clearly narrow one, or one at the schedule's end keeps its seeds.
    Looks at 8 and 16 seeds test each at :func:`pocock_alpha` to keep the overall error at α.
    """
    seeds = tuple(seeds)
    if not negligible >= 0:
        raise InitReportError(f"negligible must be a number ≥ 0, got {negligible!r}")
    bigger = [s for s in schedule if s > len(seeds)]
    if not bigger:
        return seeds
    narrow = (comparison.ci_low is not None and -negligible <= comparison.ci_low
              and comparison.ci_high <= negligible)
    if comparison.decided or (comparison.decision == "indistinguishable" and narrow):
        return seeds
    if comparison.decision == "inconclusive" and comparison.n_seeds >= 2:
        return seeds                   # inconclusive for another reason (a control that does not train)
    start = max(seeds, default=-1) + 1
    return seeds + tuple(range(start, start + bigger[0] - len(seeds)))
