"""What every list offers integrators (issue 17): who am I and who is who (`/me/`,
`/members/`), `search`, `ordering` and `updated_since`, one pagination shape with `Link`
headers, ETags with `If-None-Match` → 304, and re-ranking that polling notices."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backlog import services
from backlog.models import Sprint, UserStory
from tests.factories import MembershipFactory, UserFactory

# --- /api/v1/me/ and /api/v1/members/ -------------------------------------------------------


def test_me_says_who_the_token_belongs_to_and_their_roles(cast, api):
    response = api("engineer").get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == cast.engineer.pk and body["username"] == "engineer"
    assert body["memberships"] == [
        {"workspace": "acme", "workspace_name": "Acme", "role": "engineer"}
    ]
    assert body["token_scope"] == "read-write"
    assert api("anonymous").get("/api/v1/me/").status_code == 401


def test_members_turn_an_assignee_id_into_a_name(cast, api):
    named = UserFactory(username="grace", first_name="Grace", last_name="Hopper")
    MembershipFactory(workspace=cast.workspace, user=named, role="engineer")
    response = api("engineer").get("/api/v1/members/", {"workspace": "acme"})
    assert response.status_code == 200
    by_id = {m["id"]: m for m in response.json()["results"]}
    assert by_id[named.pk]["name"] == "Grace Hopper" and by_id[named.pk]["role"] == "engineer"
    assert by_id[cast.pm.pk]["username"] == "pm" and by_id[cast.pm.pk]["workspace"] == "acme"
    assert cast.outsider.pk not in by_id
    assert "email" not in by_id[named.pk]
    found = api("engineer").get("/api/v1/members/", {"search": "hopp"}).json()["results"]
    assert [m["id"] for m in found] == [named.pk]


def test_stakeholders_and_outsiders_get_no_member_list(cast, api):
    assert api("stakeholder").get("/api/v1/members/").json()["results"] == []
    assert api("stakeholder").get("/api/v1/members/?workspace=acme").status_code == 403
    assert api("outsider").get("/api/v1/members/?workspace=acme").status_code == 404
    theirs = api("outsider").get("/api/v1/members/").json()["results"]
    assert "acme" not in {m["workspace"] for m in theirs}  # only their own workspace


# --- search, ordering, updated_since ---------------------------------------------------------


def test_lists_search_titles_and_sort_by_a_named_field(cast, backlog, api):
    client = api("engineer")
    found = client.get("/api/v1/stories/", {"search": "rename"}).json()["results"]
    assert [s["title"] for s in found] == ["Rename a search"]
    features = client.get("/api/v1/features/", {"ordering": "-title"}).json()["results"]
    titles = [f["title"] for f in features]
    assert titles == sorted(titles, reverse=True) and len(titles) == 2
    response = client.get("/api/v1/features/", {"ordering": "cost"})  # not sortable
    assert response.status_code == 400 and "ordering" in response.json()


def test_stories_sorted_by_update_walk_every_page_with_cursors(cast, backlog, api):
    client = api("engineer")
    keys, url = [], "/api/v1/stories/?ordering=-updated_at&page_size=1"
    while url:
        body = client.get(url).json()
        keys += [s["key"] for s in body["results"]]
        url = body["next"]
    assert sorted(keys) == sorted(s.key for s in backlog.stories) and len(keys) == 4


def test_updated_since_narrows_sprints_and_feedback_too(cast, backlog, api):
    from tests.feedback.factories import FeedbackItemFactory

    FeedbackItemFactory(product=cast.product)
    past = timezone.now() - timedelta(days=2)
    Sprint.objects.filter(pk=backlog.later.pk).update(updated_at=past)
    client = api("engineer")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    sprints = client.get("/api/v1/sprints/", {"updated_since": since}).json()["results"]
    assert [s["id"] for s in sprints] == [backlog.current.pk]
    assert client.get("/api/v1/feedback/", {"updated_since": since}).json()["count"] == 1
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/feedback/", {"updated_since": later}).json()["count"] == 0


# --- pagination and conditional lists ------------------------------------------------------


def test_page_and_cursor_lists_link_their_next_page_in_a_header(cast, backlog, api):
    client = api("engineer")
    for path in ("/api/v1/features/?page_size=1", "/api/v1/stories/?page_size=1"):
        response = client.get(path)
        body = response.json()
        assert {"next", "previous", "results"} <= set(body)
        assert response["Link"] == f'<{body["next"]}>; rel="next"'
        second = client.get(body["next"])
        assert 'rel="prev"' in second["Link"]


def test_a_list_polled_with_its_etag_is_not_sent_again_until_it_changes(cast, backlog, api):
    client = api("engineer")
    first = client.get("/api/v1/stories/")
    etag = first["ETag"]
    again = client.get("/api/v1/stories/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    services.story_update(
        story=backlog.stories[0],
        data={"status": "done"},
        expected_version=backlog.stories[0].version,
        actor=cast.pm,
    )
    changed = client.get("/api/v1/stories/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_moving_a_story_changes_its_rank_and_updated_at_for_pollers(cast, backlog, api):
    story, top = backlog.stories[3], backlog.stories[0]
    before = UserStory.objects.get(pk=story.pk)
    services.story_move(story=story, above=None, below=top, actor=cast.pm)
    client = api("engineer")
    since = before.updated_at.isoformat()
    moved = client.get("/api/v1/stories/", {"updated_since": since}).json()["results"]
    assert [s["key"] for s in moved] == [story.key]
    assert moved[0]["rank"] < client.get(f"/api/v1/stories/{top.key}/").json()["rank"]
    assert [s["key"] for s in client.get("/api/v1/stories/").json()["results"]][0] == story.key


@pytest.mark.parametrize("members", [3, 30])
def test_members_list_runs_a_constant_number_of_queries(
    cast, api, django_assert_max_num_queries, members
):
    for _ in range(members):
        MembershipFactory(workspace=cast.workspace, role="engineer")
    client = api("engineer")
    client.get("/api/v1/me/")  # records the token's first use
    # token with user, memberships, COUNT, the page (users and workspaces joined)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/members/?page_size=100")
    assert response.status_code == 200 and len(response.json()["results"]) == members + 4
    # token with user, the caller's memberships with their workspaces
    with django_assert_max_num_queries(2):
        assert client.get("/api/v1/me/").status_code == 200
