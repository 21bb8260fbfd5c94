"""Permission-scoped fetches, shared by the browser views and the API.

Outsiders get 404 (existence does not leak): the very 404 of something that does not exist,
message included; members whose role is too weak get 403, and so do members asking for a
section of the product their role may not browse (pm.visibility: a stakeholder's Ideas, Backlog,
Sprints and Feedback unless the workspace shares them). Rows a reader may not see inside a
section it browses are 404, through the selectors.
"""

from contextvars import ContextVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from pm.choices import ROLE_RANK, Role
from pm.models import Membership, Product, Workspace
from pm.visibility import Viewer, viewer_for, viewer_of

SECTION_REFUSED = "This section is not shared with your role in this workspace."

NO_WORKSPACE = "No such workspace."
NO_PRODUCT = "No such product."


def memberships_of(user: User | AnonymousUser) -> dict[int, Membership]:
    """{workspace id: membership} of the user, loaded once per request."""
    if not user.is_authenticated:
        return {}
    cache: dict[int, Membership] | None = getattr(user, "_lodestar_memberships", None)
    if cache is None:
        # The workspace comes along: its stakeholder_sections setting decides what a
        # stakeholder browses (pm.visibility), without a query of its own.
        memberships = Membership.objects.filter(user=user).select_related("workspace")
        cache = {m.workspace_id: m for m in memberships}
        # Django's User cannot declare it: the per-request cache rides on the instance.
        setattr(user, "_lodestar_memberships", cache)  # noqa: B010
    return cache


def membership_for(user: User | AnonymousUser, workspace_id: int) -> Membership | None:
    return memberships_of(user).get(workspace_id)


def role_allows(role: str | None, need: str) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[need]


def _check(membership: Membership | None, need: str, not_found: str) -> Membership:
    """The membership if it meets `need`; outsiders get the 404 `not_found`, the one an unknown
    workspace or product gets."""
    if membership is None:
        raise Http404(not_found)
    if not membership.allows(need):
        raise PermissionDenied("Your role in this workspace does not allow this.")
    return membership


def get_workspace_for_user(user, slug: str, need: str = Role.STAKEHOLDER) -> Workspace:
    """The workspace by slug, if the user is a member whose role meets `need`."""
    try:
        workspace = Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise Http404(NO_WORKSPACE) from None
    workspace.membership = _check(membership_for(user, workspace.pk), need, NO_WORKSPACE)
    return workspace


def viewer_for_user(user, product: Product) -> Viewer | None:
    """The viewer of `user` in `product`'s workspace (from the product's membership when it was
    fetched through get_product_for_user)."""
    if getattr(product, "membership", None) is not None:
        return viewer_of(product)
    return viewer_for(membership_for(user, product.workspace_id), product.workspace)


def check_section(product: Product, section: str | tuple[str, ...] | None) -> None:
    """403 unless the caller may browse `section` of the product (any of several)."""
    if section is None:
        return
    sections = (section,) if isinstance(section, str) else section
    viewer = viewer_of(product)
    if viewer is None or not any(viewer.browses(s) for s in sections):
        raise PermissionDenied(SECTION_REFUSED)


def get_product_for_user(
    user,
    key: str | int | Product,
    need: str = Role.STAKEHOLDER,
    section: str | tuple[str, ...] | None = None,
) -> Product:
    """The product by key (`"LOD"`), id or instance, if the user is a member of its workspace
    whose role meets `need` (and who may browse `section`, when given: 403 otherwise).

    Keys are unique per workspace, so a key is looked up among the user's own workspaces only
    (another tenant's product with the same key is invisible: 404). When two of the user's
    workspaces use the same key, the one they are working in (the session's workspace) wins,
    then the older workspace; ids and instances are never ambiguous."""
    products = Product.objects.select_related("workspace")
    if isinstance(key, Product):
        key = key.pk
    if isinstance(key, int):
        product = products.filter(pk=key).first()
    else:
        candidates = (
            list(
                products.filter(key=str(key).upper(), workspace__memberships__user=user).order_by(
                    "workspace_id"
                )
            )
            if user.is_authenticated
            else []
        )
        product = _preferred(candidates)
    if product is None:
        raise Http404(NO_PRODUCT)
    product.membership = _check(membership_for(user, product.workspace_id), need, NO_PRODUCT)
    check_section(product, section)
    return product


def _preferred(candidates: list[Product]) -> Product | None:
    if len(candidates) > 1:
        current = current_workspace_id()
        for product in candidates:
            if product.workspace_id == current:
                return product
    return candidates[0] if candidates else None


_current_request: ContextVar[HttpRequest | None] = ContextVar("lodestar_request", default=None)


def current_workspace_id() -> int | None:
    """The workspace the signed-in user is working in (their session's), if any."""
    request = _current_request.get()
    session = getattr(request, "session", None) if request is not None else None
    return session.get("workspace_id") if session is not None else None


class CurrentRequestMiddleware:
    """Makes the request known to get_product_for_user, for the rare ambiguous key; reading
    it costs nothing unless a key is ambiguous."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
