"""The ideas portal in real headless Chromium: while a visitor types a new idea, the published
ideas that mean the same appear under the form (debounced, htmx) with a way to vote instead;
nothing internal shows, and no CSP violation or script error happens."""

import pytest
from playwright.sync_api import expect

from feedback import embeddings
from feedback.models import PortalPost, PortalSettings
from tests.feedback.factories import make_idea

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_similar_ideas_appear_while_a_visitor_types(cast, page, screenshot_dir):
    PortalSettings.objects.create(product=cast.product, enabled=True)
    posts = []
    for title in ("Dark theme for the whole app", "Export the backlog to Excel"):
        idea = make_idea(cast.product, title, "Internal: promised to ACME.", actor=cast.pm)
        posts.append(
            PortalPost.objects.create(
                product=cast.product, idea=idea, title=title, status="published", votes=4
            )
        )
    embeddings.refresh("post", [p.pk for p in posts])

    page.goto("/portal/LOD/ideas/new/")
    box = page.locator("#similar-ideas")
    expect(box).to_be_empty()
    page.locator("#id_title").press_sequentially("Night mode with a black background", delay=20)
    similar = page.locator("[data-testid=similar-ideas]")
    expect(similar).to_be_visible()
    expect(similar).to_contain_text("Dark theme for the whole app")
    expect(similar).not_to_contain_text("ACME")
    page.screenshot(path=str(screenshot_dir / "portal-similar-ideas.png"), full_page=True)
    similar.get_by_role("link", name="Vote for this").first.click()
    expect(page.locator("[data-testid=vote-panel]")).to_be_visible()
    assert page.url.endswith(f"/portal/LOD/ideas/{posts[0].pk}/#vote")
    assert page.console_errors == []
