# ruff: noqa: S608 - the SQL is assembled from constants (table names, fixed expressions);
# every value travels as a query parameter.
"""The rollup engine: recomputes a KPI's buckets in SQL, layer by layer, in the workspace's
time zone:

    raw points ──GROUP BY date_trunc('hour', …)──▶ hours (internal) ──▶ days ──▶ weeks, months

Each arrow is one `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`. Local hours nest in
local days and days in weeks and months, and every layer keeps the partial aggregates (sum,
count, latest value and time), so the coarser layers are exact. A full recalculation reads the
raw points once; an incremental one reads only the points of the hours that new points touched
(the dirty ranges written by ingestion) and then a few dozen hour and day rows.

Every statement recomputes whole buckets from their sources, never adds deltas, so running a
recalculation twice gives the same rows (idempotent). Rows of a recomputed range that the run
did not write have lost their source and are deleted. The caller holds a row lock on the KPIs
involved, so two recalculations of the same KPI run one after the other.

PostgreSQL gets hand-written `date_trunc` SQL. Other databases (SQLite in trial mode) get the
grouping queries built by the ORM (`TruncDate`/`ExtractHour` with the time zone), which knows
their dialect; the rest of the SQL is shared, with `connection.vendor` switching the little that
differs (decimal division).
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate, TruncMonth, TruncWeek
from django.db.models.functions.datetime import TruncBase

from metrics.choices import Aggregation, EventMeasure, Granularity
from metrics.models import KPI, DataPoint, DirtyRange, Event, HourRollup, Rollup
from pm.models import Product

ROLLUP = Rollup._meta.db_table
HOURS = HourRollup._meta.db_table
POINT = DataPoint._meta.db_table
EVENT = Event._meta.db_table
DIRTY = DirtyRange._meta.db_table
COARSE = (Granularity.WEEK, Granularity.MONTH)
HOUR = timedelta(hours=1)
# Beyond this many separate dirty spans a recalculation covers them with one span instead.
MAX_SPANS = 50

_COLUMNS = (
    'workspace_id, kpi_id, granularity, bucket_start, "value", "sum", "count", last_value, '
    "last_at, denominator, run_id"
)
_UPSERT = (
    "ON CONFLICT (kpi_id, granularity, bucket_start) DO UPDATE SET "
    '"value" = excluded."value", "sum" = excluded."sum", "count" = excluded."count", '
    "last_value = excluded.last_value, last_at = excluded.last_at, "
    "denominator = excluded.denominator, run_id = excluded.run_id"
)


def kpi_time_zone(kpi: KPI) -> ZoneInfo:
    """The zone the KPI's buckets are cut in: its workspace's."""
    return product_time_zone(kpi.product)


def product_time_zone(product: Product) -> ZoneInfo:
    """The product's workspace's time zone (UTC when unset or unknown)."""
    try:
        return ZoneInfo(product.workspace.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Span:
    """Local dates, both inclusive."""

    first: date
    last: date


@dataclass(frozen=True)
class Hours:
    """Local wall-clock hours (naive datetimes on the hour), both inclusive."""

    first: datetime
    last: datetime

    @property
    def days(self) -> Span:
        return Span(self.first.date(), self.last.date())


def bucket_start(granularity: str, day: date) -> date:
    if granularity == Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity == Granularity.MONTH:
        return day.replace(day=1)
    return day


def bucket_end(granularity: str, day: date) -> date:
    """The last day of the bucket containing `day`."""
    start = bucket_start(granularity, day)
    if granularity == Granularity.WEEK:
        return start + timedelta(days=6)
    if granularity == Granularity.MONTH:
        following = (start + timedelta(days=32)).replace(day=1)
        return following - timedelta(days=1)
    return start


def widen(granularity: str, span: Span) -> Span:
    return Span(bucket_start(granularity, span.first), bucket_end(granularity, span.last))


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Union of day spans: overlapping or adjacent spans become one."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.first):
        if merged and span.first <= merged[-1].last + timedelta(days=1):
            if span.last > merged[-1].last:
                merged[-1] = Span(merged[-1].first, span.last)
        else:
            merged.append(span)
    if len(merged) > MAX_SPANS:
        merged = [Span(merged[0].first, max(s.last for s in merged))]
    return merged


def merge_hours(spans: Iterable[Hours]) -> list[Hours]:
    """Union of hour spans: overlapping or adjacent spans become one."""
    merged: list[Hours] = []
    for span in sorted(spans, key=lambda s: s.first):
        if merged and span.first <= merged[-1].last + HOUR:
            if span.last > merged[-1].last:
                merged[-1] = Hours(merged[-1].first, span.last)
        else:
            merged.append(span)
    if len(merged) > MAX_SPANS:
        merged = [Hours(merged[0].first, max(s.last for s in merged))]
    return merged


def _local_hour(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def local_hours(start: datetime, end: datetime, tz: ZoneInfo) -> Hours:
    return Hours(_local_hour(start, tz), _local_hour(end, tz))


def _divide(numerator: str, denominator: str) -> str:
    # SQLite stores decimals as INTEGER or REAL: integer division would truncate.
    if connection.vendor == "sqlite":
        return f"CAST({numerator} AS REAL) / {denominator}"
    return f"{numerator} / {denominator}"


def _value_expression(aggregation: str) -> str:
    expressions: dict[str, str] = {
        Aggregation.SUM: "x.s",
        Aggregation.COUNT: "x.c",
        Aggregation.AVERAGE: _divide("x.s", "x.c"),
        Aggregation.LAST: "x.last_value",
    }
    return expressions[aggregation]


@dataclass
class Run:
    """One recalculation: its id marks the rows it writes."""

    run_id: int = field(default_factory=lambda: secrets.randbits(62) + 1)
    statements: int = 0
    rows: int = 0

    def execute(self, sql: str, params: list) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            self.statements += 1
            count = max(cursor.rowcount, 0)
        self.rows += count
        return count

    def delete_stale(
        self, kpi_id: int, span: Span | None, granularities: Iterable[str] = Granularity.values
    ) -> int:
        """Rows of the recomputed ranges that this run did not write have no source any more
        (their points were deleted, or the time zone moved the bucket edges)."""
        granularities = list(granularities)
        sql = f"DELETE FROM {ROLLUP} WHERE kpi_id = %s AND run_id <> %s"
        params: list = [kpi_id, self.run_id]
        if span is None:
            sql += " AND granularity IN ({})".format(", ".join(["%s"] * len(granularities)))
            params += granularities
        else:
            ranges = []
            for granularity in granularities:
                edges = span if granularity == Granularity.DAY else widen(granularity, span)
                ranges.append("(granularity = %s AND bucket_start >= %s AND bucket_start <= %s)")
                params += [granularity, edges.first, edges.last]
            sql += f" AND ({' OR '.join(ranges)})"
        return self.execute(sql, params)

    def delete_stale_hours(self, kpi_id: int, hours: Hours | None) -> int:
        sql = f"DELETE FROM {HOURS} WHERE kpi_id = %s AND run_id <> %s"
        params: list = [kpi_id, self.run_id]
        if hours is not None:
            sql += " AND (day, hour) >= (%s, %s) AND (day, hour) <= (%s, %s)"
            params += [hours.first.date(), hours.first.hour, hours.last.date(), hours.last.hour]
        return self.execute(sql, params)


# --- raw points → hours ---------------------------------------------------------------------


def _hour_groups(kpi: KPI, tz: ZoneInfo, hours: Hours | None) -> tuple[str, list]:
    """SELECT d, hr, s, c, last_at: the KPI's points grouped by local date and hour."""
    if hours is not None:
        # The index narrows to the span's UTC bounds with two hours of slack (a local hour may
        # occur twice, or not at all, when the clocks change); the local-hour filter then keeps
        # exactly the span's hours.
        lo = hours.first.replace(tzinfo=tz) - 2 * HOUR
        hi = hours.last.replace(tzinfo=tz) + 3 * HOUR
    if connection.vendor == "postgresql":
        if kpi.from_events:
            # An events KPI: each event counts 1, or adds its property when that is a number.
            value = (
                "CASE WHEN jsonb_typeof(p.properties -> %s) = 'number' "
                "THEN (p.properties ->> %s)::numeric ELSE 0 END"
                if kpi.event_measure == EventMeasure.SUM
                else "1"
            )
            sql = (
                f"SELECT date_trunc('hour', p.timestamp AT TIME ZONE %s) AS h, "
                f"SUM({value}) AS s, COUNT(*) AS c, MAX(p.timestamp) AS last_at "
                f"FROM {EVENT} p WHERE p.product_id = %s AND p.name = %s"
            )
            params: list = [str(tz)]
            if kpi.event_measure == EventMeasure.SUM:
                params += [kpi.event_property, kpi.event_property]
            params += [kpi.product_id, kpi.event_name]
        else:
            sql = (
                f"SELECT date_trunc('hour', p.timestamp AT TIME ZONE %s) AS h, "
                "SUM(p.value) AS s, COUNT(*) AS c, MAX(p.timestamp) AS last_at "
                f"FROM {POINT} p WHERE p.kpi_id = %s"
            )
            params = [str(tz), kpi.pk]
        if hours is not None:
            sql += " AND p.timestamp >= %s AND p.timestamp < %s"
            params += [lo, hi]
        sql += " GROUP BY 1"
        if hours is not None:
            sql = f"SELECT * FROM ({sql}) hg WHERE hg.h >= %s AND hg.h <= %s"
            params += [hours.first, hours.last]
        return (
            f"SELECT hh.h::date AS d, extract(hour FROM hh.h)::int AS hr, hh.s, hh.c, "
            f"hh.last_at FROM ({sql}) hh",
            params,
        )
    points: QuerySet[Event] | QuerySet[DataPoint]
    if kpi.from_events:
        # Trial mode (SQLite): events counted; a property sum needs PostgreSQL's JSON numbers.
        points = Event.objects.filter(product_id=kpi.product_id, name=kpi.event_name)
        summed: Any = Count("*")
    else:
        points = DataPoint.objects.filter(kpi_id=kpi.pk)
        summed = Sum("value")
    if hours is not None:
        points = points.filter(timestamp__gte=lo, timestamp__lt=hi)
    grouped = (
        points.annotate(d=TruncDate("timestamp", tzinfo=tz), hr=ExtractHour("timestamp", tzinfo=tz))
        .values("d", "hr")
        .annotate(s=summed, c=Count("*"), last_at=Max("timestamp"))
        .order_by()
    )
    if hours is not None:
        first, last = hours.first, hours.last
        grouped = grouped.filter(
            Q(d__gt=first.date()) | Q(d=first.date(), hr__gte=first.hour),
            Q(d__lt=last.date()) | Q(d=last.date(), hr__lte=last.hour),
        )
    sql, query_params = grouped.query.sql_with_params()
    return sql, list(query_params)


def _hours_from_points(run: Run, kpi: KPI, tz: ZoneInfo, hours: Hours | None) -> None:
    inner, inner_params = _hour_groups(kpi, tz, hours)
    # Events have no value of their own to be the "last" one.
    last_value = (
        "CAST(NULL AS NUMERIC) WHERE %s IS NOT NULL"
        if kpi.from_events
        else f"p.value FROM {POINT} p WHERE p.kpi_id = %s AND p.timestamp = g.last_at "
        "ORDER BY p.id DESC LIMIT 1"
    )
    sql = (
        f"INSERT INTO {HOURS} "
        '(workspace_id, kpi_id, day, hour, "sum", "count", last_value, last_at, run_id) '
        "SELECT %s, %s, x.d, x.hr, x.s, x.c, x.last_value, x.last_at, %s FROM ("
        "  SELECT g.d, g.hr, g.s, g.c, g.last_at, ("
        f"    SELECT {last_value}"
        f"  ) AS last_value FROM ({inner}) g"
        ") x WHERE true "
        "ON CONFLICT (kpi_id, day, hour) DO UPDATE SET "
        '"sum" = excluded."sum", "count" = excluded."count", last_value = excluded.last_value, '
        "last_at = excluded.last_at, run_id = excluded.run_id"
    )
    run.execute(sql, [kpi.product.workspace_id, kpi.pk, run.run_id, kpi.pk, *inner_params])


# --- hours → days → weeks and months --------------------------------------------------------


def _days_from_hours(run: Run, kpi: KPI, span: Span | None) -> None:
    where = "h.kpi_id = %s"
    params: list[Any] = [kpi.pk]
    if span is not None:
        where += " AND h.day >= %s AND h.day <= %s"
        params += [span.first, span.last]
    # A point's time falls in exactly one local hour, so the day's latest time identifies the
    # hour row whose last value is the day's.
    sql = (
        f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
        f"SELECT %s, %s, %s, x.d, {_value_expression(kpi.aggregation)}, x.s, x.c, x.last_value, "
        "x.last_at, NULL, %s FROM ("
        "  SELECT g.d, g.s, g.c, g.last_at, ("
        f"    SELECT l.last_value FROM {HOURS} l WHERE l.kpi_id = %s AND l.day = g.d"
        "    AND l.last_at = g.last_at LIMIT 1"
        "  ) AS last_value FROM ("
        '    SELECT h.day AS d, SUM(h."sum") AS s, SUM(h."count") AS c, MAX(h.last_at) AS last_at'
        f"    FROM {HOURS} h WHERE {where} GROUP BY h.day"
        "  ) g"
        ") x WHERE true "
        f"{_UPSERT}"
    )
    run.execute(
        sql, [kpi.product.workspace_id, kpi.pk, Granularity.DAY, run.run_id, kpi.pk, *params]
    )


_TRUNC: dict[str, type[TruncBase]] = {Granularity.WEEK: TruncWeek, Granularity.MONTH: TruncMonth}


def _coarse_groups(kpi: KPI, granularity: str, span: Span | None) -> tuple[str, list]:
    """SELECT granularity, d, s, c, last_at: the KPI's day rollups grouped by week or month."""
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT %s AS granularity, date_trunc(%s, r.bucket_start::timestamp)::date AS d, "
            'SUM(r."sum") AS s, SUM(r."count") AS c, MAX(r.last_at) AS last_at '
            f"FROM {ROLLUP} r WHERE r.kpi_id = %s AND r.granularity = %s"
        )
        params: list = [granularity, granularity, kpi.pk, Granularity.DAY]
        if span is not None:
            sql += " AND r.bucket_start >= %s AND r.bucket_start <= %s"
            params += [span.first, span.last]
        return sql + " GROUP BY 2", params
    days = Rollup.objects.filter(kpi_id=kpi.pk, granularity=Granularity.DAY)
    if span is not None:
        days = days.filter(bucket_start__gte=span.first, bucket_start__lte=span.last)
    grouped = (
        days.annotate(d=_TRUNC[granularity]("bucket_start"))
        .values("d")
        .annotate(s=Sum("sum"), c=Sum("count"), last_at=Max("last_at"))
        .order_by()
    )
    sql, query_params = grouped.query.sql_with_params()
    return f"SELECT %s AS granularity, cg.* FROM ({sql}) cg", [granularity, *query_params]


def _coarse_from_days(run: Run, kpi: KPI, span: Span | None) -> None:
    """Weeks and months (one statement) from the day rollups they contain."""
    parts, params = [], []
    for granularity in COARSE:
        sql, part_params = _coarse_groups(
            kpi, granularity, None if span is None else widen(granularity, span)
        )
        parts.append(sql)
        params += part_params
    sql = (
        f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
        f"SELECT %s, %s, x.granularity, x.d, {_value_expression(kpi.aggregation)}, x.s, x.c, "
        "x.last_value, x.last_at, NULL, %s FROM ("
        "  SELECT g.granularity, g.d, g.s, g.c, g.last_at, ("
        f"    SELECT r.last_value FROM {ROLLUP} r WHERE r.kpi_id = %s AND r.granularity = %s"
        "    AND r.bucket_start >= g.d AND r.last_at = g.last_at LIMIT 1"
        f"  ) AS last_value FROM ({' UNION ALL '.join(parts)}) g"
        ") x WHERE true "
        f"{_UPSERT}"
    )
    run.execute(
        sql, [kpi.product.workspace_id, kpi.pk, run.run_id, kpi.pk, Granularity.DAY, *params]
    )


# --- unique users of an events KPI ------------------------------------------------------------


def _unique_from_events(run: Run, kpi: KPI, tz: ZoneInfo, span: Span | None) -> None:
    """Unique users do not add up (the same person on Monday and Tuesday is one user of the
    week), so each day, week and month bucket counts distinct people straight from the events
    of the span, widened to whole weeks and months. PostgreSQL only (trial mode counts
    events)."""
    for granularity in Granularity.values:
        edges = None if span is None else widen(granularity, span)
        trunc = {"day": "day", "week": "week", "month": "month"}[granularity]
        where, params = "e.product_id = %s AND e.name = %s", [kpi.product_id, kpi.event_name]
        if edges is not None:
            where += " AND e.timestamp >= %s AND e.timestamp < %s"
            params += [
                datetime.combine(edges.first, datetime.min.time(), tzinfo=tz),
                datetime.combine(edges.last + timedelta(days=1), datetime.min.time(), tzinfo=tz),
            ]
        sql = (
            f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
            "SELECT %s, %s, %s, x.d, x.c, x.c, x.c, NULL, x.last_at, NULL, %s FROM ("
            f"  SELECT date_trunc('{trunc}', e.timestamp AT TIME ZONE %s)::date AS d, "
            "  COUNT(DISTINCT e.distinct_id) AS c, MAX(e.timestamp) AS last_at "
            f"  FROM {EVENT} e WHERE {where} GROUP BY 1"
            ") x WHERE true "
            f"{_UPSERT}"
        )
        run.execute(
            sql,
            [kpi.product.workspace_id, kpi.pk, granularity, run.run_id, str(tz), *params],
        )
        run.delete_stale(kpi.pk, span, [granularity])


# --- ratios ---------------------------------------------------------------------------------


def _ratio(run: Run, ratio: KPI, granularity: str, span: Span | None) -> None:
    """A ratio's buckets from its numerator's and denominator's buckets of the same period."""
    if span is not None and granularity != Granularity.DAY:
        span = widen(granularity, span)
    numerator = ratio.numerator
    if numerator is None:  # the kpi_ratio_has_both_parts constraint rules this out
        raise ValueError(f"KPI {ratio.pk} is a ratio without a numerator.")
    numerator_sums = numerator.aggregation in (Aggregation.SUM, Aggregation.COUNT)
    # No numerator points in a period means 0 for a sum or a count, and "unknown" otherwise.
    top = "COALESCE(n.value, 0)" if numerator_sums else "n.value"
    sql = (
        f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
        f"SELECT d.workspace_id, %s, d.granularity, d.bucket_start, "
        f"{_divide(top + ' * %s', 'd.value')}, "
        f"{top}, 0, NULL, NULL, d.value, %s "
        f"FROM {ROLLUP} d LEFT JOIN {ROLLUP} n ON n.kpi_id = %s "
        "AND n.granularity = d.granularity AND n.bucket_start = d.bucket_start "
        "WHERE d.kpi_id = %s AND d.granularity = %s AND d.value <> 0"
    )
    params: list = [
        ratio.pk,
        ratio.ratio_multiplier,
        run.run_id,
        ratio.numerator_id,
        ratio.denominator_id,
        granularity,
    ]
    if not numerator_sums:
        sql += " AND n.value IS NOT NULL"
    if span is not None:
        sql += " AND d.bucket_start >= %s AND d.bucket_start <= %s"
        params += [span.first, span.last]
    run.execute(sql + " " + _UPSERT, params)


def _claim_dirty_ranges(run: Run, kpi_id: int) -> list[tuple[datetime, datetime]]:
    """Remove the KPI's pending dirty ranges and return their (start, end)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM {DIRTY} WHERE kpi_id = %s RETURNING "start", "end"',
                [kpi_id],
            )
            run.statements += 1
            return cursor.fetchall()
    rows = list(DirtyRange.objects.filter(kpi_id=kpi_id).values_list("pk", "start", "end"))
    DirtyRange.objects.filter(pk__in=[pk for pk, _s, _e in rows]).delete()
    return [(start, end) for _pk, start, end in rows]


@dataclass
class Result:
    kpi_ids: list[int]
    spans: list[Span]
    full: bool
    statements: int
    rows: int

    @property
    def changed(self) -> bool:
        return self.full or bool(self.spans)


def recalculate(kpi: KPI, *, full: bool = False) -> Result:
    """Recompute `kpi`'s rollups (and those of the ratio KPIs built on it): every bucket when
    `full`, otherwise only the buckets of its pending dirty ranges. Must run in a transaction."""
    # One statement locks the KPI and the ratio KPIs built on it, in id order (so two
    # recalculations sharing a ratio KPI cannot deadlock). FOR NO KEY UPDATE excludes another
    # recalculation (and edits of the KPI) but not ingestion: inserting points and dirty ranges
    # only takes the KEY SHARE lock of their foreign key.
    locked = list(
        KPI.objects.select_for_update(of=("self",), no_key=True)
        .select_related("product__workspace")
        .filter(Q(pk=kpi.pk) | Q(numerator_id=kpi.pk) | Q(denominator_id=kpi.pk))
        .order_by("pk")
    )
    if not any(k.pk == kpi.pk for k in locked):  # deleted meanwhile
        return Result([], [], full, 0, 0)
    kpi = next(k for k in locked if k.pk == kpi.pk)
    dependents = [k for k in locked if k.pk != kpi.pk]
    tz = kpi_time_zone(kpi)
    run = Run()

    # Claim the pending ranges only now, under the lock: a recalculation that held it before us
    # has removed the ranges it covered. Points of a range are committed with it, so they are
    # visible to every statement below; if this transaction fails, the claim is undone.
    pending = _claim_dirty_ranges(run, kpi.pk)
    # None: everything (a full recalculation).
    hour_spans: list[Hours | None] = [None]
    day_spans: list[Span | None] = [None]
    if not full:
        hours_pending = merge_hours(local_hours(start, end, tz) for start, end in pending)
        hour_spans = [*hours_pending]
        day_spans = [*merge_spans(h.days for h in hours_pending)]

    unique = kpi.from_events and kpi.event_measure == EventMeasure.UNIQUE
    if unique and connection.vendor == "postgresql":
        for span in day_spans:
            _unique_from_events(run, kpi, tz, span)
    elif not kpi.is_ratio:
        for hours in hour_spans:
            _hours_from_points(run, kpi, tz, hours)
            # Stale rows go before the next layer sums this one.
            run.delete_stale_hours(kpi.pk, hours)
        for span in day_spans:
            _days_from_hours(run, kpi, span)
            run.delete_stale(kpi.pk, span, [Granularity.DAY])
            _coarse_from_days(run, kpi, span)
            run.delete_stale(kpi.pk, span, COARSE)
    for ratio in [kpi] if kpi.is_ratio else dependents:
        for span in day_spans:
            for granularity in Granularity.values:
                _ratio(run, ratio, granularity, span)
            run.delete_stale(ratio.pk, span)
    return Result(
        kpi_ids=[kpi.pk, *(d.pk for d in dependents)],
        spans=[s for s in day_spans if s is not None],
        full=full,
        statements=run.statements,
        rows=run.rows,
    )
