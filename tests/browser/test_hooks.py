"""Webhooks and development tools in headless Chromium: an admin adds an endpoint (secret shown
once, copied), its delivery log after a failed and a delivered attempt, the product's
Development settings, and the story's Development panel. Screenshots in test-results/."""

import pytest
from django.utils import timezone

from hooks import devtools, sending
from hooks.models import DevLink, Endpoint
from tests.backlog.factories import FeatureFactory, StoryFactory
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.hooks.factories import make_delivery
from tests.hooks.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_an_endpoint_and_reads_its_delivery_log(page, cast, screenshot_dir, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    sign_in(page, "admin", PASSWORD)
    page.goto(f"/w/{cast.workspace.slug}/webhooks/")
    assert page.locator(".empty").inner_text().startswith("No endpoints yet")
    page.fill("#id_name", "Release bot")
    page.fill("#id_url", "https://hooks.example.com/lodestar")
    page.check("input[value='feature.shipped']")
    page.check("input[value='story.status_changed']")
    page.click("button:has-text('Add endpoint')")
    secret = page.locator("#new-secret").inner_text()
    endpoint = Endpoint.objects.get()
    assert secret == endpoint.secret
    page.screenshot(path=screenshot_dir / "webhooks.png", full_page=True, caret="initial")

    with Receiver(secret=secret) as receiver:
        Endpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
        receiver.fail_first(1)
        delivery = make_delivery(endpoint, event="story.status_changed")
        sending.attempt(delivery.pk, owner="t")
        type(delivery).objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        sending.attempt(delivery.pk, owner="t")
        failing = make_delivery(endpoint, object_key="backlog.feature:9", event="feature.shipped")
        receiver.fail_all = True
        sending.attempt(failing.pk, owner="t")
    page.goto(f"/w/{cast.workspace.slug}/webhooks/{endpoint.pk}/")
    log = page.locator("[data-testid=delivery-log]")
    assert "Delivered" in log.inner_text() and "500" in log.inner_text()
    page.screenshot(path=screenshot_dir / "webhook-deliveries.png", full_page=True, caret="initial")
    assert page.console_errors == []


def test_the_development_settings_and_the_story_panel(page, cast, screenshot_dir):
    story = StoryFactory(
        feature=FeatureFactory(product=cast.product), number=42, title="CSV export"
    )
    dev = devtools.dev_settings(cast.product)
    for kind, external_id, title, state in (
        ("pull_request", "1347", "CSV export of the filtered backlog (LOD-42)", "merged"),
        ("branch", "lod-42-csv-export", "lod-42-csv-export", ""),
        ("commit", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "LOD-42: export as CSV", ""),
    ):
        DevLink.objects.create(
            product=cast.product,
            story=story,
            provider="github",
            repository="acme/web",
            kind=kind,
            external_id=external_id,
            title=title,
            state=state,
            url="https://github.com/acme/web",
            author="octocat",
        )
    sign_in(page, "admin", PASSWORD)
    page.goto(f"/p/{cast.product.key}/development/")
    assert dev.receiver_id in page.locator("[data-testid=github-url]").inner_text()
    page.screenshot(
        path=screenshot_dir / "development-settings.png", full_page=True, caret="initial"
    )
    page.goto(f"/p/{cast.product.key}/stories/42/")
    panel = page.locator("[data-testid=development-panel]")
    assert "#1347" in panel.inner_text() and "Merged" in panel.inner_text()
    page.screenshot(path=screenshot_dir / "story-development.png", full_page=True, caret="initial")
    assert page.console_errors == []
