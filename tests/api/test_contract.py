"""The contract engineers script against (PRODUCT.md, "REST API"): one test per row we serve —
field names and types, filters and ordering."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from backlog import services
from backlog.models import Feature, Idea, UserStory
from pm.models import ActivityLog
from tests.api import data
from tests.factories import MembershipFactory, ProductFactory, ThemeFactory

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DAY = re.compile(r"^\d{4}-\d\d-\d\d$")


def _keys(response) -> list[str]:
    return [s["key"] for s in response.json()["results"]]


# --- GET /api/v1/products/ ----------------------------------------------------------------


def test_products_lists_the_callers_products_with_id_key_and_name(cast, api):
    ProductFactory(workspace=cast.workspace, name="Atlas", key="ATL")
    ProductFactory(name="Elsewhere", key="ELS")  # another workspace
    response = api("stakeholder").get("/api/v1/products/")
    assert response.status_code == 200
    body = response.json()
    assert [p["key"] for p in body["results"]] == ["ATL", "LOD"]  # by name
    product = body["results"][1]
    assert product["id"] == cast.product.pk and product["name"] == "Lodestar Cloud"
    assert product["role"] == "stakeholder" and product["workspace"] == "acme"
    assert {"next", "results"} <= set(body)


def test_an_outsider_sees_only_their_own_products(cast, api):
    assert "LOD" not in [
        p["key"] for p in api("outsider").get("/api/v1/products/").json()["results"]
    ]


# --- GET /api/v1/stories/ -----------------------------------------------------------------


def test_stories_have_the_contract_fields_and_types(cast, backlog, api):
    response = api("engineer").get("/api/v1/stories/")
    assert response.status_code == 200
    story = response.json()["results"][0]
    assert story["key"] == "LOD-1" and story["title"] == "Save a search"
    assert story["as_a"] == "product manager"
    assert story["i_want"] == "to save a search" and story["so_that"] == "I can run it again"
    assert story["acceptance_criteria"] == [
        {"text": "Given a search, when I save it, then it is listed", "done": False},
        {"text": "Given a saved search, when I open it, then it runs", "done": False},
    ]
    assert story["points"] == 3 and story["status"] == "ready"
    assert story["assignee"] == cast.engineer.pk
    assert story["sprint"] == backlog.current.pk and story["feature"] == backlog.feature.pk
    assert ISO.match(story["updated_at"]) and isinstance(story["version"], int)


def test_stories_come_in_rank_order(cast, backlog, api):
    assert _keys(api("engineer").get("/api/v1/stories/")) == ["LOD-1", "LOD-2", "LOD-3", "LOD-4"]
    last = backlog.stories[3]
    services.story_move(story=last, above=None, below=backlog.stories[0], actor=cast.pm)
    assert _keys(api("engineer").get("/api/v1/stories/")) == ["LOD-4", "LOD-1", "LOD-2", "LOD-3"]


@pytest.mark.parametrize("ref", ["LOD", "lod", "id"])
def test_stories_filter_by_product_id_or_key(cast, backlog, api, ref):
    other = ProductFactory(workspace=cast.workspace, key="ATL")
    data.story(data.feature(other, cast.pm), cast.pm)
    value = cast.product.pk if ref == "id" else ref
    keys = _keys(api("engineer").get("/api/v1/stories/", {"product": value}))
    assert keys == ["LOD-1", "LOD-2", "LOD-3", "LOD-4"]
    assert len(_keys(api("engineer").get("/api/v1/stories/"))) == 5


def test_stories_filter_by_sprint_id_current_or_none(cast, backlog, api):
    client = api("engineer")
    assert _keys(client.get("/api/v1/stories/", {"sprint": "current"})) == ["LOD-1", "LOD-2"]
    assert _keys(client.get("/api/v1/stories/", {"sprint": backlog.later.pk})) == ["LOD-3"]
    assert _keys(client.get("/api/v1/stories/", {"sprint": "none"})) == ["LOD-4"]


def test_the_current_sprint_is_the_next_one_when_none_is_running(cast, backlog, api):
    backlog.current.delete()
    assert _keys(api("engineer").get("/api/v1/stories/", {"sprint": "current"})) == ["LOD-3"]


def test_stories_filter_by_status(cast, backlog, api):
    assert _keys(api("engineer").get("/api/v1/stories/", {"status": "done"})) == ["LOD-2"]


def test_stories_filter_by_assignee_me_id_or_none(cast, backlog, api):
    client = api("engineer")
    assert _keys(client.get("/api/v1/stories/", {"assignee": "me"})) == ["LOD-1"]
    assert _keys(client.get("/api/v1/stories/", {"assignee": cast.engineer.pk})) == ["LOD-1"]
    assert _keys(api("pm").get("/api/v1/stories/", {"assignee": "me"})) == []
    assert _keys(client.get("/api/v1/stories/", {"assignee": "none"})) == [
        "LOD-2",
        "LOD-3",
        "LOD-4",
    ]


def test_the_issue_example_returns_my_ready_stories_of_the_current_sprint(cast, backlog, api):
    params = {"product": "LOD", "sprint": "current", "assignee": "me", "status": "ready"}
    assert _keys(api("engineer").get("/api/v1/stories/", params)) == ["LOD-1"]


def test_stories_filter_by_updated_since(cast, backlog, api):
    UserStory.objects.update(updated_at=timezone.now() - timedelta(days=2))
    since = timezone.now() - timedelta(hours=1)
    client = api("engineer")
    assert _keys(client.get("/api/v1/stories/", {"updated_since": since.isoformat()})) == []
    client.patch("/api/v1/stories/LOD-3/", {"status": "ready"})
    assert _keys(client.get("/api/v1/stories/", {"updated_since": since.isoformat()})) == ["LOD-3"]
    # A date, a Z suffix and an unencoded "+" (a space) all work.
    for value in [since.date().isoformat(), since.strftime("%Y-%m-%dT%H:%M:%SZ")]:
        assert _keys(client.get("/api/v1/stories/", {"updated_since": value})) == ["LOD-3"]
    raw = since.strftime("%Y-%m-%dT%H:%M:%S+00:00").replace("+", " ")
    assert _keys(client.get(f"/api/v1/stories/?updated_since={raw}")) == ["LOD-3"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "finished"}, "status"),
        ({"status": ""}, "status"),
        ({"sprint": "latest"}, "sprint"),
        ({"assignee": "you"}, "assignee"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_story_filters_get_400_naming_the_field(cast, backlog, api, params, field):
    response = api("engineer").get("/api/v1/stories/", params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert all(isinstance(m, str) for m in body[field])


def test_filtering_by_a_product_you_cannot_see_is_404(cast, backlog, api):
    hidden = ProductFactory(key="HID")
    for value in ["HID", hidden.pk, "NOPE", 999999]:
        response = api("engineer").get("/api/v1/stories/", {"product": value})
        assert response.status_code == 404
        assert response.json() == {"detail": "No such product."}


def test_stories_are_cursor_paginated_with_next_links(cast, backlog, api):
    client = api("engineer")
    first = client.get("/api/v1/stories/", {"page_size": 3}).json()
    assert _keys_of(first) == ["LOD-1", "LOD-2", "LOD-3"]
    assert "cursor" in parse_qs(urlparse(first["next"]).query)
    # A story put at the top while a script walks the list does not shift the next page (as
    # page numbers would, repeating LOD-3).
    new = data.story(backlog.feature, cast.pm, title="Pin a search")
    services.story_move(story=new, above=None, below=backlog.stories[0], actor=cast.pm)
    second = client.get(first["next"]).json()
    assert _keys_of(second) == ["LOD-4"]
    assert second["next"] is None
    assert client.get("/api/v1/stories/", {"page_size": 100}).json()["next"] is None


def _keys_of(body) -> list[str]:
    return [s["key"] for s in body["results"]]


# --- GET /api/v1/stories/{key}/ -----------------------------------------------------------


def test_one_story_by_key_has_every_contract_field(cast, backlog, api):
    response = api("stakeholder").get("/api/v1/stories/LOD-1/")
    assert response.status_code == 200
    story = response.json()
    contract = {
        "key",
        "title",
        "as_a",
        "i_want",
        "so_that",
        "acceptance_criteria",
        "points",
        "status",
        "assignee",
        "sprint",
        "feature",
        "updated_at",
        "version",
    }
    assert contract <= set(story)
    assert story["key"] == "LOD-1" and story["version"] == 1
    assert response["ETag"]


@pytest.mark.parametrize("key", ["LOD-99", "LOD-0", "NOPE-1", "LOD", "lod-1x", "..", "-1"])
def test_an_unknown_story_key_is_404(cast, backlog, api, key):
    response = api("engineer").get(f"/api/v1/stories/{key}/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_story_keys_are_case_insensitive(cast, backlog, api):
    assert api("engineer").get("/api/v1/stories/lod-2/").json()["key"] == "LOD-2"


# --- PATCH /api/v1/stories/{key}/ ---------------------------------------------------------


def test_an_engineer_updates_status_points_assignee_and_checks_criteria_off(cast, backlog, api):
    response = api("engineer").patch(
        "/api/v1/stories/LOD-4/",
        {
            "status": "in_progress",
            "points": 8,
            "assignee": cast.engineer.pk,
            "acceptance_criteria": [{"done": True}, {"done": False}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "in_progress" and body["points"] == 8
    assert body["assignee"] == cast.engineer.pk
    assert [c["done"] for c in body["acceptance_criteria"]] == [True, False]
    assert body["version"] == 2
    story = UserStory.objects.get(pk=backlog.stories[3].pk)
    assert (story.status, story.points, story.assignee_id) == ("in_progress", 8, cast.engineer.pk)
    assert story.acceptance_criteria[0] == {
        "text": "Given a search, when I save it, then it is listed",
        "done": True,
    }
    entry = ActivityLog.objects.filter(object_type="backlog.userstory", object_id=story.pk).first()
    assert entry.actor == cast.engineer and "status" in entry.changes


def test_criteria_can_be_checked_off_with_their_text(cast, backlog, api):
    criteria = backlog.stories[0].acceptance_criteria
    body = [{"text": c["text"], "done": True} for c in criteria]
    response = api("engineer").patch(
        "/api/v1/stories/LOD-1/", {"acceptance_criteria": body}, format="json"
    )
    assert response.status_code == 200
    assert all(c["done"] for c in response.json()["acceptance_criteria"])


def test_an_engineer_cannot_reword_criteria_or_edit_other_fields(cast, backlog, api):
    client = api("engineer")
    reworded = [{"text": "Something else", "done": True}, {"done": False}]
    for change in [{"title": "New title"}, {"acceptance_criteria": reworded}, {"sprint": None}]:
        response = client.patch("/api/v1/stories/LOD-1/", change, format="json")
        assert response.status_code in (400, 403), change
    story = UserStory.objects.get(pk=backlog.stories[0].pk)
    assert story.title == "Save a search" and story.version == 1


def test_a_pm_may_edit_the_story_text_and_sprint(cast, backlog, api):
    response = api("pm").patch(
        "/api/v1/stories/LOD-4/",
        {"title": "Delete saved searches", "sprint": backlog.current.pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Delete saved searches"
    assert response.json()["sprint"] == backlog.current.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "finished"}, "status"),
        ({"points": 4}, "points"),
        ({"assignee": 987654}, "assignee"),
        ({"acceptance_criteria": [{"done": True}]}, "acceptance_criteria"),
        (
            {"acceptance_criteria": [{"done": "maybe"}, {"done": True}]},
            "acceptance_criteria.0.done",
        ),
        ({"version": 0}, "version"),
    ],
)
def test_bad_story_changes_get_400_beside_the_field(cast, backlog, api, change, field):
    response = api("engineer").patch("/api/v1/stories/LOD-1/", change, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert UserStory.objects.get(pk=backlog.stories[0].pk).version == 1


def test_a_story_cannot_be_assigned_to_a_stakeholder(cast, backlog, api):
    response = api("pm").patch(
        "/api/v1/stories/LOD-1/", {"assignee": cast.stakeholder.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["assignee"]


# --- GET /api/v1/sprints/?product= --------------------------------------------------------


def test_sprints_have_dates_goal_capacity_and_points(cast, backlog, api):
    response = api("stakeholder").get("/api/v1/sprints/", {"product": "LOD"})
    assert response.status_code == 200
    later, current = response.json()["results"]  # latest first
    assert current["id"] == backlog.current.pk
    assert DAY.match(current["start"]) and DAY.match(current["end"])
    assert current["goal"] == "" and current["capacity"] == 20
    assert (current["committed_points"], current["done_points"]) == (8, 5)
    assert (later["committed_points"], later["done_points"]) == (2, 0)


def test_sprints_filter_by_product(cast, backlog, api):
    other = ProductFactory(workspace=cast.workspace, key="ATL")
    data.sprint(other, cast.pm)
    client = api("engineer")
    assert len(client.get("/api/v1/sprints/").json()["results"]) == 3
    assert {s["product"] for s in client.get("/api/v1/sprints/?product=ATL").json()["results"]} == {
        "ATL"
    }


# --- GET/POST /api/v1/features/ -----------------------------------------------------------


def test_features_in_rank_order_with_scores_and_internal_fields_for_the_team(cast, backlog, api):
    body = api("engineer").get("/api/v1/features/").json()
    titles = [f["title"] for f in body["results"]]
    assert titles == ["Saved searches", "Old reports"]
    feature = body["results"][0]
    assert feature["score"] == "80.0000" and feature["status"] == "backlog"
    assert (feature["cost"], feature["expected_revenue"], feature["roi_horizon_months"]) == (
        "5000.00",
        "20000.00",
        12,
    )


def test_stakeholders_get_features_without_internal_fields_or_archived_ones(cast, backlog, api):
    client = api("stakeholder")
    body = client.get("/api/v1/features/").json()
    assert [f["title"] for f in body["results"]] == ["Saved searches"]
    for feature in [
        body["results"][0],
        client.get(f"/api/v1/features/{backlog.feature.pk}/").json(),
    ]:
        assert not {"cost", "expected_revenue", "roi_horizon_months", "demand_arr"} & set(feature)
        assert feature["score"] == "80.0000"
    assert client.get(f"/api/v1/features/{backlog.archived.pk}/").status_code == 404


def test_features_filter_by_status_kind_and_theme(cast, backlog, api):
    theme = ThemeFactory(product=cast.product)
    data.feature(cast.product, cast.pm, title="Fix login", kind="bug", theme=theme)
    client = api("pm")
    assert [f["title"] for f in client.get("/api/v1/features/?kind=bug").json()["results"]] == [
        "Fix login"
    ]
    assert [
        f["title"] for f in client.get(f"/api/v1/features/?theme={theme.pk}").json()["results"]
    ] == ["Fix login"]
    archived = client.get("/api/v1/features/?status=archived").json()["results"]
    assert [f["title"] for f in archived] == ["Old reports"]


def test_a_pm_creates_a_feature_at_the_bottom_of_the_backlog(cast, backlog, api):
    theme = ThemeFactory(product=cast.product)
    response = api("pm").post(
        "/api/v1/features/",
        {
            "product": "LOD",
            "title": "Bulk export",
            "kind": "improvement",
            "theme": theme.pk,
            "value": 8,
            "effort": 2,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "Bulk export" and body["theme"] == theme.pk and body["version"] == 1
    assert response["ETag"]
    feature = Feature.objects.get(pk=body["id"])
    assert list(Feature.objects.filter(product=cast.product).order_by("rank"))[-1] == feature
    assert ActivityLog.objects.filter(object_type="backlog.feature", object_id=feature.pk).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"product": "LOD"}, "title"),
        ({"title": "No product"}, "product"),
        ({"product": "LOD", "title": "X", "confidence": 150}, "confidence"),
        ({"product": "LOD", "title": "X", "kind": "epic"}, "kind"),
        ({"product": "LOD", "title": "X", "effort": "abc"}, "effort"),
    ],
)
def test_bad_features_get_400_beside_the_field(cast, backlog, api, payload, field):
    response = api("pm").post("/api/v1/features/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Feature.objects.count() == 2


def test_a_feature_cannot_take_another_products_theme(cast, backlog, api):
    foreign = ThemeFactory()
    response = api("pm").post(
        "/api/v1/features/", {"product": "LOD", "title": "X", "theme": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["theme"]


def test_a_pm_of_another_workspace_cannot_create_features_here(cast, backlog, api):
    MembershipFactory(user=cast.outsider, role="pm")
    response = api("outsider").post(
        "/api/v1/features/", {"product": "LOD", "title": "Sneaky"}, format="json"
    )
    assert response.status_code == 404
    assert not Feature.objects.filter(title="Sneaky").exists()


# --- GET/POST /api/v1/ideas/ --------------------------------------------------------------


def test_ideas_newest_first_with_who_asked_for_the_team_only(cast, backlog, api):
    data.idea(cast.product, cast.pm, title="Offline mode")
    body = api("engineer").get("/api/v1/ideas/").json()
    assert [i["title"] for i in body["results"]] == ["Offline mode", "Dark mode"]
    assert body["results"][1]["submitter_name"] == "Ada at Initech"
    hidden = api("stakeholder").get("/api/v1/ideas/").json()["results"]
    assert all("submitter_name" not in idea for idea in hidden)
    assert api("stakeholder").get("/api/v1/ideas/", {"status": "new"}).json()["results"]


def test_a_pm_captures_an_idea(cast, backlog, api):
    response = api("pm").post(
        "/api/v1/ideas/",
        {"product": cast.product.pk, "title": "Slack digest", "source": "customer"},
        format="json",
    )
    assert response.status_code == 201
    idea = Idea.objects.get(pk=response.json()["id"])
    assert (idea.title, idea.source, idea.submitter) == ("Slack digest", "customer", cast.pm)
    assert response.json()["status"] == "new"
