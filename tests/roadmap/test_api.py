"""The roadmap's REST resources: initiatives, releases and share links, with tokens of each
role; visibility as on the pages; one error shape; constant query counts for the lists."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pm.models import ApiToken
from roadmap.choices import Horizon, Visibility
from roadmap.models import Initiative, Release, ShareLink
from tests.api.conftest import token_client
from tests.backlog.factories import FeatureFactory
from tests.factories import ObjectiveFactory, ProductFactory, ThemeFactory
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory, make_share_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cast):
    return lambda role, scope=ApiToken.Scope.READ_WRITE: token_client(cast.user(role), scope)


def test_a_pm_creates_an_initiative_with_periods_and_links(cast, api):
    theme = ThemeFactory(product=cast.product)
    objective = ObjectiveFactory(product=cast.product)
    feature = FeatureFactory(product=cast.product)
    response = api("pm").post(
        "/api/v1/initiatives/",
        {
            "product": "LOD",
            "title": "Offline mode",
            "theme": theme.pk,
            "objectives": [objective.pk],
            "features": [feature.pk],
            "horizon": "now",
            "start": "2027 Q1",
            "end": "2027-05",
            "visibility": "public",
            "internal_notes": "Costly",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["product"] == "LOD"
    assert (body["start"], body["start_precision"]) == ("2027-01-01", "quarter")
    assert (body["end"], body["end_precision"]) == ("2027-05-31", "month")
    assert body["timeframe"] == "2027 Q1 – May 2027"
    assert body["objectives"] == [objective.pk] and body["features"] == [feature.pk]
    assert body["internal_notes"] == "Costly"
    assert response["ETag"]
    assert Initiative.objects.get(pk=body["id"]).horizon == Horizon.NOW


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"start": "2027 Q5", "end": "2027 Q1"}, "start"),
        ({"start": "2027 Q2"}, "end"),
        ({"start": "2027 Q2", "end": "2027 Q1"}, "end"),
        ({"horizon": "someday"}, "horizon"),
        ({"features": [999999]}, "features"),
        ({"theme": 999999}, "theme"),
    ],
)
def test_bad_initiatives_get_400_with_the_field(cast, api, payload, field):
    response = api("pm").post(
        "/api/v1/initiatives/", {"product": "LOD", "title": "X", **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Initiative.objects.exists()


def test_features_of_another_product_are_refused(cast, api):
    other = FeatureFactory(product=ProductFactory(workspace=cast.workspace))
    response = api("pm").post(
        "/api/v1/initiatives/",
        {"product": "LOD", "title": "X", "features": [other.pk]},
        format="json",
    )
    assert response.status_code == 400 and "features" in response.json()


@pytest.mark.parametrize(
    ("role", "status"), [("engineer", 403), ("stakeholder", 403), ("outsider", 404)]
)
def test_only_pms_and_admins_create(cast, api, role, status):
    response = api(role).post(
        "/api/v1/initiatives/", {"product": "LOD", "title": "X"}, format="json"
    )
    assert response.status_code == status


def test_a_read_token_cannot_write(cast, api):
    response = api("pm", ApiToken.Scope.READ).post(
        "/api/v1/releases/",
        {"product": "LOD", "name": "R", "target_date": "2027-01-01"},
        format="json",
    )
    assert response.status_code == 403


def test_stakeholders_see_public_items_without_internal_notes(cast, api):
    InitiativeFactory(product=cast.product, title="Public", internal_notes="secret notes")
    hidden = InitiativeFactory(product=cast.product, title="Hidden", visibility=Visibility.INTERNAL)
    ReleaseFactory(product=cast.product, name="Public release", internal_notes="secret notes")
    ReleaseFactory(product=cast.product, name="Hidden release", visibility=Visibility.INTERNAL)
    stakeholder = api("stakeholder")
    initiatives = stakeholder.get("/api/v1/initiatives/?product=LOD").json()["results"]
    assert [i["title"] for i in initiatives] == ["Public"]
    assert "internal_notes" not in initiatives[0]
    releases = stakeholder.get("/api/v1/releases/").json()["results"]
    assert [r["name"] for r in releases] == ["Public release"]
    assert "internal_notes" not in releases[0]
    assert stakeholder.get(f"/api/v1/initiatives/{hidden.pk}/").status_code == 404
    team = api("engineer").get("/api/v1/initiatives/").json()["results"]
    assert {i["title"] for i in team} == {"Public", "Hidden"}
    assert all(i["internal_notes"] is not None for i in team)
    assert "secret" not in str(stakeholder.get("/api/v1/initiatives/").json())


def test_outsiders_see_nothing(cast, api):
    initiative = InitiativeFactory(product=cast.product)
    outsider = api("outsider")
    assert outsider.get("/api/v1/initiatives/").json()["results"] == []
    assert outsider.get(f"/api/v1/initiatives/{initiative.pk}/").status_code == 404
    assert outsider.get("/api/v1/initiatives/?product=LOD").status_code == 404


def test_list_filters(cast, api):
    theme = ThemeFactory(product=cast.product)
    InitiativeFactory(product=cast.product, title="Now themed", horizon="now", theme=theme)
    InitiativeFactory(product=cast.product, title="Later", horizon="later")
    client = api("engineer")

    def titles(query):
        return [i["title"] for i in client.get(f"/api/v1/initiatives/?{query}").json()["results"]]

    assert titles("horizon=now") == ["Now themed"]
    assert titles(f"theme={theme.pk}") == ["Now themed"]
    assert client.get("/api/v1/initiatives/?horizon=soon").status_code == 400
    shipped = ReleaseFactory(product=cast.product, name="Out", shipped_date=timezone.localdate())
    ReleaseFactory(product=cast.product, name="Coming")
    names = [r["name"] for r in client.get("/api/v1/releases/?shipped=true").json()["results"]]
    assert names == [shipped.name]


def test_share_links_lifecycle_through_the_api(cast, api):
    pm = api("pm")
    created = pm.post(
        "/api/v1/share-links/",
        {
            "product": "LOD",
            "label": "Investors",
            "expires_at": (timezone.now() + timedelta(days=30)).isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert len(body["token"]) >= 43 and body["url"].endswith(f"/share/{body['token']}/")
    assert Client().get(f"/api/v1/roadmap/{body['token']}/").status_code == 200
    listed = pm.get("/api/v1/share-links/").json()["results"]
    assert [link["label"] for link in listed] == ["Investors"]
    assert "token" not in listed[0]
    assert body["token"] not in str(listed)
    assert listed[0]["last_used_at"] is not None
    assert pm.delete(f"/api/v1/share-links/{body['id']}/").status_code == 204
    assert ShareLink.objects.get(pk=body["id"]).revoked_at is not None
    assert pm.get("/api/v1/share-links/").json()["results"][0]["state"] == "revoked"


def test_share_links_are_for_pms_and_admins(cast, api):
    link, _token = make_share_link(cast.product, cast.pm)
    for role, status in (("engineer", 403), ("stakeholder", 403), ("outsider", 404)):
        client = api(role)
        assert client.get("/api/v1/share-links/").json()["results"] == []
        assert client.delete(f"/api/v1/share-links/{link.pk}/").status_code == status
        response = client.post(
            "/api/v1/share-links/", {"product": "LOD", "label": "X"}, format="json"
        )
        assert response.status_code in (403, 404)
    assert ShareLink.objects.get(pk=link.pk).revoked_at is None
    bad = api("admin").post("/api/v1/share-links/", {"product": "LOD", "label": ""}, format="json")
    assert bad.status_code == 400 and "label" in bad.json()
    past = api("admin").post(
        "/api/v1/share-links/",
        {"product": "LOD", "label": "Old", "expires_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400 and "expires_at" in past.json()


def _fill(cast, n):
    objectives = [ObjectiveFactory(product=cast.product) for _ in range(3)]
    features = [FeatureFactory(product=cast.product) for _ in range(4)]
    for i in range(n):
        initiative = InitiativeFactory(product=cast.product, horizon=list(Horizon)[i % 3])
        initiative.objectives.set(objectives[: i % 3 + 1])
        initiative.features.set(features[: i % 4 + 1])
        release = ReleaseFactory(product=cast.product)
        release.features.set(features[: i % 4 + 1])
        make_share_link(cast.product, cast.pm, label=f"Link {i}")


# With a token used in the past minute: 1 the token with its user, 2 the caller's memberships,
# 3 COUNT for the page numbers, 4 the page, 5 objectives ids and 6 feature ids (prefetches);
# releases have only the feature prefetch (5); share links none (4).
EXPECTED = {"/api/v1/initiatives/": 6, "/api/v1/releases/": 5, "/api/v1/share-links/": 4}


@pytest.mark.parametrize("rows", [12, 120])
@pytest.mark.parametrize("url", list(EXPECTED))
def test_list_endpoints_run_a_constant_number_of_queries(
    cast, api, django_assert_max_num_queries, url, rows
):
    _fill(cast, rows)
    client = api("pm")
    client.get("/api/v1/products/")  # records the token's first use
    for page_size in (10, 100):
        with django_assert_max_num_queries(EXPECTED[url]):
            response = client.get(f"{url}?page_size={page_size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, rows)
    assert Release.objects.count() == rows
