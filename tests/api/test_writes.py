"""Writes an integrator needs beyond creating: PATCH (versioned, with If-Match) on features,
ideas, initiatives and releases; DELETE of initiatives and releases; moving a feature or a
story in rank order. Each is refused to the roles that may not make it, and a stale change
leaves the row as it was."""

import pytest

from backlog.models import Feature, Idea, UserStory
from roadmap import services as roadmap_services
from roadmap.models import Initiative, Release
from tests.api import data

pytestmark = pytest.mark.django_db


def _keys(model, **filters) -> list:
    return list(model.objects.filter(**filters).order_by("rank").values_list("title", flat=True))


# --- features ---------------------------------------------------------------------------------


def test_a_pm_changes_a_feature_and_its_score_follows(cast, api, backlog):
    feature = backlog.feature
    url = f"/api/v1/features/{feature.pk}/"
    response = api("pm").patch(
        url, {"title": "Saved searches", "effort": 4, "version": feature.version}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # RICE: 100 × 2 × 80 % / 4 = 40 (it was 80 with an effort of 2).
    assert (body["title"], float(body["score"]), body["version"]) == (
        "Saved searches",
        40.0,
        feature.version + 1,
    )
    assert response["ETag"]
    feature.refresh_from_db()
    assert (feature.title, feature.effort) == ("Saved searches", 4)


def test_a_stale_version_or_etag_changes_nothing(cast, api, backlog):
    feature = backlog.feature
    url = f"/api/v1/features/{feature.pk}/"
    client = api("pm")
    etag = client.get(url)["ETag"]
    client.patch(url, {"title": "First"}, format="json")  # someone else's change
    stale = client.patch(url, {"title": "Second", "version": feature.version}, format="json")
    assert stale.status_code == 409
    assert stale.json()["version"] == feature.version + 1
    precondition = client.patch(url, {"title": "Third"}, format="json", HTTP_IF_MATCH=etag)
    assert precondition.status_code == 412
    assert Feature.objects.get(pk=feature.pk).title == "First"


@pytest.mark.parametrize(("role", "status"), [("engineer", 403), ("stakeholder", 403)])
def test_only_pms_change_features(cast, api, backlog, role, status):
    shipped = data.feature(cast.product, cast.pm, title="Shipped", status="shipped")
    response = api(role).patch(f"/api/v1/features/{shipped.pk}/", {"title": "x"}, format="json")
    assert response.status_code == status
    assert Feature.objects.get(pk=shipped.pk).title == "Shipped"


def test_an_outsider_cannot_find_the_feature(cast, api, backlog):
    url = f"/api/v1/features/{backlog.feature.pk}/"
    assert api("outsider").patch(url, {"title": "x"}, format="json").status_code == 404


def test_bad_values_get_field_messages(cast, api, backlog):
    url = f"/api/v1/features/{backlog.feature.pk}/"
    client = api("pm")
    theme = client.patch(url, {"theme": 2**40}, format="json")
    assert theme.status_code == 400 and "theme" in theme.json()
    nul = client.patch(url, {"title": "A\x00B"}, format="json")
    assert nul.status_code == 400 and "NUL" in str(nul.json())
    assert client.patch(url, {"product": "XYZ"}, format="json").status_code == 200  # ignored
    assert Feature.objects.get(pk=backlog.feature.pk).product_id == cast.product.pk


def test_a_pm_moves_a_feature_and_polling_sees_it(cast, api, backlog):
    first = backlog.feature
    second = data.feature(cast.product, cast.pm, title="Second")
    third = data.feature(cast.product, cast.pm, title="Third")
    before = Feature.objects.get(pk=third.pk).updated_at
    response = api("pm").post(
        f"/api/v1/features/{third.pk}/move/", {"above": None, "below": first.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert _keys(Feature, product=cast.product, pk__in=[first.pk, second.pk, third.pk]) == [
        "Third",
        first.title,
        "Second",
    ]
    assert response.json()["updated_at"] > before.isoformat().replace("+00:00", "Z")
    unknown = api("pm").post(
        f"/api/v1/features/{third.pk}/move/", {"above": "999999"}, format="json"
    )
    assert unknown.status_code == 400 and "above" in unknown.json()


def test_engineers_may_not_move_features(cast, api, backlog):
    response = api("engineer").post(
        f"/api/v1/features/{backlog.feature.pk}/move/", {"above": None}, format="json"
    )
    assert response.status_code == 403


# --- stories and ideas ------------------------------------------------------------------------


def test_an_engineer_moves_a_story_by_key(cast, api, backlog):
    first, _second, _third, last = backlog.stories
    response = api("engineer").post(
        f"/api/v1/stories/{last.key}/move/", {"below": first.key}, format="json"
    )
    assert response.status_code == 200, response.content
    titles = list(
        UserStory.objects.filter(product=cast.product)
        .order_by("rank")
        .values_list("title", flat=True)
    )
    assert titles[0] == last.title
    other_product = api("engineer").post(
        f"/api/v1/stories/{last.key}/move/", {"below": "ZZZ-1"}, format="json"
    )
    assert other_product.status_code == 400 and "below" in other_product.json()


def test_stakeholders_may_not_move_stories(cast, api, backlog):
    story = backlog.stories[0]
    response = api("stakeholder").post(
        f"/api/v1/stories/{story.key}/move/", {"above": None}, format="json"
    )
    assert response.status_code in (403, 404)


def test_a_pm_changes_an_idea_but_not_its_decision(cast, api, backlog):
    url = f"/api/v1/ideas/{backlog.idea.pk}/"
    response = api("pm").patch(url, {"title": "Saved filters"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Saved filters"
    api("pm").patch(url, {"status": "accepted"}, format="json")
    assert Idea.objects.get(pk=backlog.idea.pk).status == "new"  # not a field of the PATCH
    assert api("engineer").patch(url, {"title": "x"}, format="json").status_code == 403


# --- initiatives and releases -----------------------------------------------------------------


def _initiative(cast, backlog) -> Initiative:
    return roadmap_services.initiative_create(
        product=cast.product,
        data={"title": "Search", "visibility": "public"},
        features=[backlog.feature],
        actor=cast.pm,
    )


def test_a_pm_changes_an_initiative_and_keeps_what_was_not_sent(cast, api, backlog):
    initiative = _initiative(cast, backlog)
    url = f"/api/v1/initiatives/{initiative.pk}/"
    change = {"title": "Find anything", "start": "2027 Q1", "end": "2027 Q2"}
    response = api("pm").patch(url, change, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["features"]) == ("Find anything", [backlog.feature.pk])
    assert body["timeframe"] == "2027 Q1 – 2027 Q2"
    cleared = api("pm").patch(url, {"features": []}, format="json")
    assert cleared.json()["features"] == []
    half = api("pm").patch(url, {"start": "2027 Q3"}, format="json")
    assert half.status_code == 400 and "end" in half.json()


def test_a_pm_deletes_an_initiative_and_a_release(cast, api, backlog):
    initiative = _initiative(cast, backlog)
    release = roadmap_services.release_create(
        product=cast.product, data={"name": "1.0", "target_date": "2027-01-15"}, actor=cast.pm
    )
    for role in ("engineer", "stakeholder"):
        assert api(role).delete(f"/api/v1/initiatives/{initiative.pk}/").status_code == 403
    assert api("pm").delete(f"/api/v1/initiatives/{initiative.pk}/").status_code == 204
    assert not Initiative.objects.filter(pk=initiative.pk).exists()
    assert api("pm").delete(f"/api/v1/initiatives/{initiative.pk}/").status_code == 404
    patched = api("pm").patch(f"/api/v1/releases/{release.pk}/", {"name": "1.0 GA"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "1.0 GA"
    stale = api("pm").delete(f"/api/v1/releases/{release.pk}/", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    assert api("pm").delete(f"/api/v1/releases/{release.pk}/").status_code == 204
    assert not Release.objects.filter(pk=release.pk).exists()


# --- stories and KPIs -------------------------------------------------------------------------


def test_a_pm_adds_a_story_under_a_feature(cast, api, backlog):
    body = {
        "feature": backlog.feature.pk,
        "title": "Export a search",
        "as_a": "PM",
        "i_want": "to export a search",
        "acceptance_criteria": ["Given a search, when I export, then I get a CSV"],
        "points": 3,
        "sprint": backlog.current.pk,
    }
    response = api("pm").post("/api/v1/stories/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["key"] == f"{cast.product.key}-5"  # after the backlog's four
    assert created["acceptance_criteria"][0]["done"] is False
    story = UserStory.objects.get(product=cast.product, number=5)
    assert (story.feature_id, story.sprint_id, story.points) == (
        backlog.feature.pk,
        backlog.current.pk,
        3,
    )
    assert api("engineer").post("/api/v1/stories/", body, format="json").status_code == 403
    assert api("stakeholder").post("/api/v1/stories/", body, format="json").status_code == 403
    elsewhere = api("outsider").post("/api/v1/stories/", body, format="json")
    assert elsewhere.status_code in (400, 403) and "Export a search" not in str(elsewhere.content)
    unknown = api("pm").post("/api/v1/stories/", {**body, "feature": 2**40}, format="json")
    assert unknown.status_code == 400 and "feature" in unknown.json()
    assert UserStory.objects.filter(product=cast.product).count() == 5


def test_a_pm_changes_and_deletes_a_kpi(cast, api):
    from metrics.models import KPI
    from tests.metrics.factories import KPIFactory

    kpi = KPIFactory.create(product=cast.product, name="Signups")
    url = f"/api/v1/kpis/{kpi.pk}/"
    changed = api("pm").patch(url, {"name": "Weekly signups", "target_value": "500"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Weekly signups"
    assert api("engineer").patch(url, {"name": "x"}, format="json").status_code == 403
    bad_owner = api("pm").patch(url, {"owner": 2**40}, format="json")
    assert bad_owner.status_code == 400 and "owner" in bad_owner.json()
    assert api("stakeholder").delete(url).status_code == 403
    assert api("pm").delete(url).status_code == 204
    assert not KPI.objects.filter(pk=kpi.pk).exists()
