"""Role-matrix entries for the roadmap's routes (see tests/test_role_matrix.py). The public share
page and its JSON are PUBLIC here; tests/roadmap/test_share_links.py covers them."""

from pm.choices import Role
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory, make_share_link
from tests.routing import PUBLIC, SIGNED_IN, Route


def _initiative(cast):
    return {"key": cast.product.key, "pk": InitiativeFactory(product=cast.product).pk}


def _release(cast):
    return {"key": cast.product.key, "pk": ReleaseFactory(product=cast.product).pk}


def _update(cast):
    from roadmap.services import initiative_post_update

    initiative = InitiativeFactory(product=cast.product, visibility="public")
    update = initiative_post_update(
        initiative=initiative, status="on_track", note="", actor=cast.pm
    )
    return {"pk": update.pk}


def _link(cast):
    link, _token = make_share_link(cast.product, cast.pm)
    return {"key": cast.product.key, "pk": link.pk}


ROUTES: dict[str, Route] = {
    "roadmap": Route(Role.STAKEHOLDER),
    "initiatives_export": Route(Role.STAKEHOLDER),
    "roadmap_board": Route(Role.STAKEHOLDER),
    "roadmap_changes": Route(Role.STAKEHOLDER),
    "initiative_new": Route(Role.PM, methods=("get", "post")),
    "initiative_detail": Route(Role.STAKEHOLDER, kwargs=_initiative),
    "initiative_edit": Route(Role.PM, kwargs=_initiative, methods=("get", "post")),
    "initiative_move": Route(Role.PM, kwargs=_initiative, methods=("post",)),
    "initiative_post_update": Route(Role.PM, kwargs=_initiative, methods=("post",)),
    "roadmap_forecast": Route(Role.ENGINEER),
    "initiative_delete": Route(Role.PM, kwargs=_initiative, methods=("post",)),
    "releases": Route(Role.STAKEHOLDER),
    "releases_export": Route(Role.STAKEHOLDER),
    "release_new": Route(Role.PM, methods=("get", "post")),
    "release_edit": Route(Role.PM, kwargs=_release, methods=("get", "post")),
    "release_ship": Route(Role.PM, kwargs=_release, methods=("post",)),
    "release_delete": Route(Role.PM, kwargs=_release, methods=("post",)),
    "share_links": Route(Role.PM, methods=("get", "post")),
    "share_link_revoke": Route(Role.PM, kwargs=_link, methods=("post",)),
    "share_roadmap": Route(PUBLIC, kwargs=lambda c: {"token": "not-a-token"}),
    "share_roadmap_json": Route(PUBLIC, kwargs=lambda c: {"token": "not-a-token"}),
    "api_public_roadmap": Route(PUBLIC, kwargs=lambda c: {"token": "not-a-token"}),
    # REST resources: lists show what the caller may see (SIGNED_IN, as in tests/api/routes.py).
    "api-initiative-list": Route(
        SIGNED_IN, kwargs=lambda c: {}, methods=("get", "post"), htmx=False
    ),
    "api-initiative-detail": Route(
        Role.STAKEHOLDER, kwargs=lambda c: {"pk": _initiative(c)["pk"]}, htmx=False
    ),
    "api-release-list": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("get", "post"), htmx=False),
    "api-initiative-export": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-release-export": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-release-detail": Route(
        Role.STAKEHOLDER, kwargs=lambda c: {"pk": _release(c)["pk"]}, htmx=False
    ),
    "api-initiative-update-list": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-initiative-update-detail": Route(Role.STAKEHOLDER, kwargs=_update, htmx=False),
    # The forecast names its product in the query: without one, any signed-in caller gets 400.
    "api_forecast": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-share-link-list": Route(
        SIGNED_IN, kwargs=lambda c: {}, methods=("get", "post"), htmx=False
    ),
    "api-share-link-detail": Route(
        Role.PM, kwargs=lambda c: {"pk": _link(c)["pk"]}, methods=("delete",), htmx=False
    ),
}
