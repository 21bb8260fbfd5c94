"""KPIs computed from events: count, unique users, sum of a property and a ratio of two,
recalculated incrementally by the rollup machinery when events arrive."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metrics import services
from metrics.events import IncomingEvent
from metrics.models import KPI, DirtyRange, Rollup
from tests.metrics.factories import KPIFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 9, 7, 10, tzinfo=UTC)  # a Monday


def send(cast, rows, prefix="x"):
    return services.events_ingest(
        product=cast.product,
        events=[
            IncomingEvent(f"{prefix}{i}", name, person, moment, props or {})
            for i, (person, moment, name, props) in enumerate(rows)
        ],
        actor=cast.pm,
    )


def values(kpi, granularity):
    return {
        str(r.bucket_start): r.value
        for r in Rollup.objects.filter(kpi=kpi, granularity=granularity).order_by("bucket_start")
    }


def events_kpi(cast, name, measure, prop="", **extra):
    return services.kpi_create(
        product=cast.product,
        data={
            "name": name,
            "event_name": "ordered",
            "event_measure": measure,
            "event_property": prop,
            **extra,
        },
        actor=cast.pm,
    )


ORDERS = [
    ("ann", T0, "ordered", {"total": 30}),
    ("ann", T0 + timedelta(hours=2), "ordered", {"total": 12.5}),
    ("bob", T0 + timedelta(days=1), "ordered", {"total": "n/a"}),  # not a number: adds 0
    ("cat", T0 + timedelta(days=1), "ordered", {}),
    ("ann", T0 + timedelta(days=1), "ordered", {"total": 7}),
    ("ann", T0 + timedelta(days=1), "viewed", {"total": 1000}),  # another event
]


def test_count_unique_and_sum_per_day_week_and_month(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        count = events_kpi(cast, "Orders", "count")
        unique = events_kpi(cast, "Buyers", "unique")
        revenue = events_kpi(cast, "Revenue", "sum", "total")
        send(cast, ORDERS)
    assert values(count, "day") == {"2026-09-07": 2, "2026-09-08": 3}
    assert values(count, "week") == {"2026-09-07": 5}
    # Ann buys on both days: one buyer each day, but one (not two) in the week.
    assert values(unique, "day") == {"2026-09-07": 1, "2026-09-08": 3}
    assert values(unique, "week") == {"2026-09-07": 3}
    assert values(unique, "month") == {"2026-09-01": 3}
    assert values(revenue, "day") == {"2026-09-07": Decimal("42.5"), "2026-09-08": 7}
    assert values(revenue, "month") == {"2026-09-01": Decimal("49.5")}
    assert not DirtyRange.objects.exists()


def test_later_events_recalculate_only_their_span(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        unique = events_kpi(cast, "Buyers", "unique")
        send(cast, ORDERS)
    with django_capture_on_commit_callbacks() as callbacks:
        result = send(cast, [("dan", T0 + timedelta(days=9), "ordered", {})], prefix="y")
    assert result.stored == 1
    assert DirtyRange.objects.filter(kpi=unique).count() == 1  # the batch's span only
    assert len(callbacks) == 1
    recalculated = services.kpi_recalculate(kpi_id=unique.pk)
    assert [str(s.first) for s in recalculated.spans] == ["2026-09-16"]
    assert values(unique, "week") == {"2026-09-07": 3, "2026-09-14": 1}
    assert values(unique, "month") == {"2026-09-01": 4}
    # The same events again: nothing stored, nothing to recalculate.
    with django_capture_on_commit_callbacks() as callbacks:
        send(cast, [("dan", T0 + timedelta(days=9), "ordered", {})], prefix="y")
    assert not callbacks and not DirtyRange.objects.exists()


def test_a_ratio_of_two_events_kpis(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        orders = events_kpi(cast, "Orders", "count")
        buyers = events_kpi(cast, "Buyers", "unique")
        per_buyer = services.kpi_create(
            product=cast.product,
            data={"name": "Orders per buyer", "aggregation": "ratio", "numerator": orders,
                  "denominator": buyers},
            actor=cast.pm,
        )  # fmt: skip
        send(cast, ORDERS)
    assert values(per_buyer, "week") == {"2026-09-07": Decimal("1.6666666667")}
    assert values(per_buyer, "day")["2026-09-07"] == 2


def test_data_points_are_refused_for_an_events_kpi(cast):
    kpi = events_kpi(cast, "Orders", "count")
    response = cast.client("pm").post(
        f"/api/v1/kpis/{kpi.pk}/datapoints/",
        [{"timestamp": "2026-09-07T10:00:00Z", "value": 1}],
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "ordered" in response.content.decode()


def test_the_form_asks_for_what_an_events_kpi_needs(cast):
    data = {
        "name": "Revenue",
        "direction": "higher",
        "aggregation": "sum",
        "granularity": "day",
        "ratio_multiplier": "1",
        "event_name": "ordered",
        "event_measure": "sum",
        "event_property": "",
    }
    response = cast.client("pm").post("/p/LOD/kpis/new/", data)
    assert response.status_code == 200
    assert "Name the property to sum." in response.content.decode()
    data["event_property"] = "total"
    response = cast.client("pm").post("/p/LOD/kpis/new/", data)
    assert response.status_code == 302
    kpi = KPI.objects.get(name="Revenue")
    assert (kpi.event_name, kpi.event_measure, kpi.event_property) == ("ordered", "sum", "total")


def test_a_data_points_kpi_is_untouched_by_events(cast, django_capture_on_commit_callbacks):
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    with django_capture_on_commit_callbacks() as callbacks:
        send(cast, ORDERS)
    assert not callbacks and not DirtyRange.objects.filter(kpi=kpi).exists()
