"""The rollup engine against hand-computed buckets: each aggregation at each granularity, time
zones (including a daylight-saving change), empty buckets, ratios, idempotence, and incremental
recalculation touching only the dirty buckets."""

from decimal import Decimal

import pytest
from django.db import transaction

from metrics import rollups as engine
from metrics import services
from metrics.models import DirtyRange, Rollup
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest, rollups, snapshot

pytestmark = pytest.mark.django_db

D = Decimal

# Europe/Amsterdam moves to summer time on Sunday 28 March 2027 (02:00 → 03:00).
POINTS = [
    ("2027-03-25T12:00:00+00:00", 32),  # Thu 25 Mar
    ("2027-03-27T23:30:00+00:00", 1),  # 00:30 on Sun 28 Mar in Amsterdam (CET, +1)
    ("2027-03-28T21:30:00+00:00", 2),  # 23:30 on Sun 28 Mar (CEST, +2)
    ("2027-03-28T22:30:00+00:00", 4),  # 00:30 on Mon 29 Mar: a new day and a new week
    ("2027-03-31T21:59:00+00:00", 8),  # 23:59 on Wed 31 Mar: still March
    ("2027-03-31T22:00:00+00:00", 16),  # 00:00 on Thu 1 Apr: April
]


@pytest.fixture
def amsterdam(cast):
    cast.workspace.time_zone = "Europe/Amsterdam"
    cast.workspace.save()
    return cast


def kpi_with(cast, aggregation, points=POINTS, **extra):
    kpi = KPIFactory(product=cast.product, aggregation=aggregation, **extra)
    ingest(kpi, points)
    return kpi


def test_sums_per_day_week_and_month_in_the_workspace_time_zone(amsterdam):
    kpi = kpi_with(amsterdam, "sum")
    # Days without points have no bucket at all (the chart shows a gap, not a zero).
    assert rollups(kpi, "day") == {
        "2027-03-25": D(32),
        "2027-03-28": D(3),
        "2027-03-29": D(4),
        "2027-03-31": D(8),
        "2027-04-01": D(16),
    }
    assert rollups(kpi, "week") == {"2027-03-22": D(35), "2027-03-29": D(28)}
    assert rollups(kpi, "month") == {"2027-03-01": D(47), "2027-04-01": D(16)}
    assert rollups(kpi, "week", "count") == {"2027-03-22": 3, "2027-03-29": 3}


def test_the_same_points_fall_in_other_buckets_in_utc(cast):
    kpi = kpi_with(cast, "sum")  # the cast's workspace is in UTC
    assert rollups(kpi, "day") == {
        "2027-03-25": D(32),
        "2027-03-27": D(1),
        "2027-03-28": D(6),
        "2027-03-31": D(24),
    }
    assert rollups(kpi, "month") == {"2027-03-01": D(63)}


def test_averages_divide_the_sum_by_the_count_of_each_bucket(amsterdam):
    kpi = kpi_with(amsterdam, "average")
    assert rollups(kpi, "day")["2027-03-28"] == D("1.5")
    assert rollups(kpi, "week") == {
        "2027-03-22": D("11.6666666667"),  # (32 + 1 + 2) / 3, not the mean of daily means
        "2027-03-29": D("9.3333333333"),  # (4 + 8 + 16) / 3
    }
    assert rollups(kpi, "month") == {"2027-03-01": D("9.4"), "2027-04-01": D(16)}


def test_counts_count_points(amsterdam):
    kpi = kpi_with(amsterdam, "count")
    assert rollups(kpi, "day") == {
        "2027-03-25": 1,
        "2027-03-28": 2,
        "2027-03-29": 1,
        "2027-03-31": 1,
        "2027-04-01": 1,
    }
    assert rollups(kpi, "month") == {"2027-03-01": 5, "2027-04-01": 1}


def test_last_takes_the_latest_point_of_each_bucket(amsterdam):
    kpi = kpi_with(amsterdam, "last")
    assert rollups(kpi, "day")["2027-03-28"] == D(2)
    assert rollups(kpi, "week") == {"2027-03-22": D(2), "2027-03-29": D(16)}
    assert rollups(kpi, "month") == {"2027-03-01": D(8), "2027-04-01": D(16)}


def test_last_breaks_a_tie_on_time_by_the_later_point(cast):
    kpi = kpi_with(
        cast,
        "last",
        [("2027-01-05T10:00:00+00:00", 1), ("2027-01-05T10:00:00+00:00", 7)],
    )
    assert rollups(kpi, "day") == {"2027-01-05": D(7)}


def test_a_ratio_divides_its_parts_bucket_by_bucket(cast):
    orders = kpi_with(
        cast,
        "sum",
        [("2027-01-04T10:00:00+00:00", 3), ("2027-01-05T10:00:00+00:00", 1)],
    )
    visits = kpi_with(
        cast,
        "sum",
        [
            ("2027-01-04T09:00:00+00:00", 40),
            ("2027-01-04T11:00:00+00:00", 60),
            ("2027-01-06T10:00:00+00:00", 50),  # visits but no orders: a rate of 0
        ],
    )
    rate = KPIFactory(
        product=cast.product,
        aggregation="ratio",
        numerator=orders,
        denominator=visits,
        ratio_multiplier=100,
    )
    services.kpi_recalculate(kpi_id=rate.pk, full=True)
    # 5 January has orders but no visits: no rate that day.
    assert rollups(rate, "day") == {"2027-01-04": D(3), "2027-01-06": D(0)}
    assert rollups(rate, "week") == {"2027-01-04": D("2.6666666667")}  # 4 / 150 × 100

    # New data for a part recomputes the ratio's touched buckets with it.
    ingest(orders, [("2027-01-06T12:00:00+00:00", 2)])
    assert rollups(rate, "day")["2027-01-06"] == D(4)
    assert rollups(rate, "week") == {"2027-01-04": D(4)}  # 6 / 150 × 100


def test_recalculating_twice_changes_nothing(amsterdam):
    kpi = kpi_with(amsterdam, "average")
    before = snapshot(kpi)
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    services.kpi_recalculate(kpi_id=kpi.pk)  # nothing pending
    assert snapshot(kpi) == before


def test_ingestion_marks_a_dirty_range_that_the_recalculation_clears(cast):
    kpi = KPIFactory(product=cast.product)
    ingest(kpi, POINTS, recalculate=False)
    assert DirtyRange.objects.filter(kpi=kpi).count() == 1
    assert not Rollup.objects.filter(kpi=kpi).exists()
    services.kpi_recalculate(kpi_id=kpi.pk)
    assert not DirtyRange.objects.filter(kpi=kpi).exists()
    assert Rollup.objects.filter(kpi=kpi).exists()


def test_incremental_recalculation_rewrites_only_the_touched_buckets(cast):
    kpi = kpi_with(
        cast,
        "sum",
        [("2027-01-04T10:00:00+00:00", 1), ("2027-02-15T10:00:00+00:00", 2)],
    )
    runs = dict(Rollup.objects.filter(kpi=kpi).values_list("granularity", "run_id").distinct())
    ingest(kpi, [("2027-02-16T10:00:00+00:00", 5)])
    january = Rollup.objects.filter(kpi=kpi, bucket_start__lt="2027-02-01")
    # January's day, week and month rows were not rewritten.
    assert {r.run_id for r in january} == set(runs.values())
    assert rollups(kpi, "week") == {"2027-01-04": D(1), "2027-02-15": D(7)}
    assert rollups(kpi, "month") == {"2027-01-01": D(1), "2027-02-01": D(7)}


def test_a_full_recalculation_removes_buckets_without_points(cast):
    kpi = kpi_with(cast, "sum", [("2027-01-04T10:00:00+00:00", 1)])
    kpi.datapoints.all().delete()
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    assert not Rollup.objects.filter(kpi=kpi).exists()


def test_changing_the_time_zone_and_recalculating_moves_the_buckets(amsterdam):
    kpi = kpi_with(amsterdam, "sum")
    amsterdam.workspace.time_zone = "UTC"
    amsterdam.workspace.save()
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    assert "2027-03-27" in rollups(kpi, "day")
    assert "2027-04-01" not in rollups(kpi, "day")  # stale bucket removed


def test_changing_the_aggregation_recomputes_every_bucket(cast, django_capture_on_commit_callbacks):
    kpi = kpi_with(cast, "sum")
    with django_capture_on_commit_callbacks(execute=True):
        services.kpi_update(
            kpi=kpi, data={"aggregation": "count"}, expected_version=kpi.version, actor=cast.pm
        )
    assert rollups(kpi, "month") == {"2027-03-01": 6}


def test_spans_merge_when_they_touch():
    span = engine.Span
    from datetime import date

    merged = engine.merge_spans(
        [
            span(date(2027, 1, 10), date(2027, 1, 12)),
            span(date(2027, 1, 1), date(2027, 1, 3)),
            span(date(2027, 1, 4), date(2027, 1, 5)),  # adjacent to the previous: merged
        ]
    )
    assert merged == [
        span(date(2027, 1, 1), date(2027, 1, 5)),
        span(date(2027, 1, 10), date(2027, 1, 12)),
    ]


def test_a_recalculation_starts_by_locking_the_kpi_row(cast):
    """FOR NO KEY UPDATE: recalculations of one KPI queue up, ingestion does not wait (the
    overlap itself is exercised with real workers in test_worker.py)."""
    kpi = KPIFactory(product=cast.product)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        engine.recalculate(kpi)
    assert "FOR NO KEY UPDATE" in queries.captured_queries[1]["sql"]
