"""The role matrix, built from the URL configuration: every named route must have an entry in
ROUTES, so a view added without a permission rule fails this suite.

For each route: members whose role is below `need` are refused (403), users outside the workspace
get 404, anonymous visitors are sent to sign in, and members who meet `need` are let in."""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pm.choices import ROLE_RANK, Role
from pm.models import Invitation
from tests.conftest import Cast
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    PersonaFactory,
    ThemeFactory,
)

PUBLIC = "public"  # no sign-in needed (its own tests cover what it shows)
SIGNED_IN = "signed-in"  # any signed-in user, no workspace involved


@dataclass(frozen=True)
class Route:
    need: str
    kwargs: Callable[[Cast], dict] = lambda cast: {"key": cast.product.key}
    methods: tuple[str, ...] = ("get",)
    htmx: bool = True
    extra: dict = field(default_factory=dict)


def _ws(cast):
    return {"slug": cast.workspace.slug}


def _member(cast):
    return {"slug": cast.workspace.slug, "pk": MembershipFactory(workspace=cast.workspace).pk}


def _invitation(cast):
    inv = Invitation.objects.create(
        workspace=cast.workspace, email="x@example.com", role=Role.PM, token_hash="h" * 64
    )
    return {"slug": cast.workspace.slug, "pk": inv.pk}


def _item(section, factory):
    return lambda cast: {"key": cast.product.key, "section": section, "pk": factory(product=cast.product).pk}


def _kr(cast):
    return {"key": cast.product.key, "pk": KeyResultFactory(objective__product=cast.product).pk}


ROUTES: dict[str, Route] = {
    # pm
    "healthz": Route(PUBLIC, kwargs=lambda c: {}),
    "login": Route(PUBLIC, kwargs=lambda c: {}),
    "logout": Route(PUBLIC, kwargs=lambda c: {}, methods=("post",)),
    "invitation_accept": Route(PUBLIC, kwargs=lambda c: {"token": "nope"}),
    "home": Route(SIGNED_IN, kwargs=lambda c: {}),
    "workspace_detail": Route(Role.STAKEHOLDER, kwargs=_ws),
    "workspace_switch": Route(Role.STAKEHOLDER, kwargs=_ws, methods=("post",)),
    "members": Route(Role.ADMIN, kwargs=_ws),
    "membership_role": Route(Role.ADMIN, kwargs=_member, methods=("post",)),
    "membership_remove": Route(Role.ADMIN, kwargs=_member, methods=("post",)),
    "invitation_create": Route(Role.ADMIN, kwargs=_ws, methods=("post",)),
    "invitation_revoke": Route(Role.ADMIN, kwargs=_invitation, methods=("post",)),
    "product_create": Route(Role.PM, kwargs=_ws, methods=("get", "post")),
    "product_overview": Route(Role.STAKEHOLDER),
    "product_history": Route(Role.STAKEHOLDER),
    "strategy": Route(Role.STAKEHOLDER),
    "vision_show": Route(Role.STAKEHOLDER),
    "vision_edit": Route(Role.PM, methods=("get", "post")),
    "strategy_section": Route(
        Role.STAKEHOLDER, kwargs=lambda c: {"key": c.product.key, "section": "themes"}
    ),
    "strategy_item_new": Route(
        Role.PM,
        kwargs=lambda c: {"key": c.product.key, "section": "personas"},
        methods=("get", "post"),
    ),
    "strategy_item_edit": Route(
        Role.PM, kwargs=_item("competitors", CompetitorFactory), methods=("get", "post")
    ),
    "strategy_item_delete": Route(
        Role.PM, kwargs=_item("themes", ThemeFactory), methods=("post",)
    ),
    "key_result_new": Route(
        Role.PM,
        kwargs=lambda c: {"key": c.product.key, "objective_pk": ObjectiveFactory(product=c.product).pk},
        methods=("get", "post"),
    ),
    "key_result_edit": Route(Role.PM, kwargs=_kr, methods=("get", "post")),
    "key_result_delete": Route(Role.PM, kwargs=_kr, methods=("post",)),
}

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
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif who == "outsider":
        assert response.status_code == 404
    elif ROLE_RANK[who] < ROLE_RANK[route.need]:
        assert response.status_code == 403
    else:
        assert response.status_code not in (401, 403, 404, 405), response.status_code
        assert response.status_code < 500
