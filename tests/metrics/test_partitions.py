"""Data points in monthly partitions (metrics.partitions): each point lands in its month's table,
a month without one gets it on insert, beat creates the months ahead, and a detached month's
points leave every read while the upsert, deletion by range and rollups work as before."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from metrics import partitions, services
from metrics.models import DataPoint
from metrics.partitions import Month
from metrics.tasks import create_kpi_partitions
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest, rollups

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi(cast):
    return KPIFactory(product=cast.product, aggregation="sum")


def _tables_holding(kpi) -> dict[str, int]:
    """{partition table: points of the KPI in it}, read from the catalogue's inheritance."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, count(p.id) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN metrics_datapoint p ON p.tableoid = c.oid AND p.kpi_id = %s "
            "WHERE i.inhparent = 'metrics_datapoint'::regclass GROUP BY c.relname",
            [kpi.pk],
        )
        return dict(cursor.fetchall())


def test_the_table_is_partitioned_by_range_on_the_timestamp():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat, a.attname FROM pg_partitioned_table t "
            "JOIN pg_attribute a ON a.attrelid = t.partrelid AND a.attnum = t.partattrs[0] "
            "WHERE t.partrelid = 'metrics_datapoint'::regclass"
        )
        assert cursor.fetchall() == [("r", "timestamp")]


def test_points_land_in_their_months_partition(cast, kpi):
    ingest(
        kpi,
        [
            ("2026-03-31T23:59:59+00:00", 1),
            ("2026-04-01T00:00:00+00:00", 2),  # the first moment of April, UTC
            ("2026-04-01T01:30:00+02:00", 3),  # 23:30 UTC on 31 March
        ],
    )
    assert _tables_holding(kpi) == {
        "metrics_datapoint_p2026_03": 2,
        "metrics_datapoint_p2026_04": 1,
    }


def test_a_point_in_a_far_month_creates_its_partition(cast, kpi):
    assert "metrics_datapoint_p1998_07" not in {m.table for m in partitions.attached()}
    ingest(kpi, [("1998-07-14T12:00:00+00:00", 4), ("1998-07-15T12:00:00+00:00", 5)])
    assert Month(1998, 7) in partitions.attached()
    assert _tables_holding(kpi) == {"metrics_datapoint_p1998_07": 2}
    # Once there, the next batch for that month takes no lock and creates nothing.
    assert partitions.ensure_for([datetime(1998, 7, 31, tzinfo=UTC)]) == []


def test_beat_creates_this_month_and_the_next_ones_ahead(settings):
    created = create_kpi_partitions.delay().get()
    this = Month.of(datetime.now(UTC))
    wanted = {this.plus(n) for n in range(partitions.AHEAD + 1)}
    assert wanted <= set(partitions.attached())
    assert isinstance(created, list)
    assert create_kpi_partitions.delay().get() == []  # idempotent


def test_detaching_old_months_removes_their_points_from_reads(cast, kpi):
    ingest(kpi, [("2025-01-10T08:00:00+00:00", 10), ("2025-02-10T08:00:00+00:00", 20)])
    ingest(kpi, [("2026-03-10T08:00:00+00:00", 30)])
    out = StringIO()
    call_command("kpi_partitions", "--detach-before", "2025-02", stdout=out)
    assert "2025-01" in out.getvalue()
    assert list(
        DataPoint.objects.filter(kpi=kpi).order_by("timestamp").values_list("value", flat=True)
    ) == [Decimal(20), Decimal(30)]
    assert "metrics_datapoint_detached_2025_01" in partitions.detached()
    # A full recalculation no longer sees January: its rollups go as stale.
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    assert "2025-01-10" not in rollups(kpi, "day")
    assert rollups(kpi, "month")["2025-02-01"] == Decimal(20)
    # A late point for the detached month gets a fresh, empty partition.
    ingest(kpi, [("2025-01-20T08:00:00+00:00", 1)])
    assert rollups(kpi, "month")["2025-01-01"] == Decimal(1)


def test_the_command_lists_and_refuses_a_malformed_month():
    out = StringIO()
    call_command("kpi_partitions", stdout=out)
    assert "attached" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("kpi_partitions", "--detach-before", "2025-13")


def test_upsert_delete_by_range_and_rollups_across_partitions(cast, kpi):
    rows = [("2026-01-31T23:00:00+00:00", 1), ("2026-02-01T01:00:00+00:00", 2)]
    ingest(kpi, rows)
    ingest(kpi, [("2026-02-01T01:00:00+00:00", 5)])  # the same point again: replaced
    assert DataPoint.objects.filter(kpi=kpi).count() == 2
    assert rollups(kpi, "month") == {"2026-01-01": Decimal(1), "2026-02-01": Decimal(5)}
    deleted = services.datapoints_delete(
        kpi=kpi,
        start=datetime(2026, 1, 31, tzinfo=UTC),
        end=datetime(2026, 2, 2, tzinfo=UTC),
        actor=cast.pm,
    )
    services.kpi_recalculate(kpi_id=kpi.pk)
    assert deleted == 2 and rollups(kpi, "month") == {}


def test_month_arithmetic():
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2026, 11).plus(14) == Month(2028, 1)
    assert Month.parse("2025-02") == Month(2025, 2)
    assert Month.of(date(2026, 5, 31)).table == "metrics_datapoint_p2026_05"
    assert [str(m) for m in partitions.months_between(
        datetime(2025, 11, 5, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    )] == ["2025-11", "2025-12", "2026-01", "2026-02"]  # fmt: skip
