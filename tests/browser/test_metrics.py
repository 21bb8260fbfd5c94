"""KPI pages in real headless Chromium: the detail chart draws (Chart.js from the vendored file,
no CSP violation) with its target line and the ship date of a feature, switches to weeks
without a reload, and the KPI list holds at phone width. Screenshots land in test-results/."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from metrics import services
from pm.choices import Role
from tests.backlog.factories import FeatureFactory
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, ProductFactory
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def kpi(db):
    membership = MembershipFactory(
        workspace__name="Acme",
        workspace__slug="acme",
        workspace__time_zone="Europe/Amsterdam",
        role=Role.PM,
        user__username="priya",
        user__first_name="Priya",
    )
    MembershipFactory(workspace=membership.workspace, role=Role.STAKEHOLDER, user__username="sam")
    product = ProductFactory(workspace=membership.workspace, key="LOD", name="Lodestar Cloud")
    kpi = KPIFactory(
        product=product,
        name="Activation rate",
        unit="%",
        aggregation="average",
        granularity="day",
        target_value=45,
    )
    today = timezone.localdate(timezone=UTC)
    start = datetime.combine(today - timedelta(days=120), datetime.min.time(), tzinfo=UTC)
    ship = start + timedelta(days=80, hours=10)
    FeatureFactory(product=product, title="Onboarding checklist", shipped_at=ship)
    ingest(
        kpi,
        [
            (start + timedelta(days=d, hours=12), 31 + d * 0.02 + (6 if d > 80 else 0) + d % 3)
            for d in range(120)
        ],
        actor=membership.user,
    )
    services.kpi_recalculate(kpi_id=kpi.pk)
    return kpi


def test_the_kpi_detail_chart_draws_its_target_and_ship_date(page, kpi, screenshot_dir):
    sign_in(page, "priya", PASSWORD)
    page.goto(f"/p/LOD/kpis/{kpi.pk}/")
    canvas = page.locator("canvas[data-kpi-chart]")
    canvas.wait_for()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas[data-kpi-chart]'))"
    )
    chart = page.evaluate(
        """() => {
          const c = Chart.getChart(document.querySelector('canvas[data-kpi-chart]'));
          return {points: c.data.datasets[0].data.length,
                  target: c.data.datasets[1].data[0],
                  marks: c.options.plugins.lodestarShipLines.marks,
                  height: c.canvas.getBoundingClientRect().height};
        }"""
    )
    assert chart["points"] == 120
    assert chart["target"] == 45
    assert [m["label"] for m in chart["marks"]] == ["Onboarding checklist"]
    assert chart["height"] > 200
    assert (
        "shipped Onboarding checklist"
        in page.locator("[data-testid=ship-annotations]").inner_text()
    )
    page.locator("#kpi-chart").screenshot(path=screenshot_dir / "metrics-kpi-chart.png")
    page.screenshot(path=screenshot_dir / "metrics-kpi-detail.png", full_page=True)

    # Weeks, swapped in by htmx: same document, a new chart.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url(re.compile(r"\?g=week$"))
    page.wait_for_function(
        "() => { const c = Chart.getChart(document.querySelector('canvas[data-kpi-chart]'));"
        " return c && c.data.datasets[0].data.length < 30; }"
    )
    assert page.evaluate("window.__sameDocument === true")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
    assert page.console_errors == []


def test_the_kpi_list_at_phone_width(page, kpi, screenshot_dir):
    sign_in(page, "sam", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/p/LOD/kpis/")
    card = page.locator("[data-testid=kpi-card]").first
    assert "Activation rate" in card.inner_text()
    assert page.locator(".sparkline polyline").count() == 1
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "metrics-kpi-list-phone.png", full_page=True)
    assert page.console_errors == []
