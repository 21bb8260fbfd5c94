"""Property: however the points arrive — in any batches, with recalculations after some of them,
in any time zone and for any aggregation — the incremental rollups equal a full recalculation
from scratch, for the KPI and for a ratio KPI built on it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import services
from metrics.models import DataPoint, DirtyRange, Rollup
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

START = datetime(2027, 1, 1, tzinfo=UTC)
ZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]

point = st.tuples(
    # Within ~100 days, to the minute, so points share days, weeks and months (and DST changes).
    st.integers(min_value=0, max_value=100 * 24 * 60).map(lambda m: START + timedelta(minutes=m)),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
)
# Each batch is ingested; `True` means a recalculation runs after it.
batches = st.lists(
    st.tuples(st.lists(point, min_size=1, max_size=25), st.booleans()), min_size=1, max_size=6
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=batches,
    aggregation=st.sampled_from(["sum", "average", "count", "last"]),
    zone=st.sampled_from(ZONES),
)
def test_incremental_rollups_equal_a_full_recalculation(cast, batches, aggregation, zone):
    cast.workspace.time_zone = zone
    cast.workspace.save()
    kpi = KPIFactory(product=cast.product, aggregation=aggregation)
    other = KPIFactory(product=cast.product, aggregation="sum")
    ingest(other, [(START + timedelta(days=d), 10 + d) for d in range(0, 100, 3)])
    ratio = KPIFactory(product=cast.product, aggregation="ratio", numerator=kpi, denominator=other)
    services.kpi_recalculate(kpi_id=ratio.pk, full=True)  # as kpi_create queues it

    for points, recalculate in batches:
        ingest(kpi, points, recalculate=recalculate)
    services.kpi_recalculate(kpi_id=kpi.pk)  # whatever is still pending
    assert not DirtyRange.objects.filter(kpi=kpi).exists()
    incremental = snapshot(kpi), snapshot(ratio)

    Rollup.objects.filter(kpi__in=[kpi, ratio]).delete()
    services.kpi_recalculate(kpi_id=kpi.pk, full=True)
    assert (snapshot(kpi), snapshot(ratio)) == incremental

    # And against the points themselves: every day bucket sums exactly what arrived.
    total = sum((p.value for p in DataPoint.objects.filter(kpi=kpi)), Decimal(0))
    days = Rollup.objects.filter(kpi=kpi, granularity="day")
    assert sum((r.sum for r in days), Decimal(0)) == total
    assert sum(r.count for r in days) == DataPoint.objects.filter(kpi=kpi).count()
