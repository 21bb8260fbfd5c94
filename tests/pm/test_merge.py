"""Saving after an edit conflict is a three-way merge (pm.merge): the other person's changes are
kept, this person's are kept, and a field both changed differently is decided side by side —
never the stale value silently saved again."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from pm.models import ActivityLog
from pm.services import versioned_update
from tests.backlog.factories import FeatureFactory, StoryFactory
from tests.factories import ObjectiveFactory, ThemeFactory
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory
from tests.metrics.factories import KPIFactory
from tests.pm.helpers import alert_text, field_errors, form_data, text_of
from tests.roadmap.factories import InitiativeFactory


def _one(data: dict[str, list[str]], name: str) -> str:
    return data[name][0]


@pytest.fixture
def feature(cast):
    return FeatureFactory(product=cast.product, title="Jira sync", description="Sync issues.")


def _edit_url(cast, feature):
    return reverse("feature_edit", args=[cast.product.key, feature.pk])


def test_saving_again_after_a_conflict_keeps_the_other_persons_title(cast, feature):
    """The issue's reproduction: pm renames, admin (on the old version) edits the description,
    gets the conflict notice and saves again — pm's title must survive."""
    admin = cast.client("admin")
    opened = form_data(admin.get(_edit_url(cast, feature)).content)
    versioned_update(
        instance=feature, data={"title": "Two-way Jira sync"}, expected_version=1, actor=cast.pm
    )

    opened["description"] = ["Sync issues both ways."]
    conflict = admin.post(_edit_url(cast, feature), opened)

    assert conflict.status_code == 200
    alert = alert_text(conflict.content)
    assert "Someone else saved this while you were editing" in alert
    assert "Their Title is now in the form" in alert
    merged = form_data(conflict.content)
    assert _one(merged, "title") == "Two-way Jira sync"  # theirs, shown in the field
    assert _one(merged, "description") == "Sync issues both ways."  # mine, kept
    assert _one(merged, "version") == "2"
    assert 'data-testid="merge-theirs" data-field="title"' in conflict.content.decode()
    feature.refresh_from_db()
    assert (feature.title, feature.description) == ("Two-way Jira sync", "Sync issues.")

    saved = admin.post(_edit_url(cast, feature), merged)

    assert saved.status_code == 302
    feature.refresh_from_db()
    assert (feature.title, feature.description) == ("Two-way Jira sync", "Sync issues both ways.")
    last = ActivityLog.objects.filter(actor=cast.admin).get()
    assert set(last.changes) == {"description"}  # only what admin changed was written


def _both_change_the_title(cast, feature):
    admin = cast.client("admin")
    opened = form_data(admin.get(_edit_url(cast, feature)).content)
    versioned_update(
        instance=feature, data={"title": "PM's title"}, expected_version=1, actor=cast.pm
    )
    opened["title"] = ["Admin's title"]
    opened["description"] = ["Admin's description"]
    return admin, admin.post(_edit_url(cast, feature), opened)


def test_a_field_both_changed_is_shown_side_by_side_and_must_be_decided(cast, feature):
    admin, conflict = _both_change_the_title(cast, feature)

    html = conflict.content.decode()
    assert 'data-testid="merge-conflict" data-field="title"' in html
    assert "You both changed Title" in alert_text(conflict.content)
    merged = form_data(conflict.content)
    assert _one(merged, "title") == "Admin's title"  # yours, in the field
    assert "PM&#x27;s title" in html or "PM's title" in html  # theirs, next to it
    assert 'name="resolve-title" value="mine"' in html

    undecided = admin.post(_edit_url(cast, feature), merged)

    assert undecided.status_code == 200
    assert any(
        "choose whether to keep your value or theirs" in e
        for e in field_errors(undecided.content, "title")
    )
    feature.refresh_from_db()
    assert (feature.title, feature.version) == ("PM's title", 2)


@pytest.mark.parametrize(("choice", "title"), [("theirs", "PM's title"), ("mine", "Admin's title")])
def test_the_decision_picks_the_title_and_the_rest_of_the_edit_is_saved(
    cast, feature, choice, title
):
    admin, conflict = _both_change_the_title(cast, feature)
    merged = form_data(conflict.content)
    merged["resolve-title"] = [choice]

    saved = admin.post(_edit_url(cast, feature), merged)

    assert saved.status_code == 302
    feature.refresh_from_db()
    assert (feature.title, feature.description) == (title, "Admin's description")


def test_without_the_opened_with_values_every_difference_must_be_decided(cast, feature):
    """A client that posts no `base` cannot say what it changed: nothing stale slips through."""
    admin = cast.client("admin")
    opened = form_data(admin.get(_edit_url(cast, feature)).content)
    del opened["base"]
    versioned_update(instance=feature, data={"title": "New"}, expected_version=1, actor=cast.pm)

    conflict = admin.post(_edit_url(cast, feature), opened)
    merged = form_data(conflict.content)
    assert 'data-testid="merge-conflict" data-field="title"' in conflict.content.decode()
    again = admin.post(_edit_url(cast, feature), merged)

    assert again.status_code == 200
    feature.refresh_from_db()
    assert feature.title == "New"


@dataclass
class Case:
    """One versioned edit form: how to make its record, its URL, and two fields to change."""

    name: str
    make: Callable[[Any], Any]
    url: Callable[[Any, Any], str]
    mine: tuple[str, str]
    theirs: tuple[str, Any]
    headers: dict | None = None


def _key(cast):
    return cast.product.key


CASES = [
    Case(
        "feature",
        lambda c: FeatureFactory(product=c.product),
        lambda c, o: reverse("feature_edit", args=[_key(c), o.pk]),
        ("description", "Mine"),
        ("title", "Theirs"),
    ),
    Case(
        "story",
        lambda c: StoryFactory(feature=FeatureFactory(product=c.product)),
        lambda c, o: reverse("story_edit", args=[_key(c), o.number]),
        ("i_want", "Mine"),
        ("title", "Theirs"),
    ),
    Case(
        "theme",
        lambda c: ThemeFactory(product=c.product),
        lambda c, o: reverse("strategy_item_edit", args=[_key(c), "themes", o.pk]),
        ("description", "Mine"),
        ("name", "Theirs"),
        {"HX-Request": "true"},
    ),
    Case(
        "objective",
        lambda c: ObjectiveFactory(product=c.product),
        lambda c, o: reverse("strategy_item_edit", args=[_key(c), "objectives", o.pk]),
        ("description", "Mine"),
        ("title", "Theirs"),
        {"HX-Request": "true"},
    ),
    Case(
        "vision",
        lambda c: c.product,
        lambda c, o: reverse("vision_edit", args=[_key(c)]),
        ("mission", "Mine"),
        ("vision", "Theirs"),
        {"HX-Request": "true"},
    ),
    Case(
        "initiative",
        lambda c: InitiativeFactory(product=c.product),
        lambda c, o: reverse("initiative_edit", args=[_key(c), o.pk]),
        ("description", "Mine"),
        ("title", "Theirs"),
    ),
    Case(
        "kpi",
        lambda c: KPIFactory(product=c.product),
        lambda c, o: reverse("kpi_edit", args=[_key(c), o.pk]),
        ("description", "Mine"),
        ("name", "Theirs"),
    ),
    Case(
        "customer",
        lambda c: CustomerFactory(workspace=c.workspace),
        lambda c, o: reverse("customer_edit", args=[_key(c), o.pk]),
        ("contact", "Mine"),
        ("name", "Theirs"),
    ),
    Case(
        "feedback",
        lambda c: FeedbackItemFactory(product=c.product, content="Original"),
        lambda c, o: reverse("feedback_edit", args=[_key(c), o.pk]),
        ("sentiment", "negative"),
        ("content", "Theirs"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_versioned_edit_form_merges_after_a_conflict(cast, case):
    record = case.make(cast)
    url = case.url(cast, record)
    admin = cast.client("admin")
    headers = case.headers or {}
    opened = form_data(admin.get(url, headers=headers).content)
    assert "base" in opened, "the edit form carries the values it was opened with"
    theirs_field, theirs_value = case.theirs
    versioned_update(
        instance=record,
        data={theirs_field: theirs_value},
        expected_version=record.version,
        actor=cast.pm,
    )
    mine_field, mine_value = case.mine
    opened[mine_field] = [mine_value]

    conflict = admin.post(url, opened, headers=headers)

    assert conflict.status_code == 200
    assert "Someone else saved this" in text_of(conflict.content)
    merged = form_data(conflict.content)
    assert _one(merged, theirs_field) == theirs_value
    assert _one(merged, mine_field) == mine_value

    admin.post(url, merged, headers=headers)

    record.refresh_from_db()
    assert getattr(record, theirs_field) == theirs_value
    assert getattr(record, mine_field) == mine_value
