"""Importing a Jira export in real headless Chromium: from the backlog's Import button, upload,
change one status in the mapping, import, and see the features; the same at phone width.
Screenshots of the import page and the preview are kept in test-results/."""

import pytest
from playwright.sync_api import expect

from backlog.models import Feature, UserStory
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.imports.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_pm_imports_a_jira_export_from_the_backlog(page, cast, screenshot_dir, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/backlog/")
    page.get_by_test_id("import-link").click()
    page.screenshot(path=screenshot_dir / f"imports-index-{width}.png", full_page=True)
    page.get_by_label("Exported from").select_option("jira")
    page.set_input_files("input[type=file]", str(SAMPLES / "jira_issues.csv"))
    page.get_by_role("button", name="Upload and map").click()

    expect(page.get_by_test_id("count-new")).to_have_text("7")
    expect(page.get_by_test_id("preview-rows")).to_contain_text("ACME-110")
    # Epics still "To Do" in Jira go to the backlog by default; plan them instead.
    page.get_by_label("Feature “To Do”").select_option("planned")
    page.get_by_test_id("save-mapping").click()
    expect(page.get_by_test_id("preview-rows")).to_contain_text("To Do → planned")
    page.screenshot(path=screenshot_dir / f"imports-preview-{width}.png", full_page=True)
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")

    page.get_by_test_id("run-import").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("7 new")
    assert Feature.objects.get(title="Usage-based billing").status == "planned"
    assert UserStory.objects.count() == 4
    assert page.console_errors == []
