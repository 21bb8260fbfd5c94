# ruff: noqa: S608 - the SQL names tables built here from dates; values travel as parameters.
"""KPI data points live in monthly partitions on PostgreSQL (native `PARTITION BY RANGE` on the
timestamp, months cut in UTC): a month's points are one table, so reading a KPI's recent weeks
touches only those months, and a month nobody needs any more is detached in a moment instead of
deleted row by row.

- `metrics_datapoint` is the partitioned parent; `metrics_datapoint_pYYYY_MM` holds
  [YYYY-MM-01, next month) in UTC. There is no default partition: a point always lands in its
  month's table.
- Partitions are created ahead by beat (`metrics.tasks.create_kpi_partitions`, daily: this month
  and the next `AHEAD` months) and, for a point in any other month (a backfill from 2019, a
  clock in 2031), on demand by ingestion just before it inserts (`ensure_for`).
- `manage.py kpi_partitions --detach-before YYYY-MM` detaches older months: their points vanish
  from every read (charts, rollup recalculation, the API) but stay in a standalone table,
  renamed `metrics_datapoint_detached_YYYY_MM`, until someone archives and drops it.

The primary key is (id, timestamp) in the database, as PostgreSQL wants the partition key in
every unique index; the unique (kpi, timestamp, dimensions) that ingestion's upsert relies on
already includes it. SQLite (trial mode) keeps an ordinary table and every function here does
nothing there.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection

PARENT = "metrics_datapoint"
# Product-analytics events (metrics.events) are partitioned the same way; every function below
# takes the parent table (`parent=`), data points by default.
EVENTS = "metrics_event"
PARENTS = (PARENT, EVENTS)
AHEAD = 3


def _lock(parent: str) -> int:
    # Ingestion's on-demand creation and beat's both take this transaction-scoped advisory lock,
    # so two transactions never race to create the same month (pgbouncer-safe: it ends with the
    # transaction).
    return zlib.crc32(f"{parent} partitions".encode())


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        if isinstance(moment, datetime):
            moment = moment.astimezone(UTC) if moment.tzinfo else moment
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-11' → Month(2026, 11); ValueError otherwise."""
        year, _, month = text.strip().partition("-")
        result = cls(int(year), int(month))
        if not 1 <= result.month <= 12 or not 1 <= result.year <= 9999:
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        return result

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def table(self) -> str:
        return self.table_of(PARENT)

    def table_of(self, parent: str) -> str:
        return f"{parent}_p{self.year:04d}_{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _create_sql(month: Month, parent: str) -> str:
    upper = month.next().start.isoformat() if month.month < 12 or month.year < 9999 else "infinity"
    return (
        f'CREATE TABLE IF NOT EXISTS "{month.table_of(parent)}" PARTITION OF {parent} '
        f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{upper}')"
    )


def attached(parent: str = PARENT) -> list[Month]:
    """The months that have an attached partition, oldest first."""
    if not enabled():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [parent],
        )
        names = [row[0] for row in cursor.fetchall()]
    prefix = f"{parent}_p"
    return sorted(
        Month(int(name[len(prefix) :][:4]), int(name[-2:]))
        for name in names
        if name.startswith(prefix)
    )


def _create(months: Iterable[Month], parent: str) -> list[Month]:
    """Create the partitions of `months` that do not exist yet, under the advisory lock, in the
    caller's transaction. Returns the months created."""
    wanted = sorted(set(months))
    if not wanted:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock(parent)])
        cursor.execute(
            "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(quote_ident(n)) IS NULL",
            [[m.table_of(parent) for m in wanted]],
        )
        missing = {row[0] for row in cursor.fetchall()}
        created = [m for m in wanted if m.table_of(parent) in missing]
        for month in created:
            cursor.execute(_create_sql(month, parent))
    return created


def ensure_for(moments: Iterable[datetime], parent: str = PARENT) -> list[Month]:
    """Make sure every moment has its month's partition (ingestion calls this before inserting
    its batch). One catalogue query when they all exist; the lock and a CREATE only for a month
    that has none. Returns the months created."""
    if not enabled():
        return []
    months = sorted({Month.of(m) for m in moments})
    if not months:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM unnest(%s::text[]) AS n "
            "WHERE to_regclass(quote_ident(n)) IS NULL",
            [[m.table_of(parent) for m in months]],
        )
        if cursor.fetchone()[0] == 0:
            return []
    return _create(months, parent)


def months_between(first: datetime, last: datetime) -> list[Month]:
    """Every month from `first`'s to `last`'s, both included."""
    month, end = Month.of(first), Month.of(last)
    months = []
    while month <= end:
        months.append(month)
        month = month.next()
    return months


def create_months(first: datetime, last: datetime, parent: str = PARENT) -> list[Month]:
    """The partitions of every month from `first`'s to `last`'s (bulk loads that bypass
    ingestion: the migration, benchmarks, tests). Returns those created."""
    if not enabled():
        return []
    return _create(months_between(first, last), parent)


def create_ahead(
    *, today: date | None = None, ahead: int = AHEAD, parent: str = PARENT
) -> list[Month]:
    """This month's partition and the next `ahead` months' (beat, daily). Returns those
    created."""
    if not enabled():
        return []
    first = Month.of(today or datetime.now(UTC))
    return _create((first.plus(n) for n in range(ahead + 1)), parent)


def detach_before(month: Month, parent: str = PARENT) -> list[Month]:
    """Detach every partition of a month before `month` and rename it
    `<parent>_detached_YYYY_MM`: its rows leave every read at once (the table stays, to be
    archived and dropped by hand). Returns the months detached."""
    if not enabled():
        return []
    old = [m for m in attached(parent) if m < month]
    with connection.cursor() as cursor:
        for m in old:
            table = m.table_of(parent)
            cursor.execute(f'ALTER TABLE {parent} DETACH PARTITION "{table}"')
            cursor.execute(
                f'ALTER TABLE "{table}" RENAME TO "{parent}_detached_{m.year:04d}_{m.month:02d}"'
            )
    return old


def detached(parent: str = PARENT) -> list[str]:
    """Names of the detached month tables still in the database."""
    if not enabled():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s ORDER BY 1",
            [f"{parent}_detached_".replace("_", r"\_") + "%"],
        )
        return [row[0] for row in cursor.fetchall()]


def partition_of(point_id: int) -> str | None:
    """The partition table that holds the data point (tests and the command's report)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {PARENT} WHERE id = %s", [point_id])
        row = cursor.fetchone()
    return row[0].strip('"') if row else None
