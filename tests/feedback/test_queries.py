"""Pages and list endpoints run a constant number of queries whatever the number of rows: each
is measured at two sizes against the same ceiling."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from feedback import panels
from feedback.services.insights import insight_create
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature, make_idea
from tests.pm.helpers import HX

SIZES = [3, 40]


@pytest.fixture
def filled(cast, request):
    """`n` customers with one linked and one new feedback item each."""
    n = request.param
    feature = make_feature(cast.product, "Jira sync", "Sync stories with Jira.", actor=cast.pm)
    idea = make_idea(cast.product, "Dark mode", "", actor=cast.pm)
    for i in range(n):
        customer = CustomerFactory(workspace=cast.workspace)
        linked = FeedbackItemFactory(
            product=cast.product, customer=customer, content=f"Jira sync please ({i})"
        )
        insight_create(
            item=linked, feature=feature, quote="Jira", importance="critical", actor=cast.pm
        )
        insight_create(item=linked, idea=idea, actor=cast.pm)
        FeedbackItemFactory(product=cast.product, customer=customer, content=f"Dark theme {i}")
    return {"feature": feature, "n": n}


# Session and user (2), the product and the caller's membership (2); the inbox: page count,
# status counts, the page of items with their customers, their insights with targets (4); the
# triage panel of the first item: ranked features, ranked ideas, similar feedback, and the
# link form's feature and idea pickers (5); the layout: memberships, unread notifications,
# workspace products (3); the session save of the current workspace (3: savepoint, update,
# release).
INBOX_QUERIES = 19


@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_inbox_runs_a_constant_number_of_queries(cast, filled, django_assert_max_num_queries):
    client = cast.client("pm")
    url = reverse("feedback_inbox", args=[cast.product.key])
    client.get(url)
    with django_assert_max_num_queries(INBOX_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="feedback-row"') == min(2 * filled["n"], 25)


# As above without the triage panel and the layout (htmx swaps the list only): 11.
@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_inbox_list_swap_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("pm")
    url = reverse("feedback_inbox", args=[cast.product.key])
    client.get(url)
    with django_assert_max_num_queries(11):
        response = client.get(url, {"status": "linked"}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="feedback-row"') == min(filled["n"], 25)
    assert "Jira sync please (" in html and "Dark theme" not in html


# The panel on the backlog's feature page: the caller's membership (cached for the request
# when the page already fetched it), demand by importance, the top five insights with their
# feedback and customers: at most 3.
@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_feature_demand_panel_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    request = RequestFactory().get("/")
    request.user = cast.pm
    with django_assert_max_num_queries(3):
        context = panels.feature(request, filled["feature"])
        insights = list(context["insights"])
        [i.feedback_item.customer for i in insights]
    assert context["demand"].customers == filled["n"]
    assert context["demand"].rows[0].label == "Critical"
    assert context["demand"].rows[0].customers == filled["n"]


# The whole feature page of the backlog, with every panel (theirs and ours): measured so a
# query inside a loop in our panel would show up as growth between the two sizes.
@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_feature_page_with_the_demand_panel_stays_constant(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("pm")
    url = reverse("feature_detail", args=[cast.product.key, filled["feature"].pk])
    client.get(url)
    with django_assert_max_num_queries(22):
        response = client.get(url)
    assert response.status_code == 200
    assert 'data-testid="feature-feedback-panel"' in response.content.decode()


# Session, user, product, membership (4); the feature; demand by importance; the page count
# and the page of insights with feedback and customers (4); the layout (3); session save (3).
@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_linked_feedback_page_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("pm")
    url = reverse("feature_feedback", args=[cast.product.key, filled["feature"].pk])
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200
    assert "Jira sync please (" in response.content.decode()


# Session, user, product, membership (4); count and page of customers with their feedback
# count and last date (2); the layout (3); session save (3).
@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_customer_list_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("engineer")
    url = reverse("customer_list", args=[cast.product.key])
    client.get(url)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert 'data-testid="customer-table"' in response.content.decode()


# Session, user, the caller's memberships, count, the page of items with product and customer,
# their insights: 6.
@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_api_list_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("pm")
    with django_assert_max_num_queries(6):
        response = client.get(reverse("api-feedback-list"))
    assert response.json()["count"] == 2 * filled["n"]
