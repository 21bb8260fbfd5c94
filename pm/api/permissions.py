"""API permissions, on top of pm.permissions (the same rules as the pages).

Every request must be authenticated; a read-only token may only make safe requests. Role
checks happen where the product is known — in the views, through `product_for_user` and
`pm.permissions.get_product_for_user` (outsiders 404, roles too weak 403) — and lists only
ever cover the caller's workspaces (`member_roles`).
"""

import re

from django.contrib.auth.models import User
from django.http import Http404
from rest_framework import permissions

from pm.choices import Role
from pm.models import ApiToken, Product
from pm.permissions import get_product_for_user, memberships_of
from pm.visibility import Viewer, viewer_for

_PRODUCT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,9}$")
MAX_ID = 2**63 - 1


class TokenScope(permissions.BasePermission):
    """Read tokens cannot write."""

    message = "This token is read-only: create a read-write token to make changes."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and request.method not in permissions.SAFE_METHODS:
            return token.can_write
        return True


def parse_id(value: object) -> int | None:
    """A database id from a URL or query parameter, or None if it cannot be one."""
    text = str(value).strip()
    if not text.isdecimal() or not text.isascii():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def product_for_user(user: User, ref: object, need: str = Role.STAKEHOLDER) -> Product:
    """The product named by id or key (`42` or `LOD`), through get_product_for_user. Unknown
    products and other workspaces' products get the same 404, so existence does not leak."""
    text = str(ref).strip()
    key: str | int | None = text if _PRODUCT_KEY.match(text) else parse_id(text)
    if key is None:
        raise Http404("No such product.")
    try:
        return get_product_for_user(user, key, need=need)
    except Http404:
        raise Http404("No such product.") from None


def member_roles(user: User) -> dict[int, str]:
    """{workspace id: role} of the caller's memberships (cached on the user for the request)."""
    return {ws: m.role for ws, m in memberships_of(user).items()}


def member_viewers(user: User) -> dict[int, Viewer]:
    """{workspace id: the caller's viewer} (pm.visibility), from the memberships already loaded
    for the request (with their workspaces, whose stakeholder_sections setting counts)."""
    return {
        ws: viewer
        for ws, m in memberships_of(user).items()
        if (viewer := viewer_for(m, m.workspace)) is not None
    }
