"""Query counts of the hooks pages do not grow with rows: the delivery log at 5 and 40
deliveries (with attempts), the endpoint list at 2 and 12 endpoints, and the story page's
Development panel at 2 and 20 links."""

import pytest
from django.urls import reverse

from hooks.models import Attempt, DevLink
from tests.backlog.factories import FeatureFactory, StoryFactory
from tests.hooks.factories import make_delivery, make_endpoint

pytestmark = pytest.mark.django_db


def _deliveries(endpoint, n):
    from django.utils import timezone

    for i in range(n):
        delivery = make_delivery(endpoint, object_key=f"x:{i}", last_response="{}")
        for _ in range(2):
            Attempt.objects.create(
                workspace_id=endpoint.workspace_id,
                delivery=delivery,
                started_at=timezone.now(),
                status_code=500,
            )


@pytest.mark.parametrize("rows", [5, 40])
def test_the_delivery_log_costs_the_same_at_any_size(cast, rows, django_assert_max_num_queries):
    endpoint = make_endpoint(cast.workspace)
    _deliveries(endpoint, rows)
    client = cast.client("admin")
    url = reverse("webhook_detail", args=[cast.workspace.slug, endpoint.pk])
    with django_assert_max_num_queries(14):
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.count(b'data-testid="delivery-') == rows + 1  # + the log itself


@pytest.mark.parametrize("rows", [2, 12])
def test_the_endpoint_list_costs_the_same_at_any_size(cast, rows, django_assert_max_num_queries):
    for i in range(rows):
        make_endpoint(cast.workspace, name=f"Receiver {i}")
    client = cast.client("admin")
    with django_assert_max_num_queries(10):
        page = client.get(reverse("webhook_list", args=[cast.workspace.slug]))
    assert page.status_code == 200
    assert page.content.count(b'data-testid="endpoint-') == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_the_development_panel_costs_the_same_at_any_size(
    cast, rows, django_assert_max_num_queries
):
    story = StoryFactory(feature=FeatureFactory(product=cast.product), number=42)
    for i in range(rows):
        DevLink.objects.create(
            product=cast.product,
            story=story,
            provider="github",
            repository="acme/web",
            kind="commit",
            external_id=f"{i:040d}",
            title=f"LOD-42 change {i}",
        )
    client = cast.client("engineer")
    with django_assert_max_num_queries(24):
        page = client.get(reverse("story_detail", args=[cast.product.key, 42]))
    assert page.status_code == 200
    assert page.content.count(b'data-testid="dev-commit"') == rows
