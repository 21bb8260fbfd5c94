"""The Webhooks settings pages (admins only), the delivery log and its Redeliver button, Slack
and Teams bodies delivered to a loopback receiver, and the events that do not come from the
activity log: critical feedback and a KPI going off target."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.choices import Importance
from feedback.services.insights import insight_create
from hooks import chat, sending, services
from hooks.models import Delivery, Endpoint
from metrics.tasks import recalculate_kpi
from tests.backlog.factories import FeatureFactory
from tests.feedback.factories import FeedbackItemFactory
from tests.hooks.factories import make_delivery, make_endpoint
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest

pytestmark = pytest.mark.django_db


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(cast):
    admin = cast.client("admin")
    url = reverse("webhook_list", args=[cast.workspace.slug])
    page = admin.post(
        url,
        {
            "name": "CI",
            "url": "https://ci.example.com/hooks/lodestar",
            "kind": "webhook",
            "events": ["story.created", "feature.shipped"],
        },
    )
    assert page.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.secret.encode() in page.content
    assert endpoint.events == ["feature.shipped", "story.created"]
    again = admin.get(url)
    assert endpoint.secret.encode() not in again.content
    assert b"CI" in again.content
    detail = admin.get(reverse("webhook_detail", args=[cast.workspace.slug, endpoint.pk]))
    assert endpoint.secret.encode() not in detail.content
    assert endpoint.secret_hint.encode() in detail.content


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.8/hook", b"private, loopback"),
        ("ftp://example.com/x", b"Only http:// and https://"),
        ("not a url", b"Enter a valid URL"),
    ],
)
def test_bad_addresses_are_form_errors_not_server_errors(cast, url, message):
    page = cast.client("admin").post(
        reverse("webhook_list", args=[cast.workspace.slug]),
        {"name": "x", "url": url, "kind": "webhook", "events": ["story.created"]},
    )
    assert page.status_code == 400
    assert message in page.content
    assert not Endpoint.objects.exists()


def test_a_slack_endpoint_cannot_take_every_event(cast):
    page = cast.client("admin").post(
        reverse("webhook_list", args=[cast.workspace.slug]),
        {
            "name": "#eng",
            "url": "https://hooks.slack.com/services/T0/B0/x",
            "kind": "slack",
            "events": ["story.created"],
        },
    )
    assert page.status_code == 400
    assert b"Chat channels get shipped features" in page.content


@pytest.mark.parametrize("role", ["pm", "engineer", "stakeholder"])
def test_only_admins_manage_endpoints(cast, role):
    endpoint = make_endpoint(cast.workspace)
    delivery = make_delivery(endpoint)
    slug = cast.workspace.slug
    client = cast.client(role)
    for method, url in (
        ("get", reverse("webhook_list", args=[slug])),
        ("post", reverse("webhook_list", args=[slug])),
        ("get", reverse("webhook_detail", args=[slug, endpoint.pk])),
        ("post", reverse("webhook_rotate", args=[slug, endpoint.pk])),
        ("post", reverse("webhook_delete", args=[slug, endpoint.pk])),
        ("post", reverse("webhook_redeliver", args=[slug, endpoint.pk, delivery.pk])),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (method, url)
        assert endpoint.secret.encode() not in response.content
    endpoint.refresh_from_db()  # still there, secret unchanged


def test_the_delivery_log_shows_each_attempt_and_redeliver_sends_it_again(
    cast, loopback, receiver, django_capture_on_commit_callbacks
):
    receiver.fail_all = True
    endpoint = make_endpoint(cast.workspace, url=receiver.url)
    delivery = make_delivery(endpoint)
    sending.attempt(delivery.pk, owner="t")
    Delivery.objects.filter(pk=delivery.pk).update(give_up_at=timezone.now())
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    sending.attempt(delivery.pk, owner="t")
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    admin = cast.client("admin")
    page = admin.get(reverse("webhook_detail", args=[cast.workspace.slug, endpoint.pk]))
    assert b"receiver is down (scripted)" in page.content
    assert b"Given up" in page.content
    assert b"2 attempts" in page.content

    receiver.fail_all = False
    redeliver = reverse("webhook_redeliver", args=[cast.workspace.slug, endpoint.pk, delivery.pk])
    # Its on_commit hook sends it (tasks run in-process here, as in trial mode).
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(redeliver)
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.attempts == 3
    assert [r.delivery for r in receiver.requests] == [str(delivery.uuid)] * 3  # same id


def test_slack_and_teams_get_their_own_formats(cast, loopback, receiver):
    feature = FeatureFactory(product=cast.product, title="CSV export")
    payload = {
        "event": "feature.shipped",
        "product": "LOD",
        "object": {
            "type": "feature",
            "id": feature.pk,
            "url": "http://testserver/p/LOD/features/1/",
        },
        "data": {"title": "CSV export <beta>", "description": "Export <what> you see."},
    }
    slack = chat.slack(payload)
    assert slack["text"] == "Shipped: CSV export <beta>"
    assert slack["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Shipped: CSV export <beta>"},
    }
    assert slack["blocks"][-1]["elements"][0]["url"] == payload["object"]["url"]
    assert slack["blocks"][1]["text"]["text"] == "Export &lt;what&gt; you see."  # mrkdwn
    teams = chat.teams(payload)
    assert teams["@type"] == "MessageCard"
    assert teams["potentialAction"][0]["targets"][0]["uri"] == payload["object"]["url"]

    for kind, check in (
        ("slack", lambda b: "blocks" in b),
        ("teams", lambda b: b["@type"] == "MessageCard"),
    ):
        endpoint = make_endpoint(
            cast.workspace, url=receiver.url, kind=kind, events=["feature.shipped"]
        )
        delivery = make_delivery(endpoint, event="feature.shipped", payload=payload)
        assert sending.attempt(delivery.pk, owner="t")["outcome"] == "delivered"
        assert check(receiver.requests[-1].json())


def test_critical_feedback_is_an_event_and_other_importances_are_not(cast):
    endpoint = services.endpoint_create(
        workspace=cast.workspace,
        name="#product",
        url="https://hooks.slack.com/services/T/B/x",
        kind="slack",
        events=["feedback.critical"],
        actor=cast.admin,
    )
    feature = FeatureFactory(product=cast.product, title="SSO")
    item = FeedbackItemFactory(product=cast.product, content="We cannot roll out without SSO.")
    other = FeedbackItemFactory(product=cast.product, content="Nice to have dark mode.")
    insight_create(item=other, actor=cast.pm, feature=feature, importance=Importance.IMPORTANT)
    assert not Delivery.objects.exists()
    insight_create(item=item, actor=cast.pm, feature=feature, importance=Importance.CRITICAL)
    (delivery,) = Delivery.objects.all()
    assert delivery.endpoint == endpoint
    assert delivery.payload["data"]["content"] == "We cannot roll out without SSO."
    assert delivery.payload["insight"]["linked_to"] == "SSO"
    text = chat.slack(delivery.payload)["blocks"][1]["text"]["text"]
    assert text == "We cannot roll out without SSO."


def test_a_kpi_going_off_target_is_one_event_not_one_per_recalculation(cast):
    services.endpoint_create(
        workspace=cast.workspace,
        name="#metrics",
        url="https://example.com/teams",
        kind="teams",
        events=["kpi.off_target"],
        actor=cast.admin,
    )
    kpi = KPIFactory(product=cast.product, name="Signups", target_value=100, aggregation="sum")
    day = timezone.now() - timedelta(days=3)
    ingest(kpi, [(day, 120)], recalculate=False)
    recalculate_kpi(kpi.pk)
    assert not Delivery.objects.exists()  # on target
    ingest(kpi, [(day + timedelta(days=1), 10)], recalculate=False)
    recalculate_kpi(kpi.pk)
    recalculate_kpi(kpi.pk)
    (delivery,) = Delivery.objects.all()
    assert delivery.event == "kpi.off_target"
    assert delivery.payload["target"]["target"] == "100"
    card = chat.teams(delivery.payload)
    assert card["title"] == "KPI off target: Signups"
