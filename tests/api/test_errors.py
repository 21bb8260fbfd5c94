"""One error shape: 400 `{field: [messages]}`, everything else `{"detail": message}`; 429 with
`Retry-After` once a token, a user or an anonymous caller goes over its rate."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from pm.api.exceptions import _flatten


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "user": "3/min", "anon": "2/min"},
    }


def test_malformed_json_is_a_400_in_the_field_shape(cast, backlog, api):
    response = api("engineer").patch(
        "/api/v1/stories/LOD-1/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["non_field_errors"]
    assert "JSON parse error" in body["non_field_errors"][0]


def test_a_body_that_is_not_an_object_is_a_400(cast, backlog, api):
    response = api("pm").post("/api/v1/features/", ["a", "list"], format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["product"]


def test_other_content_types_get_415(cast, backlog, api):
    response = api("engineer").patch(
        "/api/v1/stories/LOD-1/", "status=done", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert set(response.json()) == {"detail"}


def test_unknown_api_paths_get_a_json_404(cast, api):
    for path in ["/api/v1/nothing/", "/api/v2/stories/", "/api/v1/features/abc/x/"]:
        response = api("engineer").get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
    hint = api("engineer").get("/api/v1/stories").json()["detail"]
    assert "/api/v1/stories/" in hint


def test_a_post_to_an_unknown_api_path_with_a_session_cookie_is_still_a_json_404(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.engineer)
    response = client.post("/api/v1/kpis/abc/datapoints/", "[]", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such API endpoint."}


def test_nested_errors_are_flattened_to_dotted_fields():
    errors = {
        "acceptance_criteria": [{}, {"done": ["Must be a valid boolean."]}],
        "non_field_errors": ["Nope."],
        "title": ["Required."],
    }
    assert _flatten(errors) == {
        "acceptance_criteria.1.done": ["Must be a valid boolean."],
        "non_field_errors": ["Nope."],
        "title": ["Required."],
    }
    assert _flatten(["Just a message."]) == {"non_field_errors": ["Just a message."]}


def test_a_service_validation_error_is_a_400_beside_the_field(cast, backlog, api):
    # The service, not the serializer, refuses assigning a story to a stakeholder.
    response = api("pm").patch(
        "/api/v1/stories/LOD-1/", {"assignee": cast.stakeholder.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"assignee": ["Assign the story to an engineer or PM of this team."]}


def test_a_token_over_its_rate_gets_429_with_retry_after(cast, backlog, api, low_rates):
    client = api("engineer")
    for _ in range(3):
        assert client.get("/api/v1/products/").status_code == 200
    response = client.get("/api/v1/products/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert set(response.json()) == {"detail"}
    # Each token has its own bucket, and so does the browser session.
    assert api("engineer").get("/api/v1/products/").status_code == 200
    session = cast.client("engineer")
    assert session.get("/api/v1/products/").status_code == 200


def test_anonymous_callers_have_their_own_lower_rate(cast, low_rates):
    client = APIClient()
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/schema/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
