"""The forecast's statistics against values computed by hand."""

from datetime import date
from decimal import Decimal

import pytest

from roadmap.forecast import (
    PlannedReturn,
    QueuedStory,
    Simulation,
    median,
    percentile,
    profit_and_loss,
    queue_positions,
)

END = date(2027, 1, 15)


def test_a_steady_team_finishes_exactly_when_the_arithmetic_says():
    sim = Simulation([10], first_sprint_end=END, sprint_days=14, runs=200, max_sprints=20)
    outlook = sim.outlook(35, target=date(2027, 2, 12))
    # 35 points at 10 a sprint: the 4th sprint, which ends 3 × 14 days after the first.
    assert outlook.dates == {50: date(2027, 2, 26), 85: date(2027, 2, 26), 95: date(2027, 2, 26)}
    assert outlook.probability_by_target == 0.0  # by 12 Feb only three sprints have ended
    assert sim.outlook(35, target=date(2027, 2, 26)).probability_by_target == 1.0


def test_percentiles_and_probabilities_match_the_binomial_with_a_fixed_seed():
    # Each sprint delivers 10 points with probability 3/4 and nothing otherwise, so 10 points
    # are done within k sprints with probability 1 − (1/4)^k: 0.75, 0.9375, 0.984375.
    sim = Simulation([0, 10, 10, 10], first_sprint_end=END, runs=10_000, seed=7, max_sprints=10)
    assert sim.probability_done(10, 1) == pytest.approx(0.75, abs=0.015)
    assert sim.probability_done(10, 2) == pytest.approx(0.9375, abs=0.01)
    assert sim.probability_done(10, 3) == pytest.approx(0.984375, abs=0.005)
    assert sim.sprints_needed(10, 0.50) == 1
    assert sim.sprints_needed(10, 0.85) == 2
    assert sim.sprints_needed(10, 0.95) == 3
    # 20 points need two good sprints: P(at least 2 of 3) = 3·(3/4)²·(1/4) + (3/4)³ = 0.84375.
    assert sim.probability_done(20, 3) == pytest.approx(0.84375, abs=0.015)


def test_the_same_seed_gives_the_same_forecast():
    a = Simulation([3, 8, 13], first_sprint_end=END, seed=42, runs=2_000)
    b = Simulation([3, 8, 13], first_sprint_end=END, seed=42, runs=2_000)
    assert a.outlook(60).dates == b.outlook(60).dates


def test_work_beyond_the_horizon_has_no_date_and_no_chance():
    sim = Simulation([0, 0, 1], first_sprint_end=END, runs=500, max_sprints=12)
    outlook = sim.outlook(1_000, target=date(2027, 6, 1))
    assert outlook.p95 is None
    assert outlook.probability_by_target == 0.0
    assert outlook.risk == "unlikely"


def test_a_half_finished_sprint_only_counts_half_its_draw():
    sim = Simulation([10], first_sprint_end=END, runs=50, first_sprint_share=0.5, max_sprints=5)
    assert sim.probability_done(5, 1) == 1.0
    assert sim.probability_done(6, 1) == 0.0
    assert sim.probability_done(15, 2) == 1.0


def test_nothing_left_is_done_today():
    sim = Simulation([5], first_sprint_end=END, runs=10, max_sprints=3)
    assert sim.outlook(0, today=date(2027, 1, 2)).p50 == date(2027, 1, 2)


def test_no_history_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="finished sprint"):
        Simulation([], first_sprint_end=END)


def test_nearest_rank_percentile_and_median():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile(values, 50) == 5
    assert percentile(values, 85) == 9
    assert percentile(values, 95) == 10
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 2, 3]) == 2.5
    assert median([]) is None


def test_a_feature_is_done_when_the_queue_reaches_its_last_story():
    stories = [
        QueuedStory(1, 3),
        QueuedStory(2, 5),
        QueuedStory(1, None),  # unestimated: counts as the default 2
        QueuedStory(3, 8),
    ]
    assert queue_positions(stories, default_points=2) == {1: 10, 2: 8, 3: 18}


def test_profit_and_loss_by_month_computed_by_hand():
    returns = [
        # 12,000 over 3 months from the month after it ships (Feb, Mar, Apr); cost 5,000 in Jan.
        PlannedReturn(1, "A", Decimal(12_000), Decimal(5_000), 3, date(2027, 1, 20)),
        # Ships after the window ends: its cost and revenue are outside it.
        PlannedReturn(2, "B", Decimal(9_000), Decimal(1_000), 3, date(2027, 9, 1)),
        # Not forecast to ship at all.
        PlannedReturn(3, "C", Decimal(9_000), Decimal(1_000), 3, None),
    ]
    lines = profit_and_loss(returns, start=date(2027, 1, 5), months=5)
    assert [(line.month.month, line.revenue, line.cost, line.cumulative) for line in lines] == [
        (1, Decimal("0.00"), Decimal("5000.00"), Decimal("-5000.00")),
        (2, Decimal("4000.00"), Decimal("0.00"), Decimal("-1000.00")),
        (3, Decimal("4000.00"), Decimal("0.00"), Decimal("3000.00")),
        (4, Decimal("4000.00"), Decimal("0.00"), Decimal("7000.00")),
        (5, Decimal("0.00"), Decimal("0.00"), Decimal("7000.00")),
    ]


def test_ramp_and_spread_cost_keep_the_totals():
    item = PlannedReturn(1, "A", Decimal(9_000), Decimal(3_000), 3, date(2027, 3, 10))
    lines = profit_and_loss(
        [item], start=date(2027, 1, 1), months=8, ramp_months=1, cost_spread_months=3
    )
    by_month = {line.month.month: line for line in lines}
    assert [by_month[m].cost for m in (1, 2, 3, 4)] == [Decimal(1000)] * 3 + [Decimal(0)]
    # Monthly 3,000 at half, then full, then the rest of the 9,000: 1,500, 3,000, 4,500.
    assert [by_month[m].revenue for m in (4, 5, 6)] == [Decimal(1500), Decimal(3000), Decimal(4500)]
    assert lines[-1].cumulative == Decimal(6000)


def test_a_shipped_feature_earns_but_costs_nothing_more():
    item = PlannedReturn(1, "A", Decimal(600), Decimal(900), 6, date(2026, 12, 3), shipped=True)
    lines = profit_and_loss([item], start=date(2027, 1, 1), months=2)
    assert [(line.revenue, line.cost) for line in lines] == [(Decimal(100), 0), (Decimal(100), 0)]
