# ruff: noqa: S608 - the SQL is assembled from constants (table names, fixed expressions);
# every value travels as a query parameter.
"""The rollup engine: recomputes a KPI's day, week and month buckets in SQL.

Days are aggregated from the raw data points (`INSERT … SELECT … GROUP BY local date … ON CONFLICT
DO UPDATE`); weeks and months are aggregated from the day rollups, which nest exactly inside them
because every bucket is taken in the workspace's time zone. So a full recalculation reads the raw
points once, and an incremental one reads only the points of the days that new points touched
(the dirty ranges written by ingestion) plus at most a month of day rollups.

Every statement recomputes whole buckets from their sources, never adds deltas, so running a
recalculation twice gives the same rows (idempotent). The caller holds a row lock on the KPIs
involved, so two recalculations of the same KPI run one after the other.

The SQL is portable between PostgreSQL and SQLite (trial mode): the bucket expressions are built
by the ORM (`TruncDate` with the time zone, `TruncWeek`, `TruncMonth`), which knows each
vendor's dialect, and the few vendor differences left (decimal division) are switched on
`connection.vendor`.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek

from metrics.choices import Aggregation, Granularity
from metrics.models import KPI, DataPoint, DirtyRange, Rollup

ROLLUP = Rollup._meta.db_table
POINT = DataPoint._meta.db_table
COARSE = (Granularity.WEEK, Granularity.MONTH)
# Beyond this many separate dirty spans a recalculation covers them with one span instead.
MAX_SPANS = 50

_COLUMNS = (
    'kpi_id, granularity, bucket_start, "value", "sum", "count", last_value, last_at, '
    "denominator, run_id"
)
_UPSERT = (
    "ON CONFLICT (kpi_id, granularity, bucket_start) DO UPDATE SET "
    '"value" = excluded."value", "sum" = excluded."sum", "count" = excluded."count", '
    "last_value = excluded.last_value, last_at = excluded.last_at, "
    "denominator = excluded.denominator, run_id = excluded.run_id"
)


def kpi_time_zone(kpi: KPI) -> ZoneInfo:
    """The zone the KPI's buckets are cut in: its workspace's."""
    try:
        return ZoneInfo(kpi.product.workspace.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Span:
    """Local dates, both inclusive."""

    first: date
    last: date


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


def local_span(start: datetime, end: datetime, tz: ZoneInfo) -> Span:
    return Span(start.astimezone(tz).date(), end.astimezone(tz).date())


def _divide(numerator: str, denominator: str) -> str:
    # SQLite stores decimals as INTEGER or REAL: integer division would truncate.
    if connection.vendor == "sqlite":
        return f"CAST({numerator} AS REAL) / {denominator}"
    return f"{numerator} / {denominator}"


def _value_expression(aggregation: str) -> str:
    return {
        Aggregation.SUM: "x.s",
        Aggregation.COUNT: "x.c",
        Aggregation.AVERAGE: _divide("x.s", "x.c"),
        Aggregation.LAST: "x.last_value",
    }[aggregation]


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
        sql = f"DELETE FROM {ROLLUP} WHERE kpi_id = %s AND run_id <> %s"
        params: list = [kpi_id, self.run_id]
        if span is None:
            sql += " AND granularity IN ({})".format(", ".join(["%s"] * len(granularities)))
            params += list(granularities)
        else:
            ranges = []
            for granularity in granularities:
                edges = span if granularity == Granularity.DAY else widen(granularity, span)
                ranges.append("(granularity = %s AND bucket_start >= %s AND bucket_start <= %s)")
                params += [granularity, edges.first, edges.last]
            sql += f" AND ({' OR '.join(ranges)})"
        return self.execute(sql, params)


def _day_groups(kpi: KPI, tz: ZoneInfo, span: Span | None) -> tuple[str, list]:
    """SELECT d, s, c, last_at: the KPI's points grouped by local day."""
    if span is not None:
        # The index narrows to the span's UTC bounds with an hour of slack; the local-date
        # filter then keeps exactly the span's days.
        lo = datetime.combine(span.first, time.min, tzinfo=tz) - timedelta(hours=1)
        hi = datetime.combine(span.last + timedelta(days=1), time.min, tzinfo=tz)
        hi += timedelta(hours=1)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT date_trunc('day', p.timestamp AT TIME ZONE %s)::date AS d, "
            "SUM(p.value) AS s, COUNT(*) AS c, MAX(p.timestamp) AS last_at "
            f"FROM {POINT} p WHERE p.kpi_id = %s"
        )
        params: list = [str(tz), kpi.pk]
        if span is not None:
            sql += " AND p.timestamp >= %s AND p.timestamp < %s"
            params += [lo, hi]
        sql += " GROUP BY 1"
        if span is not None:
            sql = f"SELECT * FROM ({sql}) dg WHERE dg.d >= %s AND dg.d <= %s"
            params += [span.first, span.last]
        return sql, params
    # Other databases (SQLite in trial mode): the ORM writes the time-zone conversion.
    points = DataPoint.objects.filter(kpi_id=kpi.pk)
    if span is not None:
        points = points.filter(timestamp__gte=lo, timestamp__lt=hi)
    grouped = (
        points.annotate(d=TruncDate("timestamp", tzinfo=tz))
        .values("d")
        .annotate(s=Sum("value"), c=Count("*"), last_at=Max("timestamp"))
        .order_by()
    )
    if span is not None:
        grouped = grouped.filter(d__gte=span.first, d__lte=span.last)
    return grouped.query.sql_with_params()


def _days_from_points(run: Run, kpi: KPI, tz: ZoneInfo, span: Span | None) -> None:
    inner, inner_params = _day_groups(kpi, tz, span)
    sql = (
        f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
        f"SELECT %s, %s, x.d, {_value_expression(kpi.aggregation)}, x.s, x.c, x.last_value, "
        "x.last_at, NULL, %s FROM ("
        "  SELECT g.d, g.s, g.c, g.last_at, ("
        f"    SELECT p.value FROM {POINT} p WHERE p.kpi_id = %s AND p.timestamp = g.last_at"
        "    ORDER BY p.id DESC LIMIT 1"
        f"  ) AS last_value FROM ({inner}) g"
        ") x WHERE true "
        f"{_UPSERT}"
    )
    run.execute(sql, [kpi.pk, Granularity.DAY, run.run_id, kpi.pk, *inner_params])


_TRUNC = {Granularity.WEEK: TruncWeek, Granularity.MONTH: TruncMonth}


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
    sql, params = grouped.query.sql_with_params()
    return f"SELECT %s AS granularity, cg.* FROM ({sql}) cg", [granularity, *params]


def _coarse_from_days(run: Run, kpi: KPI, span: Span | None) -> None:
    """Weeks and months (one statement) from the day rollups they contain."""
    parts, params = [], []
    for granularity in COARSE:
        sql, part_params = _coarse_groups(
            kpi, granularity, None if span is None else widen(granularity, span)
        )
        parts.append(sql)
        params += part_params
    # A point's time falls in exactly one local day, so the bucket's latest time identifies the
    # day row whose last value is the bucket's.
    sql = (
        f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
        f"SELECT %s, x.granularity, x.d, {_value_expression(kpi.aggregation)}, x.s, x.c, "
        "x.last_value, x.last_at, NULL, %s FROM ("
        "  SELECT g.granularity, g.d, g.s, g.c, g.last_at, ("
        f"    SELECT r.last_value FROM {ROLLUP} r WHERE r.kpi_id = %s AND r.granularity = %s"
        "    AND r.bucket_start >= g.d AND r.last_at = g.last_at LIMIT 1"
        f"  ) AS last_value FROM ({' UNION ALL '.join(parts)}) g"
        ") x WHERE true "
        f"{_UPSERT}"
    )
    run.execute(sql, [kpi.pk, run.run_id, kpi.pk, Granularity.DAY, *params])


def _ratio(run: Run, ratio: KPI, granularity: str, span: Span | None) -> None:
    """A ratio's buckets from its numerator's and denominator's buckets of the same period."""
    if span is not None and granularity != Granularity.DAY:
        span = widen(granularity, span)
    numerator_sums = ratio.numerator.aggregation in (Aggregation.SUM, Aggregation.COUNT)
    # No numerator points in a period means 0 for a sum or a count, and "unknown" otherwise.
    top = "COALESCE(n.value, 0)" if numerator_sums else "n.value"
    sql = (
        f"INSERT INTO {ROLLUP} ({_COLUMNS}) "
        f"SELECT %s, d.granularity, d.bucket_start, {_divide(top + ' * %s', 'd.value')}, "
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
    `full`, otherwise only the buckets of its pending dirty ranges.

    Must run inside a transaction; locks the KPI rows first (in id order, so two recalculations
    that share a ratio KPI cannot deadlock)."""
    # One statement locks the KPI and the ratio KPIs built on it, in id order (so two
    # recalculations sharing a ratio KPI cannot deadlock). FOR NO KEY UPDATE excludes another
    # recalculation (and edits of the KPI) but not ingestion: inserting points and dirty ranges
    # only takes the KEY SHARE lock of their foreign key.
    locked = list(
        KPI.objects.select_for_update(of=("self",), no_key=True)
        .select_related("product__workspace", "numerator", "denominator")
        .filter(Q(pk=kpi.pk) | Q(numerator_id=kpi.pk) | Q(denominator_id=kpi.pk))
        .order_by("pk")
    )
    if not any(k.pk == kpi.pk for k in locked):  # deleted meanwhile
        return Result([], [], full, 0, 0)
    kpi = next(k for k in locked if k.pk == kpi.pk)
    dependents = [k for k in locked if k.pk != kpi.pk]
    tz = kpi_time_zone(kpi)
    run = Run()

    # Read the pending ranges only now, under the lock: a recalculation that held it before us
    # has removed the ranges it covered. Points of a range are committed with it, so they are
    # visible to every statement below.
    pending = list(DirtyRange.objects.filter(kpi_id=kpi.pk).values_list("pk", "start", "end"))
    if full:
        spans: list[Span | None] = [None]
    else:
        spans = list(merge_spans(local_span(start, end, tz) for _pk, start, end in pending))

    for span in spans:
        if kpi.is_ratio:
            for granularity in Granularity.values:
                _ratio(run, kpi, granularity, span)
            run.delete_stale(kpi.pk, span)
            continue
        _days_from_points(run, kpi, tz, span)
        # Stale days go before weeks and months are summed from the days.
        run.delete_stale(kpi.pk, span, [Granularity.DAY])
        _coarse_from_days(run, kpi, span)
        run.delete_stale(kpi.pk, span, COARSE)
        for dependent in dependents:
            for granularity in Granularity.values:
                _ratio(run, dependent, granularity, span)
            run.delete_stale(dependent.pk, span)
    if pending:
        DirtyRange.objects.filter(pk__in=[pk for pk, _s, _e in pending]).delete()
    return Result(
        kpi_ids=[kpi.pk, *(d.pk for d in dependents)],
        spans=[s for s in spans if s is not None],
        full=full,
        statements=run.statements,
        rows=run.rows,
    )
