"""Two-factor sign-in for password accounts (django-otp): an authenticator app (TOTP) and
single-use recovery codes.

- A user who has confirmed an authenticator app signs in in two steps: the password
  (`/accounts/login/`), then a six-digit code or a recovery code (`/accounts/login/code/`). Between
  the two the session holds only who passed the password, for `PENDING_SECONDS`; nobody is
  signed in. Wrong codes count against the same lockout as wrong passwords (pm.lockout).
- A workspace admin may require it (`Workspace.require_two_factor`). A member of such a
  workspace who signs in with a password and has no authenticator yet is signed in but sent to
  set one up: until they do, every page redirects to the set-up page (EnrolmentMiddleware). The
  flag lives in the session, so the check costs no query per request.
- Single sign-on accounts (pm.sso) prove the second factor at their identity provider.
"""

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pm.models import Membership

PENDING_KEY = "lodestar_2fa_pending"
ENROL_KEY = "lodestar_2fa_enrol"
PENDING_SECONDS = 5 * 60
RECOVERY_CODES = 10
APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def totp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def has_two_factor(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_user_ids(workspace: Any) -> set[int]:
    """Which members of the workspace have two-factor sign-in on (one query)."""
    return set(
        TOTPDevice.objects.filter(
            confirmed=True, user__memberships__workspace=workspace
        ).values_list("user_id", flat=True)
    )


def requiring_workspaces(user: Any) -> list[str]:
    """Names of the user's workspaces whose admins require two-factor sign-in."""
    return list(
        Membership.objects.filter(user=user, workspace__require_two_factor=True)
        .order_by("workspace__name")
        .values_list("workspace__name", flat=True)
    )


def new_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODES fresh ones, each usable once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_NAME).count()


def verify(user: Any, code: str) -> Device | None:
    """The device that accepts `code` (a TOTP code or a recovery code), or None. Each device
    throttles its own failures (django-otp), on top of the sign-in lockout."""
    code = "".join((code or "").split()).lower()[:16]
    if not code:
        return None
    if code.isdigit():
        app = totp_device(user)
        if app is not None and app.verify_token(code):
            return app
        return None
    for recovery in StaticDevice.objects.filter(user=user, name=RECOVERY_NAME):
        if recovery.verify_token(code):
            return recovery
    return None


def disable(user: Any) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


# --- the pending sign-in between password and code -------------------------------------------


def start_pending(request: HttpRequest, user: AbstractBaseUser, backend: str, next_url: str):
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "at": int(time.time()),
    }


def pending(request: HttpRequest) -> dict | None:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_SECONDS:
        return None
    return data


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def after_password(request: HttpRequest, user: Any, next_url: str) -> HttpResponse | None:
    """Called once the password was right and the user (who has no authenticator) is signed in:
    a member of a workspace that requires two-factor sign-in is sent to set it up."""
    if not requiring_workspaces(user):
        return None
    request.session[ENROL_KEY] = True
    return HttpResponseRedirect(f"{reverse('two_factor_setup')}?{urlencode({'next': next_url})}")


class EnrolmentMiddleware:
    """Until a member whose workspace requires two-factor sign-in has set it up, every page sends
    them to the set-up page (the flag is set at sign-in, in the session: no query here)."""

    ALLOWED = ("two_factor_setup", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if ENROL_KEY in request.session and request.user.is_authenticated:
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed and not request.path.startswith(
                settings.STATIC_URL or "/static/"
            ):
                target = reverse("two_factor_setup")
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = target
                    return response
                return HttpResponseRedirect(target)
        return self.get_response(request)
