"""The demo product on a phone, 390×844 (issue 14 item 11): no page wider than the screen, the
triage panel in view after tapping a feedback item, the active tab in view, the experiments'
numbers and the import's columns readable without sideways scrolling, and a menu button that
can be seen. Screenshots land in test-results/phone-*.png."""

import io

import pytest
from django.core.management import call_command

from pm.management.commands.load_demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844

PAGES = [
    ("overview", "/p/LOD/"),
    ("inbox", "/p/LOD/feedback/"),
    ("add-feedback", "/p/LOD/feedback/new/"),
    ("import", "/p/LOD/feedback/import/"),
    ("experiments", "/p/LOD/kpis/experiments/"),
    ("history", "/p/LOD/history/"),
]

CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const v = rgb(c).map((x) => { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const fg = lum(getComputedStyle(el).color);
  const bg = lum(getComputedStyle(document.querySelector('.topbar')).backgroundColor);
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


def _in_view(page, selector: str) -> dict:
    return page.eval_on_selector(
        selector,
        """(el) => { const r = el.getBoundingClientRect();
          return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }""",
    )


@pytest.fixture
def phone(browser, live_server):
    call_command("load_demo", stdout=io.StringIO())
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, base_url=live_server.url, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, "pm", DEMO_PASSWORD)
    yield page
    context.close()


def test_no_page_is_wider_than_a_phone(phone, screenshot_dir):
    widths = {}
    for name, path in PAGES:
        phone.goto(path)
        phone.wait_for_load_state("networkidle")
        widths[name] = phone.evaluate("document.documentElement.scrollWidth")
        phone.screenshot(path=screenshot_dir / f"phone-{name}.png", full_page=True)
        # The active product tab is on screen, not scrolled away to the right.
        tab = _in_view(phone, ".tabs a.active")
        assert tab["left"] >= 0 and tab["right"] <= WIDTH, (name, tab)
    assert widths == {name: WIDTH for name, _ in PAGES}
    assert phone.console_errors == []


def test_experiment_numbers_and_import_columns_fit_the_screen(phone):
    phone.goto("/p/LOD/kpis/experiments/")
    cells = phone.eval_on_selector_all(
        "[data-testid=variants] td",
        "(tds) => tds.map((td) => ({right: td.getBoundingClientRect().right,"
        " label: td.dataset.label || '', text: td.innerText}))",
    )
    labels = {cell["label"] for cell in cells}
    assert {"Conversion rate", "Lift", "Difference, 95% CI", "p-value"} <= labels
    assert max(cell["right"] for cell in cells) <= WIDTH
    rate = next(c for c in cells if c["label"] == "Conversion rate" and "%" in c["text"])
    assert phone.get_by_text(rate["text"].strip(), exact=True).first.is_visible()

    phone.goto("/p/LOD/feedback/import/")
    table = _in_view(phone, "[data-testid=import-columns]")
    assert table["right"] <= WIDTH
    assert phone.get_by_text("What the customer said.").is_visible()


def test_tapping_a_feedback_item_shows_its_triage_panel(phone, screenshot_dir):
    phone.goto("/p/LOD/feedback/")
    row = phone.locator("[data-testid=feedback-row]").nth(4)
    item_id = row.get_attribute("data-item-id")
    row.scroll_into_view_if_needed()
    row.tap()
    phone.wait_for_function(
        f"() => document.querySelector('#triage-panel').dataset.itemId === '{item_id}'"
    )
    phone.wait_for_function(
        """() => { const r = document.querySelector('#triage-panel').getBoundingClientRect();
          return r.top >= 0 && r.top < innerHeight / 2; }"""
    )
    phone.screenshot(path=screenshot_dir / "phone-triage-panel.png")
    # And back to the list, at the row tapped.
    phone.get_by_test_id("back-to-list").tap()
    phone.wait_for_function(
        f"""() => {{ const r = document.getElementById('fb-row-{item_id}').getBoundingClientRect();
          return r.top >= 56 && r.bottom <= innerHeight; }}"""
    )
    assert phone.console_errors == []


def test_the_menu_button_is_visible_and_opens_the_navigation(phone, screenshot_dir):
    phone.goto("/p/LOD/")
    toggle = phone.get_by_test_id("nav-toggle")
    box = toggle.bounding_box()
    assert box["width"] >= 32 and box["height"] >= 32 and box["x"] >= 0
    assert toggle.evaluate(CONTRAST) >= 4.5  # WCAG AA against the dark top bar
    # The top bar itself fits: the user menu is not pushed off the screen.
    assert _in_view(phone, "[data-testid=user-menu] summary")["right"] <= WIDTH
    toggle.tap()
    assert phone.locator(".sidebar").is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    phone.screenshot(path=screenshot_dir / "phone-menu-open.png")
