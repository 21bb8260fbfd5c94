"""KPI pages as a user sees them: list, detail and chart data, forms, CSV upload, key-result
links, launch impact, experiments, funnels — and their constant query counts."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metrics.models import KPI, DataPoint, Experiment, Funnel, KeyResultKPI, LaunchImpact
from pm.models import ActivityLog
from tests.backlog.factories import FeatureFactory
from tests.factories import KeyResultFactory
from tests.metrics.factories import (
    ExperimentFactory,
    FunnelFactory,
    KPIFactory,
    LaunchImpactFactory,
)
from tests.metrics.helpers import ingest

pytestmark = pytest.mark.django_db


def days_ago(n: int, hour: int = 12) -> datetime:
    today = timezone.localdate(timezone=UTC)
    return datetime.combine(today - timedelta(days=n), datetime.min.time(), tzinfo=UTC).replace(
        hour=hour
    )


def build(cast, kpis: int, days: int) -> list[KPI]:
    """`kpis` KPIs with `days` days of data, each with a key result, a launch impact of a shipped
    feature, an experiment and a funnel."""
    made = []
    for i in range(kpis):
        kpi = KPIFactory.create(
            product=cast.product, target_value=100, granularity=["day", "week"][i % 2]
        )
        ingest(kpi, [(days_ago(d), 50 + d % 7) for d in range(1, days + 1)])
        KeyResultKPI.objects.create(
            workspace_id=cast.workspace.pk,
            kpi=kpi,
            key_result=KeyResultFactory.create(objective__product=cast.product),
        )
        feature = FeatureFactory(
            product=cast.product, status="shipped", shipped_at=days_ago(days // 2)
        )
        LaunchImpactFactory(product=cast.product, kpi=kpi, feature=feature)
        ExperimentFactory(product=cast.product)
        FunnelFactory(product=cast.product)
        made.append(kpi)
    return made


# Every page: session, user, product, membership (the permission-scoped fetch); the layout's
# navigation (memberships, unread notifications, products); the session save (savepoint,
# update, release) — 10 in all, plus the page's own queries listed in each test.
BASE = 10


@pytest.mark.parametrize(("kpis", "days"), [(1, 5), (8, 90)])
def test_the_kpi_list_runs_a_constant_number_of_queries(
    cast, kpis, days, django_assert_max_num_queries
):
    build(cast, kpis, days)
    # KPIs; latest buckets of all of them (one window-function query); objectives; their key
    # results with their KPI links.
    client = cast.client("stakeholder")
    with django_assert_max_num_queries(BASE + 4):
        response = client.get("/p/LOD/kpis/")
    assert response.status_code == 200
    assert response.content.count(b'data-testid="kpi-card"') == kpis


@pytest.mark.parametrize(("kpis", "days"), [(1, 5), (8, 400)])
def test_the_kpi_detail_runs_a_constant_number_of_queries(
    cast, kpis, days, django_assert_max_num_queries
):
    kpi = build(cast, kpis, days)[-1]
    # KPI; chart buckets; shipped features; latest buckets; launch impacts; their day buckets;
    # pending recalculation; linked key results.
    client = cast.client("stakeholder")
    with django_assert_max_num_queries(BASE + 8):
        response = client.get(f"/p/LOD/kpis/{kpi.pk}/")
    assert response.status_code == 200
    assert kpi.name in response.content.decode()


@pytest.mark.parametrize("n", [1, 6])
def test_the_other_metrics_pages_run_a_constant_number_of_queries(
    cast, n, django_assert_max_num_queries
):
    build(cast, n, 10)
    client = cast.client("pm")
    # Launch impacts (with feature and KPI) and their day buckets.
    with django_assert_max_num_queries(BASE + 2):
        response = client.get("/p/LOD/kpis/launch-impact/")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(i.feature.title in html for i in LaunchImpact.objects.select_related("feature"))
    # Experiments and their variants.
    with django_assert_max_num_queries(BASE + 2):
        response = client.get("/p/LOD/kpis/experiments/")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(e.name in html for e in Experiment.objects.all())
    # Funnels and their steps.
    with django_assert_max_num_queries(BASE + 2):
        response = client.get("/p/LOD/kpis/funnels/")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(f.name in html for f in Funnel.objects.all())


def test_the_list_shows_latest_value_change_sparkline_and_progress(cast):
    kpi = KPIFactory(
        product=cast.product,
        name="Weekly active teams",
        unit="teams",
        target_value=80,
        aggregation="last",
    )
    ingest(kpi, [(days_ago(3), 40), (days_ago(2), 50), (days_ago(1), 60)])
    html = cast.client("stakeholder").get("/p/LOD/kpis/").content.decode()
    assert "Weekly active teams" in html
    assert "60 teams" in html  # latest day
    assert "▲ +20.0%" in html  # against the day before
    assert "<polyline" in html
    assert 'value="75"' in html  # 60 of 80


def test_a_lower_is_better_kpi_shows_a_rise_as_bad(cast):
    kpi = KPIFactory(product=cast.product, direction="lower", aggregation="average")
    ingest(kpi, [(days_ago(2), 100), (days_ago(1), 150)])
    html = cast.client("pm").get("/p/LOD/kpis/").content.decode()
    assert 'class="mx-change bad"' in html


def test_a_sum_ignores_the_unfinished_current_period_for_its_change(cast):
    kpi = KPIFactory(product=cast.product, aggregation="sum", granularity="day")
    ingest(kpi, [(days_ago(2), 100), (days_ago(1), 110), (timezone.now(), 3)])
    html = cast.client("pm").get("/p/LOD/kpis/").content.decode()
    assert "▲ +10.0%" in html  # yesterday against the day before, not today's 3 so far
    assert "so far 3" in html


def _chart(html: str) -> dict:
    attribute = re.search(r'data-kpi-chart="([^"]*)"', html)
    assert attribute, "the page has no chart"
    return json.loads(unescape(attribute.group(1)))


def test_the_detail_page_hands_the_chart_its_series_target_and_launch_dates(cast):
    kpi = KPIFactory(product=cast.product, target_value=70, aggregation="sum")
    ingest(kpi, [(days_ago(d), d) for d in range(1, 11)])
    dark = FeatureFactory(
        product=cast.product, title="Dark mode", status="shipped", shipped_at=days_ago(4)
    )
    LaunchImpactFactory(product=cast.product, kpi=kpi, feature=dark)
    LaunchImpactFactory(
        product=cast.product, kpi=kpi, feature=FeatureFactory(product=cast.product, title="Never")
    )
    response = cast.client("stakeholder").get(f"/p/LOD/kpis/{kpi.pk}/")
    html = response.content.decode()
    data = _chart(html)
    assert data["values"] == [float(d) for d in range(10, 0, -1)]
    assert data["dates"] == [days_ago(d).date().isoformat() for d in range(10, 0, -1)]
    assert data["target"] == 70
    assert data["annotations"] == [
        {"x": days_ago(4).date().isoformat(), "label": "Dark mode", "titles": ["Dark mode"]}
    ]
    assert "Never" not in html
    for vendored in (
        "vendor/chartjs/chart.umd.js",
        "vendor/chartjs-adapter-date-fns/chartjs-adapter-date-fns.bundle.min.js",
        "vendor/chartjs-plugin-annotation/chartjs-plugin-annotation.min.js",
    ):
        assert vendored in html
    # No inline script or style anywhere (CSP).
    assert "<script>" not in html and 'style="' not in html


def test_the_chart_marks_only_launches_linked_to_this_kpi(cast):
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    other = KPIFactory(product=cast.product, aggregation="sum")
    ingest(kpi, [(days_ago(d), d) for d in range(1, 11)])
    ours = FeatureFactory(
        product=cast.product, title="Faster search", status="shipped", shipped_at=days_ago(5)
    )
    theirs = FeatureFactory(
        product=cast.product, title="Billing revamp", status="shipped", shipped_at=days_ago(3)
    )
    FeatureFactory(
        product=cast.product, title="Unlinked launch", status="shipped", shipped_at=days_ago(2)
    )
    LaunchImpactFactory(product=cast.product, kpi=kpi, feature=ours)
    LaunchImpactFactory(product=cast.product, kpi=other, feature=theirs)
    same_day = FeatureFactory(
        product=cast.product, title="Search filters", status="shipped", shipped_at=days_ago(5)
    )
    LaunchImpactFactory(product=cast.product, kpi=kpi, feature=same_day)
    html = cast.client("pm").get(f"/p/LOD/kpis/{kpi.pk}/").content.decode()
    assert _chart(html)["annotations"] == [
        {
            "x": days_ago(5).date().isoformat(),
            "label": "2 launches",
            "titles": ["Faster search", "Search filters"],
        }
    ]
    listed = re.search(r'data-testid="ship-annotations">(.*?)</ul>', html, re.S).group(1)
    assert "Faster search" in listed and "Search filters" in listed
    assert "Billing revamp" not in html and "Unlinked launch" not in html


def test_the_chart_is_on_a_time_axis_with_gaps_the_partial_period_and_no_future(cast):
    kpi = KPIFactory(product=cast.product, aggregation="sum", granularity="day")
    # Three days, a two-day hole, yesterday, today so far, and a point dated in 2099.
    rows = [(days_ago(d), 10) for d in (7, 6, 5, 2, 1)] + [(timezone.now(), 3)]
    ingest(kpi, rows)
    from metrics.models import Rollup

    Rollup.objects.create(
        workspace_id=cast.workspace.pk,
        kpi=kpi,
        granularity="day",
        bucket_start=datetime(2099, 1, 1).date(),
        value=99,
        count=1,
    )
    html = cast.client("pm").get(f"/p/LOD/kpis/{kpi.pk}/").content.decode()
    data = _chart(html)
    today = timezone.localdate(timezone=UTC)
    assert data["dates"] == [
        (today - timedelta(days=d)).isoformat() for d in (7, 6, 5, 2, 1, 0)
    ]  # dates, not evenly spaced labels: the hole stays a hole on a time axis
    assert data["granularity"] == "day"
    assert data["partial"] is True and data["values"][-1] == 3
    assert data["future_count"] == 1 and "2099" not in html
    assert 'data-testid="chart-partial"' in html and "Today so far" in html
    assert "1 period dated after today not charted" in html

    week = _chart(cast.client("pm").get(f"/p/LOD/kpis/{kpi.pk}/?g=week").content.decode())
    assert week["granularity"] == "week" and week["partial"] is True


def test_the_chart_switches_granularity_as_an_htmx_partial(cast):
    kpi = KPIFactory(product=cast.product)
    ingest(kpi, [(days_ago(d), 1) for d in range(1, 40)])
    response = cast.client("stakeholder").get(
        f"/p/LOD/kpis/{kpi.pk}/?g=month", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="kpi-chart"')
    assert 'href="?g=month" hx-get="?g=month"' in html and 'class="active"' in html


def test_a_kpi_without_data_says_how_to_send_some(cast):
    kpi = KPIFactory(product=cast.product)
    html = cast.client("pm").get(f"/p/LOD/kpis/{kpi.pk}/").content.decode()
    assert "No data yet" in html
    assert f"/api/v1/kpis/{kpi.pk}/datapoints/" in html


def test_stakeholders_see_no_edit_controls(cast):
    kpi = KPIFactory(product=cast.product)
    html = cast.client("stakeholder").get(f"/p/LOD/kpis/{kpi.pk}/").content.decode()
    assert "Upload CSV" not in html and "Delete KPI" not in html and "Edit KPI" not in html


# --- KPI forms ----------------------------------------------------------------------------


def test_a_pm_defines_a_kpi(cast):
    response = cast.client("pm").post(
        "/p/LOD/kpis/new/",
        {
            "name": "Churned accounts",
            "unit": "accounts",
            "direction": "lower",
            "aggregation": "sum",
            "granularity": "month",
            "ratio_multiplier": "1",
            "target_value": "5",
            "target_date": "2027-12-31",
            "owner": cast.pm.pk,
        },
    )
    kpi = KPI.objects.get(name="Churned accounts")
    assert response.status_code == 302
    assert response["Location"] == f"/p/LOD/kpis/{kpi.pk}/"
    assert kpi.direction == "lower" and kpi.owner == cast.pm
    assert ActivityLog.objects.filter(object_type="metrics.kpi", object_id=kpi.pk).exists()


def test_a_ratio_needs_both_parts_and_errors_show_beside_the_fields(cast):
    response = cast.client("pm").post(
        "/p/LOD/kpis/new/",
        {
            "name": "Conversion",
            "direction": "higher",
            "aggregation": "ratio",
            "granularity": "week",
            "ratio_multiplier": "100",
        },
    )
    assert response.status_code == 200
    assert response.content.decode().count("A ratio KPI needs this.") == 2
    assert not KPI.objects.filter(name="Conversion").exists()


def test_a_ratio_is_created_and_rolled_up_from_its_parts(cast, django_capture_on_commit_callbacks):
    orders = KPIFactory(product=cast.product, name="Orders")
    visits = KPIFactory(product=cast.product, name="Visits")
    ingest(orders, [(days_ago(1), 5)])
    ingest(visits, [(days_ago(1), 200)])
    with django_capture_on_commit_callbacks(execute=True):
        cast.client("pm").post(
            "/p/LOD/kpis/new/",
            {
                "name": "Conversion",
                "direction": "higher",
                "aggregation": "ratio",
                "granularity": "day",
                "numerator": orders.pk,
                "denominator": visits.pk,
                "ratio_multiplier": "100",
                "unit": "%",
            },
        )
    ratio = KPI.objects.get(name="Conversion")
    assert ratio.rollups.get(granularity="day").value == Decimal("2.5")


def test_the_name_is_unique_per_product(cast):
    KPIFactory(product=cast.product, name="Sign-ups")
    response = cast.client("pm").post(
        "/p/LOD/kpis/new/",
        {
            "name": "sign-ups",
            "direction": "higher",
            "aggregation": "sum",
            "granularity": "day",
            "ratio_multiplier": "1",
        },
    )
    assert "already exists" in response.content.decode()


def test_a_stale_edit_is_refused_and_explained(cast):
    kpi = KPIFactory(product=cast.product, name="Sign-ups")
    data = {
        "name": "Sign-ups",
        "direction": "higher",
        "aggregation": "sum",
        "granularity": "day",
        "ratio_multiplier": "1",
        "version": kpi.version,
    }
    client = cast.client("pm")
    assert client.post(f"/p/LOD/kpis/{kpi.pk}/edit/", {**data, "unit": "teams"}).status_code == 302
    response = client.post(f"/p/LOD/kpis/{kpi.pk}/edit/", {**data, "unit": "people"})
    assert response.status_code == 200
    assert "Someone else saved this" in response.content.decode()
    kpi.refresh_from_db()
    assert kpi.unit == "teams"


def test_a_kpi_used_by_a_ratio_cannot_be_deleted(cast):
    part = KPIFactory(product=cast.product)
    KPIFactory(
        product=cast.product,
        aggregation="ratio",
        numerator=part,
        denominator=KPIFactory(product=cast.product),
    )
    cast.client("pm").post(f"/p/LOD/kpis/{part.pk}/delete/")
    assert KPI.objects.filter(pk=part.pk).exists()


def test_deleting_a_kpi_deletes_its_data(cast):
    kpi = KPIFactory(product=cast.product)
    ingest(kpi, [(days_ago(1), 1)])
    response = cast.client("pm").post(f"/p/LOD/kpis/{kpi.pk}/delete/")
    assert response.status_code == 302
    assert not KPI.objects.filter(pk=kpi.pk).exists()
    assert not DataPoint.objects.exists()


# --- CSV upload ---------------------------------------------------------------------------


def upload(cast, kpi, text: str, htmx=True):
    return cast.client("pm").post(
        f"/p/LOD/kpis/{kpi.pk}/upload/",
        {"file": SimpleUploadedFile("data.csv", text.encode(), content_type="text/csv")},
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_a_csv_upload_stores_points_with_dimensions(cast, django_capture_on_commit_callbacks):
    kpi = KPIFactory(product=cast.product)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(cast, kpi, "Date,Value,Plan\n2021-01-01,10,pro\n2021-01-02,12.5,\n")
    assert response.status_code == 200
    assert "2 points stored" in response.content.decode()
    assert "recalculation queued" in response.headers["HX-Trigger"]
    assert DataPoint.objects.get(kpi=kpi, value=10).dimensions == {"plan": "pro"}
    assert kpi.rollups.filter(granularity="month").get().sum == Decimal("22.5")


def test_a_bad_csv_row_is_named_and_nothing_is_stored(cast):
    kpi = KPIFactory(product=cast.product)
    response = upload(cast, kpi, "timestamp;value\n2021-01-01;1\n2021-01-02;lots\n")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was stored" in html and "Row 3 (value)" in html
    assert not DataPoint.objects.exists()


def test_a_csv_without_the_columns_is_refused(cast):
    kpi = KPIFactory(product=cast.product)
    html = upload(cast, kpi, "when,amount\n2021-01-01,1\n").content.decode()
    assert "“timestamp” (or “date”) and “value”" in html


def test_an_upload_without_htmx_redirects_with_a_message(cast):
    kpi = KPIFactory(product=cast.product)
    response = upload(cast, kpi, "date,value\n2021-01-01,1\n", htmx=False)
    assert response.status_code == 302
    assert DataPoint.objects.filter(kpi=kpi).count() == 1


# --- key results --------------------------------------------------------------------------


def test_a_linked_key_result_follows_the_kpi_through_a_versioned_update(
    cast, django_capture_on_commit_callbacks
):
    kpi = KPIFactory(product=cast.product, aggregation="last")
    kr = KeyResultFactory(objective__product=cast.product, current_value=0, target_value=100)
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("pm").post(
            f"/p/LOD/kpis/{kpi.pk}/key-results/", {"key_result": kr.pk}
        )
    assert response.status_code == 302
    ingest(kpi, [(days_ago(2), 30), (days_ago(1), 42.125)])
    kr.refresh_from_db()
    assert kr.current_value == Decimal("42.12")  # the key result keeps two decimals
    assert kr.version == 2
    entry = ActivityLog.objects.filter(object_type="pm.keyresult", object_id=kr.pk).first()
    assert entry.changes["current_value"] == ["0", "42.12"] and entry.actor == cast.pm
    # Its objective's progress on the KPI page follows.
    html = cast.client("stakeholder").get("/p/LOD/kpis/").content.decode()
    assert "42.1 / 100" in html


def test_a_key_result_of_another_product_cannot_be_linked(cast):
    kpi = KPIFactory(product=cast.product)
    other = KeyResultFactory()
    cast.client("pm").post(f"/p/LOD/kpis/{kpi.pk}/key-results/", {"key_result": other.pk})
    assert not KeyResultKPI.objects.exists()


def test_unlinking_stops_the_updates(cast):
    kpi = KPIFactory(product=cast.product)
    kr = KeyResultFactory(objective__product=cast.product)
    link = KeyResultKPI.objects.create(workspace_id=cast.workspace.pk, kpi=kpi, key_result=kr)
    cast.client("pm").post(f"/p/LOD/kpis/{kpi.pk}/key-results/{link.pk}/unlink/")
    assert not KeyResultKPI.objects.exists()


# --- launch impact, experiments, funnels --------------------------------------------------


def test_launch_impact_shows_predicted_against_actual_with_a_verdict_and_the_caveat(cast):
    kpi = KPIFactory(product=cast.product, name="Triage speed", aggregation="sum")
    feature = FeatureFactory(
        product=cast.product, title="Inbox", status="shipped", shipped_at=days_ago(10)
    )
    ingest(kpi, [(days_ago(d), 12 if d < 10 else 10) for d in range(1, 20)])
    LaunchImpactFactory(
        product=cast.product, kpi=kpi, feature=feature, predicted_change=10, window_days=7
    )
    html = cast.client("stakeholder").get("/p/LOD/kpis/launch-impact/").content.decode()
    assert "+20.0%" in html  # 7 × 12 after against 7 × 10 before
    assert "Prediction met" in html
    assert "not causal" in html


def test_stakeholders_do_not_see_predictions_for_unreleased_features(cast):
    LaunchImpactFactory(product=cast.product, feature__title="Secret project")
    assert (
        "Secret project"
        not in cast.client("stakeholder").get("/p/LOD/kpis/launch-impact/").content.decode()
    )
    assert (
        "Secret project"
        in cast.client("engineer").get("/p/LOD/kpis/launch-impact/").content.decode()
    )


def test_a_pm_records_a_prediction(cast):
    kpi = KPIFactory(product=cast.product)
    feature = FeatureFactory(product=cast.product)
    response = cast.client("pm").post(
        "/p/LOD/kpis/launch-impact/new/",
        {"feature": feature.pk, "kpi": kpi.pk, "predicted_change": "-5", "window_days": "14"},
    )
    assert response.status_code == 302
    assert LaunchImpact.objects.get().predicted_change == Decimal(-5)
    again = cast.client("pm").post(
        "/p/LOD/kpis/launch-impact/new/",
        {"feature": feature.pk, "kpi": kpi.pk, "predicted_change": "3", "window_days": "14"},
    )
    assert "already has a prediction" in again.content.decode()


def test_the_feature_panel_shows_its_launch_impact(cast):
    kpi = KPIFactory(product=cast.product, name="Activation")
    feature = FeatureFactory(product=cast.product, status="shipped", shipped_at=days_ago(3))
    LaunchImpactFactory(product=cast.product, kpi=kpi, feature=feature)
    from metrics.panels import feature as panel

    request = type("R", (), {"user": cast.stakeholder})()
    context = panel(request, feature)
    assert [m.impact.kpi.name for m in context["measurements"]] == ["Activation"]
    assert not context["can_edit"]


def test_experiments_show_rates_lift_interval_and_significance(cast):
    ExperimentFactory(product=cast.product, name="Green button")
    html = cast.client("stakeholder").get("/p/LOD/kpis/experiments/").content.decode()
    assert "10.00%" in html and "13.00%" in html
    assert "+30.0%" in html  # lift
    assert "+3.0 pp" in html and "[+0.2 pp, +5.8 pp]" in html
    assert "0.035" in html
    assert "statistically significant" in html


def test_a_small_experiment_says_its_sample_is_too_small(cast):
    ExperimentFactory(product=cast.product, variants=[("A", 40, 2), ("B", 40, 6)])
    html = cast.client("stakeholder").get("/p/LOD/kpis/experiments/").content.decode()
    assert "Sample too small" in html


def test_a_pm_creates_an_experiment_with_variants(cast):
    data = {
        "name": "Checklist",
        "hypothesis": "It helps.",
        "status": "running",
        "variants-TOTAL_FORMS": "3",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "8",
        "variants-0-name": "Control",
        "variants-0-exposures": "500",
        "variants-0-conversions": "50",
        "variants-1-name": "Checklist",
        "variants-1-exposures": "500",
        "variants-1-conversions": "70",
        "variants-2-name": "",
        "variants-2-exposures": "",
        "variants-2-conversions": "",
    }
    response = cast.client("pm").post("/p/LOD/kpis/experiments/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    experiment = Experiment.objects.get()
    assert [(v.name, v.position) for v in experiment.variants.all()] == [
        ("Control", 0),
        ("Checklist", 1),
    ]
    data["variants-1-conversions"] = "501"
    data["variants-INITIAL_FORMS"] = "2"  # the edit page's rows are the stored variants
    data["version"] = experiment.version
    response = cast.client("pm").post(f"/p/LOD/kpis/experiments/{experiment.pk}/edit/", data)
    assert "Checklist: conversions cannot exceed exposures." in response.content.decode()


def test_changing_only_the_variants_moves_the_version(cast):
    experiment = ExperimentFactory(product=cast.product)
    from metrics import services

    updated = services.experiment_update(
        experiment=experiment,
        data={},
        variants=[
            {"name": "Control", "exposures": 2000, "conversions": 200},
            {"name": "Green", "exposures": 2000, "conversions": 260},
        ],
        expected_version=experiment.version,
        actor=cast.pm,
    )
    assert updated.version == experiment.version + 1
    from pm.services import EditConflict

    with pytest.raises(EditConflict):
        services.experiment_update(
            experiment=experiment,
            data={},
            variants=[
                {"name": "A", "exposures": 1, "conversions": 0},
                {"name": "B", "exposures": 1, "conversions": 1},
            ],
            expected_version=experiment.version,
            actor=cast.pm,
        )


def test_funnels_show_conversion_and_highlight_the_largest_drop(cast):
    FunnelFactory(product=cast.product, steps=[("Visit", 1000), ("Sign up", 300), ("Pay", 240)])
    html = cast.client("stakeholder").get("/p/LOD/kpis/funnels/").content.decode()
    assert "70.0% drop off" in html and "20.0% drop off" in html
    largest = html.index('data-testid="largest-drop"')
    assert html.index("70.0% drop off") > largest > html.index("1. Visit")


def test_a_funnel_that_widens_is_refused(cast):
    data = {
        "name": "Odd",
        "period_start": "2027-01-01",
        "period_end": "2027-01-31",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "2",
        "steps-MAX_NUM_FORMS": "12",
        "steps-0-name": "Visit",
        "steps-0-count": "10",
        "steps-1-name": "Pay",
        "steps-1-count": "20",
    }
    response = cast.client("pm").post("/p/LOD/kpis/funnels/new/", data)
    assert response.status_code == 200
    assert "a funnel only narrows" in response.content.decode()
    assert not Funnel.objects.exists()


def test_the_overview_shows_a_kpis_panel(cast):
    kpi = KPIFactory(product=cast.product, name="Sign-ups", aggregation="last")
    ingest(kpi, [(days_ago(2), 4), (days_ago(1), 5)])
    html = cast.client("stakeholder").get("/p/LOD/").content.decode()
    assert 'data-testid="overview-kpis"' in html and "Sign-ups" in html
