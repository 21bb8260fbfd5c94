"""Stakeholders (and engineers) read Strategy and Overview without edit controls, and their
writes are refused with nothing changed; users outside the workspace get 404."""

import pytest
from django.urls import reverse

from pm.models import ActivityLog, KeyResult, Objective, Persona, StrategicTheme
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PersonaFactory,
    ThemeFactory,
)
from tests.pm.helpers import HX, text_of

SECTIONS = ["themes", "objectives", "personas", "competitors"]


@pytest.fixture
def strategy(cast):
    theme = ThemeFactory(product=cast.product, name="Customer evidence")
    objective = ObjectiveFactory(product=cast.product, theme=theme, title="Feedback first")
    items = {
        "themes": theme,
        "objectives": objective,
        "personas": PersonaFactory(product=cast.product, name="Priya"),
        "competitors": CompetitorFactory(product=cast.product, name="Productboard"),
    }
    kr = KeyResultFactory(objective=objective, description="Linked features")
    return items, kr


def _edit_urls(cast, items, kr) -> list[str]:
    """Every URL behind an edit control on the Strategy page."""
    key = cast.product.key
    urls = [reverse("vision_edit", args=[key])]
    for section, item in items.items():
        urls += [
            reverse("strategy_item_new", args=[key, section]),
            reverse("strategy_item_edit", args=[key, section, item.pk]),
            reverse("strategy_item_delete", args=[key, section, item.pk]),
        ]
    urls += [
        reverse("key_result_new", args=[key, items["objectives"].pk]),
        reverse("key_result_edit", args=[key, kr.pk]),
        reverse("key_result_delete", args=[key, kr.pk]),
    ]
    return urls


def test_pm_sees_every_edit_control_on_the_strategy_page(cast, strategy):
    html = cast.client("pm").get(reverse("strategy", args=[cast.product.key])).content.decode()
    for url in _edit_urls(cast, *strategy):
        assert url in html, url


@pytest.mark.parametrize("role", ["stakeholder", "engineer"])
def test_readers_see_the_strategy_page_without_edit_controls(cast, strategy, role):
    response = cast.client(role).get(reverse("strategy", args=[cast.product.key]))

    assert response.status_code == 200
    html = response.content.decode()
    for url in _edit_urls(cast, *strategy):
        assert url not in html, url
    text = text_of(html)
    for name in ("Customer evidence", "Feedback first", "Priya", "Productboard", "Linked features"):
        assert name in text
    assert "Add theme" not in text and "Edit" not in text.replace("Edited", "")


@pytest.mark.parametrize("role", ["stakeholder", "engineer"])
def test_readers_see_the_overview_without_edit_controls(cast, strategy, role):
    response = cast.client(role).get(reverse("product_overview", args=[cast.product.key]))
    assert response.status_code == 200
    text = text_of(response.content)
    assert "Feedback first" in text and "Customer evidence" in text
    assert "Edit strategy" not in text
    assert "Edit strategy" in text_of(
        cast.client("pm").get(reverse("product_overview", args=[cast.product.key])).content
    )


@pytest.mark.parametrize("role", ["stakeholder", "engineer"])
def test_readers_see_an_empty_strategy_without_an_invitation_to_add(cast, role):
    text = text_of(cast.client(role).get(reverse("strategy", args=[cast.product.key])).content)
    assert "No themes yet." in text
    assert "The product manager hasn't added any." in text
    assert "Add theme" not in text


def _snapshot(cast):
    return {
        "product": tuple(type(cast.product).objects.values_list("name", "vision", "version")),
        "themes": tuple(StrategicTheme.objects.values_list("name", "version")),
        "objectives": tuple(Objective.objects.values_list("title", "version")),
        "key_results": tuple(KeyResult.objects.values_list("description", "current_value")),
        "personas": tuple(Persona.objects.values_list("name", "version")),
        "activity": ActivityLog.objects.count(),
    }


@pytest.mark.parametrize("role", ["stakeholder", "engineer"])
def test_readers_writes_are_refused_and_change_nothing(cast, strategy, role):
    items, kr = strategy
    key = cast.product.key
    client = cast.client(role)
    before = _snapshot(cast)
    writes = [
        (reverse("vision_edit", args=[key]), {"name": "Hacked", "vision": "x", "version": 1}),
        (
            reverse("strategy_item_new", args=[key, "themes"]),
            {"name": "Hacked", "colour": "#000000"},
        ),
        (
            reverse("strategy_item_edit", args=[key, "themes", items["themes"].pk]),
            {"name": "Hacked", "colour": "#000000", "version": 1},
        ),
        (reverse("strategy_item_delete", args=[key, "personas", items["personas"].pk]), {}),
        (
            reverse("key_result_new", args=[key, items["objectives"].pk]),
            {"description": "Hacked", "start_value": 0, "target_value": 1, "current_value": 0},
        ),
        (
            reverse("key_result_edit", args=[key, kr.pk]),
            {
                "description": "Hacked",
                "start_value": 0,
                "target_value": 1,
                "current_value": 1,
                "version": 1,
            },
        ),
        (reverse("key_result_delete", args=[key, kr.pk]), {}),
        (reverse("product_create", args=[cast.workspace.slug]), {"name": "Hacked", "key": "HAX"}),
    ]
    for url, data in writes:
        for headers in (HX, {}):
            assert client.post(url, data, headers=headers).status_code == 403, url
    assert _snapshot(cast) == before


def test_outsiders_get_404_for_the_product_and_its_records(cast, strategy):
    items, kr = strategy
    client = cast.client("outsider")
    key = cast.product.key
    urls = [
        reverse("product_overview", args=[key]),
        reverse("strategy", args=[key]),
        reverse("product_history", args=[key]),
        reverse("workspace_detail", args=[cast.workspace.slug]),
        *_edit_urls(cast, items, kr),
    ]
    before = _snapshot(cast)
    for url in urls:
        # Delete endpoints accept POST only, so a GET is 405 before anything is looked up.
        allowed = (404, 405) if url.endswith("/delete/") else (404,)
        assert client.get(url, headers=HX).status_code in allowed, url
        assert client.post(url, {"name": "x"}, headers=HX).status_code in (404, 405), url
    assert _snapshot(cast) == before
    # Even a product key that does not exist looks the same.
    assert client.get(reverse("product_overview", args=["NOPE"])).status_code == 404


def test_outsiders_do_not_see_the_workspace_in_their_navigation(cast):
    html = cast.client("outsider").get(reverse("home")).content.decode()
    assert "Acme" not in html and "Lodestar Cloud" not in html
