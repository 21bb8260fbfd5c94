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
from tests.metrics.factories import KPIFactory, LaunchImpactFactory
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
    onboarding = FeatureFactory(product=product, title="Onboarding checklist", shipped_at=ship)
    LaunchImpactFactory(product=product, kpi=kpi, feature=onboarding)
    # Launched days apart: their labels would collide if placed naively.
    for n, title in enumerate(["Guided tour for new teams", "Sample project on sign-up"]):
        feature = FeatureFactory(
            product=product, title=title, shipped_at=ship + timedelta(days=2 + 2 * n)
        )
        LaunchImpactFactory(product=product, kpi=kpi, feature=feature)
    # Another KPI's launch, not charted here.
    FeatureFactory(product=product, title="Billing revamp", shipped_at=ship - timedelta(days=9))
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
          const plugin = Chart.registry.getPlugin('annotation');
          const boxes = plugin.getAnnotations(c)
            .filter((a) => a.label && a.label.options.display)
            .map((a) => ({text: [].concat(a.label.options.content).join(' '),
                          left: a.label.x, top: a.label.y,
                          right: a.label.x2, bottom: a.label.y2}));
          const x = c.scales.x, data = c.data.datasets[0].data;
          return {points: data.length,
                  scale: x.type,
                  // pixels for one day, measured across a 1-day and a 10-day step
                  day: x.getPixelForValue(data[1].x) - x.getPixelForValue(data[0].x),
                  tenDays: x.getPixelForValue(data[10].x) - x.getPixelForValue(data[0].x),
                  boxes: boxes,
                  height: c.canvas.getBoundingClientRect().height};
        }"""
    )
    assert chart["points"] == 120
    assert chart["scale"] == "time"
    assert abs(chart["tenDays"] - 10 * chart["day"]) < 1
    labels = sorted(box["text"] for box in chart["boxes"])
    assert labels == sorted(
        [
            "Target 45%",
            "Onboarding checklist",
            "Guided tour for new teams",
            "Sample project on sign-up",
        ]
    )
    boxes = chart["boxes"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = (
                a["left"] < b["right"]
                and b["left"] < a["right"]
                and a["top"] < b["bottom"]
                and b["top"] < a["bottom"]
            )
            assert not overlap, (a, b)
    assert chart["height"] > 200
    listed = page.locator("[data-testid=ship-annotations]").inner_text()
    assert "launched Onboarding checklist" in listed
    assert "Billing revamp" not in page.content()
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
