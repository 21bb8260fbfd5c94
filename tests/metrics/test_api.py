"""POST /api/v1/kpis/{id}/datapoints/: bulk ingestion, all or nothing."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metrics.models import DataPoint, DirtyRange, Rollup
from pm.api.tokens import api_token_create
from pm.models import ApiToken
from tests.metrics.factories import KPIFactory

pytestmark = pytest.mark.django_db


def url(kpi) -> str:
    return f"/api/v1/kpis/{kpi.pk}/datapoints/"


def post(client, kpi, body, **headers):
    return client.post(url(kpi), json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def kpi(cast):
    return KPIFactory(product=cast.product, aggregation="sum")


def points(n, start=datetime(2021, 1, 1, tzinfo=UTC)):
    return [
        {"timestamp": (start + timedelta(minutes=7 * i)).isoformat(), "value": i % 10}
        for i in range(n)
    ]


def test_a_pm_ingests_a_batch_with_one_insert_and_the_rollups_follow_on_commit(
    cast, kpi, django_capture_on_commit_callbacks
):
    body = points(500) + [
        {"timestamp": "2021-01-03T08:00:00Z", "value": "2.5", "dimensions": {"plan": "pro"}}
    ]
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        response = post(cast.client("pm"), kpi, body)
    assert response.status_code == 201, response.content
    assert response.json()["received"] == response.json()["stored"] == 501
    assert response.json()["recalculation"] == "queued"
    inserts = [
        q
        for q in queries.captured_queries
        if "INSERT INTO metrics_datapoint" in q["sql"].replace('"', "")
    ]
    assert len(inserts) == 1
    assert DataPoint.objects.filter(kpi=kpi).count() == 501
    assert DataPoint.objects.get(kpi=kpi, dimensions__plan="pro").value == Decimal("2.5")
    assert DirtyRange.objects.filter(kpi=kpi).count() == 1
    assert not Rollup.objects.filter(kpi=kpi).exists()  # ingestion only stores and queues

    assert len(callbacks) == 1
    callbacks[0]()  # the worker's turn (tasks run eagerly in tests)
    assert not DirtyRange.objects.filter(kpi=kpi).exists()
    day = Rollup.objects.get(kpi=kpi, granularity="day", bucket_start="2021-01-01")
    assert day.count == 206  # points every 7 minutes over 24 hours: 0 … 1435 minutes
    assert day.sum == sum(i % 10 for i in range(206))


def test_the_batch_may_be_wrapped_in_an_object(cast, kpi):
    response = post(cast.client("admin"), kpi, {"points": points(3)})
    assert response.status_code == 201


def test_times_without_an_offset_are_read_in_the_workspace_time_zone(cast, kpi):
    cast.workspace.time_zone = "Asia/Tokyo"
    cast.workspace.save()
    response = post(
        cast.client("pm"),
        kpi,
        [{"timestamp": "2021-01-05", "value": 1}, {"timestamp": "2021-01-05T09:00", "value": 2}],
    )
    assert response.status_code == 201
    stored = sorted(DataPoint.objects.filter(kpi=kpi).values_list("timestamp", flat=True))
    assert stored == [
        datetime(2021, 1, 4, 15, 0, tzinfo=UTC),
        datetime(2021, 1, 5, 0, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        ({"timestamp": "next tuesday", "value": 1}, "timestamp", "ISO 8601"),
        ({"timestamp": "2021-02-30T10:00:00Z", "value": 1}, "timestamp", "ISO 8601"),
        ({"value": 1}, "timestamp", "ISO 8601"),
        ({"timestamp": "2021-01-01T10:00:00Z", "value": "twelve"}, "value", "not a number"),
        ({"timestamp": "2021-01-01T10:00:00Z", "value": True}, "value", "number"),
        ({"timestamp": "2021-01-01T10:00:00Z", "value": "NaN"}, "value", "finite"),
        ({"timestamp": "2021-01-01T10:00:00Z", "value": 1e20}, "value", "below"),
        ({"timestamp": "2021-01-01T10:00:00Z"}, "value", "number"),
        ({"timestamp": "2021-01-01T10:00:00Z", "value": 1, "dimensions": [1]}, "dimensions", ""),
        (
            {"timestamp": "2021-01-01T10:00:00Z", "value": 1, "colour": "red"},
            "non_field_errors",
            "Unknown fields: colour",
        ),
        ("just a string", "non_field_errors", "object"),
    ],
)
def test_one_bad_point_rejects_the_whole_batch_with_its_index_and_reason(
    cast, kpi, bad, field, words
):
    body = points(5)
    body.insert(3, bad)
    response = post(cast.client("pm"), kpi, body)
    assert response.status_code == 400
    errors = response.json()
    assert words in errors[f"points.3.{field}"][0]
    assert "Point 3" in errors["non_field_errors"][0]
    assert "Nothing was stored" in errors["non_field_errors"][0]
    assert not DataPoint.objects.exists()
    assert not DirtyRange.objects.exists()


def test_every_bad_point_is_counted_but_the_report_stays_short(cast, kpi):
    body = [{"timestamp": "nope", "value": 1}] * 50
    errors = post(cast.client("pm"), kpi, body).json()
    assert "50 invalid points" in errors["non_field_errors"][0]
    assert len([k for k in errors if k.startswith("points.")]) == 20


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "at least one point"),
        ({"timestamp": "2021-01-01", "value": 1}, "JSON list"),
        (points(10_001), "at most 10,000 points"),
    ],
)
def test_batches_of_the_wrong_shape_or_size_are_refused(cast, kpi, body, words):
    response = post(cast.client("pm"), kpi, body)
    assert response.status_code == 400
    assert words in response.json()["points"][0]
    assert not DataPoint.objects.exists()


def test_a_batch_of_ten_thousand_is_accepted(cast, kpi):
    response = post(cast.client("pm"), kpi, points(10_000))
    assert response.status_code == 201
    assert DataPoint.objects.filter(kpi=kpi).count() == 10_000


def test_malformed_json_is_a_400_not_a_500(cast, kpi):
    response = cast.client("pm").post(url(kpi), "[{", content_type="application/json")
    assert response.status_code == 400


def test_a_ratio_kpi_takes_no_points_of_its_own(cast):
    ratio = KPIFactory(
        product=cast.product,
        aggregation="ratio",
        numerator=KPIFactory(product=cast.product),
        denominator=KPIFactory(product=cast.product),
    )
    response = post(cast.client("pm"), ratio, points(2))
    assert response.status_code == 400
    assert "numerator and denominator" in response.json()["kpi"][0]


@pytest.mark.parametrize(("who", "status"), [("engineer", 403), ("stakeholder", 403)])
def test_roles_below_pm_cannot_ingest(cast, kpi, who, status):
    assert post(cast.client(who), kpi, points(2)).status_code == status
    assert not DataPoint.objects.exists()


def test_outsiders_and_unknown_kpis_get_404(cast, kpi):
    assert post(cast.client("outsider"), kpi, points(2)).status_code == 404
    kpi.pk += 1000
    assert post(cast.client("pm"), kpi, points(2)).status_code == 404


def test_anonymous_callers_are_challenged(kpi):
    response = post(Client(), kpi, points(2))
    assert response.status_code == 401


def test_a_read_write_token_ingests_and_a_read_token_cannot(cast, kpi):
    _t, write = api_token_create(
        user=cast.pm, name="etl", scope=ApiToken.Scope.READ_WRITE, actor=cast.pm
    )
    _t, read = api_token_create(user=cast.pm, name="dash", actor=cast.pm)
    client = Client()
    assert post(client, kpi, points(2), Authorization=f"Token {write}").status_code == 201
    assert post(client, kpi, points(2), Authorization=f"Token {read}").status_code == 403
    assert DataPoint.objects.filter(kpi=kpi).count() == 2


# --- the KPI resource -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 8])
def test_the_kpi_list_has_latest_values_in_constant_queries(
    cast, count, django_assert_max_num_queries
):
    from tests.metrics.helpers import ingest

    for i in range(count):
        k = KPIFactory(product=cast.product, name=f"K{i}", aggregation="last")
        ingest(k, [("2021-01-01T10:00:00+00:00", 1), ("2021-01-02T10:00:00+00:00", i)])
    KPIFactory()  # another workspace's: never listed
    client = cast.client("stakeholder")
    # session, user; the product and the caller's membership (?product=); count, the page of
    # KPIs, their latest buckets (one window-function query)
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/kpis/?product=LOD")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["name"] for r in rows] == [f"K{i}" for i in range(count)]
    assert rows[-1]["latest_value"] == f"{count - 1}.0000000000"
    assert rows[-1]["latest_period"] == "2021-01-02"
    assert rows[-1]["product"] == "LOD"


def test_one_kpi_with_its_etag(cast, kpi):
    response = cast.client("stakeholder").get(f"/api/v1/kpis/{kpi.pk}/")
    assert response.status_code == 200
    assert response.json()["latest_value"] is None
    again = cast.client("stakeholder").get(
        f"/api/v1/kpis/{kpi.pk}/", headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304
    assert cast.client("outsider").get(f"/api/v1/kpis/{kpi.pk}/").status_code == 404


def test_a_pm_defines_a_ratio_kpi_through_the_api(cast, kpi):
    other = KPIFactory(product=cast.product)
    response = cast.client("pm").post(
        "/api/v1/kpis/",
        {
            "product": "LOD",
            "name": "Conversion",
            "aggregation": "ratio",
            "numerator": kpi.pk,
            "denominator": other.pk,
            "ratio_multiplier": "100",
            "unit": "%",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["numerator"] == kpi.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"aggregation": "ratio"}, "numerator"),
        ({"aggregation": "ratio", "numerator": 999999, "denominator": 999998}, "numerator"),
        ({"owner": 999999}, "owner"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_bad_kpi_definitions_get_400(cast, body, field):
    response = cast.client("pm").post(
        "/api/v1/kpis/", {"product": "LOD", "name": "X", **body}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_duplicate_kpi_name_gets_400(cast, kpi):
    response = cast.client("pm").post(
        "/api/v1/kpis/",
        {"product": "LOD", "name": kpi.name.upper()},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_stakeholders_cannot_define_kpis(cast):
    response = cast.client("stakeholder").post(
        "/api/v1/kpis/", {"product": "LOD", "name": "X"}, content_type="application/json"
    )
    assert response.status_code == 403
