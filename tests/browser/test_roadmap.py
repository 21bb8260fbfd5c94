"""The roadmap in real headless Chromium: a PM drags an initiative from Next to Now and it stays
there after a reload; the timeline, the board and the public page are screenshotted (desktop,
phone, print) for a human to look at, with no CSP violation or script error on the way."""

import io

import pytest
from django.core.management import call_command

from pm.models import Product
from roadmap.choices import Horizon
from roadmap.models import Initiative
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.roadmap.factories import InitiativeFactory, make_share_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _column_titles(page, horizon):
    return page.locator(
        f'[data-testid="column-{horizon}"] .board-card .item-title'
    ).all_inner_texts()


def _drag(page, source, target, *, below=True):
    """Drag with real mouse events (SortableJS's fallback mode follows the pointer)."""
    src = source.bounding_box()
    dst = target.bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + 12)
    page.mouse.down()
    page.mouse.move(src["x"] + src["width"] / 2 + 10, src["y"] + 20, steps=5)
    y = dst["y"] + dst["height"] - 6 if below else dst["y"] + 6
    page.mouse.move(dst["x"] + dst["width"] / 2, y, steps=25)
    page.mouse.move(dst["x"] + dst["width"] / 2, y + 2, steps=5)
    page.mouse.up()


def test_pm_drags_an_initiative_from_next_to_now_and_it_stays_after_reload(page, cast):
    InitiativeFactory(product=cast.product, horizon=Horizon.NOW, title="Already now")
    dragged = InitiativeFactory(product=cast.product, horizon=Horizon.NEXT, title="Drag me")
    InitiativeFactory(product=cast.product, horizon=Horizon.NEXT, title="Stays next")
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/roadmap/board/")
    assert _column_titles(page, "next") == ["Drag me", "Stays next"]

    card = page.locator('[data-testid="card"]', has_text="Drag me")
    target = page.locator('[data-testid="card"]', has_text="Already now")
    with page.expect_response(lambda r: "/move/" in r.url) as move:
        _drag(page, card, target, below=True)
    assert move.value.status == 200
    page.locator(".toast", has_text="moved to Now").wait_for()

    page.reload()
    assert _column_titles(page, "now") == ["Already now", "Drag me"]
    assert _column_titles(page, "next") == ["Stays next"]
    dragged.refresh_from_db()
    assert (dragged.horizon, dragged.version) == (Horizon.NOW, 2)
    assert (
        page.locator('[data-testid="column-now"]')
        .locator("xpath=..")
        .locator("[data-count]")
        .inner_text()
        == "2"
    )
    assert page.console_errors == []


def test_the_move_to_menu_works_without_dragging(page, cast):
    InitiativeFactory(product=cast.product, horizon=Horizon.LATER, title="Keyboard move")
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/roadmap/board/")
    page.locator("summary", has_text="Move to…").click()
    page.locator('[data-testid="card"]').get_by_role("button", name="Now").click()
    page.locator(".toast", has_text="moved to Now").wait_for()
    assert _column_titles(page, "now") == ["Keyboard move"]
    page.reload()
    assert _column_titles(page, "now") == ["Keyboard move"]


def test_timeline_board_and_public_page_screenshots(browser, live_server, screenshot_dir):
    """Screenshots of the demo roadmap to look at: test-results/roadmap-*.png."""
    call_command("load_demo", stdout=io.StringIO())
    product = Product.objects.get(key="LOD")
    assert Initiative.objects.filter(product=product).count() == 12
    _link, token = make_share_link(product, product.workspace.memberships.first().user)
    errors = []
    shots = [
        ("timeline-desktop", 1400, "/p/LOD/roadmap/", "pm"),
        ("timeline-quarters", 1400, "/p/LOD/roadmap/?scale=quarter", "pm"),
        ("timeline-phone", 390, "/p/LOD/roadmap/", "pm"),
        ("board-desktop", 1400, "/p/LOD/roadmap/board/", "pm"),
        ("board-phone", 390, "/p/LOD/roadmap/board/", "stakeholder"),
        ("stakeholder-timeline", 1400, "/p/LOD/roadmap/", "stakeholder"),
        ("public-desktop", 1400, f"/share/{token}/", None),
        ("public-phone", 390, f"/share/{token}/", None),
    ]
    for name, width, path, user in shots:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, base_url=live_server.url
        )
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        if user:
            sign_in(page, user, "lodestar-demo")
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if "timeline" in name or "public" in name:
            assert page.locator('[data-testid="timeline-bar"]').count() >= 8
            assert page.locator('[data-testid="today-line"]').count() == 1
            # The page never scrolls sideways: the timeline scrolls inside its frame.
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.screenshot(path=screenshot_dir / f"roadmap-{name}.png", full_page=True)
        if name == "timeline-desktop":
            page.emulate_media(media="print")
            page.screenshot(path=screenshot_dir / "roadmap-timeline-print.png", full_page=True)
        context.close()
    assert errors == []
