"""Backlog tests read the Ideas, Backlog and Sprints pages as a stakeholder of a workspace that
shares them (Workspace.stakeholder_sections): what a stakeholder sees *inside* those pages. That
the sections are closed by default is tests/test_visibility_sections.py and the role matrix."""

import pytest


@pytest.fixture(autouse=True)
def _stakeholders_browse_the_backlog(request):
    if "cast" in request.fixturenames:
        request.getfixturevalue("cast").share_with_stakeholders("ideas", "backlog", "sprints")
