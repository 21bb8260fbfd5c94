"""Changes made by the system (no actor: a KPI recalculation updating a key result, say) show
up as made by Lodestar, and never break the pages that list them."""

import pytest
from django.urls import reverse

from pm.models import ActivityLog


@pytest.fixture
def system_change(cast):
    return ActivityLog.objects.create(
        workspace=cast.workspace,
        product=cast.product,
        actor=None,
        action="updated",
        object_type="pm.keyresult",
        object_id=1,
        object_repr="Weekly active teams",
        changes={"current_value": ["10", "12"]},
    )


@pytest.mark.parametrize("page", ["product_overview", "product_history"])
def test_pages_listing_changes_show_system_changes_as_made_by_lodestar(cast, system_change, page):
    response = cast.client("stakeholder").get(reverse(page, args=[cast.product.key]))
    assert response.status_code == 200
    assert "Lodestar</strong> updated key result" in response.content.decode()
