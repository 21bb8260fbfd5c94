"""Creating a product: key validation and uniqueness, errors beside the field, the activity log."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pm import services
from pm.models import ActivityLog, Product
from tests.factories import ProductFactory
from tests.pm.helpers import field_errors, text_of

KEY_FORMAT = "Use 2–10 capital letters or digits, starting with a letter (e.g. LOD)."


def _data(**changes):
    data = {
        "name": "Beacon",
        "key": "BCN",
        "vision": "Light the way.",
        "mission": "",
        "target_customers": "Small teams",
        "value_proposition": "",
        "business_model": "",
    }
    data.update(changes)
    return data


def _url(cast):
    return reverse("product_create", args=[cast.workspace.slug])


def test_pm_creates_a_product_and_lands_on_its_strategy(cast, pm_client):
    response = pm_client.post(_url(cast), _data())

    assert response.status_code == 302
    assert response["Location"] == reverse("strategy", args=["BCN"])
    product = Product.objects.get(key="BCN")
    assert (product.name, product.workspace, product.version) == ("Beacon", cast.workspace, 1)
    entry = ActivityLog.objects.get(object_type="pm.product", object_id=product.pk)
    assert entry.action == "created" and entry.actor == cast.pm
    assert entry.changes["key"] == [None, "BCN"]
    assert entry.changes["vision"] == [None, "Light the way."]
    page = pm_client.get(response["Location"])
    assert "Beacon created." in page.content.decode()  # the flash message


def test_a_lowercase_key_is_stored_in_capitals(cast, pm_client):
    pm_client.post(_url(cast), _data(key=" bcn2 "))
    assert Product.objects.filter(key="BCN2").exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "This field is required."),
        ("B", KEY_FORMAT),
        ("1AB", KEY_FORMAT),
        ("BC-N", KEY_FORMAT),
        ("ABCDEFGHIJK", "Ensure this value has at most 10 characters (it has 11)."),
    ],
)
def test_an_invalid_key_is_refused_beside_the_field(cast, pm_client, key, message):
    response = pm_client.post(_url(cast), _data(key=key))

    assert response.status_code == 200
    assert field_errors(response.content, "key") == [message]
    assert not Product.objects.filter(name="Beacon").exists()
    assert 'value="Beacon"' in response.content.decode()  # the rest of the input is kept


def test_a_duplicate_key_in_the_same_workspace_is_refused_beside_the_field(cast, pm_client):
    ProductFactory(workspace=cast.workspace, key="BCN")
    response = pm_client.post(_url(cast), _data(key="bcn"))

    assert response.status_code == 200
    assert field_errors(response.content, "key") == [
        "This workspace already has a product with this key."
    ]
    assert Product.objects.filter(key="BCN").count() == 1
    assert not ActivityLog.objects.filter(object_type="pm.product").exists()


def test_a_key_another_workspace_uses_is_free_here_and_not_revealed(cast, pm_client):
    ProductFactory(key="BCN")  # another tenant's product
    response = pm_client.post(_url(cast), _data(key="bcn"))

    assert response.status_code == 302
    assert Product.objects.filter(key="BCN").count() == 2
    assert Product.objects.get(workspace=cast.workspace, key="BCN").name == "Beacon"


def test_a_product_needs_a_name(cast, pm_client):
    response = pm_client.post(_url(cast), _data(name=""))
    assert field_errors(response.content, "name") == ["This field is required."]


def test_the_service_refuses_a_duplicate_key_with_a_field_error(cast):
    with pytest.raises(ValidationError) as exc:
        services.product_create(
            workspace=cast.workspace, data={"name": "Again", "key": "lod"}, actor=cast.pm
        )
    assert exc.value.message_dict["key"] == ["This workspace already has a product with this key."]
    assert Product.objects.filter(key="LOD").count() == 1


def test_the_key_of_a_product_cannot_be_changed(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.product_update(
            product=cast.product, data={"key": "NEW"}, expected_version=1, actor=cast.pm
        )


def test_new_product_appears_in_the_workspace_and_navigation(cast, pm_client):
    pm_client.post(_url(cast), _data())
    page = pm_client.get(reverse("workspace_detail", args=[cast.workspace.slug]))
    text = text_of(page.content)
    assert "Beacon" in text and "Light the way." in text
    assert reverse("product_overview", args=["BCN"]) in page.content.decode()


def test_overview_shows_vision_themes_objectives_and_empty_states(cast, pm_client):
    response = pm_client.get(reverse("product_overview", args=[cast.product.key]))
    assert response.status_code == 200
    text = text_of(response.content)
    assert "A vision worth reading." in text
    assert "No objectives yet." in text
    assert "No themes yet." in text
