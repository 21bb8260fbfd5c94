"""Regression tests for issue 11's leaks, one per leak, against the one policy (pm.visibility):
history redaction, reach from customers' ARR, the feature-feedback page, and per-section access
for stakeholders (closed by default as PRODUCT.md says, widened by the workspace setting)."""

import pytest
from django.urls import reverse

from backlog import services as backlog_services
from backlog.models import BacklogSettings
from pm.models import ActivityLog
from roadmap import services as roadmap_services
from tests.feedback.factories import make_feature


def _initiative(cast, **data):
    data.setdefault("title", "Pricing overhaul")
    return roadmap_services.initiative_create(
        product=cast.product, data=data, objectives=[], features=[], actor=cast.pm
    )


# --- 1. history --------------------------------------------------------------------------------


def test_history_redacts_internal_fields_and_leaves_out_internal_rows(cast):
    public = _initiative(cast, title="Public plan", visibility="public")
    roadmap_services.initiative_update(
        initiative=public,
        data={"internal_notes": "Board wants 3x margin", "description": "Now with more"},
        expected_version=public.version,
        actor=cast.pm,
    )
    _initiative(cast, title="Secret acquisition", visibility="internal")
    feature = make_feature(cast.product, "Usage billing", actor=cast.pm, status="shipped")
    backlog_services.feature_update(
        feature=feature,
        data={"expected_revenue": 80000, "cost": 12345},
        expected_version=feature.version,
        actor=cast.pm,
    )
    url = reverse("product_history", args=[cast.product.key])
    html = cast.client("stakeholder").get(url).content.decode()
    assert "Public plan" in html and "Now with more" in html
    assert "Board wants" not in html and "80000" not in html and "12345" not in html
    assert "Secret acquisition" not in html
    assert html.count("changed internal fields") >= 2
    team = cast.client("engineer").get(url).content.decode()
    assert "Board wants" in team and "Secret acquisition" in team and "12345" in team
    # The feature's own history panel redacts the same way.
    page = cast.client("stakeholder").get(
        reverse("feature_detail", args=[cast.product.key, feature.pk])
    )
    assert "12345" not in page.content.decode()
    assert "changed internal fields" in page.content.decode()


def test_overview_recent_changes_leave_out_internal_rows(cast):
    _initiative(cast, title="Secret acquisition", visibility="internal")
    html = cast.client("stakeholder").get(reverse("product_overview", args=[cast.product.key]))
    assert "Secret acquisition" not in html.content.decode()


def test_history_query_count_does_not_grow(cast, django_assert_max_num_queries):
    url = reverse("product_history", args=[cast.product.key])
    client = cast.client("stakeholder")
    client.get(url)
    for n in (3, 30):
        for i in range(n):
            _initiative(cast, title=f"Internal {n}-{i}", visibility="internal")
            _initiative(cast, title=f"Public {n}-{i}", visibility="public")
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Public {n}-{n - 1}" in html and f"Internal {n}-0" not in html


# --- 2. reach from customers' ARR ---------------------------------------------------------------


def test_reach_from_arr_shows_the_score_but_never_the_arr(cast):
    BacklogSettings.objects.update_or_create(
        product=cast.product, defaults={"reach_source": BacklogSettings.ReachSource.ARR}
    )
    feature = make_feature(
        cast.product, "SSO", actor=cast.pm, status="shipped", impact=2, confidence=80, effort=4
    )
    backlog_services.feature_set_demand(feature=feature, customers=3, arr=80000)
    feature.refresh_from_db()
    assert feature.score is not None
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    html = cast.client("stakeholder").get(url).content.decode()
    assert "80,000" not in html and "80000" not in html and "(from feedback)" not in html
    assert 'data-testid="feature-score"' in html  # the score itself is shown
    api = cast.client("stakeholder").get(f"/api/v1/features/{feature.pk}/").json()
    assert "reach" not in api and "demand_arr" not in api and api["score"] is not None
    team = cast.client("engineer").get(url).content.decode()
    assert "80,000" in team


# --- 3. the feedback view of a feature ------------------------------------------------------------


def test_feature_feedback_page_uses_the_backlog_visibility(cast):
    archived = make_feature(cast.product, "Shelved idea", actor=cast.pm, status="archived")
    url = reverse("feature_feedback", args=[cast.product.key, archived.pk])
    assert cast.client("stakeholder").get(url).status_code == 404
    assert cast.client("engineer").get(url).status_code == 200
    detail = reverse("feature_detail", args=[cast.product.key, archived.pk])
    assert cast.client("stakeholder").get(detail).status_code == 404


# --- 4. sections --------------------------------------------------------------------------------

SECTION_PAGES = {
    "ideas": "ideas",
    "backlog": "backlog",
    "sprints": "sprints",
    "feedback": "feedback_inbox",
}


@pytest.mark.parametrize("section", sorted(SECTION_PAGES))
def test_stakeholders_do_not_browse_sections_product_md_does_not_give_them(cast, section):
    url = reverse(SECTION_PAGES[section], args=[cast.product.key])
    client = cast.client("stakeholder")
    assert client.get(url).status_code == 403
    overview = client.get(reverse("product_overview", args=[cast.product.key])).content.decode()
    assert f'href="{url}"' not in overview  # the tab is hidden
    cast.share_with_stakeholders(section)
    assert client.get(url).status_code == 200
    overview = client.get(reverse("product_overview", args=[cast.product.key])).content.decode()
    assert f'href="{url}"' in overview


def test_stakeholders_keep_strategy_roadmap_kpis_and_released_features(cast):
    client = cast.client("stakeholder")
    for name in ("strategy", "roadmap", "kpi_list", "releases"):
        assert client.get(reverse(name, args=[cast.product.key])).status_code == 200
    shipped = make_feature(cast.product, "Dark mode", actor=cast.pm, status="shipped")
    planned = make_feature(cast.product, "Secret plan", actor=cast.pm, status="planned")
    shown = client.get(reverse("feature_detail", args=[cast.product.key, shipped.pk]))
    assert shown.status_code == 200
    missing = client.get(reverse("feature_detail", args=[cast.product.key, planned.pk]))
    assert missing.status_code == 404


def test_api_follows_the_sections(cast):
    make_feature(cast.product, "Secret plan", actor=cast.pm, status="planned")
    make_feature(cast.product, "Dark mode", actor=cast.pm, status="shipped")
    client = cast.client("stakeholder")
    titles = [f["title"] for f in client.get("/api/v1/features/").json()["results"]]
    assert titles == ["Dark mode"]
    assert client.get("/api/v1/ideas/").json()["results"] == []
    cast.share_with_stakeholders("backlog")
    titles = [f["title"] for f in client.get("/api/v1/features/").json()["results"]]
    assert sorted(titles) == ["Dark mode", "Secret plan"]


def test_workspace_setting_is_admin_only_and_saved(cast):
    url = reverse("workspace_sections", args=[cast.workspace.slug])
    assert cast.client("pm").post(url, {"sections": ["ideas"]}).status_code == 403
    response = cast.client("admin").post(url, {"sections": ["ideas", "backlog", "nonsense"]})
    assert response.status_code in (200, 302)
    cast.workspace.refresh_from_db()
    assert sorted(cast.workspace.stakeholder_sections) == ["backlog", "ideas"]
    assert ActivityLog.objects.filter(object_type="pm.workspace").exists()


def test_stakeholder_lists_run_constant_queries_with_reach_from_arr(cast):
    """The policy decides conditional fields once per product, not per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    BacklogSettings.objects.update_or_create(
        product=cast.product, defaults={"reach_source": BacklogSettings.ReachSource.ARR}
    )
    cast.share_with_stakeholders("backlog")
    client = cast.client("stakeholder")
    counts = []
    for n in (3, 30):
        for i in range(n):
            make_feature(cast.product, f"F{n}-{i}", actor=cast.pm, status="shipped", reach=5)
        for url in ("/api/v1/features/", reverse("backlog", args=[cast.product.key])):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            assert "reach" not in (response.json()["results"][0] if "/api/" in url else {})
            counts.append(len(queries))
    assert counts[:2] == counts[2:], counts
