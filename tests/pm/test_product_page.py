"""Every product page starts from pm.views_support.product_page: one name for "engineer or
above", and a page view never writes the session."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

# One page of each app (and pm's own), all of which a stakeholder may open.
PAGES = ["product_overview", "strategy", "roadmap", "kpi_list", "experiment_list"]
TEAM_PAGES = ["backlog", "feedback_inbox", "customer_list"]


@pytest.mark.parametrize("name", PAGES + TEAM_PAGES)
def test_a_product_page_view_does_not_write_the_session(cast, name):
    client = cast.client("pm")
    url = reverse(name, args=[cast.product.key])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    writes = [
        q["sql"] for q in queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]
    ]
    assert writes == []


@pytest.mark.parametrize("role, sees", [("engineer", True), ("pm", True), ("stakeholder", False)])
@pytest.mark.parametrize("name", PAGES)
def test_sees_internal_is_the_team_on_every_product_page(cast, name, role, sees):
    response = cast.client(role).get(reverse(name, args=[cast.product.key]))
    assert response.context["sees_internal"] is sees


def test_opening_a_workspace_remembers_it_for_pages_outside_any(cast):
    client = cast.client("pm")
    client.get(reverse("workspace_detail", args=[cast.workspace.slug]))
    assert client.session["workspace_id"] == cast.workspace.pk
