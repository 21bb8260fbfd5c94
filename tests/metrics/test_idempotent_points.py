"""Nothing doubled, nothing from the future: a data point is identified by its KPI, timestamp and
dimensions (sent again, it replaces the stored value), points more than a day ahead are refused,
and a PM can delete a KPI's points by time range, with history and recalculated rollups."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrics import services
from metrics.models import DataPoint, DirtyRange
from pm.models import ActivityLog
from tests.api.conftest import token_client
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import rollups

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi(cast):
    return KPIFactory(product=cast.product, aggregation="sum")


def post(client, kpi, body, **headers):
    return client.post(
        f"/api/v1/kpis/{kpi.pk}/datapoints/",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def upload(cast, kpi, text: str, again: bool = False):
    data: dict[str, object] = {
        "file": SimpleUploadedFile("data.csv", text.encode(), content_type="text/csv")
    }
    if again:  # past the "already imported" question (the file's content hash)
        data["again"] = "on"
    return cast.client("pm").post(
        f"/p/LOD/kpis/{kpi.pk}/upload/", data, headers={"HX-Request": "true"}
    )


BATCH = [
    {"timestamp": "2026-03-01T10:00:00Z", "value": 5},
    {"timestamp": "2026-03-01T11:00:00Z", "value": 7},
    {"timestamp": "2026-03-01T11:00:00Z", "value": 1, "dimensions": {"plan": "pro"}},
    {"timestamp": "2026-03-02T09:00:00Z", "value": 3},
]


def test_a_batch_sent_again_replaces_its_points_and_the_sums_stay(
    cast, kpi, django_capture_on_commit_callbacks
):
    client = cast.client("pm")
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, kpi, BATCH)
    assert first.json()["stored"] == 4 and first.json()["replaced"] == 0
    sums = rollups(kpi, "day")
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, kpi, BATCH)
    assert again.status_code == 201
    assert again.json()["stored"] == 0 and again.json()["replaced"] == 4
    assert DataPoint.objects.filter(kpi=kpi).count() == 4
    assert rollups(kpi, "day") == sums == {"2026-03-01": Decimal(13), "2026-03-02": Decimal(3)}


def test_a_re_sent_point_with_a_new_value_replaces_it_and_its_bucket_is_recalculated(
    cast, kpi, django_capture_on_commit_callbacks
):
    client = cast.client("pm")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, kpi, BATCH)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, kpi, [{"timestamp": "2026-03-02T10:00:00+01:00", "value": 30}])
    assert response.json()["replaced"] == 1  # the same instant as 09:00Z
    assert rollups(kpi, "day")["2026-03-02"] == Decimal(30)
    assert DataPoint.objects.filter(kpi=kpi).count() == 4
    assert (
        "1 replaced"
        in ActivityLog.objects.filter(object_id=kpi.pk).first().changes["data points"][1]
    )


def test_within_one_batch_the_last_copy_of_a_point_wins(cast, kpi):
    same = {"timestamp": "2026-03-01T10:00:00Z", "dimensions": {"a": "1", "b": "2"}}
    response = post(
        cast.client("pm"),
        kpi,
        [{**same, "value": 1}, {**same, "value": 2, "dimensions": {"b": "2", "a": "1"}}],
    )
    assert response.status_code == 201
    assert DataPoint.objects.get(kpi=kpi).value == Decimal(2)


def test_the_same_csv_uploaded_five_times_gives_the_same_sums(
    cast, kpi, django_capture_on_commit_callbacks
):
    csv = "date,value,plan\n2026-02-01,10,pro\n2026-02-01,4,free\n2026-02-02,12.5,\n"
    for attempt in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(cast, kpi, csv, again=attempt > 0)
        assert response.status_code == 200
    assert "0 points stored, 3 replaced" in response.content.decode()
    assert DataPoint.objects.filter(kpi=kpi).count() == 3
    assert rollups(kpi, "month") == {"2026-02-01": Decimal("26.5")}


def test_the_same_batch_with_an_idempotency_key_is_answered_from_the_first_response(cast, kpi):
    client = token_client(cast.pm)
    first = client.post(
        f"/api/v1/kpis/{kpi.pk}/datapoints/",
        BATCH,
        format="json",
        headers={"Idempotency-Key": "b1"},
    )
    again = client.post(
        f"/api/v1/kpis/{kpi.pk}/datapoints/",
        BATCH,
        format="json",
        headers={"Idempotency-Key": "b1"},
    )
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert again.json()["stored"] == 4
    assert DirtyRange.objects.filter(kpi=kpi).count() <= 1  # the replay did no work


# --- the future ------------------------------------------------------------------------------


def test_a_point_more_than_a_day_ahead_is_refused_naming_it(cast, kpi):
    soon = timezone.now() + timedelta(hours=23)
    body = [
        {"timestamp": "2026-03-01T10:00:00Z", "value": 1},
        {"timestamp": soon.isoformat(), "value": 2},
        {"timestamp": "2099-01-01", "value": 3},
    ]
    response = post(cast.client("pm"), kpi, body)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["non_field_errors", "points.2.timestamp"]
    assert "more than a day in the future" in errors["points.2.timestamp"][0]
    assert errors["non_field_errors"][0].startswith("Point 2 (timestamp): 2099-01-01")
    assert not DataPoint.objects.exists()
    assert post(cast.client("pm"), kpi, body[:2]).status_code == 201


def test_a_csv_row_from_the_future_is_named_by_its_row(cast, kpi):
    html = upload(cast, kpi, "date,value\n2026-01-01,1\n2099-01-01,2\n").content.decode()
    assert "Row 3 (timestamp)" in html and "more than a day in the future" in html
    assert not DataPoint.objects.exists()


# --- hostile values in points ---------------------------------------------------------------


@pytest.mark.parametrize(
    "point",
    [
        {"timestamp": "2026-03-01T10:00:00Z", "value": 1, "dimensions": {"pl\u0000an": "x"}},
        {"timestamp": "2026-03-01T10:00:00Z", "value": 1, "dimensions": {"plan": "\u0000"}},
        {"timestamp": "2026-03-01T10:00:00Z", "value": 1e300},
        {
            "timestamp": "2026-03-01T10:00:00Z",
            "value": 1,
            "dimensions": {"x": "y" * 200, **{f"k{i}": "v" * 150 for i in range(10)}},
        },
    ],
)
def test_hostile_points_get_400(cast, kpi, point):
    response = post(cast.client("pm"), kpi, [point])
    assert response.status_code == 400
    assert not DataPoint.objects.exists()


def test_a_csv_with_a_nul_in_a_column_name_is_refused_clearly(cast, kpi):
    html = upload(cast, kpi, "date,value,pl\x00an\n2026-01-01,1,pro\n").content.decode()
    assert "NUL characters" in html
    assert not DataPoint.objects.exists()


# --- deleting by time range ------------------------------------------------------------------


def _ingest(cast, kpi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(cast.client("pm"), kpi, BATCH).status_code == 201


def test_a_pm_deletes_a_days_points_on_the_kpi_page_with_history(
    cast, kpi, django_capture_on_commit_callbacks
):
    _ingest(cast, kpi, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("pm").post(
            f"/p/LOD/kpis/{kpi.pk}/points/delete/",
            {"first_day": "2026-03-02", "last_day": "2026-03-02"},
            follow=True,
        )
    assert "1 data point of 2 Mar 2026 deleted" in response.content.decode()
    assert DataPoint.objects.filter(kpi=kpi).count() == 3
    assert rollups(kpi, "day") == {"2026-03-01": Decimal(13)}
    entry = ActivityLog.objects.filter(object_id=kpi.pk).first()
    assert entry.actor == cast.pm
    assert entry.changes["data points"][1].startswith("−1 from 2026-03-02 09:00")


def test_the_delete_form_shows_its_errors_beside_the_fields(cast, kpi):
    response = cast.client("pm").post(
        f"/p/LOD/kpis/{kpi.pk}/points/delete/",
        {"first_day": "2026-03-02", "last_day": "2026-03-01"},
    )
    assert response.status_code == 200
    assert "Choose a day on or after the first day." in response.content.decode()


def test_the_api_deletes_points_by_range_including_ones_from_the_future(
    cast, kpi, django_capture_on_commit_callbacks
):
    _ingest(cast, kpi, django_capture_on_commit_callbacks)
    # A point dated in the future by mistake (stored before such points were refused).
    services.datapoints_ingest(
        kpi=kpi,
        points=[services.Point(datetime(2099, 1, 1, tzinfo=UTC), Decimal(99))],
        actor=cast.pm,
    )
    client = token_client(cast.pm)
    url = f"/api/v1/kpis/{kpi.pk}/datapoints/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{url}?start=2099-01-01&end=2099-01-01")
    assert response.status_code == 200
    assert response.json() == {"kpi": kpi.pk, "deleted": 1, "recalculation": "queued"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{url}?start=2026-03-01T10:30:00Z&end=2026-03-01T11:00:00Z")
    assert response.json()["deleted"] == 2  # both points of 11:00 (with and without a plan)
    assert rollups(kpi, "day") == {"2026-03-01": Decimal(5), "2026-03-02": Decimal(3)}
    assert (
        "deleted through the API"
        in ActivityLog.objects.filter(object_id=kpi.pk).first().changes["data points"][1]
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [("", "start"), ("?start=2026-03-02", "end"), ("?start=2026-03-02&end=2026-03-01", "end")],
)
def test_a_range_delete_needs_a_valid_range(cast, kpi, query, field):
    response = token_client(cast.pm).delete(f"/api/v1/kpis/{kpi.pk}/datapoints/{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_an_engineer_cannot_delete_points(cast, kpi):
    response = token_client(cast.engineer).delete(
        f"/api/v1/kpis/{kpi.pk}/datapoints/?start=2026-01-01&end=2026-12-01"
    )
    assert response.status_code == 403


def test_a_full_batch_over_the_form_size_limit_is_accepted_with_a_key_too(cast, kpi, settings):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    note = "n" * 200
    body = [
        {
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
            "value": i,
            "dimensions": {"note": note},
        }
        for i in range(10_000)
    ]
    payload = json.dumps(body)
    assert len(payload) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = token_client(cast.pm).post(
        f"/api/v1/kpis/{kpi.pk}/datapoints/",
        payload,
        content_type="application/json",
        headers={"Idempotency-Key": "big"},
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["stored"] == 10_000
