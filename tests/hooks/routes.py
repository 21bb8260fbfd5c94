"""Role-matrix entries for webhooks and development tools (see tests/test_role_matrix.py)."""

from pm.choices import Role
from tests.hooks.factories import make_delivery, make_endpoint
from tests.routing import PUBLIC, Route


def _endpoint(cast) -> dict:
    return {"slug": cast.workspace.slug, "pk": make_endpoint(cast.workspace).pk}


def _delivery(cast) -> dict:
    endpoint = make_endpoint(cast.workspace)
    return {
        "slug": cast.workspace.slug,
        "pk": endpoint.pk,
        "delivery_pk": make_delivery(endpoint).pk,
    }


ROUTES = {
    "webhook_list": Route(
        Role.ADMIN, kwargs=lambda c: {"slug": c.workspace.slug}, methods=("get", "post")
    ),
    "webhook_detail": Route(Role.ADMIN, kwargs=_endpoint, methods=("get", "post")),
    "webhook_rotate": Route(Role.ADMIN, kwargs=_endpoint, methods=("post",)),
    "webhook_delete": Route(Role.ADMIN, kwargs=_endpoint, methods=("post",)),
    "webhook_redeliver": Route(Role.ADMIN, kwargs=_delivery, methods=("post",)),
    "development_settings": Route(Role.ADMIN, methods=("get", "post")),
    "jira_import": Route(Role.ADMIN, methods=("post",)),
    # Called by GitHub/GitLab: no session, a signature or token instead (tests/hooks).
    "github_receiver": Route(PUBLIC, kwargs=lambda c: {"token": "forged"}, methods=("post",)),
    "gitlab_receiver": Route(PUBLIC, kwargs=lambda c: {"token": "forged"}, methods=("post",)),
}
