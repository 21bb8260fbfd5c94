"""KPI rollup benchmark on PostgreSQL, in a throwaway database of its own.

Prints:
- the floor: the bare `SELECT date_trunc(…), sum, count … GROUP BY` over the KPI's 1,000,000
  points, per granularity and for all three;
- a full recalculation (day, week and month rollups written with INSERT … ON CONFLICT);
- an incremental recalculation after 1,000 new points (the last hours of data);
- the ratios against the targets (full ≤ 2× floor, incremental ≥ 50× faster than full);
- the time of ingesting 10,000 points in one API call (one bulk INSERT).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything python bench/kpi_rollup.py
       [--points 1000000] [--keep]
Only the server part of DATABASE_URL is used: the bench creates and drops its own database.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime

# No broker: the bench runs each recalculation itself (before Django reads the settings).
os.environ.pop("REDIS_URL", None)
os.environ.pop("CELERY_BROKER_URL", None)
os.environ["LOG_LEVEL"] = "WARNING"

import _common  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--points", type=int, default=1_000_000)
parser.add_argument("--new-points", type=int, default=1_000)
parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
args = parser.parse_args()


def main() -> None:
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from metrics import partitions, rollups
    from metrics.models import KPI, DataPoint, DirtyRange, Rollup
    from pm.celery import app as celery_app
    from pm.choices import Role
    from pm.models import Membership, Product, Workspace

    celery_app.conf.task_always_eager = True

    tz_name = "Europe/Amsterdam"
    workspace = Workspace.objects.create(name="Bench", slug="bench", time_zone=tz_name)
    product = Product.objects.create(workspace=workspace, name="Bench", key="BEN")
    user = User.objects.create_user("bench-pm", password="x")
    Membership.objects.create(workspace=workspace, user=user, role=Role.PM)
    kpi = KPI.objects.create(product=product, name="Events", aggregation="sum")
    other = KPI.objects.create(product=product, name="Ingest", aggregation="sum")

    n = args.points
    print(f"Generating {n:,} points over 365 days for one KPI …", flush=True)
    partitions.create_months(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    with connection.cursor() as cursor:
        # Fixture generation, not measured: evenly spread over a year, values 0–100.
        cursor.execute(
            f"""
            INSERT INTO {DataPoint._meta.db_table}
                (workspace_id, kpi_id, timestamp, value, dimensions)
            SELECT %s, %s, timestamptz '2026-01-01 00:00+00' + (i * (365 * 86400.0 / %s))
                       * interval '1 second',
                   round((random() * 100)::numeric, 2), '{{}}'::jsonb
            FROM generate_series(0, %s - 1) AS i
            """,
            [workspace.pk, kpi.pk, n, n],
        )
        cursor.execute(f"VACUUM ANALYZE {DataPoint._meta.db_table}")

    floor_sql = {
        g: (
            f"SELECT date_trunc('{g}', timestamp AT TIME ZONE %s) AS b, sum(value), count(*) "
            f"FROM {DataPoint._meta.db_table} WHERE kpi_id = %s GROUP BY b"
        )
        for g in ("day", "week", "month")
    }

    def floor(g):
        with connection.cursor() as cursor:
            cursor.execute(floor_sql[g], [tz_name, kpi.pk])
            cursor.fetchall()

    def full():
        with transaction.atomic():
            rollups.recalculate(kpi, full=True)

    def _rows() -> list:
        return list(
            Rollup.objects.filter(kpi=kpi)
            .order_by("granularity", "bucket_start")
            .values_list("granularity", "bucket_start", "value", "sum", "count", "last_value")
        )

    # The floors and the full recalculation in turns (A/B rounds), after a warm-up of each.
    medians = _common.interleaved(
        {**{g: (lambda g=g: floor(g)) for g in floor_sql}, "full": full},
        runs=args.repeat,
        warmup=1,
    )
    floors = {g: medians[g] for g in floor_sql}
    floor_all = sum(floors.values())
    full_ms = medians["full"]
    buckets = {
        g: Rollup.objects.filter(kpi=kpi, granularity=g).count() for g in ("day", "week", "month")
    }

    # Incremental: each round appends `new_points` points in the last hours of the data, the
    # way fresh data arrives, then recalculates only the touched buckets.
    from decimal import Decimal

    from metrics.points import Point
    from metrics.services import datapoints_ingest

    last = (
        DataPoint.objects.filter(kpi=kpi)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)[0]
    )
    # Each round times an incremental recalculation and then a full one (A/B in turns).
    incremental_times, full_times, rounds = [], [], 0
    from datetime import timedelta

    for round_ in range(args.repeat):
        batch = [
            Point(
                last + timedelta(seconds=10 * (round_ * args.new_points + i + 1)), Decimal(i % 97)
            )
            for i in range(args.new_points)
        ]
        with transaction.atomic():
            datapoints_ingest(kpi=kpi, points=batch, actor=None, source="bench")
            # Stop the eager on-commit task: the bench times the recalculation itself.
            connection.run_on_commit = []
        start = time.perf_counter()
        with transaction.atomic():
            result = rollups.recalculate(kpi)
        incremental_times.append((time.perf_counter() - start) * 1000)
        rounds += 1
        assert result.spans, "the ingest left no dirty range"
        snapshot = _rows()
        start = time.perf_counter()
        full()
        full_times.append((time.perf_counter() - start) * 1000)
        assert snapshot == _rows(), "incremental rollups differ from a full recalculation"
    incremental_ms = statistics.median(incremental_times)
    full_after_ms = statistics.median(full_times)
    assert not DirtyRange.objects.filter(kpi=kpi).exists()

    identical = True  # asserted in every round above

    # Ingesting 10,000 points in one API call.
    client = Client()
    client.force_login(user)
    payload = [
        {"timestamp": f"2026-06-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z", "value": i % 50}
        for i in range(10_000)
    ]
    import json

    body = json.dumps(payload)
    api_times, inserts = [], 0
    for _ in range(args.repeat):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.post(
                    f"/api/v1/kpis/{other.pk}/datapoints/", body, content_type="application/json"
                )
                api_times.append((time.perf_counter() - start) * 1000)
            connection.run_on_commit = []
        assert response.status_code == 201, response.content[:300]
        inserts = sum(
            1
            for q in queries.captured_queries
            if f"INSERT INTO {DataPoint._meta.db_table} " in q["sql"].replace('"', "")
        )
    api_ms = statistics.median(api_times)

    print()
    server = connection.cursor().connection.info.server_version // 10000
    print(f"PostgreSQL {server}, database {BENCH_DB}, time zone {tz_name}")
    print(f"Data: {n:,} points for one KPI over 365 days")
    print(f"Buckets: {buckets['day']} days, {buckets['week']} weeks, {buckets['month']} months")
    print()
    print(f"Floor, bare GROUP BY date_trunc over the same rows (median of {args.repeat}):")
    for g, ms in floors.items():
        print(f"  {g:<5} {ms:9.1f} ms")
    print(f"  all three {floor_all:9.1f} ms")
    print(f"Full recalculation, all three granularities:      {full_ms:9.1f} ms")
    print(f"  (in the incremental rounds, after each one:     {full_after_ms:9.1f} ms)")
    print(
        f"Incremental after {args.new_points:,} new points (median of {rounds}): "
        f"{incremental_ms:9.1f} ms"
    )
    print(
        f"Ingest 10,000 points in one API call:              {api_ms:9.1f} ms "
        f"({inserts} INSERT statement{'s' if inserts != 1 else ''} into the data-point table)"
    )
    print()
    day_floor = floors["day"]
    ratio_full = full_ms / day_floor
    ratio_full_all = full_ms / floor_all
    speedup = full_after_ms / incremental_ms
    print(
        f"full ÷ floor (one GROUP BY, day):       {ratio_full:6.2f}×  (target ≤ 2×: "
        f"{'met' if ratio_full <= 2 else 'MISSED'})"
    )
    print(f"full ÷ floor (three GROUP BYs):         {ratio_full_all:6.2f}×")
    print(
        f"full ÷ incremental:                    {speedup:7.1f}×  (target ≥ 50×: "
        f"{'met' if speedup >= 50 else 'MISSED'})"
    )
    print(f"incremental rollups identical to a full recalculation: {identical}")
    if not identical:
        sys.exit(1)


with _common.throwaway_database(keep=args.keep) as BENCH_DB:
    main()
