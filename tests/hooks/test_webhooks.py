"""Webhooks out, in-process: which changes make which deliveries (in the change's transaction),
what their payloads hold, how one attempt is signed, sent, retried, ordered and given up, the
address checks, and turning off an endpoint that failed for days."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from backlog import services as backlog
from backlog.choices import FeatureStatus, StoryStatus
from hooks import events, sending, services
from hooks.models import Attempt, Delivery, Endpoint
from pm.api.tokens import api_token_create
from tests.backlog.factories import FeatureFactory
from tests.hooks.factories import make_delivery, make_endpoint

pytestmark = pytest.mark.django_db


def _endpoint(cast, events_, **fields):
    endpoint = services.endpoint_create(
        workspace=cast.workspace,
        name="CI",
        url=fields.pop("url", "https://hooks.example.com/in"),
        kind=fields.pop("kind", Endpoint.Kind.WEBHOOK),
        events=events_,
        actor=cast.admin,
    )
    return endpoint


def _story(cast, **kw):
    feature = FeatureFactory(product=cast.product)
    return backlog.story_create(feature=feature, data={"title": "Export", **kw}, actor=cast.pm)


# --- which changes make deliveries ------------------------------------------------------------


def test_a_new_story_writes_one_delivery_per_subscribed_endpoint_in_its_transaction(cast):
    ci = _endpoint(cast, ["story.created"])
    _endpoint(cast, ["feature.created"])  # not interested in stories
    story = _story(cast)
    (delivery,) = Delivery.objects.filter(event="story.created")
    assert delivery.endpoint == ci
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.object_key == f"backlog.userstory:{story.pk}"
    body = delivery.payload
    assert body["event"] == "story.created"
    assert body["product"] == cast.product.key
    assert body["data"]["key"] == story.key
    assert body["object"]["url"].endswith(f"/stories/{story.number}/")


def test_a_status_change_is_an_update_and_a_status_change_and_shipping_is_its_own_event(cast):
    _endpoint(cast, ["feature.updated", "feature.status_changed", "feature.shipped"])
    feature = FeatureFactory(product=cast.product)
    feature = backlog.feature_update(
        feature=feature, data={"title": "Renamed"}, expected_version=feature.version, actor=cast.pm
    )
    assert list(Delivery.objects.values_list("event", flat=True)) == ["feature.updated"]
    backlog.feature_update(
        feature=feature,
        data={"status": FeatureStatus.SHIPPED},
        expected_version=feature.version,
        actor=cast.pm,
    )
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "feature.shipped",
        "feature.status_changed",
        "feature.updated",
        "feature.updated",
    ]
    shipped = Delivery.objects.get(event="feature.shipped")
    assert shipped.payload["changes"]["status"][1] == "Shipped"


def test_paused_endpoints_and_workspaces_without_endpoints_get_nothing(
    cast, django_assert_num_queries
):
    endpoint = _endpoint(cast, ["story.created"])
    services.endpoint_update(
        endpoint=endpoint,
        name="CI",
        url=endpoint.url,
        events=["story.created"],
        active=False,
        actor=cast.admin,
    )
    _story(cast)
    assert not Delivery.objects.exists()


def test_a_write_in_a_workspace_without_endpoints_costs_no_query(cast, django_assert_num_queries):
    events.subscribed_events(cast.workspace.pk)  # cached
    with django_assert_num_queries(0):
        events.subscribed_events(cast.workspace.pk)


def test_the_payload_is_what_an_engineer_token_reads_from_the_api(cast):
    """Internal fields (ROI inputs) are the team's: an engineer reads them, so the payload
    carries exactly the API's representation, no more."""
    _endpoint(cast, ["feature.created"])
    feature = backlog.feature_create(
        product=cast.product,
        data={"title": "Bulk export", "expected_revenue": 120000, "cost": 30000},
        actor=cast.pm,
    )
    delivery = Delivery.objects.get(event="feature.created")
    _token, key = api_token_create(user=cast.engineer, name="t", scope="read", actor=cast.engineer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    seen = api.get(f"/api/v1/features/{feature.pk}/").json()
    assert delivery.payload["data"] == seen


def test_chat_endpoints_take_only_the_chat_events(cast):
    with pytest.raises(ValidationError) as error:
        _endpoint(cast, ["story.created"], kind=Endpoint.Kind.SLACK)
    assert "events" in error.value.message_dict
    _endpoint(cast, ["feature.shipped"], kind=Endpoint.Kind.TEAMS)


# --- addresses (SSRF) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/in",
        "file:///etc/passwd",
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://user:pw@hooks.example.com/",
    ],
)
def test_addresses_outside_the_public_internet_are_refused(url):
    with pytest.raises(ValidationError):
        sending.validate_url(url)


def test_loopback_is_allowed_only_by_its_setting_and_private_networks_stay_refused(loopback):
    sending.validate_url("http://127.0.0.1:9/")
    with pytest.raises(ValidationError):
        sending.validate_url("http://10.1.2.3/")


def test_a_delivery_whose_host_now_resolves_privately_is_not_sent(cast):
    endpoint = make_endpoint(cast.workspace, url="http://127.0.0.1:9/in")
    delivery = make_delivery(endpoint)
    result = sending.attempt(delivery.pk, owner="t")
    delivery.refresh_from_db()
    assert result["outcome"] == "retry"
    assert "private, loopback" in delivery.last_error
    assert Attempt.objects.get(delivery=delivery).status_code is None


# --- one attempt, against a real receiver on loopback -----------------------------------------


def test_a_delivery_is_signed_over_timestamp_and_body_and_names_its_delivery(
    cast, loopback, receiver
):
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    receiver.secret = endpoint.secret
    delivery = make_delivery(endpoint, payload={"event": "story.updated", "data": {"id": 1}})
    assert sending.attempt(delivery.pk, owner="t")["outcome"] == "delivered"
    (got,) = receiver.requests
    assert got.signature_ok
    assert got.delivery == str(delivery.uuid)
    assert got.event == "story.updated"
    assert abs(int(got.timestamp) - timezone.now().timestamp()) < 60
    assert got.json() == {"id": str(delivery.uuid), "event": "story.updated", "data": {"id": 1}}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert (delivery.last_status_code, delivery.attempts) == (200, 1)


def test_a_rotated_secret_signs_with_both_for_a_day(cast, loopback, receiver):
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    old = endpoint.secret
    new = services.endpoint_rotate_secret(endpoint=endpoint, actor=cast.admin)
    assert new != old
    receiver.secret = old
    sending.attempt(make_delivery(endpoint).pk, owner="t")
    assert receiver.requests[-1].signature_ok
    receiver.secret = new
    assert receiver.verify(
        receiver.requests[-1].timestamp, receiver.requests[-1].body, receiver.requests[-1].signature
    )


def test_a_500_is_retried_later_with_growing_waits_then_given_up(
    cast, loopback, receiver, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.fail_all = True
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    delivery = make_delivery(endpoint)
    waits = []
    for _ in range(3):
        result = sending.attempt(delivery.pk, owner="t")
        assert result["outcome"] == "retry"
        waits.append(result["retry_in"])
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert waits == [30, 60, 120]
    delivery.refresh_from_db()
    assert delivery.last_status_code == 500
    assert delivery.last_response == "receiver is down (scripted)"
    # Past its 24 hours: given up.
    Delivery.objects.filter(pk=delivery.pk).update(give_up_at=timezone.now())
    assert sending.attempt(delivery.pk, owner="t")["outcome"] == "failed"
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 500, 500]


def test_a_delivery_not_due_yet_or_held_by_a_live_worker_is_not_sent(cast, loopback, receiver):
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    later = make_delivery(endpoint, next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert sending.attempt(later.pk, owner="t")["outcome"] == "waiting"
    held = make_delivery(
        endpoint,
        object_key="backlog.userstory:2",
        status=Delivery.Status.SENDING,
        lease_until=timezone.now() + timedelta(seconds=30),
    )
    assert sending.attempt(held.pk, owner="t")["outcome"] == "busy"
    # A worker that died mid-request: after its lease, the same delivery goes again.
    Delivery.objects.filter(pk=held.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sending.attempt(held.pk, owner="t")["outcome"] == "delivered"
    assert not receiver.requests[0].duplicate


def test_a_later_event_of_an_object_waits_for_the_earlier_one(cast, loopback, receiver):
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    first = make_delivery(endpoint, payload={"n": 1})
    second = make_delivery(endpoint, payload={"n": 2})
    other = make_delivery(endpoint, object_key="backlog.userstory:99", payload={"n": 3})
    assert sending.attempt(second.pk, owner="t")["outcome"] == "waiting"
    assert sending.attempt(other.pk, owner="t")["outcome"] == "delivered"  # another object
    receiver.fail_all = True
    assert sending.attempt(first.pk, owner="t")["outcome"] == "retry"
    assert sending.attempt(second.pk, owner="t")["outcome"] == "waiting"
    receiver.fail_all = False
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    result = sending.attempt(first.pk, owner="t")
    assert result == {"outcome": "delivered", "retry_in": None, "next": [second.pk]}
    assert sending.attempt(second.pk, owner="t")["outcome"] == "delivered"
    assert [r.json()["n"] for r in receiver.accepted()] == [3, 1, 2]


def test_an_endpoint_failing_for_days_is_turned_off_and_its_admins_are_told(
    cast, loopback, receiver, settings
):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    receiver.fail_all = True
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    waiting = make_delivery(endpoint, object_key="x:2")
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    sending.attempt(make_delivery(endpoint).pk, owner="t")
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at
    assert "3 days" in endpoint.disabled_reason
    waiting.refresh_from_db()
    assert waiting.status == Delivery.Status.FAILED
    (message,) = mail.outbox
    assert message.to == [cast.admin.email]
    assert "turned off" in message.subject
    assert f"/webhooks/{endpoint.pk}/" in message.body
    # A success before the deadline resets the clock instead.
    other = make_endpoint(cast.workspace, url=receiver.url)
    Endpoint.objects.filter(pk=other.pk).update(failing_since=timezone.now() - timedelta(days=2))
    receiver.fail_all = False
    sending.attempt(make_delivery(other).pk, owner="t")
    other.refresh_from_db()
    assert other.active and other.failing_since is None


def test_the_sweep_hands_out_deliveries_nobody_is_sending(cast, settings):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 60
    endpoint = make_endpoint(cast.workspace)
    fresh = make_delivery(endpoint, object_key="a:1")
    lost = make_delivery(
        endpoint, object_key="a:2", next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    dead = make_delivery(
        endpoint,
        object_key="a:3",
        status=Delivery.Status.SENDING,
        lease_until=timezone.now() - timedelta(minutes=5),
    )
    blocked = make_delivery(  # behind `lost`: goes when `lost` finishes
        endpoint, object_key="a:2", next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert sending.orphans(timezone.now()) == [lost.pk, dead.pk]
    assert fresh.pk and blocked.pk


def test_story_events_in_order_of_their_writes(cast):
    _endpoint(cast, ["story.updated", "story.status_changed"])
    story = _story(cast)
    for status in (StoryStatus.IN_PROGRESS, StoryStatus.IN_REVIEW, StoryStatus.DONE):
        story = backlog.story_update(
            story=story,
            data={"status": status},
            expected_version=story.version,
            actor=cast.engineer,
        )
    rows = list(Delivery.objects.filter(event="story.status_changed").order_by("pk"))
    assert [d.payload["data"]["status"] for d in rows] == ["in_progress", "in_review", "done"]
    assert len({d.object_key for d in rows}) == 1
