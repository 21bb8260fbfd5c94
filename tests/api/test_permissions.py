"""The API's role × endpoint × method matrix, with personal access tokens: the same rules as the
pages — outsiders get 404, stakeholders read (without internal fields), engineers also update
stories, PMs and admins also create features and ideas — and read tokens never write."""

import pytest

from pm.models import ApiToken

ROLES = ["admin", "pm", "engineer", "stakeholder", "outsider"]
OK = {"admin": 200, "pm": 200, "engineer": 200, "stakeholder": 200}


def _expect(members: dict[str, int], outsider: int) -> dict[str, int]:
    return {**members, "outsider": outsider}


WRITE_STORY = _expect({"admin": 200, "pm": 200, "engineer": 200, "stakeholder": 403}, 404)
CREATE = _expect({"admin": 201, "pm": 201, "engineer": 403, "stakeholder": 403}, 404)

# (method, path, body, expected status per role). Paths name backlog items by attribute.
MATRIX = [
    ("get", "/api/v1/products/", None, _expect(OK, 200)),
    ("get", "/api/v1/stories/", None, _expect(OK, 200)),
    ("get", "/api/v1/stories/?product=LOD", None, _expect(OK, 404)),
    ("get", "/api/v1/stories/LOD-1/", None, _expect(OK, 404)),
    ("patch", "/api/v1/stories/LOD-1/", {"status": "in_review"}, WRITE_STORY),
    ("get", "/api/v1/sprints/", None, _expect(OK, 200)),
    ("get", "/api/v1/sprints/?product=LOD", None, _expect(OK, 404)),
    ("get", "/api/v1/features/", None, _expect(OK, 200)),
    ("get", "/api/v1/features/?product=LOD", None, _expect(OK, 404)),
    ("get", "/api/v1/features/{feature}/", None, _expect(OK, 404)),
    ("post", "/api/v1/features/", {"product": "LOD", "title": "Exports"}, CREATE),
    ("get", "/api/v1/ideas/", None, _expect(OK, 200)),
    ("get", "/api/v1/ideas/{idea}/", None, _expect(OK, 404)),
    ("post", "/api/v1/ideas/", {"product": "LOD", "title": "Slack"}, CREATE),
]


def _url(path: str, backlog) -> str:
    return path.format(feature=backlog.feature.pk, idea=backlog.idea.pk)


def _cases():
    for method, path, body, expected in MATRIX:
        for role in ROLES:
            yield pytest.param(
                method, path, body, role, expected[role], id=f"{method}-{path}-{role}"
            )


@pytest.mark.parametrize(("method", "path", "body", "role", "status"), list(_cases()))
def test_role_matrix_with_read_write_tokens(cast, backlog, api, method, path, body, role, status):
    response = getattr(api(role), method)(_url(path, backlog), body, format="json")
    assert response.status_code == status, response.content
    if status >= 400:
        assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(("method", "path", "body"), [(m, p, b) for m, p, b, _ in MATRIX])
def test_anonymous_callers_get_401(cast, backlog, api, method, path, body):
    response = getattr(api("anonymous"), method)(_url(path, backlog), body, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("method", "path", "body"), [(m, p, b) for m, p, b, _ in MATRIX if m != "get"]
)
@pytest.mark.parametrize("role", ["admin", "pm", "engineer"])
def test_read_tokens_cannot_write(cast, backlog, api, method, path, body, role):
    client = api(role, scope=ApiToken.Scope.READ)
    response = getattr(client, method)(_url(path, backlog), body, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_a_session_works_like_a_token_and_needs_csrf_for_writes(cast, backlog):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.engineer)
    assert client.get("/api/v1/stories/LOD-1/").status_code == 200
    response = client.patch(
        "/api/v1/stories/LOD-1/", {"status": "done"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_methods_an_endpoint_lacks_get_405_in_the_error_shape(cast, backlog, api, method):
    response = getattr(api("admin"), method)("/api/v1/stories/LOD-1/", {}, format="json")
    assert response.status_code == 405
    assert set(response.json()) == {"detail"}
