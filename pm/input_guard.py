"""Hostile input refused at the door, once for every page and API endpoint.

PostgreSQL cannot store a NUL character (0x00) in text or jsonb, and psycopg refuses to send one,
so a NUL anywhere that reaches a query used to be a 500. No legitimate URL, filter or form field
contains one: a NUL in the path is a 404 (no such page can exist), in the query string or a form
field a 400 naming the parameter. JSON bodies are checked by the API's parser (pm.api.parsers),
which also bounds their nesting depth."""

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

NUL = "\x00"
MAX_JSON_DEPTH = 64
NUL_MESSAGE = "Remove the NUL character (\\0): it cannot be stored."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _bad_names(pairs: Iterable[tuple[str, list[str]]]) -> list[str]:
    names = []
    for name, values in pairs:
        if NUL in name or any(NUL in value for value in values):
            names.append(name.replace(NUL, "\\0")[:60] or "(unnamed)")
    return names


def _refuse(request: HttpRequest, status: int, message: str, names: list[str]) -> HttpResponse:
    if _is_api(request):
        if status == 404:
            return JsonResponse({"detail": message}, status=404)
        return JsonResponse({name: [NUL_MESSAGE] for name in names}, status=status)
    html = render_to_string(
        "404.html" if status == 404 else "400.html",
        {"message": message, "names": names},
        request=request,
    )
    return HttpResponse(html, status=status)


class RejectNulMiddleware:
    """404 for a NUL in the path, 400 for a NUL in a query parameter or a form field."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path or NUL in request.path_info:
            return _refuse(request, 404, "No such page.", [])
        names = _bad_names(request.GET.lists())
        if not names and request.method == "POST" and request.content_type in FORM_TYPES:
            names = _bad_names(request.POST.lists())
        if names:
            message = f"{', '.join(names)}: {NUL_MESSAGE}"
            return _refuse(request, 400, message, names)
        return self.get_response(request)


def json_problem(data: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON document cannot be accepted (nested too deeply, or a NUL in a string
    or a key), or None. Iterative, so a deep document cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return f"A string contains a NUL character (\\0): {NUL_MESSAGE}"
        elif isinstance(value, dict | list):
            if depth > max_depth:
                return f"The JSON is nested more than {max_depth} levels deep."
            if isinstance(value, dict):
                for key, item in value.items():
                    if NUL in key:
                        return f"A key contains a NUL character (\\0): {NUL_MESSAGE}"
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
    return None
