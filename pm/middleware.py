"""Middleware: answer /healthz before host validation, so container health checks on
127.0.0.1 work whatever ALLOWED_HOSTS says."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            from pm.views import healthz

            return healthz(request)
        return self.get_response(request)
