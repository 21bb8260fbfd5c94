"""Two recalculations of the same KPI overlapping in two real Celery workers (Redis broker,
PostgreSQL): the second waits for the first on the KPI's row lock, and the rollups end up
exactly what the points say — no duplicate, missing or stale bucket."""

import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from metrics import services
from metrics.models import DataPoint, DirtyRange, Rollup
from metrics.points import Point
from metrics.tasks import recalculate_kpi, recalculate_kpi_full
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest
from tests.worker import _database_url, running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

START = datetime(2027, 1, 1, tzinfo=UTC)


def blocked_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_until(condition, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def expected_days(kpi) -> dict:
    """Day sums and counts straight from the points (UTC workspace)."""
    sums: dict[date, Decimal] = defaultdict(Decimal)
    counts: dict[date, int] = defaultdict(int)
    for ts, value in DataPoint.objects.filter(kpi=kpi).values_list("timestamp", "value"):
        sums[ts.date()] += value
        counts[ts.date()] += 1
    return {d: (sums[d], counts[d]) for d in sums}


def test_overlapping_recalculations_in_two_workers_leave_correct_rollups(cast, settings):
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    ingest(kpi, [(START + timedelta(hours=5 * i), i % 13) for i in range(400)])
    assert Rollup.objects.filter(kpi=kpi).exists()

    with running_worker() as first, running_worker() as second:
        # Hold the KPI's row lock from another connection, as a long recalculation would.
        holder = psycopg.connect(_database_url(settings.DATABASES["default"]))
        try:
            holder.execute("SELECT id FROM metrics_kpi WHERE id = %s FOR NO KEY UPDATE", [kpi.pk])
            # New points, overlapping old buckets and adding new ones; the ingestion queues an
            # incremental recalculation on commit. A full one is queued too.
            services.datapoints_ingest(
                kpi=kpi,
                points=[
                    Point(START + timedelta(days=10, minutes=i), Decimal(1)) for i in range(300)
                ]
                + [Point(START + timedelta(days=200), Decimal(7))],
                actor=cast.pm,
            )
            full = recalculate_kpi_full.delay(kpi.pk)
            wait_until(lambda: blocked_on_locks() >= 2, what="both workers to wait on the lock")
        finally:
            holder.rollback()  # release: the two recalculations now run one after the other
            holder.close()

        assert full.get(timeout=60) is not None
        wait_until(lambda: not DirtyRange.objects.filter(kpi=kpi).exists(), what="the ingest")
        incremental = recalculate_kpi.delay(kpi.pk).get(timeout=60)  # nothing left to do
        assert incremental == {"spans": 0, "rows": 0}
        # Each worker ran one of the two overlapping recalculations.
        for worker in (first, second):
            assert "metrics.tasks.recalculate_kpi" in worker.log()
            assert "Traceback" not in worker.log()

    days = {
        r.bucket_start: (r.sum, r.count) for r in Rollup.objects.filter(kpi=kpi, granularity="day")
    }
    assert days == expected_days(kpi)
    months = Rollup.objects.filter(kpi=kpi, granularity="month")
    # 701 sent; the one at day 10, 00:00 had an old point's time and replaced it.
    assert sum(m.count for m in months) == DataPoint.objects.filter(kpi=kpi).count() == 700
    # 400 points every 5 hours from 1 January (to 25 March), and one on 20 July.
    assert {m.bucket_start.month for m in months} == {1, 2, 3, 7}
