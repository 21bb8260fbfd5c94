"""Score formulas against hand-computed values, including blank and zero inputs."""

from decimal import Decimal

import pytest

from backlog import scoring
from backlog.choices import Framework


def test_rice_matches_hand_computation():
    # 2000 people × impact 2 × 80% ÷ 4 person-months = 800
    score = scoring.rice(reach=2000, impact=2, confidence=80, effort=4)
    assert score.value == Decimal("800")
    assert score.breakdown == "2,000 × 2 × 80% ÷ 4 = 800"


def test_rice_with_fractions_rounds_to_four_places():
    # 150 × 0.5 × 50% ÷ 3 = 12.5
    assert scoring.rice(reach=150, impact="0.5", confidence=50, effort=3).value == Decimal("12.5")
    # 100 × 1 × 100% ÷ 3 = 33.3333…
    assert scoring.rice(reach=100, impact=1, confidence=100, effort=3).value == Decimal("33.3333")


@pytest.mark.parametrize("effort", [0, "0", Decimal("0.00")])
def test_rice_with_zero_effort_has_no_score_and_says_why(effort):
    score = scoring.rice(reach=100, impact=2, confidence=80, effort=effort)
    assert score.value is None
    assert "effort is zero" in score.reason


@pytest.mark.parametrize("effort", [None, ""])
def test_rice_with_blank_effort_asks_for_it(effort):
    score = scoring.rice(reach=100, impact=2, confidence=80, effort=effort)
    assert score.value is None
    assert score.reason == "Needs effort to compute a score."


def test_missing_inputs_are_all_named():
    score = scoring.rice(reach=None, impact=2, confidence=None, effort=None)
    assert score.reason == "Needs reach, confidence and effort to compute a score."


def test_ice_reads_confidence_on_a_ten_point_scale():
    # impact 8 × confidence 70% (→ 7) × ease 5 = 280
    score = scoring.ice(impact=8, confidence=70, ease=5)
    assert score.value == Decimal("280")
    assert score.breakdown == "8 × 7 × 5 = 280"


def test_wsjf_matches_hand_computation():
    # (8 + 5 + 3) ÷ 5 = 3.2
    score = scoring.wsjf(business_value=8, time_criticality=5, risk_reduction=3, job_size=5)
    assert score.value == Decimal("3.2")
    assert score.breakdown == "(8 + 5 + 3) ÷ 5 = 3.2"


def test_wsjf_with_zero_job_size_has_no_score():
    score = scoring.wsjf(business_value=8, time_criticality=5, risk_reduction=3, job_size=0)
    assert score.value is None
    assert "job size is zero" in score.reason


def test_value_over_effort():
    assert scoring.value_effort(value=9, effort=2).value == Decimal("4.5")
    assert scoring.value_effort(value=9, effort=0).value is None
    assert scoring.value_effort(value=None, effort=2).reason == "Needs value to compute a score."


def test_roi_and_payback_period():
    # (120,000 − 40,000) ÷ 40,000 = 2 (200%); 120,000 over 12 months = 10,000 a month,
    # so 40,000 is paid back after 4 months.
    score = scoring.roi(expected_revenue=120000, cost=40000, roi_horizon_months=12)
    assert score.value == Decimal("2")
    assert score.payback_months == Decimal("4.0")
    assert "200%" in score.breakdown
    assert "= 4 months" in score.breakdown


def test_roi_loss_is_negative_and_zero_cost_is_refused():
    assert scoring.roi(expected_revenue=30000, cost=40000).value == Decimal("-0.25")
    zero = scoring.roi(expected_revenue=30000, cost=0, roi_horizon_months=12)
    assert zero.value is None
    assert "cost is zero" in zero.reason


def test_roi_without_horizon_has_no_payback_period():
    score = scoring.roi(expected_revenue=50000, cost=10000)
    assert score.value == Decimal("4")
    assert score.payback_months is None


def test_roi_with_no_return_never_pays_back():
    score = scoring.roi(expected_revenue=0, cost=10000, roi_horizon_months=6)
    assert score.value == Decimal("-1")
    assert score.payback_months is None
    assert "no payback" in score.breakdown


def test_garbage_input_is_treated_as_blank_not_a_crash():
    assert scoring.rice(reach="lots", impact=1, confidence=50, effort=1).value is None


@pytest.mark.parametrize("framework", Framework.values)
def test_every_framework_scores_a_blank_feature_without_crashing(framework):
    score = scoring.score_inputs(framework, {})
    assert score.value is None
    assert score.reason.startswith("Needs")
