"""Role-matrix entries for the API and the API-token pages (see tests/test_role_matrix.py).

The shared matrix signs in with the session and tries each route's first methods; the API's
own, fuller matrix (tokens of each role and scope, every method) is tests/api/test_permissions.py.
List endpoints are SIGNED_IN: they list what the caller can see, so an outsider gets an empty
list of this workspace's items rather than a 404."""

from pm.api.tokens import api_token_create
from pm.choices import Role
from tests.api import data
from tests.routing import PUBLIC, SIGNED_IN, Route


def _token(cast):
    token, _key = api_token_create(user=cast.engineer, name="CI", actor=cast.engineer)
    return {"pk": token.pk}


def _story(cast):
    feature = data.feature(cast.product, cast.pm)
    return {"key": data.story(feature, cast.pm).key}


def _feature(cast):
    # Shipped: stakeholders read released features (pm.visibility).
    return {"pk": data.feature(cast.product, cast.pm, status="shipped").pk}


def _idea(cast):
    return {"pk": data.idea(cast.product, cast.pm).pk}


def _sprint_review(cast):
    from backlog import retro
    from tests.backlog.factories import SprintFactory

    sprint = SprintFactory(product=cast.product)
    review = retro.review_save(
        sprint=sprint, data={"demo_notes": "x"}, expected_version=1, actor=cast.pm
    )
    return {"pk": review.pk}


def _retro_item(cast):
    from backlog import retro
    from tests.backlog.factories import SprintFactory

    sprint = SprintFactory(product=cast.product)
    return {"pk": retro.retro_add(sprint=sprint, column="ideas", text="x", actor=cast.pm).pk}


def _action_item(cast):
    from backlog import retro
    from tests.backlog.factories import SprintFactory

    sprint = SprintFactory(product=cast.product)
    return {"pk": retro.action_add(sprint=sprint, text="x", owner=None, actor=cast.pm).pk}


def _none(cast):
    return {}


ROUTES: dict[str, Route] = {
    "api_tokens": Route(SIGNED_IN, kwargs=_none, methods=("get", "post")),
    "api_token_revoke": Route(SIGNED_IN, kwargs=_token, methods=("post",)),
    "api-schema": Route(PUBLIC, kwargs=_none),
    "api-docs": Route(PUBLIC, kwargs=_none),
    "api-product-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-me": Route(SIGNED_IN, kwargs=_none, htmx=False),
    # Stakeholders and outsiders get an empty list (the team only: engineers and up).
    "api-member-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-story-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-sprint-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-sprint-review-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-retro-item-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-action-item-list": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-sprint-review-detail": Route(Role.ENGINEER, kwargs=_sprint_review, htmx=False),
    "api-retro-item-detail": Route(Role.ENGINEER, kwargs=_retro_item, htmx=False),
    "api-action-item-detail": Route(Role.ENGINEER, kwargs=_action_item, htmx=False),
    "api-feature-list": Route(SIGNED_IN, kwargs=_none, methods=("get", "post"), htmx=False),
    # Exports (pm.api.exports): the list's rows as a download, so SIGNED_IN as the lists.
    "api-story-export": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-feature-export": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-idea-export": Route(SIGNED_IN, kwargs=_none, htmx=False),
    "api-idea-list": Route(SIGNED_IN, kwargs=_none, methods=("get", "post"), htmx=False),
    # Stories and ideas are sections stakeholders do not browse by default: 403, as the pages.
    "api-story-detail": Route(Role.ENGINEER, kwargs=_story, htmx=False),
    "api-feature-detail": Route(Role.STAKEHOLDER, kwargs=_feature, htmx=False),
    "api-idea-detail": Route(Role.ENGINEER, kwargs=_idea, htmx=False),
    # Moves in rank order: engineers move stories (as on the board), PMs features.
    "api-story-move": Route(Role.ENGINEER, kwargs=_story, methods=("post",), htmx=False),
    "api-feature-move": Route(Role.PM, kwargs=_feature, methods=("post",), htmx=False),
}
