"""The sprint board in real headless Chromium: an engineer drags a story card from To do to In
progress, the status is saved, and the card is still there after a reload; the sprints page
draws the velocity chart without script or CSP errors."""

from datetime import date, timedelta

import pytest

from backlog.models import UserStory
from tests.backlog.factories import FeatureFactory, SprintFactory, StoryFactory
from tests.browser.conftest import sign_in
from tests.browser.test_backlog import _drag
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _cards(page, status):
    return page.locator(f'[data-testid="column-{status}"] .story-card').all_inner_texts()


def test_engineer_moves_a_story_card_across_the_board(page, cast, screenshot_dir):
    sprint = SprintFactory(product=cast.product, capacity=10)
    feature = FeatureFactory(product=cast.product)
    moving = StoryFactory(feature=feature, sprint=sprint, title="Move me", status="todo")
    StoryFactory(feature=feature, sprint=sprint, title="Already going", status="in_progress")
    sign_in(page, "engineer", PASSWORD)
    page.goto(f"/p/{cast.product.key}/sprints/{sprint.pk}/")

    card = page.locator(f'[data-testid="card-{moving.key}"]')
    target = page.locator('[data-testid="column-in_progress"] .story-card', has_text="Already")
    with page.expect_response(lambda r: "/status/" in r.url) as response:
        _drag(page, card, target, below=True)
    assert response.value.status == 200
    page.locator(".toast", has_text=f"{moving.key} moved to In progress").wait_for()
    page.screenshot(path=str(screenshot_dir / "sprint-board-1280.png"), full_page=True)

    page.reload()
    assert any("Move me" in text for text in _cards(page, "in_progress"))
    assert not any("Move me" in text for text in _cards(page, "todo"))
    moving.refresh_from_db()
    assert (moving.status, moving.version) == ("in_progress", 2)
    assert page.console_errors == []


def test_a_stale_card_shows_where_it_really_is_with_a_message(page, cast):
    sprint = SprintFactory(product=cast.product)
    story = StoryFactory(feature__product=cast.product, sprint=sprint, title="Contested")
    StoryFactory(feature__product=cast.product, sprint=sprint, title="Target", status="done")
    sign_in(page, "engineer", PASSWORD)
    page.goto(f"/p/{cast.product.key}/sprints/{sprint.pk}/")
    # Someone else moves the story while this page is open.
    UserStory.objects.filter(pk=story.pk).update(status="in_review", version=2)

    card = page.locator(f'[data-testid="card-{story.key}"]')
    target = page.locator('[data-testid="column-done"] .story-card', has_text="Target")
    with page.expect_response(lambda r: "/status/" in r.url) as response:
        _drag(page, card, target, below=True)
    assert response.value.status == 409
    page.locator(".toast.error", has_text="Someone else saved this").wait_for()
    # The board comes back as saved: the card is where the other person put it, not in Done.
    page.locator('[data-testid="column-in_review"] .story-card', has_text="Contested").wait_for()
    assert not any("Contested" in text for text in _cards(page, "done"))
    assert UserStory.objects.get(pk=story.pk).status == "in_review"


def test_sprints_page_draws_the_velocity_chart(page, cast):
    today = date.today()
    for n in range(3):
        start = today - timedelta(days=14 * (3 - n) + 3)
        sprint = SprintFactory(
            product=cast.product, name=f"S{n}", start=start, end=start + timedelta(days=11)
        )
        StoryFactory(feature__product=cast.product, sprint=sprint, points=5, status="done")
    sign_in(page, "engineer", PASSWORD)  # sprints are the team's (not a stakeholder section)
    page.goto(f"/p/{cast.product.key}/sprints/")
    page.wait_for_function("document.getElementById('velocity-chart').dataset.chartReady === '1'")
    assert page.evaluate("document.getElementById('velocity-chart').width") > 0
    assert page.console_errors == []
