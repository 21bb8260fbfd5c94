"""Single sign-on pages (pm.sso): the start of the flow and the provider's way back. Both answer
404 while no identity provider is configured. The way back counts refusals against the same
lockout as wrong passwords (per client address), and says why a sign-in was refused."""

import logging

import requests
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from mozilla_django_oidc.views import (  # type: ignore[import-untyped]  # ships no stubs
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from pm import lockout, sso, twofactor

log = logging.getLogger("lodestar.security")

# The lockout counts single sign-on refusals under this name (never a real username: it has
# characters usernames cannot have), per client address.
LOCKOUT_NAME = "@single sign-on"
GENERIC_REFUSAL = "Single sign-on did not complete. Try again, or ask an admin."


def _refuse(request: HttpRequest, reason: str) -> HttpResponse:
    lockout.record_failure(request, LOCKOUT_NAME)
    request.session[sso.REFUSAL_KEY] = reason
    return HttpResponseRedirect(reverse("login"))


class CallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        if lockout.is_locked(request, LOCKOUT_NAME):
            request.session[sso.REFUSAL_KEY] = (
                "Too many failed sign-in attempts. For your security, sign-in is locked for up "
                f"to {lockout.lockout_minutes()} minutes. Try again later."
            )
            return HttpResponseRedirect(reverse("login"))
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state that is not ours, a bad signature…
            log.warning("Single sign-on refused: %s", exc)
            return _refuse(request, GENERIC_REFUSAL)
        except requests.RequestException:
            log.warning("Single sign-on: the identity provider did not answer.", exc_info=True)
            return _refuse(request, "The identity provider did not answer. Try again shortly.")

    def login_failure(self):
        reason = self.request.session.pop(sso.REFUSAL_KEY, None)
        if reason is None and getattr(self, "user", None) is not None:
            reason = "This account is disabled. Ask an admin of your workspace."
        return _refuse(self.request, reason or GENERIC_REFUSAL)

    def login_success(self):
        self.request.session.pop(twofactor.PENDING_KEY, None)
        response = super().login_success()
        self.request.session.pop(twofactor.ENROL_KEY, None)
        lockout.record_success(self.request, LOCKOUT_NAME)
        messages.success(self.request, f"Signed in as {self.user.get_username()}.")
        return response


@never_cache
@require_safe
def sso_start(request: HttpRequest) -> HttpResponse:
    """Off to the identity provider (authorization code flow with PKCE)."""
    if not sso.sso_enabled():
        raise Http404("Single sign-on is not configured.")
    return OIDCAuthenticationRequestView.as_view()(request)


@never_cache
@require_safe
def sso_callback(request: HttpRequest) -> HttpResponse:
    """The identity provider sends the browser back here with a code."""
    if not sso.sso_enabled():
        raise Http404("Single sign-on is not configured.")
    return CallbackView.as_view()(request)
