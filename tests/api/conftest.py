"""API fixtures: token clients for each role of the cast, and a small backlog."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from backlog.models import Feature, Idea, Sprint, UserStory
from pm.api.tokens import api_token_create
from pm.models import ApiToken
from tests.api import data


def token_client(user, scope: str = ApiToken.Scope.READ_WRITE) -> APIClient:
    _token, key = api_token_create(user=user, name=f"{scope} test", scope=scope, actor=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api(cast):
    """`api("engineer")` is an APIClient with a read-write token of the cast's engineer;
    `api("stakeholder", scope="read")` a read token; `api("anonymous")` no credentials."""

    def make(role: str, scope: str = ApiToken.Scope.READ_WRITE) -> APIClient:
        if role == "anonymous":
            return APIClient()
        return token_client(cast.user(role), scope)

    return make


@dataclass
class Backlog:
    feature: Feature
    archived: Feature
    current: Sprint
    later: Sprint
    stories: list[UserStory]
    idea: Idea


@pytest.fixture
def backlog(cast) -> Backlog:
    """Two features (one archived), a running and a later sprint, four stories in rank order
    (two in the current sprint, one assigned to the engineer), and an idea from a customer."""
    pm = cast.pm
    feature = data.feature(
        cast.product,
        pm,
        reach=100,
        impact=2,
        confidence=80,
        effort=2,
        cost=5000,
        expected_revenue=20000,
        roi_horizon_months=12,
    )
    archived = data.feature(cast.product, pm, title="Old reports", status="archived")
    current = data.sprint(cast.product, pm, offset_days=-3)
    later = data.sprint(cast.product, pm, offset_days=30)
    stories = [
        data.story(
            feature,
            pm,
            title="Save a search",
            sprint=current,
            points=3,
            assignee=cast.engineer,
            status="ready",
        ),
        data.story(feature, pm, title="Rename a search", sprint=current, points=5, status="done"),
        data.story(feature, pm, title="Share a search", sprint=later, points=2),
        data.story(feature, pm, title="Delete a search"),
    ]
    idea = data.idea(cast.product, pm, submitter_name="Ada at Initech")
    return Backlog(feature, archived, current, later, stories, idea)


@pytest.fixture(autouse=True)
def _stakeholders_browse_every_section(request):
    """These tests read the API as a stakeholder of a workspace that shares ideas, the backlog,
    sprints and feedback with stakeholders (Workspace.stakeholder_sections): what stakeholders
    get inside those sections. That they are closed by default is the role matrix and
    tests/test_visibility_sections.py."""
    if "cast" in request.fixturenames:
        request.getfixturevalue("cast").share_with_stakeholders(
            "ideas", "backlog", "sprints", "feedback"
        )
