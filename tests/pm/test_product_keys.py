"""Product keys are unique per workspace: two tenants may both use WEB, neither learns of the
other, and everything that names a product by key (pages, story keys, the API, permission checks
of objects, the public portal) reaches the right one."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from backlog import services as backlog_services
from feedback.models import PortalSettings
from pm.choices import Role
from pm.models import Product
from tests.api.conftest import token_client
from tests.factories import MembershipFactory, ProductFactory, UserFactory, WorkspaceFactory


@pytest.fixture
def tenants(db):
    """Two workspaces, each with a product WEB; Dana is a stakeholder in the first and a PM in
    the second; Olga belongs to the first only."""
    first, second = WorkspaceFactory(slug="first"), WorkspaceFactory(slug="second")
    web1 = ProductFactory(workspace=first, key="WEB", name="First web")
    web2 = ProductFactory(workspace=second, key="WEB", name="Second web")
    dana, olga = UserFactory(username="dana"), UserFactory(username="olga")
    MembershipFactory(workspace=first, user=dana, role=Role.STAKEHOLDER)
    MembershipFactory(workspace=second, user=dana, role=Role.PM)
    MembershipFactory(workspace=first, user=olga, role=Role.PM)
    return {
        "first": first,
        "second": second,
        "web1": web1,
        "web2": web2,
        "dana": dana,
        "olga": olga,
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_database_refuses_a_second_key_in_one_workspace_only(tenants):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(workspace=tenants["first"], key="WEB", name="Again")
    ProductFactory(workspace=WorkspaceFactory(), key="WEB")  # a third tenant: fine


def test_a_member_of_one_workspace_sees_only_their_own_product_under_the_key(tenants):
    page = _client(tenants["olga"]).get(reverse("product_overview", args=["WEB"]))
    assert page.status_code == 200
    assert "First web" in page.content.decode()
    assert "Second web" not in page.content.decode()


def test_a_member_of_both_gets_the_product_of_the_workspace_they_work_in(tenants):
    client = _client(tenants["dana"])
    client.post(reverse("workspace_switch", args=["second"]))
    assert "Second web" in client.get(reverse("product_overview", args=["WEB"])).content.decode()
    # As a PM of the second workspace Dana may add a persona...
    new_persona = reverse("strategy_item_new", args=["WEB", "personas"])
    assert client.get(new_persona, headers={"HX-Request": "true"}).status_code == 200

    client.post(reverse("workspace_switch", args=["first"]))
    assert "First web" in client.get(reverse("product_overview", args=["WEB"])).content.decode()
    # ...but only a stakeholder in the first: refused there, not let through by the other WEB.
    assert client.get(new_persona, headers={"HX-Request": "true"}).status_code == 403


def test_permission_checks_of_an_object_use_its_own_product_not_a_namesake(tenants):
    dana = tenants["dana"]
    feature1 = backlog_services.feature_create(
        # Shipped: stakeholders read released features (pm.visibility).
        product=tenants["web1"],
        data={"title": "First's feature", "status": "shipped"},
        actor=tenants["olga"],
    )
    api = token_client(dana)
    # Through the API the workspace's session does not exist: ids and objects decide.
    assert api.get(f"/api/v1/features/{feature1.pk}/").status_code == 200
    refused = api.post(
        "/api/v1/features/", {"product": tenants["web1"].pk, "title": "X"}, format="json"
    )
    assert refused.status_code == 403
    created = api.post(
        "/api/v1/features/", {"product": tenants["web2"].pk, "title": "Y"}, format="json"
    )
    assert created.status_code == 201
    assert Product.objects.get(pk=tenants["web2"].pk).features.filter(title="Y").exists()


def test_an_outsider_gets_404_for_another_tenants_key(tenants):
    stranger = UserFactory()
    MembershipFactory(user=stranger, role=Role.ADMIN)
    assert _client(stranger).get(reverse("product_overview", args=["WEB"])).status_code == 404
    assert token_client(stranger).get(f"/api/v1/products/{tenants['web1'].pk}/").status_code in (
        404,
    )


def test_a_portal_address_taken_by_another_tenant_cannot_be_switched_on(tenants):
    PortalSettings.objects.create(product=tenants["web1"], enabled=True)
    client = _client(tenants["dana"])
    client.post(reverse("workspace_switch", args=["second"]))
    settings = PortalSettings.objects.create(product=tenants["web2"], enabled=False)
    response = client.post(
        reverse("portal_admin", args=["WEB"]),
        {"enabled": "on", "accept_submissions": "on", "title": "", "intro": "", "version": 1},
    )
    assert response.status_code == 200
    assert "/portal/WEB/ is already used by another ideas portal" in response.content.decode()
    settings.refresh_from_db()
    assert settings.enabled is False
    # The public address keeps showing the first tenant's portal.
    assert "First web" in Client().get(reverse("portal_home", args=["WEB"])).content.decode()
