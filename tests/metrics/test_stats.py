"""Experiment statistics against known values (two-proportion z-test, as R's
`prop.test(correct = FALSE)` and statsmodels' `proportions_ztest` compute them), and funnel
conversion and drop-off."""

import math

import pytest

from metrics.stats import (
    funnel_rows,
    normal_two_sided_p,
    sample_too_small,
    two_proportion_test,
)


def test_the_two_sided_p_value_of_z_1_96_is_five_percent():
    assert normal_two_sided_p(1.959963984540054) == pytest.approx(0.05, abs=1e-12)
    assert normal_two_sided_p(0) == 1.0


def test_100_of_1000_against_130_of_1000():
    result = two_proportion_test(100, 1000, 130, 1000)
    assert result.control_rate == 0.10
    assert result.rate == 0.13
    assert result.difference == pytest.approx(0.03)
    assert result.lift == pytest.approx(0.30)
    # prop.test(c(130, 100), c(1000, 1000), correct = FALSE): X-squared = 4.4215, p = 0.03549
    assert result.z == pytest.approx(2.10274, abs=1e-5)
    assert result.z**2 == pytest.approx(4.4215, abs=1e-4)
    assert result.p_value == pytest.approx(0.03549, abs=1e-5)
    assert result.significant
    # Wald interval of the difference: 0.03 ± 1.96 × √(0.1·0.9/1000 + 0.13·0.87/1000)
    assert result.ci_low == pytest.approx(0.002068, abs=1e-6)
    assert result.ci_high == pytest.approx(0.057932, abs=1e-6)


def test_a_small_difference_is_not_significant():
    # 200/2000 vs 210/2000: pooled p = 0.1025, SE = √(0.1025 · 0.8975 · (2 / 2000)) = 0.0095913,
    # z = 0.005 / SE = 0.52130, p = 0.60216
    result = two_proportion_test(200, 2000, 210, 2000)
    assert result.z == pytest.approx(0.52130, abs=1e-5)
    assert result.p_value == pytest.approx(0.60216, abs=1e-5)
    assert not result.significant
    assert result.ci_low < 0 < result.ci_high


def test_a_worse_variant_has_a_negative_z_and_lift():
    result = two_proportion_test(150, 1000, 100, 1000)
    assert result.lift == pytest.approx(-1 / 3)
    assert result.z < 0
    assert result.p_value == pytest.approx(normal_two_sided_p(abs(result.z)))


def test_no_conversions_anywhere_gives_no_p_value_rather_than_an_error():
    result = two_proportion_test(0, 500, 0, 500)
    assert result.p_value is None and result.z is None
    assert result.lift is None
    assert math.isfinite(result.ci_low)


def test_samples_below_five_events_either_way_are_too_small():
    assert sample_too_small(4, 1000)
    assert sample_too_small(998, 1000)  # 2 non-conversions
    assert not sample_too_small(5, 10)
    assert not sample_too_small(100, 1000)


def test_funnel_conversion_drop_off_and_the_largest_drop():
    rows = funnel_rows([("Visit", 1000), ("Sign up", 300), ("Activate", 240), ("Pay", 60)])
    assert [r.from_previous for r in rows] == [None, 0.3, 0.8, 0.25]
    assert [r.from_start for r in rows] == [1.0, 0.3, 0.24, 0.06]
    assert [r.lost for r in rows] == [0, 700, 60, 180]
    assert [r.largest_drop for r in rows] == [False, False, False, True]  # 75 % > 70 %
    assert rows[3].drop_off == pytest.approx(0.75)


def test_a_funnel_with_an_empty_first_step_has_no_rates():
    rows = funnel_rows([("Visit", 0), ("Sign up", 0)])
    assert rows[1].from_previous is None
    assert not any(r.largest_drop for r in rows)
