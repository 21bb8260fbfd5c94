"""`/api/v1/feedback/`: list (by role and workspace), read one, and capture with POST."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import Customer, FeedbackItem
from feedback.services.insights import insight_create
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature

LIST = "api-feedback-list"


@pytest.fixture
def item(cast):
    customer = CustomerFactory(workspace=cast.workspace, name="Initech", arr=Decimal("1000"))
    item = FeedbackItemFactory(product=cast.product, customer=customer, content="Jira sync")
    feature = make_feature(cast.product, "Jira sync", actor=cast.pm)
    insight_create(item=item, feature=feature, quote="Jira", actor=cast.pm)
    return item


def test_anonymous_callers_are_refused(cast, item):
    response = Client().get(reverse(LIST))
    assert response.status_code in (401, 403)
    response = Client().post(reverse(LIST), {}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_members_list_their_workspaces_feedback_and_outsiders_see_none(cast, item):
    FeedbackItemFactory()  # another workspace
    data = cast.client("engineer").get(reverse(LIST)).json()
    assert data["count"] == 1 and "next" in data
    row = data["results"][0]
    assert row["product"] == "LOD" and row["content"] == "Jira sync" and row["status"] == "linked"
    assert row["customer"]["name"] == "Initech" and row["customer"]["arr"] == "1000.00"
    assert row["insights"][0]["quote"] == "Jira"
    assert cast.client("outsider").get(reverse(LIST)).json()["count"] == 0
    assert cast.client("outsider").get(reverse(LIST), {"product": "LOD"}).status_code == 404
    detail = reverse("api-feedback-detail", args=[item.pk])
    assert cast.client("outsider").get(detail).status_code == 404


def test_stakeholders_get_no_customer(cast, item):
    row = cast.client("stakeholder").get(reverse(LIST), {"product": "LOD"}).json()["results"][0]
    assert row["customer"] is None
    detail = cast.client("stakeholder").get(reverse("api-feedback-detail", args=[item.pk])).json()
    assert detail["customer"] is None and detail["content"] == "Jira sync"


def test_filters_by_status_and_source_and_refuses_unknown_values(cast, item):
    FeedbackItemFactory(product=cast.product, source="survey")
    client = cast.client("pm")
    assert client.get(reverse(LIST), {"status": "new"}).json()["count"] == 1
    assert (
        client.get(reverse(LIST), {"source": "survey", "product": cast.product.pk}).json()["count"]
        == 1
    )
    response = client.get(reverse(LIST), {"status": "bogus"})
    assert response.status_code == 400 and "status" in response.json()


def test_a_pm_posts_feedback_with_a_new_customer(cast):
    response = cast.client("pm").post(
        reverse(LIST),
        {
            "product": "LOD",
            "content": "Please add SSO",
            "source": "support_ticket",
            "received_at": "2026-10-01T09:30:00Z",
            "customer": {"name": "Hooli", "segment": "Enterprise", "arr": "250000"},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "new" and body["customer"]["name"] == "Hooli"
    item = FeedbackItem.objects.select_related("customer").get()
    assert item.customer.arr == 250000 and item.received_at.hour == 9
    # Posting for the same customer by id reuses them.
    response = cast.client("pm").post(
        reverse(LIST),
        {
            "product": "LOD",
            "content": "And SCIM",
            "source": "email",
            "customer_id": item.customer_id,
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Customer.objects.count() == 1


def test_bad_input_is_a_400_with_field_messages_never_a_500(cast):
    client = cast.client("pm")
    response = client.post(
        reverse(LIST),
        {"product": "LOD", "content": "", "source": "pigeon"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"content", "source"}
    other = CustomerFactory()  # another workspace's customer
    response = client.post(
        reverse(LIST),
        {"product": "LOD", "content": "Hi", "source": "email", "customer_id": other.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "customer_id" in response.json()
    assert not FeedbackItem.objects.exists()


@pytest.mark.parametrize("role", ["engineer", "stakeholder"])
def test_roles_below_pm_cannot_post(cast, role):
    response = cast.client(role).post(
        reverse(LIST),
        {"product": "LOD", "content": "Hi", "source": "email"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not FeedbackItem.objects.exists()


def test_a_pm_elsewhere_cannot_post_into_this_product(cast):
    response = cast.client("outsider").post(
        reverse(LIST),
        {"product": "LOD", "content": "Hi", "source": "email"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not FeedbackItem.objects.exists()
