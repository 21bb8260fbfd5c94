"""Pagination: page numbers for most lists, cursors for stories (stable while a script walks
a list that others are re-ranking). Both take `page_size` (at most 100) and answer with
`next` and `results`."""

import re
from base64 import b64decode
from urllib import parse

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
_POSITION = re.compile(r"^[0-9A-Za-z~]{1,64}$")


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class RankCursorPagination(pagination.CursorPagination):
    """Cursor pagination in rank order. An unreadable cursor is a 400, not a 404."""

    ordering = ("rank", "id")
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = "cursor"

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
        return pagination.Cursor(offset=offset, reverse=reverse, position=position)
