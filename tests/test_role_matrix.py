"""The role matrix, built from the URL configuration: every named route must have an entry in
some tests/<app>/routes.py, so a view added without a permission rule fails this suite.

For each route: members whose role is below `need` are refused (403), users outside the workspace
get 404, anonymous visitors are sent to sign in, and members who meet `need` are let in."""

import importlib
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pm.choices import ROLE_RANK
from tests.routing import PUBLIC, SIGNED_IN, Route

ROUTES: dict[str, Route] = {}
for _path in sorted(Path(__file__).parent.glob("*/routes.py")):
    _module = importlib.import_module(f"tests.{_path.parent.name}.routes")
    _clash = set(ROUTES) & set(_module.ROUTES)
    assert not _clash, f"Routes listed twice: {_clash}"
    ROUTES.update(_module.ROUTES)

# Third-party routes with their own access control.
EXEMPT_PREFIXES = ("admin:",)


def _named_routes(resolver=None, namespace="") -> set[str]:
    resolver = resolver or get_resolver()
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_routes(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


def test_every_route_has_a_permission_rule():
    routes = {n for n in _named_routes() if not n.startswith(EXEMPT_PREFIXES)}
    missing = sorted(routes - set(ROUTES))
    assert not missing, f"Routes without a role-matrix entry: {missing}"
    stale = sorted(set(ROUTES) - routes)
    assert not stale, f"Role-matrix entries for routes that no longer exist: {stale}"


def _cases():
    for name, route in sorted(ROUTES.items()):
        for method in route.methods:
            if route.need == PUBLIC:
                continue
            yield pytest.param(name, method, "anonymous", id=f"{name}-{method}-anonymous")
            if route.need == SIGNED_IN:
                continue
            yield pytest.param(name, method, "outsider", id=f"{name}-{method}-outsider")
            for role in ROLE_RANK:
                yield pytest.param(name, method, role, id=f"{name}-{method}-{role}")


def _request(client, method, url, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    return getattr(client, method)(url, headers=headers)


@pytest.mark.parametrize(("name", "method", "who"), list(_cases()))
def test_role_matrix(cast, name, method, who):
    route = ROUTES[name]
    url = reverse(name, kwargs=route.kwargs(cast))
    response = _request(cast.client(who), method, url, route.htmx)
    if who == "anonymous" and url.startswith("/api/"):
        # The REST API challenges (401, WWW-Authenticate: Token) rather than redirecting.
        assert response.status_code == 401
    elif who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif who == "outsider":
        assert response.status_code == 404
    elif ROLE_RANK[who] < ROLE_RANK[route.need]:
        assert response.status_code == 403
    else:
        assert response.status_code not in (401, 403, 404, 405), response.status_code
        assert response.status_code < 500
