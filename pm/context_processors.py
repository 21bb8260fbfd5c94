"""Navigation context for the base layout: the user's workspaces and the current one's products."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from pm.models import Membership, Product
from pm.registry import registry


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return list(Membership.objects.filter(user=user).select_related("workspace"))

    lazy_memberships = SimpleLazyObject(memberships)

    def current():
        workspace = getattr(request, "lodestar_workspace", None)
        if workspace is not None:
            return workspace
        wanted = request.session.get("workspace_id")
        ms = list(lazy_memberships)
        for m in ms:
            if m.workspace_id == wanted:
                return m.workspace
        return ms[0].workspace if ms else None

    lazy_current = SimpleLazyObject(current)

    def products():
        workspace = lazy_current
        if not workspace:
            return []
        return list(Product.objects.filter(workspace_id=workspace.pk).only("name", "key"))

    def current_role():
        workspace = lazy_current
        for m in lazy_memberships:
            if workspace and m.workspace_id == workspace.pk:
                return m.role
        return None

    def unread():
        from pm.notifications import unread_count

        return unread_count(user)

    return {
        "nav_unread": SimpleLazyObject(unread),
        "nav_role": SimpleLazyObject(current_role),
        "nav_memberships": lazy_memberships,
        "nav_workspace": lazy_current,
        "nav_products": SimpleLazyObject(products),
        "product_nav": registry.nav,
    }
