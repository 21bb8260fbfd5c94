"""Pagination: page numbers for most lists, cursors for stories (stable while a script walks
a list that others are re-ranking). Both take `page_size` (1–100) and answer in one shape:
`next`, `previous` and `results` in the body (page-numbered lists add `count`), and the same
links in a `Link` header (RFC 8288, `rel="next"`/`rel="prev"`). Bad values are a 400 in the
API's error shape, never silently replaced."""

import re
from base64 import b64decode
from urllib import parse

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
PAGE_SIZE_PARAM = "page_size"
# A rank key, or a date-time when the list is ordered by one (`?ordering=-updated_at`).
_POSITION = re.compile(r"^[0-9A-Za-z~:+. -]{1,64}$")


def _strict_int(value: str, name: str, minimum: int, maximum: int) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdecimal()) or not minimum <= int(text) <= maximum:
        raise ValidationError({name: [f"Use a whole number from {minimum} to {maximum}."]})
    return int(text)


def _with_links(response, next_url: str | None, previous_url: str | None):
    links = [f'<{url}>; rel="{rel}"' for url, rel in ((next_url, "next"), (previous_url, "prev"))]
    present = [link for link, url in zip(links, (next_url, previous_url), strict=True) if url]
    if present:
        response["Link"] = ", ".join(present)
    return response


class _PageSize:
    # Typed as DRF's paginators type them; the methods read the constants.
    page_size: int | None = DEFAULT_PAGE_SIZE
    page_size_query_param: str | None = PAGE_SIZE_PARAM
    max_page_size: int | None = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        value = request.query_params.get(PAGE_SIZE_PARAM)
        if value is None:
            return DEFAULT_PAGE_SIZE
        return _strict_int(value, PAGE_SIZE_PARAM, 1, MAX_PAGE_SIZE)

    def _bounded(self, parameters: list[dict]) -> list[dict]:
        for parameter in parameters:
            if parameter["name"] == PAGE_SIZE_PARAM:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                }
            elif parameter["name"] == "page":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
        return parameters


class PageNumberPagination(_PageSize, pagination.PageNumberPagination):
    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        return _with_links(response, self.get_next_link(), self.get_previous_link())

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param)
        if page is not None:
            _strict_int(page, self.page_query_param, 1, 2**31 - 1)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return self._bounded(super().get_schema_operation_parameters(view))


class RankCursorPagination(_PageSize, pagination.CursorPagination):
    """Cursor pagination in rank order. An unreadable cursor is a 400, not a 404."""

    ordering = ("rank", "id")
    cursor_query_param = "cursor"

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        return _with_links(response, self.get_next_link(), self.get_previous_link())

    def get_schema_operation_parameters(self, view):
        return self._bounded(super().get_schema_operation_parameters(view))

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True)
            offset = pagination._positive_int(tokens.get("o", ["0"])[0], cutoff=self.offset_cutoff)
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
        except (TypeError, ValueError, UnicodeError):
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
        if position is not None and not _POSITION.match(position):
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]})
        # DRF keeps positions as strings; its stubs say int.
        return pagination.Cursor(offset=offset, reverse=reverse, position=position)  # type: ignore[arg-type]
