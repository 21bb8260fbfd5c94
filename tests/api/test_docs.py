"""The OpenAPI schema at /api/schema/ describes the contract, and /api/docs/ serves Swagger UI
from local static files under the strict CSP (no inline script or style)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from rest_framework.test import APIClient


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_openapi_3_with_token_authentication(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["tokenAuth"]["description"],
    }


def test_the_schema_has_the_contract_paths_filters_and_fields(schema):
    paths = schema["paths"]
    for path, methods in {
        "/api/v1/products/": {"get"},
        "/api/v1/stories/": {"get"},
        "/api/v1/stories/{key}/": {"get", "patch"},
        "/api/v1/sprints/": {"get"},
        "/api/v1/features/": {"get", "post"},
        "/api/v1/ideas/": {"get", "post"},
    }.items():
        assert methods <= set(paths[path]), path
    filters = {p["name"] for p in paths["/api/v1/stories/"]["get"]["parameters"]}
    assert {"product", "sprint", "status", "assignee", "updated_since", "cursor"} <= filters
    story = schema["components"]["schemas"]["Story"]["properties"]
    assert {
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
    } <= set(story)
    sprint = schema["components"]["schemas"]["Sprint"]["properties"]
    assert {"start", "end", "goal", "capacity", "committed_points", "done_points"} <= set(sprint)
    patch = paths["/api/v1/stories/{key}/"]["patch"]["responses"]
    assert {"200", "400", "403", "404", "409", "412", "429"} <= set(patch)


def test_internal_fields_are_optional_in_the_schema(schema):
    feature = schema["components"]["schemas"]["Feature"]
    assert "cost" in feature["properties"] and "cost" not in feature["required"]


def test_the_docs_page_loads_swagger_ui_from_local_files_only(cast):
    response = cast.client("engineer").get(reverse("api-docs"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # no inline script
    assert re.findall(r"<style", html) == [] and re.findall(r"<[^>]+\sstyle=", html) == []
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert "js/api-docs.js" in assets
    for asset in assets:
        assert finders.find(asset), asset
    assert 'data-schema-url="/api/schema/"' in html
