"""Reads for the metrics app. Every function runs a fixed number of queries whatever the number of
KPIs, buckets or impacts (the pages' query-count tests rely on it)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from backlog.models import Feature
from metrics import experiments_events, funnels
from metrics.choices import Aggregation, DataSource, ExperimentStatus, Granularity
from metrics.experiments_events import Arm, Readout
from metrics.models import (
    KPI,
    DirtyRange,
    Experiment,
    Funnel,
    KeyResultKPI,
    LaunchImpact,
    Rollup,
    Variant,
)
from metrics.rollups import bucket_start, kpi_time_zone, product_time_zone
from metrics.stats import FunnelRow, funnel_rows
from pm import visibility
from pm.models import KeyResult, Objective, Product

# How many of the latest buckets a sparkline shows, and how many the detail chart shows.
SPARK_BUCKETS: dict[str, int] = {Granularity.DAY: 30, Granularity.WEEK: 26, Granularity.MONTH: 12}
CHART_BUCKETS: dict[str, int] = {
    Granularity.DAY: 366,
    Granularity.WEEK: 156,
    Granularity.MONTH: 120,
}
SPARK_W, SPARK_H, SPARK_PAD = 120, 32, 3


def kpi_list(*, product: Product) -> QuerySet[KPI]:
    return KPI.objects.filter(product=product).select_related(
        "product__workspace", "owner", "numerator", "denominator"
    )


# --- summaries: latest value, change, sparkline, progress ---------------------------------


@dataclass
class Summary:
    """What the KPI list shows for one KPI."""

    kpi: KPI
    series: list[tuple[date, Decimal]] = field(default_factory=list)  # oldest first
    # For sums and counts, the unfinished current period is set aside: half a week of sign-ups
    # is not comparable with a whole one.
    current: tuple[date, Decimal] | None = None

    @property
    def latest(self) -> Decimal | None:
        return self.series[-1][1] if self.series else None

    @property
    def latest_bucket(self) -> date | None:
        return self.series[-1][0] if self.series else None

    @property
    def previous(self) -> Decimal | None:
        return self.series[-2][1] if len(self.series) > 1 else None

    @property
    def in_progress(self) -> bool:
        """Whether the latest bucket is the current, unfinished period."""
        if not self.series:
            return False
        today = timezone.localdate(timezone=kpi_time_zone(self.kpi))
        return bucket_start(self.kpi.granularity, today) == self.latest_bucket

    @property
    def change(self) -> float | None:
        """Relative change of the latest bucket against the one before, in percent."""
        if self.latest is None or self.previous in (None, 0):
            return None
        return float((self.latest - self.previous) / abs(self.previous) * 100)

    @property
    def change_is_good(self) -> bool | None:
        if self.change is None or abs(self.change) < 0.05:
            return None
        return (self.change > 0) == self.kpi.higher_is_better

    @property
    def progress(self) -> float | None:
        """Share of the target reached, 0–1: latest ÷ target when higher is better, target ÷
        latest when lower is better."""
        target, latest = self.kpi.target_value, self.latest
        if target is None or latest is None:
            return None
        if self.kpi.higher_is_better:
            share = float(latest / target) if target > 0 else (1.0 if latest >= target else 0.0)
        else:
            share = float(target / latest) if latest > 0 else 1.0
        return max(0.0, min(1.0, share))

    @property
    def progress_percent(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)

    @property
    def target_met(self) -> bool:
        target, latest = self.kpi.target_value, self.latest
        if target is None or latest is None:
            return False
        return latest >= target if self.kpi.higher_is_better else latest <= target

    @property
    def sparkline(self) -> str:
        """SVG polyline points, drawn server-side (no script, CSP-safe)."""
        return " ".join(f"{x},{y}" for x, y in self._points())

    @property
    def spark_end(self) -> tuple[float, float] | None:
        points = self._points()
        return points[-1] if points else None

    def _points(self) -> list[tuple[float, float]]:
        values = [float(v) for _d, v in self.series]
        if len(values) < 2:
            return []
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        step = (SPARK_W - 2 * SPARK_PAD) / (len(values) - 1)
        usable = SPARK_H - 2 * SPARK_PAD
        return [
            (
                round(SPARK_PAD + i * step, 1),
                round(SPARK_PAD + usable - (v - low) / span * usable, 1)
                if high != low
                else SPARK_H / 2,
            )
            for i, v in enumerate(values)
        ]


def kpi_summaries(kpis: list[KPI]) -> list[Summary]:
    """Each KPI with its latest buckets at its own granularity: one query (a window function
    keeps the latest N buckets per KPI)."""
    summaries = {kpi.pk: Summary(kpi) for kpi in kpis}
    if not summaries:
        return []
    rows = (
        Rollup.objects.filter(
            kpi_id__in=summaries, granularity=F("kpi__granularity"), value__isnull=False
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=F("kpi_id"), order_by=F("bucket_start").desc())
        )
        .filter(rank__lte=max(SPARK_BUCKETS.values()) + 1)
        .values_list("kpi_id", "bucket_start", "value")
        .order_by("kpi_id", "bucket_start")
    )
    for kpi_id, start, value in rows:
        if value is not None:  # filtered out above; the column is nullable
            summaries[kpi_id].series.append((start, value))
    for summary in summaries.values():
        kpi = summary.kpi
        if (
            kpi.aggregation in (Aggregation.SUM, Aggregation.COUNT)
            and len(summary.series) > 1
            and summary.in_progress
        ):
            summary.current = summary.series.pop()
        summary.series = summary.series[-SPARK_BUCKETS[kpi.granularity] :]
    return list(summaries.values())


def with_latest(kpis: list[KPI]) -> list[KPI]:
    """Attach each KPI's latest value and period (one query for all of them), as the API's
    KPISerializer reads them."""
    for summary in kpi_summaries(kpis):
        # Not model fields, so set the way Django sets annotations.
        setattr(summary.kpi, "latest_value", summary.latest)  # noqa: B010
        setattr(summary.kpi, "latest_period", summary.latest_bucket)  # noqa: B010
    return kpis


def latest_values(kpis: list[KPI]) -> dict[int, Decimal]:
    """{kpi id: value of its latest bucket at its granularity}."""
    return {
        s.kpi.pk: s.latest
        for s in kpi_summaries(list({k.pk: k for k in kpis}.values()))
        if s.latest is not None
    }


# --- the detail chart ---------------------------------------------------------------------


@dataclass
class Annotation:
    label: str
    on: date  # the ship day, in the KPI's time zone


def kpi_series(kpi: KPI, granularity: str) -> list[tuple[date, Decimal]]:
    """The latest buckets of one granularity, oldest first."""
    rows = list(
        Rollup.objects.filter(kpi=kpi, granularity=granularity, value__isnull=False)
        .order_by("-bucket_start")
        .values_list("bucket_start", "value")[: CHART_BUCKETS[granularity]]
    )
    rows.reverse()
    return [(start, value) for start, value in rows if value is not None]


def shipped_annotations(
    kpi: KPI,
    granularity: str,
    series: list[tuple[date, Decimal]],
    viewer: visibility.Viewer | None = None,
) -> list[Annotation]:
    """Launches of this KPI (features with a launch impact on it) that shipped within the chart:
    another team's launch says nothing about this KPI. With `viewer`, only features it sees
    (pm.visibility)."""
    if not series:
        return []
    tz = kpi_time_zone(kpi)
    first = timezone.make_aware(datetime.combine(series[0][0], datetime.min.time()), tz)
    features = (
        Feature.objects.filter(
            launch_impacts__kpi=kpi, shipped_at__isnull=False, shipped_at__gte=first
        )
        .distinct()
        .only("title", "shipped_at")
        .order_by("shipped_at", "pk")
    )
    if viewer is not None:
        features = visibility.visible(features, viewer)
    last = series[-1][0]
    annotations = []
    for feature in features:
        assert feature.shipped_at is not None  # filtered above
        day = feature.shipped_at.astimezone(tz).date()
        if bucket_start(granularity, day) <= last:
            annotations.append(Annotation(feature.title, day))
    return annotations


def _chart_marks(annotations: list[Annotation]) -> list[dict[str, Any]]:
    """One mark per day: several launches on the same day share a label."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for a in annotations:
        by_day[a.on].append(a.label)
    return [
        {
            "x": day.isoformat(),
            "label": labels[0] if len(labels) == 1 else f"{len(labels)} launches",
            "titles": labels,
        }
        for day, labels in sorted(by_day.items())
    ]


def chart_data(
    kpi: KPI, granularity: str, viewer: visibility.Viewer | None = None
) -> tuple[dict[str, Any], list[Annotation]]:
    """The JSON the page hands to Chart.js (in a data attribute: no inline script). The x axis is
    a time scale: each value sits at its period's start date, so missing periods show as gaps
    and far-apart dates as far apart. Periods after the current one (points dated in the
    future) are left out and counted; the current period, unfinished, is flagged `partial`."""
    today = timezone.localdate(timezone=kpi_time_zone(kpi))
    current = bucket_start(granularity, today)
    series = kpi_series(kpi, granularity)
    future = [start for start, _v in series if start > current]
    series = [(start, value) for start, value in series if start <= current]
    annotations = shipped_annotations(kpi, granularity, series, viewer)
    partial = bool(series) and series[-1][0] == current
    return {
        "dates": [start.isoformat() for start, _v in series],
        "values": [float(v) for _s, v in series],
        "granularity": granularity,
        "partial": partial,
        "target": float(kpi.target_value) if kpi.target_value is not None else None,
        "unit": kpi.unit,
        "name": kpi.name,
        "annotations": _chart_marks(annotations),
        "series_count": len(series),
        "future_count": len(future),
    }, annotations


def pending_recalculation(kpi: KPI) -> bool:
    return DirtyRange.objects.filter(kpi=kpi).exists()


def key_result_links(kpi: KPI) -> QuerySet[KeyResultKPI]:
    return KeyResultKPI.objects.filter(kpi=kpi).select_related("key_result__objective")


def objectives_with_progress(product: Product) -> QuerySet[Objective]:
    """Objectives with their key results (and the KPI each is measured by): two queries."""
    return Objective.objects.filter(product=product).prefetch_related(
        Prefetch(
            "key_results",
            queryset=KeyResult.objects.select_related("kpi_link__kpi").order_by("id"),
        )
    )


# --- launch impact ------------------------------------------------------------------------


@dataclass
class Measurement:
    """Predicted against actual change of a KPI over equal windows around a ship date."""

    impact: LaunchImpact
    status: str  # not_shipped | too_early | no_data | measured
    ship_day: date | None = None
    days: int = 0
    before: Decimal | None = None
    after: Decimal | None = None
    change: float | None = None  # percent
    before_window: tuple[date, date] | None = None
    after_window: tuple[date, date] | None = None

    @property
    def predicted(self) -> float:
        return float(self.impact.predicted_change)

    @property
    def tone(self) -> str:
        return _verdict(self)[0]

    @property
    def verdict(self) -> str:
        return _verdict(self)[1]


NEGLIGIBLE = 1.0  # percent: smaller moves are reported as "no clear change"


def _verdict(m: "Measurement") -> tuple[str, str]:
    kpi = m.impact.kpi
    if m.status == "not_shipped":
        return "neutral", "Not shipped yet: the comparison starts once the feature ships."
    if m.status == "too_early":
        return "neutral", "Shipped today: check back tomorrow for the first full day after."
    if m.status == "no_data" or m.change is None:
        return "neutral", f"Not enough {kpi.name} data around the ship date to compare."
    sign = 1 if kpi.higher_is_better else -1
    improvement, promised = m.change * sign, m.predicted * sign
    moved = f"{kpi.name} {'rose' if m.change > 0 else 'fell'} {abs(m.change):.1f}%"
    predicted = f"{m.predicted:+.1f}% predicted"
    if abs(m.change) < NEGLIGIBLE:
        return "neutral", f"No clear change: {kpi.name} moved {m.change:+.1f}% ({predicted})."
    if improvement < 0:
        return "danger", f"Moved the wrong way: {moved} ({predicted})."
    if promised <= 0 or improvement >= promised:
        return "success", f"Prediction met: {moved} ({predicted})."
    return "warning", f"Right direction, short of the prediction: {moved} ({predicted})."


def _window_value(kpi: KPI, rows: list[Rollup]) -> Decimal | None:
    """A KPI's value over a window of day rollups, from their partial aggregates."""
    if not rows:
        return None
    total = sum((r.sum for r in rows), Decimal(0))
    count = sum(r.count for r in rows)
    if kpi.aggregation == Aggregation.SUM:
        return total
    if kpi.aggregation == Aggregation.COUNT:
        return Decimal(count)
    if kpi.aggregation == Aggregation.AVERAGE:
        return total / count if count else None
    dated = [(r.last_at, r) for r in rows if r.last_at is not None]
    latest = max(dated, key=lambda pair: pair[0], default=None)
    return latest[1].last_value if latest else None


def measure_impacts(impacts: list[LaunchImpact], *, today: date | None = None) -> list[Measurement]:
    """Measure each impact over the longest equal windows available (up to its window_days) on
    either side of the ship day, which itself is left out. One query for all of them."""
    measurements: list[Measurement] = []
    wanted: list[tuple[Measurement, tuple[date, date], tuple[date, date]]] = []
    condition = Q(pk__in=[])
    for impact in impacts:
        kpi, feature = impact.kpi, impact.feature
        if feature.shipped_at is None:
            measurements.append(Measurement(impact, "not_shipped"))
            continue
        tz = kpi_time_zone(kpi)
        ship_day = feature.shipped_at.astimezone(tz).date()
        yesterday = (today or timezone.localdate(timezone=tz)) - timedelta(days=1)
        days = min(impact.window_days, (yesterday - ship_day).days)
        m = Measurement(impact, "too_early" if days < 1 else "measured", ship_day, max(days, 0))
        measurements.append(m)
        if days < 1:
            continue
        before = (ship_day - timedelta(days=days), ship_day - timedelta(days=1))
        after = (ship_day + timedelta(days=1), ship_day + timedelta(days=days))
        m.before_window, m.after_window = before, after
        ids = [kpi.numerator_id, kpi.denominator_id] if kpi.is_ratio else [kpi.pk]
        wanted.append((m, before, after))
        condition |= Q(kpi_id__in=ids, bucket_start__gte=before[0], bucket_start__lte=after[1])
    if not wanted:
        return measurements
    days_by_kpi: dict[int, list[Rollup]] = defaultdict(list)
    for row in Rollup.objects.filter(condition, granularity=Granularity.DAY).only(
        "kpi_id", "bucket_start", "sum", "count", "last_value", "last_at"
    ):
        days_by_kpi[row.kpi_id].append(row)

    def value(kpi: KPI, window: tuple[date, date]) -> Decimal | None:
        rows = [r for r in days_by_kpi[kpi.pk] if window[0] <= r.bucket_start <= window[1]]
        return _window_value(kpi, rows)

    for m, before, after in wanted:
        kpi = m.impact.kpi
        if kpi.is_ratio:
            # KPI.clean requires both parts of a ratio.
            assert kpi.numerator is not None and kpi.denominator is not None
            parts = []
            for window in (before, after):
                top, bottom = value(kpi.numerator, window), value(kpi.denominator, window)
                parts.append(
                    top / bottom * kpi.ratio_multiplier if top is not None and bottom else None
                )
            m.before, m.after = parts
        else:
            m.before, m.after = value(kpi, before), value(kpi, after)
        if m.before is None or m.after is None or m.before == 0:
            m.status = "no_data"
        else:
            m.change = float((m.after - m.before) / abs(m.before) * 100)
    return measurements


def launch_impacts(
    *,
    product: Product | None = None,
    feature: Feature | None = None,
    kpi: KPI | None = None,
    viewer: visibility.Viewer | None = None,
) -> QuerySet[LaunchImpact]:
    """Launch impacts, latest launch first; with `viewer`, only those of features it sees
    (pm.visibility: stakeholders, released features)."""
    queryset = LaunchImpact.objects.select_related(
        "feature", "kpi__numerator", "kpi__denominator", "kpi__product__workspace"
    )
    if product is not None:
        queryset = queryset.filter(product=product)
    if feature is not None:
        queryset = queryset.filter(feature=feature)
    if kpi is not None:
        queryset = queryset.filter(kpi=kpi)
    if viewer is not None:
        queryset = visibility.visible(queryset, viewer)
    return queryset.order_by("-feature__shipped_at", "-created_at")


# --- experiments and funnels --------------------------------------------------------------


@dataclass
class ExperimentResult:
    """An experiment with its readout (metrics.experiments_events.Readout): variants with their
    comparison to the control, Holm-adjusted p-values, the planned sample size and the peeking
    warning — from typed-in variants or computed from events."""

    experiment: Experiment
    readout: Readout | None  # None: an events experiment listed without reading its events

    @property
    def variants(self) -> list[Arm]:
        return self.readout.variants if self.readout else []

    @property
    def too_small(self) -> bool:
        return self.readout.too_small if self.readout else False

    @property
    def best(self) -> Arm | None:
        return self.readout.best if self.readout else None

    @property
    def pricing(self) -> bool:
        return self.readout.pricing if self.readout else False


def experiment_list(
    *, product: Product, viewer: visibility.Viewer | None = None
) -> QuerySet[Experiment]:
    """The product's experiments; with `viewer`, those it sees (pm.visibility: experiments on
    features hidden from it are left out)."""
    qs = Experiment.objects.filter(product=product).select_related("feature")
    if viewer is not None:
        qs = visibility.visible(qs, viewer)
    return qs.prefetch_related("variants")


def experiment_result(experiment: Experiment) -> ExperimentResult:
    """A typed-in experiment's readout from its variants (prefetched by experiment_list; the
    first is the control). An events experiment's readout is left to its own page
    (experiment_events_result): the list does not read events."""
    if experiment.source == DataSource.EVENTS:
        return ExperimentResult(experiment, None)
    variants = list(experiment.variants.all())
    rows = [(v.name, v.exposures, v.conversions) for v in variants]
    prices = [v.price for v in variants]
    return ExperimentResult(experiment, _analyse(experiment, rows, prices))


def _analyse(
    experiment: Experiment,
    rows: list[tuple[str, int, int]],
    prices: list[Decimal | None] | None = None,
) -> Readout:
    mde = experiment.minimum_detectable_effect
    return experiments_events.analyse(
        rows,
        minimum_detectable_effect=float(mde) if mde else None,
        running=experiment.status == ExperimentStatus.RUNNING,
        prices=prices,
    )


def pricing_experiments(
    *, product: Product, viewer: visibility.Viewer | None = None
) -> list[ExperimentResult]:
    """The product's pricing experiments (typed-in variants, each with a price) that `viewer`
    sees, with their readouts: through experiment_list, so the same visibility; two queries."""
    priced = Variant.objects.filter(price__isnull=False).values("experiment_id")
    experiments = experiment_list(product=product, viewer=viewer).filter(
        source=DataSource.MANUAL, pk__in=priced
    )
    results = [experiment_result(e) for e in experiments]
    return [r for r in results if r.pricing]


def experiment_events_result(experiment: Experiment) -> ExperimentResult:
    """An events experiment's readout: exposures and conversions per variant counted from the
    product's events over the experiment's dates (one query), then the same statistics."""
    tz = product_time_zone(experiment.product)
    start = (
        datetime.combine(experiment.started_on, time.min, tzinfo=tz)
        if experiment.started_on
        else datetime(1970, 1, 1, tzinfo=UTC)
    )
    end = (
        datetime.combine(experiment.ended_on + timedelta(days=1), time.min, tzinfo=tz)
        if experiment.ended_on
        else timezone.now() + timedelta(days=1)
    )
    rows = experiments_events.counts(
        product_id=experiment.product_id,
        exposure_event=experiment.exposure_event,
        variant_property=experiment.variant_property,
        conversion_event=experiment.conversion_event,
        start=start,
        end=end,
    )
    rows = experiments_events.control_first(rows, experiment.control_variant)
    return ExperimentResult(experiment, _analyse(experiment, rows))


def funnel_list(*, product: Product) -> QuerySet[Funnel]:
    return Funnel.objects.filter(product=product).prefetch_related("steps")


def funnel_result(funnel: Funnel) -> list[FunnelRow]:
    """A typed-in funnel's rows (an events funnel's are computed on its page, funnel_events)."""
    return funnel_rows([(s.name, s.count) for s in funnel.steps.all()])


def funnel_events(funnel: Funnel) -> funnels.EventFunnelResult:
    """An events funnel computed from the product's events: steps, breakdown and weekly trend
    (one query on PostgreSQL, metrics.funnels)."""
    return funnels.compute(
        product_id=funnel.product_id,
        steps=[
            funnels.Step(s.name, s.event, s.property_name, s.property_value)
            for s in funnel.steps.all()
        ],
        period_start=funnel.period_start,
        period_end=funnel.period_end,
        window_days=funnel.conversion_window_days,
        breakdown=funnel.breakdown_property,
        tz=product_time_zone(funnel.product),
    )
