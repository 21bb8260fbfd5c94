"""The Strategy page in real headless Chromium: a PM creates a product and edits its strategy
inline without a page reload; a stakeholder sees it read-only; the layout holds at phone width."""

import re

import pytest

from pm.choices import Role
from pm.models import Objective, Product, StrategicTheme
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, ObjectiveFactory, ThemeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(db):
    """Acme with a PM and a stakeholder, and no product yet."""
    pm = MembershipFactory(
        workspace__name="Acme",
        workspace__slug="acme",
        role=Role.PM,
        user__username="priya",
        user__first_name="Priya",
        user__last_name="Menon",
    )
    stakeholder = MembershipFactory(
        workspace=pm.workspace,
        role=Role.STAKEHOLDER,
        user__username="sam",
        user__first_name="Sam",
    )
    return pm.workspace, pm.user, stakeholder.user


def _no_reload_marker(page) -> None:
    page.evaluate("window.__sameDocument = 'still here'")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === 'still here'")


def test_pm_creates_a_product_and_edits_its_strategy_inline(page, team, screenshot_dir):
    workspace, _pm, _stakeholder = team
    sign_in(page, "priya", PASSWORD)

    page.goto(f"/w/{workspace.slug}/")
    page.get_by_role("link", name="New product").click()
    page.fill("#id_name", "Beacon")
    page.fill("#id_key", "bcn")
    page.fill("#id_vision", "Every team knows **why** they build what they build.")
    page.get_by_role("button", name="Create product").click()
    page.wait_for_url(re.compile(r"/p/BCN/strategy/$"))
    assert page.locator("#vision strong").inner_text() == "why"
    assert Product.objects.filter(key="BCN").exists()

    _no_reload_marker(page)

    # A theme, inline.
    page.get_by_role("button", name="Add theme").click()
    form = page.locator('[data-testid="theme-form"]')
    form.locator("[name=name]").fill("Customer evidence")
    form.locator("[name=description]").fill("Decisions traceable to feedback.")
    form.get_by_role("button", name="Add theme").click()
    themes = page.locator('[data-testid="section-themes"]')
    themes.get_by_text("Customer evidence", exact=True).wait_for()
    assert form.count() == 0  # the form was replaced by the updated section
    page.locator(".toast", has_text="Theme “Customer evidence” added.").wait_for()

    # An objective under that theme, inline.
    page.get_by_role("button", name="Add objective").click()
    form = page.locator('[data-testid="objective-form"]')
    form.locator("[name=title]").fill("Make feedback the first input")
    form.locator("[name=period]").fill("2027 Q1")
    form.locator("[name=theme]").select_option(label="Customer evidence")
    form.get_by_role("button", name="Add objective").click()
    objectives = page.locator('[data-testid="section-objectives"]')
    objectives.get_by_text("Make feedback the first input").wait_for()
    # The theme's objective count follows without a reload.
    themes.get_by_text("1 objective", exact=True).wait_for()

    # A form error shows beside the field, still without a reload.
    page.get_by_role("button", name="Add persona").click()
    form = page.locator('[data-testid="persona-form"]')
    form.locator("[name=segment]").fill("Scale-ups")
    form.get_by_role("button", name="Add persona").click()
    form.locator(".field.has-error .errorlist", has_text="This field is required.").wait_for()
    assert form.locator("[name=segment]").input_value() == "Scale-ups"

    assert _same_document(page), "the page was reloaded"
    assert page.console_errors == []  # no CSP violations, no script errors
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "strategy-pm-inline.png", full_page=True)

    page.reload()
    assert not _same_document(page)
    assert themes.get_by_text("Customer evidence", exact=True).is_visible()
    assert objectives.get_by_text("Make feedback the first input").is_visible()
    objective = Objective.objects.get(title="Make feedback the first input")
    assert objective.theme == StrategicTheme.objects.get(name="Customer evidence")
    assert objective.product.key == "BCN"

    # Editing inline too, and the history shows it.
    page.locator(f"#objectives-{objective.pk}").get_by_role("button", name="Edit").first.click()
    form = page.locator('[data-testid="objective-form"]')
    form.locator("[name=title]").fill("Make feedback the first input to prioritisation")
    form.get_by_role("button", name="Save").click()
    objectives.get_by_text("Make feedback the first input to prioritisation").wait_for()
    page.get_by_role("link", name="History").click()
    page.get_by_text("Make feedback the first input to prioritisation").first.wait_for()
    page.screenshot(path=screenshot_dir / "strategy-history.png", full_page=True)
    assert page.console_errors == []


@pytest.fixture
def strategy(team):
    workspace, pm, stakeholder = team
    product = Product.objects.create(
        workspace=workspace,
        name="Beacon",
        key="BCN",
        vision="Every team knows **why** they build what they build.",
        mission="Turn customer evidence into outcomes.",
    )
    theme = ThemeFactory(
        product=product,
        name="Customer evidence",
        colour="#0f8a5f",
        description="Decisions traceable to feedback.",
    )
    ThemeFactory(product=product, name="Delivery flow", colour="#4f46e5")
    objective = ObjectiveFactory(
        product=product, theme=theme, title="Make feedback the first input to prioritisation"
    )
    objective.key_results.create(
        workspace_id=product.workspace_id,
        description="Features linked to feedback",
        start_value=20,
        target_value=70,
        current_value=41,
        unit="%",
    )
    return product


def test_stakeholder_sees_the_strategy_without_edit_controls(page, strategy, screenshot_dir):
    sign_in(page, "sam", PASSWORD)
    page.goto(f"/p/{strategy.key}/strategy/")

    assert page.get_by_text("Make feedback the first input to prioritisation").is_visible()
    assert page.get_by_text("Features linked to feedback").is_visible()
    for name in (
        "Edit",
        "Delete",
        "Add theme",
        "Add objective",
        "Add key result",
        "Add persona",
        "Add competitor",
    ):
        assert page.get_by_role("button", name=name).count() == 0, name
    assert page.locator("[hx-post], [hx-get*='/edit/'], [hx-get*='/new/']").count() == 0
    page.screenshot(path=screenshot_dir / "strategy-stakeholder.png", full_page=True)

    page.goto(f"/p/{strategy.key}/")
    assert page.get_by_role("link", name="Edit strategy").count() == 0
    assert page.get_by_text("Every team knows").is_visible()
    page.screenshot(path=screenshot_dir / "overview-stakeholder.png", full_page=True)
    assert page.console_errors == []


@pytest.mark.parametrize("path", ["strategy/", ""], ids=["strategy", "overview"])
def test_pages_fit_a_phone_screen(browser, live_server, strategy, screenshot_dir, path):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url, device_scale_factor=2
    )
    page = context.new_page()
    try:
        sign_in(page, "priya", PASSWORD)
        page.goto(f"/p/{strategy.key}/{path}")
        name = path.strip("/") or "overview"
        page.screenshot(path=screenshot_dir / f"{name}-phone.png", full_page=True)
        # Nothing sticks out sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The sidebar is tucked away behind the menu button, which opens it.
        assert (
            not page.locator(".sidebar").is_visible()
            or page.locator(".sidebar").bounding_box()["x"] < 0
        )
        page.get_by_role("button", name="Menu").click()
        page.locator(".sidebar").get_by_text("Beacon").wait_for(state="visible")
        page.screenshot(path=screenshot_dir / f"{name}-phone-menu.png")
        # Both drop-down menus open inside the screen.
        for menu in ("workspace-switcher", "user-menu"):
            page.locator(f'[data-testid="{menu}"] > summary').click()
            panel = page.locator(f'[data-testid="{menu}"] .menu-panel')
            panel.wait_for(state="visible")
            box = panel.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (menu, box)
        page.screenshot(path=screenshot_dir / f"{name}-phone-user-menu.png")
    finally:
        context.close()
