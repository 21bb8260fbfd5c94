"""No existence oracle: a 404 reads the same — status and body — whether the object exists in
another workspace or does not exist at all, on every page and every API route.

Generated from the role matrix (every named route, tests/*/routes.py): each route's `kwargs`
builder makes real objects in a workspace, and the same URL is then asked with ids, numbers,
story keys and product keys that exist nowhere.

- Outsiders (members of another workspace) asking for this workspace's objects get the 404 of
  ids that exist nowhere, and of a product key or workspace slug that exists nowhere.
- Members asking, under their own product, for another workspace's objects get the 404 of ids
  that exist nowhere (and an API detail route answers another workspace's id like a missing
  one).
"""

import re

import pytest
from django.urls import reverse

from pm.choices import ROLE_RANK, Role
from tests.conftest import ROLES, Cast
from tests.factories import MembershipFactory, ProductFactory, WorkspaceFactory
from tests.feedback.factories import FeedbackItemFactory
from tests.routing import SIGNED_IN
from tests.test_role_matrix import ROUTES

pytestmark = pytest.mark.django_db

MISSING_ID = 987_654_321
MISSING_KEY = "ZZQ"
MISSING_SLUG = "no-such-workspace"
STORY_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)-(\d+)$")

# Routes the role matrix lists with placeholder arguments (their own tests cover access):
# here they get real objects.
BUILDERS = {
    "api-feedback-detail": lambda cast: {"pk": FeedbackItemFactory.create(product=cast.product).pk},
}


def _builder(name):
    return BUILDERS.get(name) or ROUTES[name].kwargs


def _names_objects(name: str) -> bool:
    return name in BUILDERS or ROUTES[name].need in ROLE_RANK or ROUTES[name].need == SIGNED_IN


def _missing_ids(kwargs: dict) -> dict:
    """The same arguments with every id, number and story key replaced by one that exists
    nowhere (product keys, workspace slugs and section names kept)."""
    out: dict[str, object] = {}
    for name, value in kwargs.items():
        if isinstance(value, int):
            out[name] = MISSING_ID
        elif name == "key" and (match := STORY_KEY.match(str(value))):
            out[name] = f"{match[1]}-{MISSING_ID}"
        else:
            out[name] = value
    return out


def _normalise(content: bytes) -> bytes:
    """The body without what differs on every response anyway (CSRF tokens, CSP nonces)."""
    content = re.sub(rb'nonce="[^"]*"', b'nonce=""', content)
    return re.sub(rb"\b[A-Za-z0-9]{64}\b", b"<csrf>", content)


def _ask(client, method: str, url: str, htmx: bool):
    headers = {"HX-Request": "true"} if htmx and not url.startswith("/api/") else {}
    response = getattr(client, method)(url, headers=headers)
    # Exports stream their rows (pm.exports).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, _normalise(body)


@pytest.fixture
def other(db) -> Cast:
    """A second workspace with its own product and members."""
    workspace = WorkspaceFactory.create(name="Globex", slug="globex")
    product = ProductFactory.create(workspace=workspace, name="Globex Cloud", key="GLX")
    members = {
        role: MembershipFactory.create(
            workspace=workspace, role=role, user__username=f"glx-{role}"
        ).user
        for role in ROLES
    }
    return Cast(workspace=workspace, product=product, outsider=members[Role.ADMIN], **members)


def _routes_with_objects():
    return sorted(n for n in ROUTES if _names_objects(n))


@pytest.mark.parametrize("name", _routes_with_objects())
def test_outsiders_get_the_404_of_what_does_not_exist(cast, name):
    """The outsider (admin of a workspace of their own) asks for this workspace's objects."""
    route = ROUTES[name]
    if route.need == SIGNED_IN and name not in BUILDERS:
        pytest.skip("no workspace in the URL (the member test covers its ids)")
    real = _builder(name)(cast)
    variants = {"missing ids": _missing_ids(real)}
    if real.get("key") == cast.product.key:
        variants["missing product"] = {**real, "key": MISSING_KEY}
    if "slug" in real:
        variants["missing workspace"] = {**real, "slug": MISSING_SLUG}
    variants = {k: v for k, v in variants.items() if v != real}
    assert variants, f"{name}: nothing in its URL to vary"
    client = cast.client("outsider")
    for method in route.methods:
        asked = _ask(client, method, reverse(name, kwargs=real), route.htmx)
        assert asked[0] == 404, (name, method, asked[0])
        for label, kwargs in variants.items():
            missing = _ask(client, method, reverse(name, kwargs=kwargs), route.htmx)
            assert missing == asked, f"{name} {method.upper()}: {label} reads differently"
    # The objects were real: a member who may use the route is let in.
    if route.need != SIGNED_IN:
        status, _ = _ask(cast.client("admin"), route.methods[0], reverse(name, kwargs=real), False)
        assert status != 404, f"{name}: the builder's objects do not exist"


@pytest.mark.parametrize("name", _routes_with_objects())
def test_members_get_the_404_of_what_does_not_exist_for_other_workspaces_objects(cast, other, name):
    """This workspace's admin asks, under their own product, for the other workspace's
    objects."""
    route = ROUTES[name]
    own = _builder(name)(cast)  # whatever the route needs on this side (e.g. settings)
    theirs = _builder(name)(other)
    cross = {
        **theirs,
        **{k: own[k] for k in ("key", "slug") if k in own and not STORY_KEY.match(str(own[k]))},
    }
    missing = _missing_ids(cross)
    if missing == cross:
        pytest.skip("no object ids in the URL (the outsider test covers it)")
    if cross == own:
        pytest.skip("numbered per product: their object's number names our own object")
    client = cast.client("admin")
    for method in route.methods:
        asked = _ask(client, method, reverse(name, kwargs=cross), route.htmx)
        assert asked[0] == 404, (name, method, asked[0])
        assert _ask(client, method, reverse(name, kwargs=missing), route.htmx) == asked, (
            f"{name} {method.upper()}: another workspace's object reads differently"
        )
    # Their objects were real: their own admin is let in.
    if route.need != SIGNED_IN:
        status, _ = _ask(
            other.client("admin"), route.methods[0], reverse(name, kwargs=theirs), False
        )
        assert status != 404, f"{name}: the builder's objects do not exist"


def test_the_api_says_no_such_feedback_for_another_workspaces_feedback(cast, other):
    """The reported case, word for word."""
    theirs = FeedbackItemFactory(product=other.product)
    client = cast.client("admin")
    for pk in (theirs.pk, MISSING_ID):
        response = client.get(reverse("api-feedback-detail", kwargs={"pk": pk}))
        assert response.status_code == 404
        assert response.json() == {"detail": "No such feedback."}


def _api_lists():
    return sorted(n for n in ROUTES if n.startswith("api-") and n.endswith("-list"))


@pytest.mark.parametrize("name", _api_lists())
def test_api_lists_filtered_by_another_workspaces_product_read_like_a_missing_one(
    cast, other, name
):
    client = cast.client("admin")
    url = reverse(name)
    theirs = [client.get(url, {"product": ref}) for ref in (other.product.key, other.product.pk)]
    missing = [client.get(url, {"product": ref}) for ref in (MISSING_KEY, MISSING_ID)]
    for answer in theirs + missing:
        assert answer.status_code == missing[0].status_code
        assert answer.content == missing[0].content
