"""A real worker killed with SIGKILL in the middle of a KPI recalculation: the recalculation is
not lost. Its transaction is rolled back (dirty ranges included), and either the broker hands the
task to the worker's next process (acks_late + reject_on_worker_lost) or, when the whole worker
died, the beat's sweep queues it again once the range is older than a minute. Either way the
rollups end up equal to a full recalculation."""

import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from metrics import partitions, services
from metrics.models import DataPoint, DirtyRange, Rollup
from metrics.tasks import recalculate_kpi, sweep_dirty_ranges
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import snapshot
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

START = datetime(2025, 1, 1, tzinfo=UTC)
POINTS = 400_000


def _points_waiting_for_recalculation(kpi, *, waited: timedelta = timedelta(0)) -> None:
    """POINTS points over a year, stored as ingestion stores them: the points and their dirty
    range in one transaction, the recalculation still to come."""
    partitions.create_months(START, START + timedelta(seconds=79 * POINTS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DataPoint._meta.db_table} "  # noqa: S608
            "(workspace_id, kpi_id, timestamp, value, dimensions) "
            "SELECT %s, %s, %s + make_interval(secs => i * 79), (i %% 97) + 0.5, '{}'::jsonb "
            "FROM generate_series(0, %s - 1) AS i",
            [kpi.product.workspace_id, kpi.pk, START, POINTS],
        )
    last = DataPoint.objects.filter(kpi=kpi).latest("timestamp").timestamp
    dirty = DirtyRange.objects.create(
        workspace_id=kpi.product.workspace_id, kpi=kpi, start=START, end=last
    )
    DirtyRange.objects.filter(pk=dirty.pk).update(created_at=timezone.now() - waited)


def _recalculating() -> bool:
    """A worker's connection is in the middle of writing this KPI's rollups."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE %s",
            ["%INSERT INTO metrics_%rollup%"],
        )
        return cursor.fetchone()[0] > 0


def _wait(condition, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _assert_equal_to_a_full_recalculation(kpi):
    assert not DirtyRange.objects.filter(kpi=kpi).exists()
    after_recovery = snapshot(kpi)
    days = {t.date() for t in DataPoint.objects.filter(kpi=kpi).values_list("timestamp", flat=True)}
    assert len([r for r in after_recovery if r[0] == "day"]) == len(days) > 360
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    assert snapshot(kpi) == after_recovery


def test_a_recalculation_whose_process_is_killed_is_handed_to_the_next_process(cast):
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    _points_waiting_for_recalculation(kpi)
    with running_worker(pool="prefork") as worker:
        recalculate_kpi.delay(kpi.pk)
        _wait(_recalculating, "the recalculation to start")
        [child] = worker.children()
        os.kill(child, signal.SIGKILL)
        worker.wait_for_log("WorkerLostError")
        # Rolled back, not half-written; the broker gives the task to the replacement process.
        _wait(lambda: worker.children() and worker.children() != [child], "a new process")
        _wait(lambda: not DirtyRange.objects.filter(kpi=kpi).exists(), "the recalculation")
        worker.wait_for_log("succeeded")
        assert worker.log().count("Task metrics.tasks.recalculate_kpi[") >= 2  # received twice
    _assert_equal_to_a_full_recalculation(kpi)


def test_a_recalculation_whose_worker_is_killed_is_picked_up_by_the_sweep(cast):
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    # The points arrived two minutes ago; their recalculation is running when the worker dies.
    _points_waiting_for_recalculation(kpi, waited=timedelta(minutes=2))
    with running_worker() as worker:
        recalculate_kpi.delay(kpi.pk)
        _wait(_recalculating, "the recalculation to start")
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
    assert not Rollup.objects.filter(kpi=kpi).exists()  # nothing half-written

    with running_worker():
        # The beat's sweep, every minute: it leaves the KPI alone while the dead worker's
        # database session still holds it, then queues its recalculation.
        def swept() -> bool:
            queued = sweep_dirty_ranges.delay().get(timeout=30)
            return queued == [kpi.pk]

        _wait(swept, "the sweep to queue the KPI")
        _wait(lambda: not DirtyRange.objects.filter(kpi=kpi).exists(), "the recalculation")
    _assert_equal_to_a_full_recalculation(kpi)


def test_the_sweep_leaves_fresh_ranges_and_running_recalculations_alone(cast, settings):
    import psycopg

    from tests.worker import _database_url

    kpi, other = (KPIFactory(product=cast.product, aggregation="sum") for _ in range(2))
    fresh = DirtyRange.objects.create(
        workspace_id=cast.workspace.pk, kpi=kpi, start=START, end=START
    )
    DirtyRange.objects.create(workspace_id=cast.workspace.pk, kpi=other, start=START, end=START)
    assert services.kpis_with_stale_dirty_ranges(older_than=timedelta(minutes=1)) == []
    DirtyRange.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    holder = psycopg.connect(_database_url(settings.DATABASES["default"]))
    try:  # a recalculation of `kpi` in progress holds its row
        holder.execute("SELECT id FROM metrics_kpi WHERE id = %s FOR NO KEY UPDATE", [kpi.pk])
        assert services.kpis_with_stale_dirty_ranges(older_than=timedelta(minutes=1)) == [other.pk]
    finally:
        holder.rollback()
        holder.close()
    assert services.kpis_with_stale_dirty_ranges(older_than=timedelta(minutes=1)) == sorted(
        [kpi.pk, other.pk]
    )
    assert fresh.pk
