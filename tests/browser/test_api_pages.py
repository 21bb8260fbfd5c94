"""The API pages in headless Chromium: Swagger UI renders the operations under the strict CSP,
and an engineer creates, copies and revokes a token without a page reload."""

import re

import pytest

from pm.models import ApiToken
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def engineer(db):
    return MembershipFactory(
        workspace__name="Acme", workspace__slug="acme", role="engineer", user__username="eli"
    ).user


def test_swagger_ui_renders_every_operation_without_csp_violations(page, engineer, screenshot_dir):
    sign_in(page, "eli", PASSWORD)
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/stories/{key}/" in [s.replace("\u200b", "") for s in summaries]
    page.screenshot(path=screenshot_dir / "api-docs.png", full_page=False, caret="initial")
    violations = [e for e in page.console_errors if "Content Security Policy" in e]
    assert violations == []


def test_an_engineer_creates_and_revokes_a_token_in_place(page, engineer, screenshot_dir):
    sign_in(page, "eli", PASSWORD)
    page.click("[data-testid=user-menu] summary")
    page.click("text=API tokens")
    page.wait_for_url("**/settings/tokens/")
    assert page.locator(".empty").inner_text().startswith("No tokens yet")
    page.fill("#id_name", "CI")
    page.select_option("#id_scope", "read-write")
    page.click("button:has-text('Create token')")
    key = page.locator("#new-token-key").inner_text()
    assert re.fullmatch(r"lod_[A-Za-z0-9_-]{43}", key)
    page.screenshot(path=screenshot_dir / "api-tokens.png", full_page=True, caret="initial")
    token = ApiToken.objects.get(user=engineer)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"[data-testid=token-{token.pk}] button:has-text('Revoke')")
    page.wait_for_selector(f"[data-testid=token-{token.pk}] .badge.revoked")
    assert page.locator("#new-token-key").count() == 0  # shown once, gone after any change
    token.refresh_from_db()
    assert token.revoked_at is not None
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_dir / "api-tokens-phone.png", full_page=True, caret="initial")
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
