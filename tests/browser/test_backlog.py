"""The backlog in real headless Chromium: a PM drags a feature to a new position and finds it
there after a reload; edits a score inline; pages render without script or CSP errors at
desktop and phone widths (screenshots kept in test-results/ for a human to look at)."""

import pytest

from backlog import services
from backlog.models import Feature
from tests.backlog.factories import FeatureFactory, IdeaFactory, StoryFactory
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _drag(page, source, target, *, below=True):
    """Drag with real mouse events (SortableJS in fallback mode follows the pointer). The
    source is scrolled to the middle of the window first: the mouse only reaches what is shown."""
    source.evaluate("e => e.scrollIntoView({block: 'center'})")
    src = source.bounding_box()
    dst = target.bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(src["x"] + src["width"] / 2 + 4, src["y"] + src["height"] / 2 + 8, steps=5)
    y = dst["y"] + dst["height"] - 4 if below else dst["y"] + 4
    page.mouse.move(dst["x"] + dst["width"] / 2, y, steps=25)
    page.mouse.move(dst["x"] + dst["width"] / 2, y + 1, steps=5)
    page.mouse.up()


def _titles(page):
    return page.locator('[data-testid="feature-row"] .col-title a.item-title').all_inner_texts()


def test_pm_drags_a_feature_to_a_new_position_and_it_stays_after_reload(page, cast):
    for title in ["Alpha", "Bravo", "Charlie", "Delta"]:
        FeatureFactory(product=cast.product, title=title)
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/backlog/")
    assert _titles(page) == ["Alpha", "Bravo", "Charlie", "Delta"]

    handle = page.locator('[data-testid="feature-row"]', has_text="Delta").locator(".drag-handle")
    target = page.locator('[data-testid="feature-row"]', has_text="Bravo")
    with page.expect_response(lambda r: "/move/" in r.url) as move:
        _drag(page, handle, target, below=False)
    assert move.value.status == 200
    page.locator(".toast", has_text="Moved “Delta”").wait_for()

    page.reload()
    assert _titles(page) == ["Alpha", "Delta", "Bravo", "Charlie"]
    assert list(Feature.objects.values_list("title", flat=True)) == [
        "Alpha",
        "Delta",
        "Bravo",
        "Charlie",
    ]
    assert page.console_errors == []


def test_pm_edits_score_inputs_inline(page, cast):
    services.feature_create(
        product=cast.product,
        data={"title": "Scored", "reach": 100, "impact": 1, "confidence": 50, "effort": 1},
        actor=cast.pm,
    )
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/backlog/")
    row = page.locator('[data-testid="feature-row"]', has_text="Scored")
    assert row.locator('[data-testid="score"]').inner_text() == "50"
    row.locator('[data-testid="edit-score"]').click()
    form = page.locator('[data-testid="score-form"]')
    form.locator('input[name="effort"]').fill("2")
    form.locator("button[type=submit]").click()
    page.locator(".toast", has_text="Saved “Scored”").wait_for()
    row = page.locator('[data-testid="feature-row"]', has_text="Scored")
    assert row.locator('[data-testid="score"]').inner_text() == "25"
    assert page.console_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_backlog_pages_render_cleanly(page, cast, screenshot_dir, width):
    feature = FeatureFactory(
        product=cast.product,
        title="Feature with stories",
        description="**Why**: customers asked. <script>window.pwned = 1</script>",
        reach=500,
        impact=2,
        confidence=80,
        effort=3,
    )
    for i in range(12):
        FeatureFactory(product=cast.product, title=f"Backlog item {i}", moscow="should")
    story = StoryFactory(feature=feature, acceptance_criteria=[{"text": "Given A", "done": False}])
    IdeaFactory(product=cast.product, title="An idea from a customer", votes=3)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "pm", PASSWORD)
    key = cast.product.key
    for name, path in [
        ("backlog", f"/p/{key}/backlog/"),
        ("feature", f"/p/{key}/features/{feature.pk}/"),
        ("story", f"/p/{key}/stories/{story.number}/"),
        ("ideas", f"/p/{key}/ideas/"),
    ]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshot_dir / f"backlog-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways at {width}px"
    assert page.evaluate("window.pwned === undefined")
    assert page.console_errors == []
