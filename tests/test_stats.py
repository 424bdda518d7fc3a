"""The statistics behind the verdicts: quantiles, intervals, Holm, NaN handling, adaptive seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initreport.errors import InitReportError
from initreport.stats import (Sample, adaptive_seeds, compare, compare_family, holm, holm_levels,
                              mark_inconclusive, norm_ppf, pocock_alpha, t_cdf, t_ppf)

# --- quantiles ---------------------------------------------------------------------------


@pytest.mark.parametrize("df, expected", [(7, 2.3646), (15, 2.1314), (2, 4.3027), (1, 12.7062),
                                          (30, 2.0423), (4, 2.7764)])
def test_t_quantile_matches_the_table(df, expected):
    assert t_ppf(0.975, df) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("df", [1, 2, 3.5, 7, 15, 120])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.99, 0.9995, 0.025])
def test_t_quantile_against_closed_forms_and_its_own_inverse(df, p):
    q = t_ppf(p, df)
    assert t_cdf(q, df) == pytest.approx(p, abs=1e-12)
    if df == 1:      # Cauchy
        assert q == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9)
    if df == 2:      # closed form
        assert q == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-9)


def test_t_quantile_agrees_with_scipy_to_1e_6_where_scipy_is_installed():
    stats = pytest.importorskip("scipy.stats")
    for df in (2, 2.7, 5, 7, 9.3, 15, 40, 500):
        for p in (0.55, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9999):
            assert abs(t_ppf(p, df) - stats.t.ppf(p, df)) < 1e-6


def test_normal_quantile():
    assert norm_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-12)
    assert norm_ppf(1e-10) == pytest.approx(-6.361340902404056, abs=1e-9)
    assert t_ppf(0.975, 1e6) == pytest.approx(norm_ppf(0.975), abs=1e-5)


def test_pocock_levels_match_pocock_1977():
    assert pocock_alpha(0.05, 1) == 0.05
    for looks, table in ((2, 0.0294), (3, 0.0221)):
        assert pocock_alpha(0.05, looks) == pytest.approx(table, abs=1e-4)


# --- intervals on synthetic data with a known difference ----------------------------------


def _coverage(method, paired, n_exp, n_boot=10_000):
    rng = np.random.default_rng(2026)
    hits = 0
    for i in range(n_exp):
        b = rng.normal(0.0, 1.0, 8)
        # paired: shared seed effect plus noise; true mean difference 0.5 either way
        a = b + 0.5 + rng.normal(0.0, 0.7, 8) if paired else rng.normal(0.5, 1.3, 8)
        c = compare(a, b, paired=paired, higher_is_better=True, method=method, rng_seed=i, n_boot=n_boot)
        hits += c.ci_low <= 0.5 <= c.ci_high
    return hits / n_exp


@pytest.mark.parametrize("paired", [True, False])
def test_t_interval_covers_the_true_difference_95_percent_of_the_time(paired):
    coverage = _coverage("t", paired, 2000)
    print(f"t coverage, paired={paired}: {coverage:.4f}")
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.parametrize("paired", [True, False])
def test_bootstrap_interval_coverage_is_reported_and_near_nominal(paired, capsys):
    # The percentile bootstrap undercovers with 8 seeds (it ignores the t correction and the
    # n/(n−1) variance factor): about 89–91% here. That is why "t" is the default method.
    coverage = _coverage("bootstrap", paired, 1000, n_boot=2000)
    print(f"bootstrap coverage, paired={paired}: {coverage:.3f}")
    assert 0.85 <= coverage <= 0.95, coverage


def test_paired_interval_is_the_t_interval_of_the_differences():
    a = [1.0, 2.0, 3.5, 4.0, 5.5]
    b = [0.5, 1.0, 3.0, 2.5, 4.0]
    d = np.subtract(a, b)
    half = 2.7764451051977987 * d.std(ddof=1) / math.sqrt(5)   # t(0.975, 4)
    c = compare(a, b, paired=True, higher_is_better=True)
    assert (c.estimate, c.ci_low, c.ci_high) == pytest.approx((d.mean(), d.mean() - half, d.mean() + half))
    assert c.decision == "better" and c.n_seeds == 5 and c.level == pytest.approx(0.95)


def test_welch_interval_uses_the_satterthwaite_degrees_of_freedom():
    a, b = np.array([3.1, 2.9, 3.6, 3.3]), np.array([1.0, 2.5, 0.2, 3.9, 1.7, 2.2])
    va, vb = a.var(ddof=1) / 4, b.var(ddof=1) / 6
    df = (va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 5)
    half = t_ppf(0.975, df) * math.sqrt(va + vb)
    c = compare(a, b, paired=False, higher_is_better=True)
    assert c.ci_high - c.ci_low == pytest.approx(2 * half)
    assert (c.n_a, c.n_b, c.n_seeds) == (4, 6, 4)


def test_decision_follows_the_direction_of_the_metric():
    low_loss, high_loss = [0.1, 0.12, 0.11, 0.09], [0.5, 0.52, 0.49, 0.55]
    assert compare(low_loss, high_loss, paired=True, higher_is_better=False).decision == "better"
    assert compare(low_loss, high_loss, paired=True, higher_is_better=True).decision == "worse"
    noisy = compare([0.1, 0.5, 0.3, 0.2], [0.3, 0.1, 0.2, 0.4], paired=True, higher_is_better=False)
    assert noisy.decision == "indistinguishable" and noisy.ci_low < 0 < noisy.ci_high


def test_bootstrap_is_deterministic_for_a_seed_and_its_p_value_inverts_its_interval():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.3, 1, 8), rng.normal(0, 1, 8)
    one = compare(a, b, paired=True, higher_is_better=True, method="bootstrap", rng_seed=3)
    assert one == compare(a, b, paired=True, higher_is_better=True, method="bootstrap", rng_seed=3)
    assert one != compare(a, b, paired=True, higher_is_better=True, method="bootstrap", rng_seed=4)
    for i in range(200):      # interval excludes 0 ⇔ p ≤ 1 − level, also for one-sided tests
        a, b = rng.normal(0.6, 1, 8), rng.normal(0, 1, 8)
        for one_sided in (False, True):
            c = compare(a, b, paired=False, higher_is_better=True, method="bootstrap", rng_seed=i,
                        n_boot=999, one_sided=one_sided)
            excludes = c.ci_low > 0 if one_sided else (c.ci_low > 0 or c.ci_high < 0)
            assert excludes == (c.p_value <= 1 - c.level + 1e-12)


def test_t_p_value_agrees_with_its_interval():
    rng = np.random.default_rng(9)
    for _ in range(300):
        a, b = rng.normal(0.7, 1, 8), rng.normal(0, 1, 8)
        c = compare(a, b, paired=True, higher_is_better=True)
        assert (c.ci_low > 0 or c.ci_high < 0) == (c.p_value < 0.05)


def test_one_sided_bound_is_the_one_sided_quantile_and_p_is_directional():
    a = [1.2, 0.8, 1.5, 0.9, 1.1, 1.4, 0.7, 1.0]
    b = [0.0] * 8
    two = compare(a, b, paired=True, higher_is_better=True)
    one = compare(a, b, paired=True, higher_is_better=True, one_sided=True)
    se = np.std(a, ddof=1) / math.sqrt(8)
    assert one.ci_low == pytest.approx(np.mean(a) - t_ppf(0.95, 7) * se)
    assert one.p_value == pytest.approx(two.p_value / 2)
    # Lower is better: a (higher loss) is worse; the one-sided p toward "a better" is near 1.
    worse = compare(a, b, paired=True, higher_is_better=False, one_sided=True)
    assert worse.decision == "worse" and worse.p_value > 0.99


def test_constant_differences_are_decided_without_dividing_by_zero():
    c = compare([0.3] * 8, [0.1] * 8, paired=True, higher_is_better=True)
    # every seed +0.2: the exact sign test, 2 × 0.5⁸ two-sided, decides (the t interval has no width)
    assert (c.decision, c.ci_low, c.ci_high, c.p_value) == ("better", pytest.approx(0.2), pytest.approx(0.2),
                                                            pytest.approx(2 * 0.5 ** 8))
    # two seeds that agree are not evidence: 2 × 0.5² = 0.5, so the interval reaches 0
    two = compare([0.3] * 2, [0.1] * 2, paired=True, higher_is_better=True)
    assert (two.decision, two.ci_low, two.ci_high) == ("indistinguishable", 0.0, pytest.approx(0.2))
    one_sided = compare([0.3] * 5, [0.1] * 5, paired=True, higher_is_better=True, one_sided=True)
    assert one_sided.decision == "better" and one_sided.p_value == pytest.approx(0.5 ** 5)   # 0.031 < 0.05
    same = compare([0.101] * 8, [0.101] * 8, paired=True, higher_is_better=True)
    assert same.decision == "indistinguishable" and same.p_value == 1.0


# --- diverged seeds and too few seeds -------------------------------------------------------


def test_diverged_seeds_are_excluded_pairwise_or_counted_as_failures():
    a = [0.2, None, 0.25, float("nan"), 0.22, 0.21]
    b = [0.5, 0.55, 0.52, 0.51, None, 0.5]
    ex = compare(a, b, paired=True, higher_is_better=False, nan_policy="exclude")
    assert ex.n_seeds == 3 and ex.n_excluded == 3 and ex.values_a == (0.2, 0.25, 0.21)
    fail = compare(a, b, paired=True, higher_is_better=False, nan_policy="fail", fail_value=2.3)
    assert fail.n_seeds == 6 and fail.n_failed == 3 and fail.values_a[1] == 2.3
    with pytest.raises(InitReportError, match="fail_value"):
        compare(a, b, paired=True, higher_is_better=False, nan_policy="fail")


def test_pairs_by_seed_id_when_given():
    a = Sample("he_normal", (1.0, 2.0, 3.0), seeds=(0, 1, 2))
    b = Sample("glorot_normal", (2.5, 0.5, 1.5), seeds=(2, 0, 1))   # same seeds, other order
    c = compare(a, b, paired=True, higher_is_better=True)
    assert c.values_b == (0.5, 1.5, 2.5) and c.estimate == pytest.approx(0.5)
    assert (c.a, c.b) == ("he_normal", "glorot_normal")


def test_fewer_than_two_seeds_is_inconclusive_with_a_reason():
    c = compare([0.3, None, None], [0.2, 0.1, None], paired=True, higher_is_better=True)
    assert c.decision == "inconclusive" and c.ci_low is None and c.p_value is None
    assert c.n_seeds == 1 and "at least 2" in c.reason


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(InitReportError, match="unknown comparison method 'z'"):
        compare([1, 2], [1, 2], paired=True, higher_is_better=True, method="z")
    with pytest.raises(InitReportError, match="no seed ids"):
        compare([1, 2, 3], [1, 2], paired=True, higher_is_better=True)


# --- Holm ----------------------------------------------------------------------------------


def test_holm_against_a_hand_worked_example():
    # m = 4, α = 0.05. Sorted: 0.005 ≤ 0.05/4 = 0.0125 reject; 0.015 ≤ 0.05/3 = 0.0167 reject;
    # 0.03 > 0.05/2 = 0.025 stop: 0.03 and 0.04 are kept (0.04 ≤ 0.05 does not matter any more).
    p = [0.015, 0.04, 0.03, 0.005]
    assert holm(p, 0.05) == [True, False, False, True]
    assert holm_levels(p, 0.05) == pytest.approx([0.05 / 3, 0.05 / 2, 0.05 / 2, 0.05 / 4])
    # Bonferroni would keep 0.015 (> 0.0125): Holm is uniformly more powerful.
    assert [x <= 0.05 / 4 for x in p] == [False, False, False, True]
    assert holm([0.001, 0.002, 0.003], 0.05) == [True, True, True]
    assert holm([], 0.05) == []


def test_compare_family_widens_intervals_and_agrees_with_holm():
    rng = np.random.default_rng(11)
    specs = [dict(a=Sample(f"x{i}", tuple(rng.normal(mu, 1, 8))), b=Sample("ref", tuple(rng.normal(0, 1, 8))))
             for i, mu in enumerate((1.6, 0.9, 0.1))]
    fam = compare_family(specs, paired=True, higher_is_better=True, alpha=0.05)
    raw = [compare(**s, paired=True, higher_is_better=True) for s in specs]
    rejected = holm([c.p_value for c in raw], 0.05)
    for f, r, rej in zip(fam, raw, rejected):
        assert f.p_value == pytest.approx(r.p_value)
        assert f.level >= r.level and (f.ci_high - f.ci_low) >= (r.ci_high - r.ci_low) - 1e-12
        assert f.decided == rej
    assert max(c.level for c in fam) == pytest.approx(1 - 0.05 / 3)   # the smallest p: Bonferroni over 3


def test_family_counts_only_testable_comparisons():
    specs = [dict(a=[1.0, 1.1, 1.2, 0.9], b=[0.0, 0.1, 0.2, -0.1]), dict(a=[1.0, None], b=[0.0, 0.1])]
    fam = compare_family(specs, paired=True, higher_is_better=True)
    assert fam[1].decision == "inconclusive" and fam[0].level == pytest.approx(0.95)


# --- adaptive seeds ------------------------------------------------------------------------


def test_adaptive_seeds_extends_only_undecided_comparisons_deterministically():
    seeds = tuple(range(8))
    decided = compare([1.0 + 0.01 * i for i in range(8)], [0.0] * 8, paired=True, higher_is_better=True)
    open_ = compare([0.1, -0.2, 0.3, 0.0, 0.2, -0.1, 0.4, -0.3], [0.0] * 8, paired=True, higher_is_better=True)
    narrow = compare([0.001, -0.002, 0.003, 0.0, 0.002, -0.001, 0.0, 0.001], [0.0] * 8, paired=True,
                     higher_is_better=True)
    assert adaptive_seeds(decided, seeds, negligible=0.05) == seeds
    assert adaptive_seeds(open_, seeds, negligible=0.05) == tuple(range(16))
    assert adaptive_seeds(open_, seeds, negligible=0.05) == adaptive_seeds(open_, seeds, negligible=0.05)
    assert narrow.decision == "indistinguishable"
    assert adaptive_seeds(narrow, seeds, negligible=0.05) == seeds          # clearly narrow: stop
    assert adaptive_seeds(open_, tuple(range(16)), negligible=0.05) == tuple(range(16))   # schedule's end
    assert adaptive_seeds(open_, (0, 3, 5, 7, 9, 11, 12, 20), negligible=0.05)[8:] == tuple(range(21, 29))
    few = compare([0.3, None], [0.2, 0.1], paired=True, higher_is_better=True)
    assert adaptive_seeds(few, (0, 1), negligible=0.0, schedule=(2, 8)) == tuple(range(8))
    untrained = mark_inconclusive(open_, "the control did not train")
    assert adaptive_seeds(untrained, seeds, negligible=0.05) == seeds      # more seeds would not help


def _false_decisions(level, n_exp=1500):
    rng = np.random.default_rng(17)
    false = 0
    for _ in range(n_exp):        # no true difference; always extend when undecided
        a, b = rng.normal(0, 1, 16), rng.normal(0, 1, 16)
        first = compare(a[:8], b[:8], paired=True, higher_is_better=True, alpha=level)
        seeds = adaptive_seeds(first, range(8), negligible=0.0)
        c = first if len(seeds) == 8 else compare(a, b, paired=True, higher_is_better=True, alpha=level)
        false += c.decided
    return false / n_exp


def test_two_looks_at_the_pocock_level_keep_the_false_decision_rate_at_alpha():
    pocock, naive = _false_decisions(pocock_alpha(0.05, 2)), _false_decisions(0.05)
    print(f"false decisions over two looks: Pocock level {pocock:.4f}, 0.05 at each look {naive:.4f}")
    assert pocock <= 0.065, pocock     # 0.05 plus Monte Carlo error (sd ≈ 0.0056)
    assert naive > 0.065, naive        # two unadjusted looks do inflate it (≈ 0.073)
