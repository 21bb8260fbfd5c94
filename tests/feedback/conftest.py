"""Fixtures for feedback tests: a small backlog to link feedback to, and helpers."""

import pytest

from tests.feedback.factories import make_feature, make_idea


@pytest.fixture
def backlog(cast):
    """Three features and an idea in the cast's product."""
    pm = cast.pm
    return {
        "jira": make_feature(
            cast.product,
            "Two-way Jira sync",
            "Keep stories and their status in sync with Jira issues, both directions.",
            actor=pm,
        ),
        "export": make_feature(
            cast.product,
            "Export backlog to CSV and Excel",
            "Download the backlog as a CSV or XLSX spreadsheet.",
            actor=pm,
        ),
        "sso": make_feature(
            cast.product,
            "Single sign-on with SAML and Okta",
            "Sign in through the company identity provider.",
            actor=pm,
        ),
        "dark": make_idea(cast.product, "Dark mode", "A dark colour theme.", actor=pm),
    }


@pytest.fixture(autouse=True)
def _stakeholders_browse_feedback(request):
    """These tests read the feedback pages as a stakeholder of a workspace that shares the
    feedback section and the backlog (Workspace.stakeholder_sections): what stakeholders see
    inside them. Closed by default: the role matrix and tests/test_visibility_sections.py."""
    if "cast" in request.fixturenames:
        request.getfixturevalue("cast").share_with_stakeholders("feedback", "backlog", "ideas")
