"""Middleware: answer /healthz before host validation, so container health checks on
127.0.0.1 work whatever ALLOWED_HOSTS says — with the same security headers as every page."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.security import SecurityMiddleware


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        from pm.views_account import healthz

        # The header-setting middleware of the main stack, around the health check alone
        # (SECURE_REDIRECT_EXEMPT keeps it from redirecting, so it never reads the host).
        self.healthz = SecurityMiddleware(
            XFrameOptionsMiddleware(ContentSecurityPolicyMiddleware(healthz))
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            response = self.healthz(request)
            # The wrapped stack is synchronous (as is this middleware): never an awaitable.
            assert isinstance(response, HttpResponseBase)
            return response
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Signed-in responses (pages, fragments, JSON) are `Cache-Control: private, no-store`, so no
    shared cache or back button keeps a copy of what one user saw. A view that set its own
    Cache-Control (public share pages, never_cache, …) is left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)  # DRF puts the token's user here too
        signed_in = bool(user is not None and user.is_authenticated)
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            response["Cache-Control"] = "private, no-store"
        return response
