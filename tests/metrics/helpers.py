"""Test helpers: put points in through the ingestion service and roll them up, as a worker
would."""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User

from metrics import services
from metrics.models import Rollup
from metrics.points import Point


def ingest(kpi, rows, *, actor=None, recalculate=True) -> None:
    """`rows`: [(aware datetime or ISO string, value), …]."""
    points = [
        Point(
            datetime.fromisoformat(ts) if isinstance(ts, str) else ts,
            Decimal(str(value)),
        )
        for ts, value in rows
    ]
    if actor is None:  # someone of the workspace, as through the API
        actor = User.objects.filter(memberships__workspace=kpi.product.workspace_id).first()
    services.datapoints_ingest(kpi=kpi, points=points, actor=actor, source="a test")
    if recalculate:
        services.kpi_recalculate(kpi_id=kpi.pk)


def rollups(kpi, granularity: str, field: str = "value") -> dict[str, Decimal]:
    """{bucket start ISO date: field} of one granularity."""
    return {
        r.bucket_start.isoformat(): getattr(r, field)
        for r in Rollup.objects.filter(kpi=kpi, granularity=granularity).order_by("bucket_start")
    }


def snapshot(kpi) -> list[tuple]:
    return list(
        Rollup.objects.filter(kpi=kpi)
        .order_by("granularity", "bucket_start")
        .values_list(
            "granularity",
            "bucket_start",
            "value",
            "sum",
            "count",
            "last_value",
            "last_at",
            "denominator",
        )
    )
