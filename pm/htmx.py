"""htmx helpers: partial rendering of one template, toasts through HX-Trigger."""

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)  # django_htmx's middleware sets it on every request
    return bool(htmx) and not htmx.boosted


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
    """Ask the page to show a toast once htmx has swapped the response in."""
    triggers = json.loads(response.headers.get("HX-Trigger", "{}"))
    triggers["toast"] = {"message": message, "level": level}
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response


def retarget(response: HttpResponse, target: str, swap: str = "outerHTML") -> HttpResponse:
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response


def render_fragment(
    request: HttpRequest, template: str, partial: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """Render only `template#partial`, whatever kind of request asked for it."""
    response = render(request, f"{template}#{partial}", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
