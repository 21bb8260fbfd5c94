"""POST /api/v1/events/: product-analytics events in bulk, validated, idempotent by event id."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metrics import partitions
from metrics.models import Event
from pm.api.tokens import api_token_create
from pm.models import ApiToken

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"
START = datetime(2026, 10, 5, 9, tzinfo=UTC)


def post(client, body, url=URL, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def events(n, *, start=START, prefix="e"):
    return [
        {
            "id": f"{prefix}{i}",
            "event": ("page_viewed", "signed_up", "upgraded")[i % 3],
            "user_id": f"u{i % 7}",
            "timestamp": (start + timedelta(minutes=11 * i)).isoformat(),
            "properties": {"plan": "pro" if i % 2 else "free", "n": i},
        }
        for i in range(n)
    ]


def test_a_pm_sends_a_batch_and_it_is_stored_with_one_insert(cast):
    with CaptureQueriesContext(connection) as queries:
        response = post(cast.client("pm"), {"product": "LOD", "events": events(300)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["received"], body["stored"], body["duplicates"]) == (300, 300, 0)
    assert body["product"] == "LOD"
    inserts = [q for q in queries.captured_queries if "INSERT INTO metrics_event" in q["sql"]]
    assert len(inserts) == 1
    stored = Event.objects.get(product=cast.product, event_id="e4")
    assert (stored.name, stored.distinct_id, stored.properties) == (
        "signed_up",
        "u4",
        {"plan": "free", "n": 4},
    )
    assert stored.timestamp == START + timedelta(minutes=44)
    assert stored.workspace_id == cast.workspace.pk


def test_a_retried_batch_stores_nothing_twice(cast):
    batch = {"product": "LOD", "events": events(50)}
    assert post(cast.client("pm"), batch).json()["stored"] == 50
    again = post(cast.client("admin"), {"product": "LOD", "events": events(60)})
    assert again.status_code == 201
    assert (again.json()["stored"], again.json()["duplicates"]) == (10, 50)
    assert Event.objects.filter(product=cast.product).count() == 60


def test_a_bare_list_names_its_product_in_the_query_and_anonymous_ids_are_kept_apart(cast):
    body = [
        {"id": 1, "event": "page_viewed", "anonymous_id": "42", "timestamp": START.isoformat()},
        {"id": 2, "event": "page_viewed", "user_id": 42, "timestamp": START.isoformat()},
    ]
    response = post(cast.client("pm"), body, url=f"{URL}?product={cast.product.pk}")
    assert response.status_code == 201, response.content
    assert set(Event.objects.values_list("distinct_id", flat=True)) == {"anon:42", "42"}


def test_a_token_may_send_events(cast):
    _, key = api_token_create(
        user=cast.pm, name="app", scope=ApiToken.Scope.READ_WRITE, actor=cast.pm
    )
    response = post(
        Client(),
        {"product": "LOD", "events": events(2)},
        Authorization=f"Token {key}",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("role", ["engineer", "stakeholder"])
def test_roles_below_pm_are_refused(cast, role):
    response = post(cast.client(role), {"product": "LOD", "events": events(2)})
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_an_outsider_gets_404_and_anonymous_401(cast):
    assert post(cast.client("outsider"), {"product": "LOD", "events": events(2)}).status_code == 404
    assert (
        post(cast.client("anonymous"), {"product": "LOD", "events": events(2)}).status_code == 401
    )
    assert not Event.objects.exists()


def test_one_bad_event_rejects_the_batch_and_says_which(cast):
    batch = events(5)
    batch[3]["timestamp"] = "yesterday"
    del batch[1]["user_id"]
    response = post(cast.client("pm"), {"product": "LOD", "events": batch})
    assert response.status_code == 400
    body = response.json()
    assert "events.3.timestamp" in body and "events.1.user_id" in body
    assert "Event 1" in body["non_field_errors"][0]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event": "sign\x00up"}, None),  # the JSON parser refuses NUL anywhere
        ({"event": ""}, "event"),
        ({"id": "x" * 101}, "id"),
        ({"properties": {"deep": {"a": {"b": 1}}}}, "properties"),
        ({"properties": {"n": 10**30}}, "properties"),
        ({"properties": {"t": "a\x00b"}}, None),
        ({"properties": ["a"]}, "properties"),
        ({"timestamp": "9999-12-31T00:00:00Z"}, "timestamp"),
        ({"timestamp": "1900-01-01T00:00:00Z"}, "timestamp"),
        ({"colour": "red"}, "non_field_errors"),
        ({"user_id": {"id": 1}}, "user_id"),
    ],
)
def test_hostile_or_malformed_events_get_400(cast, change, field):
    event = {**events(1)[0], **change}
    response = post(cast.client("pm"), {"product": "LOD", "events": [event]})
    assert response.status_code == 400, response.content
    assert field is None or f"events.0.{field}" in response.json()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"product": "LOD", "events": []}, {"product": "LOD", "events": "x"}, {"events": events(1)},
     {"product": ["LOD"], "events": events(1)}, "just text"],
)  # fmt: skip
def test_malformed_batches_get_400(cast, body):
    assert post(cast.client("pm"), body).status_code == 400


def test_more_than_ten_thousand_events_are_refused(cast):
    batch = [{"id": i} for i in range(10_001)]
    response = post(cast.client("pm"), {"product": "LOD", "events": batch})
    assert response.status_code == 400
    assert "10,000" in response.json()["events"][0]


def test_a_backfill_lands_in_its_month_partition(cast):
    old = datetime(2019, 3, 14, 12, tzinfo=UTC)
    response = post(cast.client("pm"), {"product": "LOD", "events": events(3, start=old)})
    assert response.status_code == 201
    assert partitions.Month(2019, 3) in partitions.attached(partitions.EVENTS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM metrics_event")
        assert [row[0] for row in cursor.fetchall()] == ["metrics_event_p2019_03"]


@pytest.mark.parametrize("size", [10, 2000])
def test_ingestion_queries_do_not_grow_with_the_batch(cast, size, django_assert_max_num_queries):
    client = cast.client("pm")
    # session + user, memberships, product, partition check, the insert, savepoints
    with django_assert_max_num_queries(12):
        response = post(client, {"product": "LOD", "events": events(size)})
    assert response.status_code == 201
    assert response.json()["stored"] == size
