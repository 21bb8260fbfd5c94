"""What other pages show from feedback (the Overview panel, the feature page panel, the nav),
the customer pages, and the demo data."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from backlog.models import Feature
from feedback.models import Customer, FeedbackItem, Insight, PortalPost, ResearchStudy
from feedback.services.insights import insight_create
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature
from tests.pm.helpers import text_of


def test_the_feedback_tab_is_in_the_product_navigation(cast):
    page = cast.client("stakeholder").get(reverse("feedback_inbox", args=[cast.product.key]))
    assert 'aria-current="page">Feedback</a>' in page.content.decode().replace("\n", "")


def test_the_overview_shows_recent_feedback_and_how_much_waits_for_triage(cast):
    FeedbackItemFactory(product=cast.product, content="Oldest words", status="triaged")
    FeedbackItemFactory(product=cast.product, content="Newest words")
    page = text_of(
        cast.client("stakeholder").get(reverse("product_overview", args=["LOD"])).content
    )
    assert "Recent feedback" in page and "1 to triage" in page
    assert page.index("Newest words") < page.index("Oldest words")


def test_the_feature_page_shows_demand_with_arr_only_for_the_team(cast):
    feature = make_feature(cast.product, "Jira sync", actor=cast.pm)
    for arr, importance in [(1000, "critical"), (2500, "critical"), (4000, "nice_to_have")]:
        item = FeedbackItemFactory(
            product=cast.product, customer=CustomerFactory(workspace=cast.workspace, arr=arr)
        )
        insight_create(item=item, feature=feature, importance=importance, actor=cast.pm)
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    engineer = text_of(cast.client("engineer").get(url).content)
    assert "Critical 2 2 3,500" in engineer
    assert "Total (distinct customers) 3 3 7,500" in engineer
    stakeholder = text_of(cast.client("stakeholder").get(url).content)
    assert "Critical 2 2" in stakeholder and "3,500" not in stakeholder


def test_a_customer_page_lists_their_feedback_and_what_they_asked_for(cast):
    customer = CustomerFactory(workspace=cast.workspace, name="Initech")
    jira = make_feature(cast.product, "Jira sync", actor=cast.pm)
    sso = make_feature(cast.product, "SSO", actor=cast.pm)
    for importance, feature in [("nice_to_have", jira), ("critical", jira), ("important", sso)]:
        item = FeedbackItemFactory(product=cast.product, customer=customer)
        insight_create(item=item, feature=feature, importance=importance, actor=cast.pm)
    FeedbackItemFactory(product=cast.product, customer=customer, content="Unlinked remark")
    page = cast.client("engineer").get(reverse("customer_detail", args=["LOD", customer.pk]))
    text = text_of(page.content)
    asked = text.split("What they asked for")[1].split("Their feedback")[0]
    assert asked.index("Jira sync") < asked.index("SSO")  # critical first
    assert "Critical 2×" in asked and "Important 1×" in asked
    assert "Unlinked remark" in text and "4 items" in text


def test_a_pm_edits_a_customer_and_a_duplicate_name_is_refused(cast):
    from tests.pm.helpers import field_errors

    CustomerFactory(workspace=cast.workspace, name="Globex")
    customer = CustomerFactory(workspace=cast.workspace, name="Initech", arr=Decimal(10))
    url = reverse("customer_edit", args=["LOD", customer.pk])
    data = {"version": 1, "name": "globex", "segment": "", "plan": "", "arr": "20", "contact": ""}
    response = cast.client("pm").post(url, data)
    assert field_errors(response.content, "name") == ["A customer with this name already exists."]
    data["name"] = "Initech Ltd"
    assert cast.client("pm").post(url, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.arr, customer.version) == ("Initech Ltd", 20, 2)


@pytest.mark.django_db(transaction=True)
def test_the_demo_adds_linked_feedback_once():
    call_command("load_demo", stdout=StringIO())
    counts = (
        Customer.objects.count(),
        FeedbackItem.objects.count(),
        Insight.objects.count(),
        ResearchStudy.objects.count(),
        PortalPost.objects.count(),
    )
    customers, items, insights, studies, posts = counts
    assert customers == 30 and 150 <= items <= 160 and studies == 2
    assert insights >= 60  # linked to whatever features the demo backlog has
    assert Feature.objects.filter(demand_customers__gt=0).count() >= 5
    assert FeedbackItem.objects.filter(status="new").count() >= 10  # some left to triage
    assert PortalPost.objects.filter(status="pending").count() == 2
    call_command("load_demo", stdout=StringIO())
    assert (
        Customer.objects.count(),
        FeedbackItem.objects.count(),
        Insight.objects.count(),
        ResearchStudy.objects.count(),
        PortalPost.objects.count(),
    ) == counts
