"""Delivery and revenue forecasts: pure functions, no database.

Delivery is forecast by Monte Carlo simulation over the team's recent velocity: each run draws
one past sprint's done points per future sprint (a bootstrap of the team's own history, so a team
with uneven sprints gets a wide spread) and accumulates them. For a piece of work that needs R more
points, the share of runs whose accumulated points reach R within k sprints is the probability of
finishing by the end of sprint k.

The runs are stored column-wise (the accumulated points after sprint k over all runs, sorted), so a
question about one initiative is a binary search per sprint rather than a pass over every run —
the roadmap asks it once per initiative and release.
"""

from __future__ import annotations

import math
import operator
import random
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

PERCENTILES = (50, 85, 95)
DEFAULT_RUNS = 10_000
MAX_SPRINTS = 104  # two years of two-week sprints: beyond this the forecast says "later than".


@dataclass(frozen=True)
class Outlook:
    """When one piece of work finishes: the sprints (and dates) by which it is done with each
    probability, and the probability of being done by a target date."""

    remaining_points: float
    dates: dict[int, date | None]  # percentile → date (None: not within MAX_SPRINTS sprints)
    probability_by_target: float | None  # 0..1, None without a target date
    target: date | None = None

    @property
    def p50(self) -> date | None:
        return self.dates.get(50)

    @property
    def p85(self) -> date | None:
        return self.dates.get(85)

    @property
    def p95(self) -> date | None:
        return self.dates.get(95)

    @property
    def chance(self) -> int | None:
        """The probability of being done by the target, in whole percent."""
        if self.probability_by_target is None:
            return None
        return math.floor(self.probability_by_target * 100 + 0.5)

    @property
    def risk(self) -> str:
        """ "likely" (≥ 85 %), "uncertain" (≥ 50 %), "unlikely" — for the badge on the timeline."""
        if self.probability_by_target is None:
            return ""
        if self.probability_by_target >= 0.85:
            return "likely"
        if self.probability_by_target >= 0.5:
            return "uncertain"
        return "unlikely"


@dataclass
class Simulation:
    """`runs` futures of the team's delivery, sprint by sprint.

    `first_sprint_end` is the end of the first simulated sprint (the running sprint, or a sprint
    starting today); later sprints follow every `sprint_days`. `first_sprint_share` scales the
    first sprint's draw by the part of it still ahead (a sprint half over delivers about half).
    """

    samples: Sequence[float]
    first_sprint_end: date
    sprint_days: int = 14
    runs: int = DEFAULT_RUNS
    seed: int = 0
    first_sprint_share: float = 1.0
    max_sprints: int = MAX_SPRINTS
    columns: list[list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.samples:
            raise ValueError("A forecast needs at least one finished sprint's velocity.")
        if self.sprint_days < 1:
            raise ValueError("Sprints must last at least one day.")
        self._rng = random.Random(self.seed)
        self._population = [float(points) for points in self.samples]
        self._totals = [0.0] * self.runs
        # Column k: the accumulated points after sprint k+1 across all runs, sorted ascending.
        # Columns are drawn lazily, in order, from one seeded stream — the same seed gives the
        # same columns whatever is asked first, and a roadmap that needs ten sprints draws ten.
        self.columns = []

    def _column(self, k: int) -> list[float]:
        """The sorted accumulated points after sprint k (1-based), drawing sprints up to k."""
        while len(self.columns) < k:
            draws = self._rng.choices(self._population, k=self.runs)
            if not self.columns:
                share = min(max(self.first_sprint_share, 0.0), 1.0)
                draws = [points * share for points in draws]
            self._totals = list(map(operator.add, self._totals, draws))
            self.columns.append(sorted(self._totals))
        return self.columns[k - 1]

    def sprint_end(self, k: int) -> date:
        """The end date of simulated sprint k (1-based)."""
        return self.first_sprint_end + timedelta(days=self.sprint_days * (k - 1))

    def sprints_until(self, day: date) -> int:
        """How many simulated sprints end on or before `day`."""
        if day < self.first_sprint_end:
            return 0
        return min(self.max_sprints, 1 + (day - self.first_sprint_end).days // self.sprint_days)

    def probability_done(self, remaining: float, sprints: int) -> float:
        """The share of runs that deliver `remaining` points within `sprints` sprints."""
        if remaining <= 0:
            return 1.0
        if sprints <= 0:
            return 0.0
        column = self._column(min(sprints, self.max_sprints))
        return (len(column) - bisect_left(column, remaining)) / len(column)

    def sprints_needed(self, remaining: float, probability: float) -> int | None:
        """The fewest sprints after which at least `probability` of the runs are done, or None
        when that takes more than `max_sprints` (velocity is never negative, so the probability
        only grows with the number of sprints)."""
        if remaining <= 0:
            return 0
        for k in range(1, self.max_sprints + 1):
            if self.probability_done(remaining, k) >= probability:
                return k
        return None

    def outlook(
        self, remaining: float, target: date | None = None, today: date | None = None
    ) -> Outlook:
        dates: dict[int, date | None] = {}
        for pct in PERCENTILES:
            k = self.sprints_needed(remaining, pct / 100)
            if k is None:
                dates[pct] = None
            elif k == 0:
                dates[pct] = today or self.first_sprint_end
            else:
                dates[pct] = self.sprint_end(k)
        probability = None
        if target is not None:
            probability = self.probability_done(remaining, self.sprints_until(target))
        return Outlook(remaining, dates, probability, target)


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of already sorted values (what the forecast's dates use)."""
    if not sorted_values:
        raise ValueError("No values.")
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# --- the work queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedStory:
    feature_id: int
    points: float | None  # None: not estimated yet


def queue_positions(stories: Iterable[QueuedStory], default_points: float) -> dict[int, float]:
    """Per feature, the points the team must finish before that feature is done.

    One team works the open stories in backlog order (feature rank, then story rank), so a feature
    is done when the queue reaches its last open story: its position is the running total there.
    Unestimated stories count as `default_points` (the median estimate — shown as an assumption).
    """
    total = 0.0
    positions: dict[int, float] = {}
    for story in stories:
        total += story.points if story.points is not None else default_points
        positions[story.feature_id] = total
    return positions


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --- revenue: the product's P&L contribution ------------------------------------------------------

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PlannedReturn:
    """One feature's ROI inputs and when it ships (forecast or actual)."""

    feature_id: int
    title: str
    expected_revenue: Decimal
    cost: Decimal
    horizon_months: int
    ships: date | None  # None: not within the forecast — no revenue in the window
    shipped: bool = False


@dataclass(frozen=True)
class MonthLine:
    month: date  # the first of the month
    revenue: Decimal
    cost: Decimal
    net: Decimal
    cumulative: Decimal


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def profit_and_loss(
    returns: Iterable[PlannedReturn],
    *,
    start: date,
    months: int,
    ramp_months: int = 0,
    cost_spread_months: int = 0,
) -> list[MonthLine]:
    """Revenue, cost, net and cumulative net per month from `start` for `months` months.

    A feature earns its expected revenue over its ROI horizon in equal monthly parts from the month
    after it ships; with `ramp_months` the first months earn a growing share (1/(r+1), 2/(r+1), …)
    and the horizon's total is still reached, the shortfall paid in its last month. Its cost is
    booked in the month it ships, or spread evenly over `cost_spread_months` months up to it.
    Only months inside the window are returned; cumulative starts at zero at `start`.
    """
    first = month_start(start)
    window = [add_months(first, i) for i in range(months)]
    revenue = dict.fromkeys(window, Decimal(0))
    cost = dict.fromkeys(window, Decimal(0))
    for item in returns:
        if item.ships is None:
            continue
        ship_month = month_start(item.ships)
        if not item.shipped:
            spread = max(cost_spread_months, 1)
            share = item.cost / spread
            for i in range(spread):
                month = add_months(ship_month, -(spread - 1 - i))
                if month in cost:
                    cost[month] += share
        horizon = max(item.horizon_months, 1)
        monthly = item.expected_revenue / horizon
        paid = Decimal(0)
        for i in range(horizon):
            weight = Decimal(min(i + 1, ramp_months + 1)) / Decimal(ramp_months + 1)
            amount = monthly * weight
            if i == horizon - 1:
                amount = item.expected_revenue - paid  # the horizon's total, ramp or not
            paid += amount
            month = add_months(ship_month, i + 1)
            if month in revenue:
                revenue[month] += amount
    lines = []
    cumulative = Decimal(0)
    for month in window:
        r = revenue[month].quantize(CENT, ROUND_HALF_UP)
        c = cost[month].quantize(CENT, ROUND_HALF_UP)
        cumulative += r - c
        lines.append(MonthLine(month, r, c, r - c, cumulative))
    return lines
