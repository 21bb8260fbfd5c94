"""Development tools in: the GitHub and GitLab receivers (signature / token checked), links on
the story's Development panel for the team only, a merged pull request moving its stories to
done when the product says so, and the Jira link and import. Payloads are recorded ones
(tests/hooks/fixtures)."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backlog import services as backlog
from backlog.choices import FeatureStatus, StoryStatus
from backlog.models import Feature, UserStory
from hooks import devtools, jira
from hooks.models import DevLink
from pm.visibility import Section
from tests.backlog.factories import FeatureFactory, StoryFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def stories(cast):
    feature = FeatureFactory(product=cast.product)
    return {n: StoryFactory(feature=feature, number=n, title=f"Story {n}") for n in (42, 43)}


def _github(client, dev, body: bytes, event: str, secret: str | None = None):
    signature = (
        "sha256="
        + hmac.new((secret or dev.github_secret).encode(), body, hashlib.sha256).hexdigest()
    )
    return client.post(
        reverse("github_receiver", args=[dev.receiver_id]),
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature, "X-GitHub-Event": event},
    )


def _gitlab(client, dev, body: bytes, event: str, token: str | None = None):
    return client.post(
        reverse("gitlab_receiver", args=[dev.receiver_id]),
        body,
        content_type="application/json",
        headers={"X-Gitlab-Token": token or dev.gitlab_token, "X-Gitlab-Event": event},
    )


def test_a_github_push_links_the_branch_and_the_commit_that_name_a_story(client, cast, stories):
    dev = devtools.dev_settings(cast.product)
    response = _github(client, dev, _fixture("github_push.json"), "push")
    assert response.status_code == 200, response.content
    assert response.json() == {"linked": 2, "done": []}
    links = {(link.kind, link.external_id) for link in DevLink.objects.filter(story=stories[42])}
    assert links == {
        ("branch", "lod-42-csv-export"),
        ("commit", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"),
    }
    # The same delivery again (GitHub redelivers): nothing twice.
    assert _github(client, dev, _fixture("github_push.json"), "push").json()["linked"] == 0
    assert DevLink.objects.count() == 2


def test_a_wrong_signature_or_an_unknown_receiver_is_refused_alike(client, cast, stories):
    dev = devtools.dev_settings(cast.product)
    body = _fixture("github_push.json")
    wrong = _github(client, dev, body, "push", secret="not-the-secret")
    unknown = client.post(
        reverse("github_receiver", args=["no-such-receiver"]),
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": "sha256=00", "X-GitHub-Event": "push"},
    )
    assert wrong.status_code == unknown.status_code == 403
    assert wrong.content == unknown.content
    assert (
        _gitlab(client, dev, _fixture("gitlab_push.json"), "Push Hook", token="x").status_code
        == 403
    )
    assert not DevLink.objects.exists()


def test_a_merged_pull_request_moves_its_stories_to_done_only_when_the_product_says_so(
    client, cast, stories
):
    dev = devtools.dev_settings(cast.product)
    body = _fixture("github_pull_request_merged.json")
    assert _github(client, dev, body, "pull_request").json()["done"] == []
    stories[42].refresh_from_db()
    assert stories[42].status == StoryStatus.TODO
    pr = DevLink.objects.get(story=stories[42], kind="pull_request")
    assert (pr.external_id, pr.state, pr.author) == ("1347", "merged", "octocat")

    dev.done_on_merge = True
    dev.save()
    result = _github(client, dev, body, "pull_request").json()
    assert result["done"] == ["LOD-42", "LOD-43"]
    for story in stories.values():
        story.refresh_from_db()
        assert story.status == StoryStatus.DONE
    entry = stories[42].product.activity.filter(object_id=stories[42].pk).first()
    assert entry.changes["via"] == [None, "a merged GitHub pull request"]


def test_gitlab_pushes_and_merge_requests_are_linked(client, cast, stories):
    dev = devtools.dev_settings(cast.product)
    dev.done_on_merge = True
    dev.save()
    assert _gitlab(client, dev, _fixture("gitlab_push.json"), "Push Hook").json()["linked"] == 2
    result = _gitlab(
        client, dev, _fixture("gitlab_merge_request_merged.json"), "Merge Request Hook"
    )
    assert result.json() == {"linked": 1, "done": ["LOD-42"]}
    kinds = sorted(DevLink.objects.filter(story=stories[42]).values_list("kind", flat=True))
    assert kinds == ["branch", "commit", "pull_request"]


def test_a_malformed_but_signed_payload_is_a_400(client, cast, stories):
    dev = devtools.dev_settings(cast.product)
    assert _github(client, dev, b'{"commits": "nope", "ref": 5}', "push").status_code == 400
    assert _github(client, dev, b"[1, 2]", "push").status_code == 400
    assert _github(client, dev, b"not json", "push").status_code == 400


def test_the_development_panel_is_the_teams(client, cast, stories):
    dev = devtools.dev_settings(cast.product)
    _github(client, dev, _fixture("github_pull_request_merged.json"), "pull_request")
    cast.share_with_stakeholders(Section.BACKLOG)
    url = reverse("story_detail", args=[cast.product.key, 42])
    for role in ("admin", "pm", "engineer"):
        page = cast.client(role).get(url)
        assert b'data-testid="development-panel"' in page.content, role
        assert b"CSV export of the filtered backlog" in page.content
    page = cast.client("stakeholder").get(url)
    assert page.status_code == 200
    assert b"development-panel" not in page.content
    assert b"pull/1347" not in page.content


def test_only_admins_see_the_receivers_secrets(cast):
    dev = devtools.dev_settings(cast.product)
    url = reverse("development_settings", args=[cast.product.key])
    page = cast.client("admin").get(url)
    assert dev.github_secret.encode() in page.content
    assert dev.receiver_id.encode() in page.content
    for role in ("pm", "engineer", "stakeholder"):
        assert cast.client(role).get(url).status_code == 403, role
    cast.client("admin").post(url, {"done_on_merge": "on"})
    dev.refresh_from_db()
    assert dev.done_on_merge


# --- Jira --------------------------------------------------------------------------------------


def test_the_jira_import_maps_epics_stories_and_statuses_and_is_idempotent(cast):
    result = jira.import_search(
        product=cast.product, data=_fixture("jira_search.json"), actor=cast.admin
    )
    assert (result.features, result.stories, result.ignored) == (
        ["WEB-1"],
        ["WEB-2", "WEB-3", "WEB-4", "WEB-6"],
        ["WEB-5"],
    )
    epic = Feature.objects.get(jira_url="https://acme.atlassian.net/browse/WEB-1")
    assert (epic.title, epic.status) == ("Self-serve exports", FeatureStatus.IN_PROGRESS)
    statuses = {
        s.jira_url.rsplit("/", 1)[1]: (s.status, s.feature.title)
        for s in UserStory.objects.filter(product=cast.product).select_related("feature")
    }
    assert statuses == {
        "WEB-2": (StoryStatus.IN_REVIEW, "Self-serve exports"),
        "WEB-3": (StoryStatus.DONE, "Self-serve exports"),  # epic link field, v3 description
        "WEB-4": (StoryStatus.READY, "Imported from Jira"),  # no epic
        "WEB-6": (StoryStatus.TODO, "Self-serve exports"),  # unknown name: by category
    }
    assert UserStory.objects.get(jira_url__endswith="WEB-3").i_want == "Times out after 30 s."
    again = jira.import_search(
        product=cast.product, data=_fixture("jira_search.json"), actor=cast.admin
    )
    assert (again.features, again.stories, len(again.skipped)) == ([], [], 5)
    assert UserStory.objects.filter(product=cast.product).count() == 4


def test_the_jira_import_page_reports_and_refuses_bad_files(cast):
    url = reverse("jira_import", args=[cast.product.key])
    admin = cast.client("admin")
    upload = SimpleUploadedFile("search.json", _fixture("jira_search.json"), "application/json")
    page = admin.post(url, {"file": upload})
    assert page.status_code == 200
    assert b"Imported 1 feature and 4 stories from Jira." in page.content
    bad = SimpleUploadedFile("x.json", json.dumps({"nope": 1}).encode(), "application/json")
    page = admin.post(url, {"file": bad})
    assert page.status_code == 400
    assert b"no list of" in page.content
    for role in ("pm", "engineer", "stakeholder"):
        upload = SimpleUploadedFile("s.json", _fixture("jira_search.json"), "application/json")
        assert cast.client(role).post(url, {"file": upload}).status_code == 403, role


def test_a_jira_link_is_validated_shown_to_the_team_and_hidden_from_stakeholders(cast):
    feature = FeatureFactory(product=cast.product, status=FeatureStatus.SHIPPED)
    story = StoryFactory(feature=feature, number=7)
    edit = reverse("story_edit", args=[cast.product.key, 7])
    bad = cast.client("pm").post(
        edit,
        {
            "title": story.title,
            "version": story.version,
            "jira_url": "https://acme.atlassian.net/wiki/x",
        },
    )
    assert b"should end in /browse/ABC-123" in bad.content
    story.refresh_from_db()
    assert story.jira_url == ""
    link = "https://acme.atlassian.net/browse/WEB-77"
    backlog.feature_update(
        feature=feature, data={"jira_url": link}, expected_version=feature.version, actor=cast.pm
    )
    story = backlog.story_update(
        story=story, data={"jira_url": link}, expected_version=story.version, actor=cast.pm
    )
    cast.share_with_stakeholders(Section.BACKLOG)
    for url in (
        reverse("story_detail", args=[cast.product.key, 7]),
        reverse("feature_detail", args=[cast.product.key, feature.pk]),
    ):
        assert link.encode() in cast.client("engineer").get(url).content
        page = cast.client("stakeholder").get(url)
        assert page.status_code == 200
        assert b"WEB-77" not in page.content, url
