"""One error shape for the whole API.

- 400: ``{field: [messages]}`` — errors that belong to no field are under ``non_field_errors``;
  nested fields are flattened to dotted names (``acceptance_criteria.1.done``).
- everything else: ``{"detail": message}`` (401, 403, 404, 405, 406, 415, 429 with
  ``Retry-After``); 409 adds the row's current ``version``, 412 its current ``etag``.

Services raise Django's ValidationError and PermissionDenied and pm.services.EditConflict;
they are translated here, so views need no try/except for them.

A 404 reads the same whatever raised it, so it never tells an object that exists in another
workspace from one that does not exist: on a route naming one object (a detail route, or a
view with `not_found_detail`), every 404 says "No such <resource>." — also when the object's
product check said no.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from pm.services import EditConflict

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


class Conflict(exceptions.APIException):
    """The row changed since the version the client sent (body ``version``); nothing written."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This was changed by someone else since you loaded it; nothing was saved."
    default_code = "conflict"

    def __init__(self, detail: str | None = None, *, version: int | None = None):
        super().__init__(detail)
        self.version = version


class PreconditionFailed(exceptions.APIException):
    """The `If-Match` ETag no longer matches; nothing written."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The ETag in If-Match is stale: this was changed since; nothing was saved."
    default_code = "precondition_failed"

    def __init__(self, detail: str | None = None, *, etag: str | None = None):
        super().__init__(detail)
        self.etag = etag


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Serializer errors (nested dicts and lists) as {dotted.field: [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for name, value in errors.items():
            key = NON_FIELD if name in (NON_FIELD, "__all__", "detail") and not prefix else name
            for k, v in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(errors, list | tuple):
        if all(not isinstance(e, dict | list | tuple) for e in errors):
            flat[prefix or NON_FIELD] = [str(e) for e in errors]
        else:
            for index, value in enumerate(errors):
                if value:
                    for k, v in _flatten(
                        value, f"{prefix}.{index}" if prefix else NON_FIELD
                    ).items():
                        flat.setdefault(k, []).extend(v)
    else:
        flat[prefix or NON_FIELD] = [str(errors)]
    return flat


def not_found_detail(view: Any) -> str | None:
    """The one 404 message of `view`'s route, if the route names one object: the view's
    `not_found_detail`, or on a router's detail route "No such <resource>." (the view's
    `resource_name`, else the router's basename: `api-share-link` → "share link")."""
    explicit = getattr(view, "not_found_detail", None)
    if explicit:
        return explicit
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    basename = getattr(view, "basename", None)
    if lookup and basename and lookup in (getattr(view, "kwargs", None) or {}):
        name = getattr(view, "resource_name", None)
        return f"No such {name or basename.removeprefix('api-').replace('-', ' ')}."
    return None


def exception_handler(exc: Exception, context: dict) -> Any:
    if isinstance(exc, EditConflict):
        exc = Conflict(version=exc.current.version)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging
    if response.status_code == status.HTTP_404_NOT_FOUND:
        detail = not_found_detail(context.get("view"))
        if detail:
            response.data = {"detail": detail}
    if response.status_code == status.HTTP_400_BAD_REQUEST:
        response.data = _flatten(response.data)
    elif not isinstance(response.data, dict) or set(response.data) != {"detail"}:
        response.data = {"detail": " ".join(_flatten(response.data).get(NON_FIELD, []))}
    if isinstance(exc, Conflict) and exc.version is not None:
        response.data["version"] = exc.version
    if isinstance(exc, PreconditionFailed) and exc.etag:
        response.data["etag"] = exc.etag
        response["ETag"] = exc.etag
    return response
