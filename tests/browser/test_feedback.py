"""Triage in real headless Chromium: a PM selects the words that matter in a piece of feedback,
marks it critical and links it to the suggested feature with one key press; the inbox row, the
counts and the feature's demand follow, with no CSP violation or script error."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backlog.models import Feature
from feedback.models import FeedbackItem, Insight
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "We track everything in Jira. Copying story status back and forth by hand costs us hours "
    "every week."
)
QUOTE = "Copying story status back and forth by hand"


def _select(page, words: str) -> None:
    """Select `words` inside the feedback text as a mouse would, then release the button."""
    page.evaluate(
        """(words) => {
          const box = document.querySelector('#triage-panel [data-quote-source]');
          const node = box.firstChild;
          const start = node.textContent.indexOf(words);
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + words.length);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }""",
        words,
    )


def test_pm_triages_one_item_into_a_feature_from_the_keyboard(page, cast, screenshot_dir):
    jira = make_feature(
        cast.product, "Two-way Jira sync", "Sync stories and status with Jira.", actor=cast.pm
    )
    make_feature(cast.product, "Dark mode", "A dark theme.", actor=cast.pm)
    customer = CustomerFactory(workspace=cast.workspace, name="Initech", arr=Decimal("75000"))
    now = timezone.now()
    item = FeedbackItemFactory(
        product=cast.product, customer=customer, content=TEXT, received_at=now
    )
    later = FeedbackItemFactory(
        product=cast.product, content="Dark theme please", received_at=now - timedelta(days=1)
    )

    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/feedback/")
    panel = page.locator("#triage-panel")
    assert panel.get_attribute("data-item-id") == str(item.pk)
    suggestion = panel.locator('[data-testid="suggestion-link"]').first
    assert suggestion.get_attribute("value") == f"feature:{jira.pk}"

    _select(page, QUOTE)
    assert panel.locator("textarea[name=quote]").input_value() == QUOTE
    panel.get_by_label("Critical").check()
    page.locator("body").click(position={"x": 5, "y": 300})  # focus off the form, keep state
    with page.expect_response(lambda r: "/link/" in r.url) as linked:
        page.keyboard.press("1")
    assert linked.value.status == 200
    page.locator(".toast", has_text="Linked to feature “Two-way Jira sync”").wait_for()

    # The panel shows the link with the quote marked in the text; the row and counts follow.
    expect(panel.locator('[data-testid="item-links"]')).to_contain_text("Two-way Jira sync")
    expect(panel.locator("mark.quote-mark")).to_have_text(QUOTE)
    row = page.locator(f"#fb-row-{item.pk}")
    expect(row.locator(".badge")).to_have_text("Linked")
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#status-count-new")).to_have_text("1")
    expect(page.locator("#status-count-linked")).to_have_text("1")

    insight = Insight.objects.get()
    assert (insight.feedback_item_id, insight.feature_id) == (item.pk, jira.pk)
    assert (insight.quote, insight.importance) == (QUOTE, "critical")
    jira = Feature.objects.get(pk=jira.pk)
    assert (jira.demand_customers, jira.demand_arr) == (1, Decimal("75000"))

    # j moves to the next item; t marks it triaged and the panel moves on.
    page.keyboard.press("j")
    expect(panel).to_have_attribute("data-item-id", str(later.pk))
    expect(panel.locator('[data-testid="item-status"]')).to_have_text("New")
    with page.expect_response(lambda r: "/status/" in r.url):
        page.keyboard.press("t")
    page.locator(".toast", has_text="is now triaged").wait_for()
    expect(page.locator(f"#fb-row-{later.pk} .badge")).to_have_text("Triaged")
    assert FeedbackItem.objects.get(pk=later.pk).status == "triaged"
    assert page.console_errors == []
    # Last: Playwright's screenshot injects a caret-hiding style that the CSP (rightly) refuses.
    page.screenshot(path=str(screenshot_dir / "feedback-triage.png"), full_page=True)


def test_the_inbox_is_usable_at_phone_width(page, cast, screenshot_dir):
    FeedbackItemFactory(product=cast.product, content="Please add SSO")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/feedback/")
    assert page.locator('[data-testid="feedback-row"]').count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page.console_errors == []
    page.screenshot(path=str(screenshot_dir / "feedback-inbox-phone.png"), full_page=True)


def test_pm_links_another_feature_through_the_combobox_by_keyboard(page, cast):
    """The panel holds no list of the backlog: `l` focuses the combobox, typing fetches the
    matches, arrow keys and Enter choose one, Enter again links it."""
    for i in range(20):
        make_feature(cast.product, f"Report number {i}", actor=cast.pm)
    target = make_feature(cast.product, "Audit log export", actor=cast.pm)
    item = FeedbackItemFactory(product=cast.product, content="Our auditors need the history")

    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/feedback/")
    panel = page.locator("#triage-panel")
    assert panel.locator("select").count() == 0
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("l")
    combo = panel.get_by_role("combobox")
    expect(combo).to_be_focused()
    with page.expect_response(lambda r: "link-targets" in r.url and "q=audit" in r.url):
        page.keyboard.type("audit")
    options = panel.get_by_role("option")
    expect(options).to_have_count(1)
    expect(combo).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(combo).to_have_value("Audit log export")
    expect(combo).to_have_attribute("aria-expanded", "false")
    with page.expect_response(lambda r: "/link/" in r.url):
        page.keyboard.press("Enter")
    page.locator(".toast", has_text="Linked to feature “Audit log export”").wait_for()
    assert Insight.objects.get().feature_id == target.pk
    assert Insight.objects.get().feedback_item_id == item.pk
    assert page.console_errors == []
