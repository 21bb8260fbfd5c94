"""API reads for planning: status updates, the forecast, sprint reviews and retrospectives."""

from datetime import date, timedelta

import pytest

from backlog import retro
from backlog.choices import StoryStatus
from pm.visibility import Section
from roadmap import services
from roadmap.choices import Health, Visibility
from tests.backlog.factories import FeatureFactory, SprintFactory, StoryFactory

pytestmark = pytest.mark.django_db


def _initiative(cast, title, visibility=Visibility.PUBLIC, features=()):
    return services.initiative_create(
        product=cast.product,
        data={
            "title": title,
            "visibility": visibility,
            "start": date.today(),
            "end": date.today() + timedelta(days=60),
        },
        objectives=[],
        features=list(features),
        actor=cast.pm,
    )


def test_status_updates_follow_their_initiatives_visibility(cast, api):
    public = _initiative(cast, "Public")
    internal = _initiative(cast, "Internal", Visibility.INTERNAL)
    services.initiative_post_update(
        initiative=public, status=Health.AT_RISK, note="Late", actor=cast.pm
    )
    hidden = services.initiative_post_update(
        initiative=internal, status=Health.OFF_TRACK, note="Secret", actor=cast.pm
    )
    team = api("engineer").get("/api/v1/initiative-updates/", {"product": "LOD"}).json()
    assert [u["note"] for u in team["results"]] == ["Secret", "Late"]
    outside = api("stakeholder", scope="read")
    listed = outside.get("/api/v1/initiative-updates/").json()
    assert [u["note"] for u in listed["results"]] == ["Late"]
    assert outside.get(f"/api/v1/initiative-updates/{hidden.pk}/").status_code == 404
    filtered = api("pm").get(
        "/api/v1/initiative-updates/", {"initiative": public.pk, "status": "at_risk"}
    )
    assert [u["initiative"] for u in filtered.json()["results"]] == [public.pk]
    assert api("pm").get("/api/v1/initiative-updates/", {"status": "fine"}).status_code == 400


def test_the_forecast_as_data_for_the_team(cast, api):
    today = date.today()
    done_sprint = SprintFactory(
        product=cast.product, start=today - timedelta(days=14), end=today - timedelta(days=1)
    )
    shipped = FeatureFactory(product=cast.product, status="shipped")
    StoryFactory(feature=shipped, sprint=done_sprint, points=10, status=StoryStatus.DONE)
    feature = FeatureFactory(product=cast.product, status="planned")
    StoryFactory(feature=feature, points=10)
    initiative = _initiative(cast, "Next up", features=[feature])
    response = api("engineer", scope="read").get(
        "/api/v1/forecast/", {"product": "LOD", "months": 6}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["available"] and data["velocity_samples"] == [10] and len(data["months"]) == 6
    (row,) = data["initiatives"]
    assert row["id"] == initiative.pk and row["points_ahead"] == 10
    assert row["p50"] == (today + timedelta(days=13)).isoformat() and row["chance_by_due"] == 1.0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "product"),
        ({"product": "LOD", "months": 99}, "months"),
        ({"product": "LOD", "mnths": 6}, "mnths"),
    ],
)
def test_bad_forecast_queries_get_400_naming_the_parameter(cast, api, query, field):
    response = api("pm").get("/api/v1/forecast/", query)
    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize(
    ("role", "status"), [("stakeholder", 403), ("outsider", 404), ("anonymous", 401)]
)
def test_the_forecast_is_refused_outside_the_team(cast, api, role, status):
    assert api(role).get("/api/v1/forecast/", {"product": "LOD"}).status_code == status


def test_retrospectives_are_the_teams_own_in_the_api(cast, api):
    cast.share_with_stakeholders(Section.SPRINTS)
    sprint = SprintFactory(product=cast.product)
    card = retro.retro_add(sprint=sprint, column="to_improve", text="Slow CI", actor=cast.engineer)
    retro.retro_vote(item=card, voter=cast.pm)
    retro.action_add(sprint=sprint, text="Cache the venv", owner=cast.engineer, actor=cast.pm)
    done = retro.action_add(sprint=sprint, text="Done already", owner=None, actor=cast.pm)
    retro.action_set_done(action=done, done=True, actor=cast.pm)
    retro.review_save(
        sprint=sprint, data={"demo_notes": "Shown"}, expected_version=1, actor=cast.pm
    )
    team = api("engineer", scope="read")
    (item,) = team.get("/api/v1/retro-items/", {"sprint": sprint.pk}).json()["results"]
    assert item["text"] == "Slow CI" and item["votes"] == 1
    open_actions = team.get("/api/v1/action-items/", {"product": "LOD", "open": "true"}).json()
    assert [a["text"] for a in open_actions["results"]] == ["Cache the venv"]
    outside = api("stakeholder", scope="read")
    assert outside.get("/api/v1/retro-items/").json()["results"] == []
    assert outside.get("/api/v1/action-items/").json()["results"] == []
    assert outside.get(f"/api/v1/retro-items/{card.pk}/").status_code == 403
    reviews = outside.get("/api/v1/sprint-reviews/").json()["results"]
    assert [r["demo_notes"] for r in reviews] == ["Shown"]
    cast.share_with_stakeholders()
    assert api("stakeholder", scope="read").get("/api/v1/sprint-reviews/").json()["results"] == []
