"""Permission-scoped fetches, shared by the browser views and the API.

Outsiders get 404 (existence does not leak); members whose role is too weak get 403.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from pm.choices import ROLE_RANK, Role
from pm.models import Membership, Product, Workspace


def membership_for(user: User | AnonymousUser, workspace_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_lodestar_memberships", None)
    if cache is None:
        cache = {m.workspace_id: m for m in Membership.objects.filter(user=user)}
        user._lodestar_memberships = cache
    return cache.get(workspace_id)


def role_allows(role: str | None, need: str) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[need]


def _check(membership: Membership | None, need: str) -> Membership:
    if membership is None:
        raise Http404("No such page.")
    if not membership.allows(need):
        raise PermissionDenied("Your role in this workspace does not allow this.")
    return membership


def get_workspace_for_user(user, slug: str, need: str = Role.STAKEHOLDER) -> Workspace:
    """The workspace by slug, if the user is a member whose role meets `need`."""
    try:
        workspace = Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise Http404("No such workspace.") from None
    workspace.membership = _check(membership_for(user, workspace.pk), need)
    return workspace


def get_product_for_user(user, key: str, need: str = Role.STAKEHOLDER) -> Product:
    """The product by key, if the user is a member of its workspace whose role meets `need`."""
    try:
        product = Product.objects.select_related("workspace").get(key=key.upper())
    except Product.DoesNotExist:
        raise Http404("No such product.") from None
    product.membership = _check(membership_for(user, product.workspace_id), need)
    return product
