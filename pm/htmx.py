"""htmx helpers: partial rendering of one template, toasts through HX-Trigger."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.http import reswap, retarget, trigger_client_event


def is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)  # django_htmx's middleware sets it on every request
    return htmx is not None and bool(htmx) and not htmx.boosted


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only `template#partial` for an htmx request."""
    name = f"{template}#{partial}" if partial and is_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    """Ask the page to show a toast (static/js/app.js listens for the event) once htmx has
    received the response."""
    return trigger_client_event(response, "toast", {"message": message, "level": level})


def replace(response: HttpResponse, target: str) -> HttpResponse:
    """Swap the response in for the element `target` (a CSS selector), whatever the request's
    own hx-target and hx-swap said: a form's answer is the region the form changed."""
    return reswap(retarget(response, target), "outerHTML")


def render_fragment(
    request: HttpRequest, template: str, partial: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """Render only `template#partial`, whatever kind of request asked for it."""
    response = render(request, f"{template}#{partial}", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
