"""Signing in (with the lockout of pm.lockout, also in front of the Django admin's sign-in),
password reset by e-mail and password change, the health check and the error handlers."""

import hashlib
import logging

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import BACKEND_SESSION_KEY, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as default_server_error

from pm import lockout, sso, twofactor
from pm.clientip import client_ip

log = logging.getLogger("lodestar.health")
log_security = logging.getLogger("lodestar.security")


# --- sign-in ------------------------------------------------------------------------------


def _locked_response(request: HttpRequest, username: str) -> HttpResponse:
    # An unbound form: rendering a bound one would validate it, i.e. check the password.
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_minutes": lockout.lockout_minutes(),
        "next": request.POST.get("next", request.GET.get("next", "")),
        **sign_in_options(request),
    }
    return render(request, "registration/login.html", context, status=429)


PASSWORD_OFF = "Password sign-in is turned off here: sign in through your identity provider."


def sign_in_options(request: HttpRequest) -> dict:
    """What the sign-in page offers: the password form, single sign-on, and why the last single
    sign-on was refused (once)."""
    return {
        "password_login": sso.password_login_enabled(),
        "sso_enabled": sso.sso_enabled(),
        "sso_label": settings.SSO_BUTTON_LABEL,
        "sso_error": request.session.pop(sso.REFUSAL_KEY, ""),
    }


class RateLimitedLoginView(auth_views.LoginView):
    """Sign-in that locks out after repeated failures (see pm.lockout), with the single sign-on
    button when an identity provider is configured."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **sign_in_options(self.request)}

    def post(self, request, *args, **kwargs):
        if not sso.password_login_enabled():
            context = {"form": AuthenticationForm(request), "sso_error": PASSWORD_OFF}
            context.update({k: v for k, v in sign_in_options(request).items() if k != "sso_error"})
            return render(request, "registration/login.html", context, status=403)
        username = request.POST.get("username", "")
        if lockout.is_locked(request, username):
            return _locked_response(request, username)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        lockout.record_failure(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        lockout.record_success(self.request, self.request.POST.get("username", ""))
        user = form.get_user()
        if twofactor.has_two_factor(user):
            # Not signed in yet: the code comes first (pm.twofactor).
            twofactor.start_pending(self.request, user, user.backend, self.get_success_url())
            return HttpResponseRedirect(reverse("two_factor_verify"))
        response = super().form_valid(form)
        return twofactor.after_password(self.request, user, self.get_success_url()) or response


@never_cache
@csrf_protect
def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's own sign-in page behind the same lockout as the site's."""
    if not sso.password_login_enabled():  # staff sign in through the provider, like everyone
        return HttpResponseRedirect(f"{reverse('login')}?next={reverse('admin:index')}")
    if request.method != "POST":
        return admin.site.login(request)
    username = request.POST.get("username", "")
    if lockout.is_locked(request, username):
        return _locked_response(request, username)
    response = admin.site.login(request)
    if response.status_code == 200:  # the form came back: wrong password or not staff
        lockout.record_failure(request, username)
    elif request.user.is_authenticated:
        lockout.record_success(request, username)
        user = request.user
        if twofactor.has_two_factor(user):
            # The admin's sign-in asks for the code too: sign out again, then the code step.
            backend = request.session.get(BACKEND_SESSION_KEY, "")
            logout(request)
            twofactor.start_pending(request, user, backend, response["Location"])
            return HttpResponseRedirect(reverse("two_factor_verify"))
        return twofactor.after_password(request, user, response["Location"]) or response
    return response


# --- passwords ----------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail address. The answer is the same whether or not an account
    has that address, so the page does not tell who has an account here."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        if not sso.password_login_enabled():
            raise Http404("Password sign-in is turned off.")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        # The link in the e-mail starts with SITE_URL (as invitations and digests do), never
        # with whatever Host header the request carried.
        self.extra_email_context = {
            "site_url": settings.SITE_URL,
            "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        if self._over_limit(form.cleaned_data["email"]):
            # The same answer as always (no oracle), but no more mail to that inbox for now.
            log_security.warning("Password-reset e-mail not sent: hourly limit reached.")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)

    def _over_limit(self, email: str) -> bool:
        """At most PASSWORD_RESET_PER_HOUR e-mails per address, five times that per client
        address: nobody can flood an inbox or spray the form."""
        limit = settings.PASSWORD_RESET_PER_HOUR
        address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        by_email = lockout.count_attempt(self.request, f"pwreset:email:{address}", 3600)
        by_ip = lockout.count_attempt(self.request, f"pwreset:ip:{client_ip(self.request)}", 3600)
        return by_email > limit or by_ip > limit * 5


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"

    def dispatch(self, request, *args, **kwargs):
        if not sso.password_login_enabled():
            raise Http404("Password sign-in is turned off.")
        return super().dispatch(request, *args, **kwargs)

    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed. Other sessions were signed out.")
        return response


# --- health -------------------------------------------------------------------------------


def _check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means "unavailable", reported, never raised or named
        log.warning("Health check: the database is unavailable.", exc_info=True)
        return False


def _check_cache() -> bool:
    from django.core.cache import cache

    try:
        cache.set("healthz", "ok", timeout=30)
        return cache.get("healthz") == "ok"
    except Exception:
        log.warning("Health check: the cache is unavailable.", exc_info=True)
        return False


def _check_broker() -> bool | None:
    """None when there is no broker (tasks run in-process)."""
    url = settings.CELERY_BROKER_URL
    if not url or getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return None
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True
    except Exception:
        log.warning("Health check: the task broker is unavailable.", exc_info=True)
        return False


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """`{"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}`, 503
    with `"unavailable"` for each dependency that does not answer."""
    results = {
        "database": _check_database(),
        "cache": _check_cache(),
        "broker": _check_broker(),
    }
    checks = {name: "ok" if ok else "unavailable" for name, ok in results.items() if ok is not None}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


# --- errors -------------------------------------------------------------------------------


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the API answers in its JSON error shape, pages with the 500 template."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Server error. It was logged; nothing was partially saved."}, status=500
        )
    return default_server_error(request)
