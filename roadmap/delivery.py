"""The product's forecasts from its data: when initiatives and releases are likely done (Monte Carlo
over the team's velocity) and what the planned features add to the P&L by month.

The model is one team working open stories in backlog order; its assumptions are returned with the
figures so the page can show them next to the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Prefetch
from django.utils import timezone

from backlog.choices import FeatureStatus, StoryStatus
from backlog.models import Feature, Sprint, UserStory
from backlog.selectors import sprint_list
from pm.models import Product
from roadmap.choices import InitiativeStatus
from roadmap.forecast import (
    DEFAULT_RUNS,
    MonthLine,
    Outlook,
    PlannedReturn,
    QueuedStory,
    Simulation,
    median,
    profit_and_loss,
    queue_positions,
)
from roadmap.models import Initiative, Release

HISTORY_SPRINTS = 8  # the finished sprints whose velocity the simulation draws from
DEFAULT_SPRINT_DAYS = 14
DEFAULT_STORY_POINTS = 3.0  # for unestimated stories when nothing at all is estimated
CACHE_SECONDS = 600
CLOSED_FEATURES = (FeatureStatus.SHIPPED, FeatureStatus.ARCHIVED)


@dataclass(frozen=True)
class WorkOutlook:
    """One initiative or release: its forecast, or why there is none."""

    pk: int
    title: str
    target: date | None
    outlook: Outlook | None
    features: int
    done: bool = False  # every feature shipped
    unestimated_features: int = 0  # open features with no stories: not in the forecast


@dataclass
class DeliveryForecast:
    today: date
    samples: list[int] = field(default_factory=list)
    sprint_days: int = DEFAULT_SPRINT_DAYS
    first_sprint_end: date | None = None
    first_sprint_share: float = 1.0
    running_sprint: str = ""
    default_points: float = DEFAULT_STORY_POINTS
    unestimated_stories: int = 0
    open_points: float = 0.0
    runs: int = DEFAULT_RUNS
    positions: dict[int, float] = field(default_factory=dict)  # feature id → points ahead
    initiatives: list[WorkOutlook] = field(default_factory=list)
    releases: list[WorkOutlook] = field(default_factory=list)
    simulation: Simulation | None = None

    @property
    def available(self) -> bool:
        return self.simulation is not None

    @property
    def reason(self) -> str:
        if self.available:
            return ""
        return (
            "A delivery forecast needs the velocity of at least one finished sprint: "
            "finish a sprint with done stories and the forecast appears."
        )

    @property
    def first_sprint_percent(self) -> int:
        return round(self.first_sprint_share * 100)

    def by_initiative(self) -> dict[int, WorkOutlook]:
        return {w.pk: w for w in self.initiatives}

    def by_release(self) -> dict[int, WorkOutlook]:
        return {w.pk: w for w in self.releases}

    def feature_date(self, feature_id: int, percentile: int) -> date | None:
        """When an open feature's last story is done with `percentile` % confidence."""
        if self.simulation is None or feature_id not in self.positions:
            return None
        return self.simulation.outlook(self.positions[feature_id], today=self.today).dates[
            percentile
        ]


def _sprint_days(sprints: Sequence[Sprint]) -> int:
    lengths = [(s.end - s.start).days + 1 for s in sprints]
    middle = median(lengths)
    return int(middle) if middle else DEFAULT_SPRINT_DAYS


def _queue(product: Product) -> list[tuple[int, int | None]]:
    """(feature id, points) of every open story of open features, in the order the team works."""
    return list(
        UserStory.objects.filter(product=product)
        .exclude(status=StoryStatus.DONE)
        .exclude(feature__status__in=CLOSED_FEATURES)
        .order_by("feature__rank", "rank")
        .values_list("feature_id", "points")
    )


def delivery_forecast(product: Product, *, today: date | None = None) -> DeliveryForecast:
    """Forecasts for the product's open initiatives and unshipped releases, internal ones
    included: a forecast is the team's planning data, and the views offer it to the team only."""
    today = today or timezone.localdate()
    result = DeliveryForecast(today=today)
    finished = list(
        sprint_list(product=product).filter(end__lt=today).order_by("-start")[:HISTORY_SPRINTS]
    )
    result.samples = [int(getattr(s, "done_points", 0)) for s in reversed(finished)]
    result.sprint_days = _sprint_days(finished)
    running = (
        Sprint.objects.filter(product=product, start__lte=today, end__gte=today)
        .order_by("-start")
        .first()
    )
    if running is not None:
        length = (running.end - running.start).days + 1
        result.first_sprint_end = running.end
        result.first_sprint_share = ((running.end - today).days + 1) / length
        result.running_sprint = running.name
    else:
        result.first_sprint_end = date.fromordinal(today.toordinal() + result.sprint_days - 1)

    if not any(result.samples):
        return result  # no velocity yet: nothing to simulate, the page says why

    queue = _queue(product)
    estimates = [float(points) for _, points in queue if points is not None]
    result.default_points = median(estimates) or DEFAULT_STORY_POINTS
    result.unestimated_stories = sum(1 for _, points in queue if points is None)
    result.positions = queue_positions(
        (QueuedStory(fid, float(p) if p is not None else None) for fid, p in queue),
        result.default_points,
    )
    result.open_points = max(result.positions.values(), default=0.0)

    feature_fields = Feature.objects.only("id", "status")
    initiatives = (
        Initiative.objects.filter(product=product)
        .exclude(status__in=(InitiativeStatus.SHIPPED, InitiativeStatus.CANCELLED))
        .prefetch_related(Prefetch("features", queryset=feature_fields))
        .order_by("start", "id")
    )
    releases = (
        Release.objects.filter(product=product, shipped_date__isnull=True)
        .prefetch_related(Prefetch("features", queryset=feature_fields))
        .order_by("target_date", "id")
    )
    result.simulation = Simulation(
        result.samples,
        first_sprint_end=result.first_sprint_end,
        sprint_days=result.sprint_days,
        first_sprint_share=result.first_sprint_share,
        seed=product.pk,
    )
    result.initiatives = [_outlook(result, i.pk, i.title, i.end, i) for i in initiatives]
    result.releases = [_outlook(result, r.pk, r.name, r.target_date, r) for r in releases]
    return result


def _outlook(result: DeliveryForecast, pk: int, title: str, target, obj) -> WorkOutlook:
    features = list(obj.features.all())
    open_features = [f for f in features if f.status not in CLOSED_FEATURES]
    positions = [result.positions[f.pk] for f in open_features if f.pk in result.positions]
    unestimated = sum(1 for f in open_features if f.pk not in result.positions)
    base = WorkOutlook(pk, title, target, None, len(features), unestimated_features=unestimated)
    if features and not open_features:
        return replace(base, done=True)
    if result.simulation is None or not positions:
        return base
    outlook = _cached_outlook(result.simulation, max(positions), target, result.today)
    return replace(base, outlook=outlook)


def _cached_outlook(sim: Simulation, remaining: float, target, today: date) -> Outlook:
    """The simulation is deterministic for its inputs, so its answers are cached by them: a roadmap
    page asks for every initiative on every view, and the answers only change with the data."""
    fingerprint = repr(
        (
            tuple(sim.samples),
            sim.first_sprint_end,
            sim.sprint_days,
            round(sim.first_sprint_share, 4),
            sim.seed,
            sim.runs,
            remaining,
            target,
            today,
        )
    )
    key = "forecast:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        cached = sim.outlook(remaining, target=target, today=today)
        cache.set(key, cached, CACHE_SECONDS)
    return cached


# --- revenue -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumptions:
    percentile: int = 50
    months: int = 12
    ramp_months: int = 0
    cost_spread_months: int = 0


@dataclass(frozen=True)
class RevenueForecast:
    assumptions: Assumptions
    lines: list[MonthLine]
    included: list[PlannedReturn]
    left_out: list[tuple[str, str]]  # (feature title, why it is not in the forecast)

    @property
    def totals(self) -> tuple[Decimal, Decimal, Decimal]:
        revenue = sum((line.revenue for line in self.lines), Decimal(0))
        cost = sum((line.cost for line in self.lines), Decimal(0))
        return revenue, cost, revenue - cost

    @property
    def break_even(self) -> date | None:
        """The first month the cumulative net turns positive after having been negative."""
        was_negative = False
        for line in self.lines:
            if line.cumulative < 0:
                was_negative = True
            elif was_negative and line.cumulative >= 0:
                return line.month
        return None


def revenue_forecast(
    product: Product, delivery: DeliveryForecast, assumptions: Assumptions
) -> RevenueForecast:
    """The P&L contribution of features with ROI inputs: shipped ones earn from their ship month,
    open ones from their forecast date at the chosen percentile."""
    features = (
        Feature.objects.filter(product=product)
        .exclude(status=FeatureStatus.ARCHIVED)
        .filter(expected_revenue__isnull=False, cost__isnull=False)
        .only(
            "id", "title", "status", "shipped_at", "expected_revenue", "cost", "roi_horizon_months"
        )
        .order_by("rank")
    )
    included: list[PlannedReturn] = []
    left_out: list[tuple[str, str]] = []
    for feature in features:
        horizon = feature.roi_horizon_months or 12
        shipped = feature.status == FeatureStatus.SHIPPED
        if shipped:
            ships = timezone.localdate(feature.shipped_at) if feature.shipped_at else None
            if ships is None:
                left_out.append((feature.title, "shipped without a ship date"))
                continue
        else:
            ships = delivery.feature_date(feature.pk, assumptions.percentile)
            if ships is None:
                left_out.append(
                    (
                        feature.title,
                        "no open stories to forecast"
                        if feature.pk not in delivery.positions
                        else "not done within two years at this velocity",
                    )
                )
                continue
        assert feature.expected_revenue is not None and feature.cost is not None  # filtered
        included.append(
            PlannedReturn(
                feature.pk,
                feature.title,
                feature.expected_revenue,
                feature.cost,
                horizon,
                ships,
                shipped=shipped,
            )
        )
    lines = profit_and_loss(
        included,
        start=delivery.today,
        months=assumptions.months,
        ramp_months=assumptions.ramp_months,
        cost_spread_months=assumptions.cost_spread_months,
    )
    return RevenueForecast(assumptions, lines, included, left_out)
