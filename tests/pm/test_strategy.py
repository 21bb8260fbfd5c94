"""The Strategy page's inline editing through its htmx endpoints: add, edit, delete for each
section, form errors beside the field, concurrent-edit conflicts, and the activity log."""

import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from pm.models import (
    ActivityLog,
    Competitor,
    KeyResult,
    Objective,
    Persona,
    StrategicTheme,
)
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PersonaFactory,
    ThemeFactory,
)
from tests.pm.helpers import HX, alert_text, field_errors, input_value, text_of


@dataclass(frozen=True)
class Case:
    section: str
    model: type
    factory: type
    title_field: str  # the field shown as the item's name
    valid: dict
    invalid_field: str
    invalid_value: str
    invalid_message: str


CASES = [
    Case(
        "themes",
        StrategicTheme,
        ThemeFactory,
        "name",
        {"name": "Platform reach", "description": "Grow beyond *one* team.", "colour": "#112233"},
        "name",
        "",
        "This field is required.",
    ),
    Case(
        "objectives",
        Objective,
        ObjectiveFactory,
        "title",
        {
            "title": "Win the EMEA mid-market",
            "period": "2027 Q2",
            "theme": "",
            "status": "at_risk",
            "description": "",
        },
        "period",
        "",
        "This field is required.",
    ),
    Case(
        "personas",
        Persona,
        PersonaFactory,
        "name",
        {
            "name": "Olga, operations lead",
            "segment": "Enterprise",
            "goals": "Fewer status meetings",
            "pains": "",
            "quote": "Just tell me what ships when.",
        },
        "name",
        "",
        "This field is required.",
    ),
    Case(
        "competitors",
        Competitor,
        CompetitorFactory,
        "name",
        {
            "name": "Roadmunk",
            "url": "https://roadmunk.example",
            "positioning": "Roadmaps for everyone",
            "strengths": "",
            "weaknesses": "",
            "pricing_notes": "",
            "last_reviewed": "2026-09-01",
        },
        "url",
        "not a web address",
        "Enter a valid URL.",
    ),
]
IDS = [c.section for c in CASES]


def _new_url(cast, case):
    return reverse("strategy_item_new", args=[cast.product.key, case.section])


def _edit_url(cast, case, pk):
    return reverse("strategy_item_edit", args=[cast.product.key, case.section, pk])


def _delete_url(cast, case, pk):
    return reverse("strategy_item_delete", args=[cast.product.key, case.section, pk])


def _edit_data(item, case, **changes) -> dict:
    """What the edit form would post for `item`, with `changes` typed in."""
    data = {name: "" for name in case.valid}
    for name in case.valid:
        value = getattr(item, name)
        if name == "theme":
            value = value.pk if value else ""
        data[name] = "" if value is None else value
    data["version"] = item.version
    data.update(changes)
    return data


# --- add ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pm_adds_an_item_inline(cast, pm_client, case):
    form = pm_client.get(_new_url(cast, case), headers=HX)
    assert form.status_code == 200
    assert b"<form" in form.content and b"<html" not in form.content  # a fragment, not a page

    response = pm_client.post(_new_url(cast, case), case.valid, headers=HX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#section-{case.section}"
    assert "added" in response["HX-Trigger"]
    item = case.model.objects.get(product=cast.product)
    title = case.valid[case.title_field]
    assert getattr(item, case.title_field) == title
    assert title in text_of(response.content)
    entry = ActivityLog.objects.get(object_type=item._meta.label_lower, object_id=item.pk)
    assert (entry.action, entry.actor, entry.product) == ("created", cast.pm, cast.product)
    assert entry.changes[case.title_field] == [None, title]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_invalid_item_shows_the_error_beside_the_field_and_saves_nothing(cast, pm_client, case):
    data = {**case.valid, case.invalid_field: case.invalid_value}

    response = pm_client.post(_new_url(cast, case), data, headers=HX)

    assert response.status_code == 200  # htmx swaps 200s only
    assert field_errors(response.content, case.invalid_field) == [case.invalid_message]
    assert "HX-Retarget" not in response  # the form stays where it is
    assert not case.model.objects.exists()
    assert not ActivityLog.objects.exists()
    # What the user typed in the other fields is kept.
    kept = next(v for k, v in case.valid.items() if k != case.invalid_field and v)
    assert kept in response.content.decode()


def test_a_theme_name_is_unique_per_product_whatever_the_case(cast, pm_client):
    ThemeFactory(product=cast.product, name="Delivery flow")
    response = pm_client.post(
        _new_url(cast, CASES[0]), {"name": "delivery FLOW", "colour": "#000000"}, headers=HX
    )
    assert field_errors(response.content, "name") == [
        "A theme with this name already exists in this product."
    ]
    assert StrategicTheme.objects.count() == 1


def test_an_objective_cannot_use_another_products_theme(cast, pm_client):
    foreign = ThemeFactory()  # another product's theme
    data = {**CASES[1].valid, "theme": foreign.pk}
    response = pm_client.post(_new_url(cast, CASES[1]), data, headers=HX)
    assert field_errors(response.content, "theme")
    assert not Objective.objects.exists()


# --- edit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pm_edits_an_item_inline_and_the_change_is_logged(cast, pm_client, case):
    item = case.factory(product=cast.product, **{case.title_field: "Before"})
    form = pm_client.get(_edit_url(cast, case, item.pk), headers=HX)
    assert input_value(form.content, case.title_field) == "Before"
    assert input_value(form.content, "version") == "1"

    response = pm_client.post(
        _edit_url(cast, case, item.pk),
        _edit_data(item, case, **{case.title_field: "After"}),
        headers=HX,
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#section-{case.section}"
    item.refresh_from_db()
    assert getattr(item, case.title_field) == "After"
    assert item.version == 2
    entry = ActivityLog.objects.get(action="updated", object_id=item.pk)
    assert entry.changes == {case.title_field: ["Before", "After"]}
    assert entry.actor == cast.pm and entry.object_version == 2


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_invalid_edit_shows_the_error_beside_the_field_and_changes_nothing(cast, pm_client, case):
    item = case.factory(product=cast.product)
    before = case.model.objects.values().get(pk=item.pk)
    data = _edit_data(item, case, **{case.invalid_field: case.invalid_value})

    response = pm_client.post(_edit_url(cast, case, item.pk), data, headers=HX)

    assert response.status_code == 200
    assert field_errors(response.content, case.invalid_field) == [case.invalid_message]
    assert case.model.objects.values().get(pk=item.pk) == before
    assert not ActivityLog.objects.exists()


def test_saving_without_changes_writes_nothing(cast, pm_client):
    theme = ThemeFactory(product=cast.product, name="Same")
    response = pm_client.post(
        _edit_url(cast, CASES[0], theme.pk), _edit_data(theme, CASES[0]), headers=HX
    )
    assert response.status_code == 200
    theme.refresh_from_db()
    assert theme.version == 1
    assert not ActivityLog.objects.exists()


# --- concurrent edits ---------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_second_concurrent_save_is_refused_with_what_changed_and_keeps_the_input(cast, case):
    item = case.factory(product=cast.product, **{case.title_field: "Original"})
    first, second = cast.client("pm"), cast.client("admin")
    # Both open the editor on version 1.
    for client in (first, second):
        assert (
            input_value(client.get(_edit_url(cast, case, item.pk), headers=HX).content, "version")
            == "1"
        )
    saved = first.post(
        _edit_url(cast, case, item.pk),
        _edit_data(item, case, **{case.title_field: "First take"}),
        headers=HX,
    )
    assert saved.status_code == 200 and "HX-Retarget" in saved

    refused = second.post(
        _edit_url(cast, case, item.pk),
        _edit_data(item, case, **{case.title_field: "Second take"}),
        headers=HX,
    )

    assert refused.status_code == 200
    assert "HX-Retarget" not in refused  # the editor stays open
    message = alert_text(refused.content)
    assert "Someone else saved this while you were editing" in message
    assert cast.pm.get_full_name() in message
    assert f"{case.title_field.replace('_', ' ')} → “First take”" in message
    # Nothing overwritten; what the second editor typed is still in the form, now on version 2
    # so that saving again is a deliberate choice.
    item.refresh_from_db()
    assert getattr(item, case.title_field) == "First take"
    assert item.version == 2
    assert input_value(refused.content, case.title_field) == "Second take"
    assert input_value(refused.content, "version") == "2"
    assert ActivityLog.objects.filter(action="updated").count() == 1

    again = second.post(
        _edit_url(cast, case, item.pk),
        _edit_data(item, case, **{case.title_field: "Second take"}),
        headers=HX,
    )
    assert "HX-Retarget" in again
    item.refresh_from_db()
    assert getattr(item, case.title_field) == "Second take"
    assert item.version == 3


# --- delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pm_deletes_an_item_inline_and_the_deletion_is_logged(cast, pm_client, case):
    item = case.factory(product=cast.product, **{case.title_field: "Doomed"})
    kept = case.factory(product=cast.product, **{case.title_field: "Kept"})

    response = pm_client.post(_delete_url(cast, case, item.pk), headers=HX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#section-{case.section}"
    assert "deleted" in response["HX-Trigger"]
    assert list(case.model.objects.all()) == [kept]
    page = text_of(response.content)
    assert "Kept" in page and "Doomed" not in page
    entry = ActivityLog.objects.get(action="deleted")
    assert (entry.object_id, entry.object_repr, entry.actor) == (item.pk, "Doomed", cast.pm)


def test_deleting_the_last_item_shows_the_empty_state(cast, pm_client):
    theme = ThemeFactory(product=cast.product)
    response = pm_client.post(_delete_url(cast, CASES[0], theme.pk), headers=HX)
    assert "No themes yet." in text_of(response.content)


def test_cancel_swaps_the_section_back(cast, pm_client):
    ThemeFactory(product=cast.product, name="Visible again")
    response = pm_client.get(
        reverse("strategy_section", args=[cast.product.key, "themes"]), headers=HX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#section-themes"
    assert "Visible again" in text_of(response.content)


def test_an_unknown_section_is_404(cast, pm_client):
    url = reverse("strategy_item_new", args=[cast.product.key, "unicorns"])
    assert pm_client.get(url, headers=HX).status_code == 404


def test_items_of_another_product_are_404_through_this_products_urls(cast, pm_client):
    foreign = ThemeFactory()  # a product in another workspace
    for url in (_edit_url(cast, CASES[0], foreign.pk), _delete_url(cast, CASES[0], foreign.pk)):
        assert (
            pm_client.post(
                url, {"name": "Hijacked", "colour": "#000000", "version": 1}, headers=HX
            ).status_code
            == 404
        )
    foreign.refresh_from_db()
    assert foreign.name != "Hijacked"
    kr = KeyResultFactory()
    url = reverse("key_result_edit", args=[cast.product.key, kr.pk])
    assert pm_client.get(url, headers=HX).status_code == 404


def test_a_new_theme_gets_a_colour_no_existing_theme_uses(cast, pm_client):
    url = reverse("strategy_item_new", args=[cast.product.key, "themes"])
    colours = []
    for n in range(3):
        colour = input_value(pm_client.get(url, headers=HX).content, "colour")
        assert colour not in colours
        colours.append(colour)
        pm_client.post(url, {"name": f"Area {n}", "description": "", "colour": colour}, headers=HX)
    assert sorted(StrategicTheme.objects.values_list("colour", flat=True)) == sorted(colours)
    # Colours typed by hand count too, whatever their case; another product's themes don't.
    ThemeFactory(product=cast.product, name="Hand-picked", colour="#D97706")
    ThemeFactory(colour="#DB2777")
    offered = input_value(pm_client.get(url, headers=HX).content, "colour")
    assert offered.lower() not in {c.lower() for c in [*colours, "#d97706"]}
    assert offered == "#db2777"


# --- key results --------------------------------------------------------------------------


def _kr_data(**changes):
    data = {
        "description": "Weekly active PMs",
        "start_value": "10",
        "target_value": "50",
        "current_value": "20",
        "unit": "PMs",
    }
    data.update(changes)
    return data


def test_pm_adds_a_key_result_to_an_objective(cast, pm_client):
    objective = ObjectiveFactory(product=cast.product, title="Grow usage")
    url = reverse("key_result_new", args=[cast.product.key, objective.pk])
    assert b'data-testid="key-result-form"' in pm_client.get(url, headers=HX).content

    response = pm_client.post(url, _kr_data(), headers=HX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#section-objectives"
    kr = objective.key_results.get()
    assert kr.description == "Weekly active PMs"
    assert kr.progress_percent == 25
    assert "Weekly active PMs" in text_of(response.content)
    entry = ActivityLog.objects.get(object_type="pm.keyresult")
    assert entry.product == cast.product  # the key result's history is the product's
    assert entry.changes["target_value"] == [None, "50"]


def test_a_key_result_whose_target_equals_its_start_is_refused_beside_the_target(cast, pm_client):
    objective = ObjectiveFactory(product=cast.product)
    url = reverse("key_result_new", args=[cast.product.key, objective.pk])
    response = pm_client.post(url, _kr_data(target_value="10"), headers=HX)
    assert response.status_code == 200
    assert field_errors(response.content, "target_value") == [
        "The target must differ from the start value."
    ]
    assert not KeyResult.objects.exists()


def test_pm_edits_and_deletes_a_key_result(cast, pm_client):
    kr = KeyResultFactory(objective__product=cast.product, current_value=50)
    edit = reverse("key_result_edit", args=[cast.product.key, kr.pk])
    response = pm_client.post(edit, _kr_data(current_value="75", version=1), headers=HX)
    assert response["HX-Retarget"] == "#section-objectives"
    kr.refresh_from_db()
    assert kr.current_value == 75 and kr.version == 2
    update = ActivityLog.objects.get(action="updated")
    assert update.changes["current_value"] == ["50", "75"]

    response = pm_client.post(
        reverse("key_result_delete", args=[cast.product.key, kr.pk]), headers=HX
    )
    assert response.status_code == 200
    assert not KeyResult.objects.exists()
    assert ActivityLog.objects.filter(action="deleted", object_type="pm.keyresult").exists()


def test_concurrent_key_result_edit_is_refused(cast):
    kr = KeyResultFactory(objective__product=cast.product, current_value=50)
    edit = reverse("key_result_edit", args=[cast.product.key, kr.pk])
    cast.client("admin").post(edit, _kr_data(current_value="60", version=1), headers=HX)
    response = cast.client("pm").post(edit, _kr_data(current_value="70", version=1), headers=HX)
    assert "current value → “60”" in alert_text(response.content)
    assert input_value(response.content, "current_value") == "70"
    kr.refresh_from_db()
    assert kr.current_value == 60


def _linked_kr(cast, **kr_fields):
    from metrics.models import KeyResultKPI
    from tests.metrics.factories import KPIFactory

    kpi = KPIFactory(product=cast.product, name="Weekly active PMs (KPI)")
    kr = KeyResultFactory(objective__product=cast.product, current_value=20, **kr_fields)
    KeyResultKPI.objects.create(
        workspace_id=cast.workspace.pk, kpi=kpi, key_result=kr, linked_by=cast.pm
    )
    return kpi, kr


def test_strategy_shows_which_kpi_a_key_result_follows(cast, pm_client):
    kpi, kr = _linked_kr(cast, description="PMs active weekly")
    KeyResultFactory(objective=kr.objective, description="Unlinked result")
    page = pm_client.get(reverse("strategy", args=[cast.product.key])).content.decode()
    kpi_url = reverse("kpi_detail", args=[cast.product.key, kpi.pk])
    assert page.count('data-testid="kr-kpi-link"') == 1
    assert f'href="{kpi_url}"' in page
    assert "KPI: Weekly active PMs (KPI)" in text_of(page)


def test_a_linked_key_results_current_value_is_read_only_in_its_form(cast, pm_client):
    kpi, kr = _linked_kr(cast)
    edit = reverse("key_result_edit", args=[cast.product.key, kr.pk])
    form = pm_client.get(edit, headers=HX).content.decode()
    tag = next(t for t in re.findall(r"<input[^>]*>", form) if 'name="current_value"' in t)
    assert " disabled" in tag
    assert "Follows the KPI “Weekly active PMs (KPI)”" in text_of(form)

    # A crafted POST with a typed value saves the other fields and keeps the KPI's value.
    response = pm_client.post(
        edit, _kr_data(description="Renamed", current_value="99", version=1), headers=HX
    )
    assert response["HX-Retarget"] == "#section-objectives"
    kr.refresh_from_db()
    assert (kr.description, kr.current_value) == ("Renamed", 20)


def test_the_service_refuses_a_typed_value_for_a_linked_key_result(cast):
    from django.core.exceptions import ValidationError

    from pm import services

    kpi, kr = _linked_kr(cast)
    with pytest.raises(ValidationError) as refused:
        services.strategy_item_update(
            instance=kr, data={"current_value": 99}, expected_version=1, actor=cast.pm
        )
    assert "follows the KPI “Weekly active PMs (KPI)”" in str(refused.value.message_dict)
    kr.refresh_from_db()
    assert kr.current_value == 20
    # The KPI sync itself still writes the value, and an unlinked result stays editable.
    services.strategy_item_update(
        instance=kr, data={"current_value": 20}, expected_version=1, actor=cast.pm
    )
    free = KeyResultFactory(objective__product=cast.product, current_value=1)
    services.strategy_item_update(
        instance=free, data={"current_value": 5}, expected_version=1, actor=cast.pm
    )
    free.refresh_from_db()
    assert free.current_value == 5


# --- vision -------------------------------------------------------------------------------


def _vision_data(product, **changes):
    data = {
        "name": product.name,
        "vision": product.vision,
        "mission": product.mission,
        "target_customers": product.target_customers,
        "value_proposition": product.value_proposition,
        "business_model": product.business_model,
        "version": product.version,
    }
    data.update(changes)
    return data


def test_pm_edits_the_vision_inline(cast, pm_client):
    url = reverse("vision_edit", args=[cast.product.key])
    form = pm_client.get(url, headers=HX)
    assert input_value(form.content, "name") == "Lodestar Cloud"

    response = pm_client.post(
        url, _vision_data(cast.product, vision="Be the **north star**."), headers=HX
    )

    assert response["HX-Retarget"] == "#vision"
    assert "<strong>north star</strong>" in response.content.decode()
    cast.product.refresh_from_db()
    assert cast.product.vision == "Be the **north star**." and cast.product.version == 2
    entry = ActivityLog.objects.get(object_type="pm.product")
    assert entry.changes == {"vision": ["A vision worth reading.", "Be the **north star**."]}


def test_vision_form_errors_are_beside_the_field(cast, pm_client):
    url = reverse("vision_edit", args=[cast.product.key])
    response = pm_client.post(url, _vision_data(cast.product, name=""), headers=HX)
    assert response.status_code == 200
    assert field_errors(response.content, "name") == ["This field is required."]
    cast.product.refresh_from_db()
    assert cast.product.name == "Lodestar Cloud"


def test_concurrent_vision_edit_is_refused(cast):
    url = reverse("vision_edit", args=[cast.product.key])
    stale = _vision_data(cast.product)
    cast.client("admin").post(url, {**stale, "mission": "Theirs"}, headers=HX)
    response = cast.client("pm").post(url, {**stale, "mission": "Mine"}, headers=HX)
    assert "mission → “Theirs”" in alert_text(response.content)
    assert "Mine" in response.content.decode()
    cast.product.refresh_from_db()
    assert cast.product.mission == "Theirs"


# --- history ------------------------------------------------------------------------------


def test_history_page_shows_each_change_with_before_and_after(cast, pm_client):
    new, edit = _new_url(cast, CASES[0]), None
    pm_client.post(new, {"name": "Trust", "colour": "#123456"}, headers=HX)
    theme = StrategicTheme.objects.get()
    edit = _edit_url(cast, CASES[0], theme.pk)
    pm_client.post(
        edit, {"name": "Stakeholder trust", "colour": "#123456", "version": 1}, headers=HX
    )
    pm_client.post(_delete_url(cast, CASES[0], theme.pk), headers=HX)

    page = cast.client("stakeholder").get(reverse("product_history", args=[cast.product.key]))

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="activity-entry"') == 3
    text = text_of(html)
    who = cast.pm.get_full_name()
    assert f"{who} created strategic theme “Trust”" in text
    assert f"{who} updated strategic theme “Stakeholder trust”" in text
    assert f"{who} deleted strategic theme “Stakeholder trust”" in text
    assert (
        '<span class="before">Trust</span> → <span class="after">Stakeholder trust</span>' in html
    )
    # Newest first.
    assert text.index("deleted strategic theme") < text.index("created strategic theme")


def test_history_can_be_filtered_by_record_type(cast, pm_client):
    ThemeFactory(product=cast.product)
    pm_client.post(_new_url(cast, CASES[2]), CASES[2].valid, headers=HX)
    pm_client.post(_new_url(cast, CASES[0]), CASES[0].valid, headers=HX)
    url = reverse("product_history", args=[cast.product.key])
    response = pm_client.get(url, {"type": "pm.persona"}, headers=HX)
    assert response.status_code == 200
    assert b"<html" not in response.content  # only the list is swapped
    text = text_of(response.content)
    assert "Olga, operations lead" in text and "Platform reach" not in text


def test_history_of_a_product_without_changes_has_an_empty_state(cast, pm_client):
    response = pm_client.get(reverse("product_history", args=[cast.product.key]))
    assert "No changes recorded." in text_of(response.content)


def test_objective_changes_ask_the_themes_section_to_refresh_its_counts(cast, pm_client):
    import json

    theme = ThemeFactory(product=cast.product)
    objectives = CASES[1]
    response = pm_client.post(
        _new_url(cast, objectives), {**objectives.valid, "theme": theme.pk}, headers=HX
    )
    triggers = json.loads(response["HX-Trigger"])
    assert "objectives-changed" in triggers and "toast" in triggers
    # The themes section is the one listening, and re-renders with the new count.
    page = pm_client.get(reverse("strategy", args=[cast.product.key])).content.decode()
    assert 'hx-trigger="objectives-changed from:body"' in page
    section = pm_client.get(
        reverse("strategy_section", args=[cast.product.key, "themes"]), headers=HX
    )
    assert "1 objective" in text_of(section.content)
    # Other sections' writes do not.
    response = pm_client.post(_new_url(cast, CASES[2]), CASES[2].valid, headers=HX)
    assert "objectives-changed" not in response["HX-Trigger"]
