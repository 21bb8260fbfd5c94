"""Conditional requests: detail responses carry an ETag; `If-None-Match` with it gets 304;
a PATCH with a stale `If-Match` gets 412 and a stale `version` 409 — and neither changes
anything."""

import pytest

from backlog import services
from backlog.models import UserStory
from pm.models import ActivityLog

URL = "/api/v1/stories/LOD-1/"


def _story(backlog) -> UserStory:
    return UserStory.objects.get(pk=backlog.stories[0].pk)


def test_detail_responses_carry_an_etag_that_changes_with_the_story(cast, backlog, api):
    client = api("engineer")
    first = client.get(URL)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(URL)["ETag"] == etag  # stable while nothing changes
    services.story_update(
        story=_story(backlog), data={"status": "done"}, expected_version=1, actor=cast.pm
    )
    assert client.get(URL)["ETag"] != etag


@pytest.mark.parametrize(
    "url",
    ["/api/v1/stories/LOD-1/", "feature", "idea"],
)
def test_if_none_match_with_the_current_etag_gets_304(cast, backlog, api, url):
    url = {
        "feature": f"/api/v1/features/{backlog.feature.pk}/",
        "idea": f"/api/v1/ideas/{backlog.idea.pk}/",
    }.get(url, url)
    client = api("engineer")
    etag = client.get(url)["ETag"]
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(url, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304


def test_stakeholders_and_the_team_get_different_etags_for_a_feature(cast, backlog, api):
    # Stakeholders' representation lacks the internal fields: a shared cache must not mix them.
    url = f"/api/v1/features/{backlog.feature.pk}/"
    team, stakeholder = api("engineer").get(url), api("stakeholder").get(url)
    assert team["ETag"] != stakeholder["ETag"]
    assert "Authorization" in team["Vary"]


def test_a_patch_with_the_current_etag_succeeds_and_returns_the_new_one(cast, backlog, api):
    client = api("engineer")
    etag = client.get(URL)["ETag"]
    response = client.patch(URL, {"status": "in_progress"}, headers={"If-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response["ETag"] == client.get(URL)["ETag"]
    assert client.patch(URL, {"points": 5}, headers={"If-Match": "*"}).status_code == 200


def test_a_patch_with_a_stale_if_match_gets_412_and_changes_nothing(cast, backlog, api):
    client = api("engineer")
    stale = client.get(URL)["ETag"]
    # Someone else saves in between.
    services.story_update(
        story=_story(backlog), data={"points": 8}, expected_version=1, actor=cast.pm
    )
    entries = ActivityLog.objects.count()
    response = client.patch(URL, {"status": "done"}, headers={"If-Match": stale})
    assert response.status_code == 412
    body = response.json()
    assert set(body) == {"detail", "etag"}
    assert body["etag"] == client.get(URL)["ETag"] == response["ETag"]
    story = _story(backlog)
    assert (story.status, story.points, story.version) == ("ready", 8, 2)
    assert ActivityLog.objects.count() == entries


def test_a_patch_with_a_stale_version_gets_409_and_changes_nothing(cast, backlog, api):
    client = api("engineer")
    services.story_update(
        story=_story(backlog), data={"points": 8}, expected_version=1, actor=cast.pm
    )
    response = client.patch(URL, {"status": "done", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["version"] == 2
    assert "nothing was saved" in response.json()["detail"]
    story = _story(backlog)
    assert (story.status, story.version) == ("ready", 2)
    # Retrying with the current version goes through.
    response = client.patch(URL, {"status": "done", "version": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 3


def test_a_garbage_if_match_is_a_failed_precondition(cast, backlog, api):
    response = api("engineer").patch(URL, {"status": "done"}, headers={"If-Match": "garbage"})
    assert response.status_code == 412
    assert _story(backlog).status == "ready"
