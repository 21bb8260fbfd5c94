"""Customer names, contacts and ARR never reach a stakeholder, an anonymous portal visitor, or
the product history — checked with sentinel values on every page that could show them."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import PortalSettings
from feedback.services.insights import insight_create
from feedback.services.items import feedback_create, feedback_update
from feedback.services.portal import portal_post_publish, portal_post_submit
from feedback.services.studies import study_add_finding, study_create
from tests.feedback.factories import CustomerFactory, make_feature, make_idea

NAME = "Quokkabyte Holdings"
CONTACT = "sentinel-buyer@quokkabyte.test"
ARR = Decimal("987654.32")
LEAKS = [NAME, "Quokkabyte", CONTACT, "987654", "987,654", "987.7k", "987 654"]


@pytest.fixture
def world(cast):
    customer = CustomerFactory(workspace=cast.workspace, name=NAME, contact=CONTACT, arr=ARR)
    feature = make_feature(cast.product, "Two-way Jira sync", "Sync with Jira.", actor=cast.pm)
    idea = make_idea(cast.product, "Calendar view", "A month view.", actor=cast.pm)
    item = feedback_create(
        product=cast.product,
        content="Jira sync would save us hours.",
        source="sales_call",
        customer=customer,
        actor=cast.pm,
    )
    insight_create(
        item=item, feature=feature, quote="save us hours", importance="critical", actor=cast.pm
    )
    feedback_update(
        item=item,
        data={"content": "Jira sync would save us days."},
        expected_version=1,
        actor=cast.pm,
    )
    study = study_create(
        product=cast.product,
        data={"title": "Interviews", "kind": "interview", "goal": "Learn"},
        participants=[customer],
        actor=cast.pm,
    )
    finding = study_add_finding(
        study=study, content="Wants exports", customer=customer, actor=cast.pm
    )
    PortalSettings.objects.create(product=cast.product, enabled=True)
    post = portal_post_publish(idea=idea, title="Calendar", description="", actor=cast.pm)
    # A portal submission by the customer's own contact must not leak either.
    portal_post_submit(product=cast.product, title="Their idea", description="", email=CONTACT)
    return {"item": item, "feature": feature, "study": study, "finding": finding, "post": post}


def _pages(cast, world) -> list[str]:
    key = cast.product.key
    return [
        reverse("product_overview", args=[key]),
        reverse("product_history", args=[key]),
        reverse("feedback_inbox", args=[key]),
        reverse("feedback_inbox", args=[key]) + "?status=all",
        reverse("feedback_detail", args=[key, world["item"].pk]),
        reverse("feedback_detail", args=[key, world["finding"].pk]),
        reverse("feature_feedback", args=[key, world["feature"].pk]),
        reverse("feature_detail", args=[key, world["feature"].pk]),
        reverse("study_list", args=[key]),
        reverse("study_detail", args=[key, world["study"].pk]),
        reverse("api-feedback-list"),
        reverse("api-feedback-detail", args=[world["item"].pk]),
    ]


def _leaks(content: bytes) -> list[str]:
    text = content.decode()
    return [value for value in LEAKS if value in text]


def test_engineers_do_see_customer_details(cast, world):
    # The control: the same pages do carry the sentinel for a role allowed to see it.
    client = cast.client("engineer")
    seen = set()
    for url in _pages(cast, world):
        seen.update(_leaks(client.get(url).content))
    assert NAME in seen and CONTACT in seen and "987654" in seen


def test_stakeholders_never_see_customer_names_contacts_or_arr(cast, world):
    client = cast.client("stakeholder")
    for url in _pages(cast, world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _leaks(response.content) == [], url
    for name in ("customer_list", "customer_detail"):
        kwargs = [cast.product.key] + (
            [world["item"].customer_id] if name == "customer_detail" else []
        )
        assert client.get(reverse(name, args=kwargs)).status_code == 403


def test_the_public_portal_never_shows_customer_data(cast, world):
    client = Client()
    key = cast.product.key
    for url in [
        reverse("portal_home", args=[key]),
        reverse("portal_home", args=[key]) + "?sort=new",
        reverse("portal_idea", args=[key, world["post"].pk]),
        reverse("portal_submit", args=[key]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _leaks(response.content) == [], url
