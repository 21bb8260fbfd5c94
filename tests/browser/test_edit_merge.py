"""Issue 14 items 2 and 4 in real headless Chromium.

2: a mention typed into a feature's edit form and an assignee chosen in a story's edit form
   reach the people concerned (their bell counts them).
4: two people edit the same feature: the one who saves second sees the other's change in the
   form, saves again and keeps both; a field both changed is shown side by side and decided.
"""

import pytest

from backlog import services
from backlog.models import Feature
from pm.models import Notification
from tests.browser.conftest import open_page, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_page(browser, live_server):
    """Another person's browser, with its own session."""
    context, page = open_page(browser, live_server.url)
    yield page
    context.close()


@pytest.fixture
def feature(cast):
    return services.feature_create(
        product=cast.product,
        data={"title": "Jira sync", "description": "Sync issues."},
        actor=cast.pm,
    )


def _open_editor(page, cast, feature):
    page.goto(f"/p/{cast.product.key}/features/{feature.pk}/")
    page.click('[data-testid="edit-feature"]')
    page.locator('[data-testid="feature-form"]').wait_for()


def _save(page):
    page.locator('[data-testid="feature-form"] button[type=submit]').click()


def test_a_mention_and_an_assignment_made_in_edit_forms_notify(page, second_page, cast, feature):
    story = services.story_create(feature=feature, data={"title": "SAML login"}, actor=cast.pm)
    sign_in(page, "pm", PASSWORD)

    _open_editor(page, cast, feature)
    page.fill("#id_description", "Sync issues. @engineer can you size this?")
    _save(page)
    page.locator('[data-testid="feature-description"]', has_text="@engineer").wait_for()

    page.goto(f"/p/{cast.product.key}/stories/{story.number}/")
    page.click('[data-testid="edit-story"]')
    page.select_option("#id_assignee", str(cast.engineer.pk))
    page.locator("form button[type=submit]", has_text="Save").click()
    page.locator(".toast", has_text=f"Saved {story.key}").wait_for()

    kinds = sorted(Notification.objects.filter(user=cast.engineer).values_list("kind", flat=True))
    assert kinds == ["assignment", "mention"]
    sign_in(second_page, "engineer", PASSWORD)
    second_page.goto(f"/p/{cast.product.key}/")
    assert second_page.locator("#notification-count").inner_text().strip() == "2"
    assert page.console_errors == [] and second_page.console_errors == []


def test_saving_after_a_conflict_keeps_the_other_persons_change(page, second_page, cast, feature):
    admin, pm = page, second_page
    sign_in(admin, "admin", PASSWORD)
    sign_in(pm, "pm", PASSWORD)
    _open_editor(admin, cast, feature)  # admin opens the form on version 1 ...

    _open_editor(pm, cast, feature)  # ... while pm renames the feature
    pm.fill("#id_title", "Two-way Jira sync")
    _save(pm)
    pm.locator(".feature-title", has_text="Two-way Jira sync").wait_for()

    admin.fill("#id_description", "Sync issues both ways, every five minutes.")
    _save(admin)
    alert = admin.locator('[data-testid="feature-form"] [role="alert"]')
    alert.wait_for()
    assert "Someone else saved this while you were editing" in alert.inner_text()
    # pm's title is in the form now, marked as theirs; admin's description is kept.
    assert admin.input_value("#id_title") == "Two-way Jira sync"
    assert admin.locator('[data-testid="merge-theirs"][data-field="title"]').is_visible()
    assert admin.input_value("#id_description") == "Sync issues both ways, every five minutes."
    assert Feature.objects.get(pk=feature.pk).description == "Sync issues."  # nothing saved yet

    _save(admin)  # "clicks Save again"
    admin.locator(".feature-title", has_text="Two-way Jira sync").wait_for()
    feature.refresh_from_db()
    assert feature.title == "Two-way Jira sync"
    assert feature.description == "Sync issues both ways, every five minutes."
    assert admin.console_errors == [] and pm.console_errors == []


def test_a_field_both_changed_is_decided_side_by_side(
    page, second_page, cast, feature, screenshot_dir
):
    admin, pm = page, second_page
    sign_in(admin, "admin", PASSWORD)
    sign_in(pm, "pm", PASSWORD)
    _open_editor(admin, cast, feature)
    _open_editor(pm, cast, feature)
    pm.fill("#id_title", "Jira sync (two-way)")
    _save(pm)
    pm.locator(".feature-title", has_text="Jira sync (two-way)").wait_for()

    admin.fill("#id_title", "Jira and Linear sync")
    _save(admin)
    conflict = admin.locator('[data-testid="merge-conflict"][data-field="title"]')
    conflict.wait_for()
    assert admin.input_value("#id_title") == "Jira and Linear sync"
    assert conflict.locator('[data-testid="merge-theirs-value"]').inner_text() == (
        "Jira sync (two-way)"
    )

    _save(admin)  # without deciding: refused, nothing written
    conflict.locator(".errorlist", has_text="choose whether to keep your value").wait_for()
    admin.locator('[data-testid="feature-form"]').screenshot(
        path=str(screenshot_dir / "edit-conflict-side-by-side.png")
    )
    assert Feature.objects.get(pk=feature.pk).title == "Jira sync (two-way)"

    admin.locator('[data-testid="merge-conflict"][data-field="title"]').get_by_label(
        "Keep yours"
    ).check()
    _save(admin)
    admin.locator(".feature-title", has_text="Jira and Linear sync").wait_for()
    assert Feature.objects.get(pk=feature.pk).title == "Jira and Linear sync"
    assert admin.console_errors == [] and pm.console_errors == []
