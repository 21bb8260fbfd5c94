"""No CSP violation when htmx swaps in a fresh panel (issue 14 item 12).

htmx "settles" attributes of elements that keep their id across a swap: it copied the old
element's `style` attribute onto the new one with setAttribute, which a strict `style-src 'self'`
refuses ("Applying inline style violates…"). Old elements get a style attribute from things that
are not the page's markup: a user dragging a textarea's resize corner, a password manager
decorating an e-mail field, our own auto-growing textareas. The flows below do exactly those
things, then swap, and listen for console errors and `securitypolicyviolation` events.
"""

import pytest
from playwright.sync_api import expect

from pm.models import Membership
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.feedback.factories import FeedbackItemFactory, make_feature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations = window.__violations || [];
  window.__violations.push(e.violatedDirective + ' ' + (e.sourceFile || '') + ' ' + e.sample);
});"""


def _violations(page) -> list[str]:
    return page.evaluate("window.__violations || []") + [
        e for e in page.console_errors if "Content Security Policy" in e
    ]


def test_linking_feedback_after_resizing_the_quote_box_breaks_no_csp(page, cast, screenshot_dir):
    page.context.add_init_script(LISTEN)
    make_feature(cast.product, "Two-way Jira sync", "Sync stories with Jira.", actor=cast.pm)
    item = FeedbackItemFactory(
        product=cast.product, content="We need a two-way Jira sync for story status."
    )
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/feedback/{item.pk}/")
    quote = page.locator("#triage-panel textarea[name=quote]")
    quote.scroll_into_view_if_needed()
    box = quote.bounding_box()
    # Drag the resize corner, as a user making room for a long quote does.
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] - 3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] + 60, steps=5)
    page.mouse.up()
    assert "height" in (quote.get_attribute("style") or "")
    quote.fill("two-way Jira sync")

    with page.expect_response(lambda r: "/link/" in r.url) as linked:
        page.locator('[data-testid="suggestion-link"]').first.click()
    assert linked.value.status == 200
    expect(page.locator('[data-testid="item-links"]')).to_contain_text("Two-way Jira sync")
    page.wait_for_timeout(300)  # htmx settles 20 ms after the swap
    page.screenshot(path=screenshot_dir / "csp-feedback-linked.png", full_page=True)
    assert _violations(page) == []
    assert page.console_errors == []


def test_changing_roles_on_members_breaks_no_csp(page, cast, screenshot_dir):
    page.context.add_init_script(LISTEN)
    sign_in(page, "admin", PASSWORD)
    page.goto(f"/w/{cast.workspace.slug}/members/")
    # A password manager decorates the invitation's e-mail field through the CSSOM.
    page.evaluate(
        "document.querySelector('#id_email').style.backgroundImage = 'none';"
        "document.querySelector('#id_email').style.paddingRight = '30px';"
    )
    engineer = Membership.objects.get(workspace=cast.workspace, user=cast.engineer)
    for role in ("pm", "stakeholder"):
        with page.expect_response(lambda r: "/role/" in r.url) as changed:
            page.locator(f"#role-{engineer.pk}").select_option(role)
        assert changed.value.status == 200
        page.locator(".toast", has_text="is now").last.wait_for()
        page.wait_for_timeout(300)
        engineer.refresh_from_db()
        assert engineer.role == role
    page.screenshot(path=screenshot_dir / "csp-members-role.png", full_page=True)
    assert _violations(page) == []
    assert page.console_errors == []


def test_long_vision_text_is_not_clipped_in_its_form(page, cast, screenshot_dir):
    """Issue 14 item 14: the vision form's textareas grow with their text."""
    page.context.add_init_script(LISTEN)
    paragraph = "We make product decisions visible to everyone who depends on them. " * 12
    cast.product.vision = paragraph
    cast.product.business_model = "Per seat.\n\n" + "Annual plans with a discount.\n" * 8
    cast.product.save()
    sign_in(page, "pm", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/p/{cast.product.key}/strategy/")
    page.locator("#vision").get_by_role("button", name="Edit").click()
    vision = page.locator("#id_vision")
    expect(vision).to_be_visible()
    page.wait_for_timeout(100)
    for field in ("#id_vision", "#id_business_model"):
        clipped = page.eval_on_selector(field, "el => el.scrollHeight - el.clientHeight")
        assert clipped <= 1, f"{field} hides {clipped}px of its text"
    # Typing more makes it grow again.
    before = vision.bounding_box()["height"]
    vision.press("Control+End")
    vision.type("\nOne more line.\nAnd another.\nAnd a third.")
    assert vision.bounding_box()["height"] > before
    assert page.eval_on_selector("#id_vision", "el => el.scrollHeight - el.clientHeight") <= 1
    page.screenshot(path=screenshot_dir / "vision-form.png", full_page=True)
    # Saving swaps the vision card back in without a CSP violation from the grown textareas.
    page.get_by_role("button", name="Save").click()
    page.locator(".toast", has_text="Vision saved").wait_for()
    assert _violations(page) == []
    assert page.console_errors == []
