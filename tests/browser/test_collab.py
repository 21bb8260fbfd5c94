"""Comments, mentions and global search in real headless Chromium: an engineer comments with an
@mention picked from the autocomplete, the mentioned PM sees it in the bell and on the
notifications page; Ctrl-K jumps to a story by its key; screenshots of the new pages."""

import pytest

from pm.choices import Role
from tests.api import data
from tests.browser.conftest import open_page, sign_in
from tests.factories import PASSWORD, MembershipFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(db):
    pm = MembershipFactory(
        workspace__name="Acme",
        workspace__slug="acme",
        role=Role.PM,
        user__username="priya",
        user__first_name="Priya",
        user__last_name="Menon",
    )
    engineer = MembershipFactory(
        workspace=pm.workspace, role=Role.ENGINEER, user__username="eli", user__first_name="Eli"
    )
    product = ProductFactory(workspace=pm.workspace, name="Lodestar Cloud", key="LOD")
    feature = data.feature(product, pm.user, title="Single sign-on with Okta")
    story = data.story(feature, pm.user, title="SAML login page")
    return product, feature, story, pm.user, engineer.user


def test_a_mention_in_a_comment_reaches_the_mentioned_person(
    browser, live_server, team, screenshot_dir
):
    product, feature, _story, _pm, _engineer = team
    context, page = open_page(browser, live_server.url)
    sign_in(page, "eli", PASSWORD)
    page.goto(f"/p/LOD/features/{feature.pk}/")
    box = page.get_by_test_id("comment-form").locator("textarea")
    box.fill("Can we ship the read-only part first? @pri")
    page.get_by_test_id("mention-suggestions").get_by_text("@priya").click()
    assert box.input_value().endswith("@priya ")
    box.type("what do you think?")
    page.get_by_test_id("comment-submit").click()
    comment = page.get_by_test_id("comment").first
    comment.wait_for()
    assert "@priya" in comment.inner_text()
    assert page.locator(".mention").first.inner_text() == "@priya"
    page.screenshot(path=str(screenshot_dir / "collab-comments.png"), full_page=True)
    assert not page.console_errors
    context.close()

    context, page = open_page(browser, live_server.url)
    sign_in(page, "priya", PASSWORD)
    assert page.locator("#notification-count").inner_text() == "1"
    page.get_by_test_id("notifications").locator("summary").click()
    panel = page.locator("#notification-panel")
    panel.get_by_text("mentioned you on feature “Single sign-on with Okta”").wait_for()
    page.goto("/notifications/?kind=mention")
    assert "mentioned you on feature" in page.get_by_test_id("notification").first.inner_text()
    page.screenshot(path=str(screenshot_dir / "collab-notifications.png"), full_page=True)
    page.get_by_test_id("notification").first.locator("a").click()
    page.wait_for_url(f"**/p/LOD/features/{feature.pk}/#comment-*")
    page.get_by_test_id("comment").first.wait_for()
    assert not page.console_errors
    context.close()


def test_ctrl_k_jumps_to_a_story_by_its_key(browser, live_server, team, screenshot_dir):
    _product, _feature, story, _pm, _engineer = team
    context, page = open_page(browser, live_server.url)
    sign_in(page, "eli", PASSWORD)
    page.keyboard.press("Control+k")
    dialog = page.get_by_test_id("quick-jump")
    dialog.wait_for()
    dialog.locator("input[type=search]").type(story.key)
    dialog.get_by_test_id("search-jump").wait_for()
    page.screenshot(path=str(screenshot_dir / "collab-quick-jump.png"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/p/LOD/stories/{story.number}/")
    assert "SAML login page" in page.content()
    # The search page, grouped by kind.
    page.goto("/search/?q=sing")
    page.get_by_test_id("search-hit").first.wait_for()
    assert "Single sign-on with Okta" in page.get_by_test_id("search-results").inner_text()
    page.screenshot(path=str(screenshot_dir / "collab-search.png"), full_page=True)
    assert not page.console_errors
    context.close()
