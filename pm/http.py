"""Request types for views.

`AuthedHttpRequest` is the request a `@login_required` view receives: its `user` is a `User`,
never `AnonymousUser`, so services that take an actor accept `request.user` without a check the
decorator already made. `lodestar_workspace` is the workspace a page belongs to, which views set
for the navigation (pm/context_processors.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

if TYPE_CHECKING:
    from pm.models import Workspace


class AuthedHttpRequest(HttpRequest):
    user: User
    lodestar_workspace: Workspace


def signed_in(request: HttpRequest | Request) -> User:
    """The user of a request that authentication already let through (a `@login_required` page,
    an API view behind IsAuthenticated): a `User`, never `AnonymousUser`."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
