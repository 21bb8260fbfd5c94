"""`GET /api/v1/<resource>/export/?format=csv|json|xlsx`: a whole list as a download.

One mixin for every list resource: the export holds the rows the list would page through — the
same filters (`?product=LOD&status=planned`), scope and visibility (the viewset's own
`get_queryset()` as its list action runs it) — rendered by the list's output serializer, not
paginated, streamed by pm.exports (CSV and JSON; XLSX row by row to a temporary file), with the
same formula-injection guard as the pages' exports. The format also follows the `Accept`
header (`text/csv`, the XLSX media type); JSON by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from pm import exports, visibility
from pm.api.permissions import member_viewers
from pm.http import signed_in

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase
    from rest_framework.viewsets import GenericViewSet

    _Base = GenericViewSet
else:
    _Base = object


class _DownloadRenderer(BaseRenderer):
    """Lets `?format=csv`/`xlsx` through DRF's content negotiation; the export action answers
    with its own streamed response, and errors are rendered as JSON (see ExportMixin)."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return JSONRenderer().render(data)


class CSVRenderer(_DownloadRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(_DownloadRenderer):
    media_type = exports.CONTENT_TYPES["xlsx"]
    format = "xlsx"
    charset = None


EXPORT_RENDERERS = [JSONRenderer, CSVRenderer, XLSXRenderer]


class ExportMixin(_Base):
    """Adds `GET …/export/` to a list resource (its `get_queryset()` for the list action)."""

    @extend_schema(
        summary="The whole list as a CSV, JSON or XLSX download (the list's filters apply)",
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(exports.FORMATS),
                description="csv, json (the default) or xlsx; or ask with the Accept header.",
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY, description="JSON"),
            (200, exports.CONTENT_TYPES["xlsx"]): OpenApiResponse(
                OpenApiTypes.BINARY, description="XLSX"
            ),
        },
        filters=True,
    )
    @action(detail=False, methods=["get"], url_path="export", renderer_classes=EXPORT_RENDERERS)
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        asked = request.query_params.get("format")
        if asked is not None and asked not in exports.FORMATS:
            # `?format=` (empty) or an unknown one: say so, rather than answer in JSON.
            raise ValidationError({"format": [f"Choose one of: {', '.join(exports.FORMATS)}."]})
        fmt = request.accepted_renderer.format
        # Errors (a bad filter: 400) are JSON whatever was asked for.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
        # The list's rows: its filters, its scope, its visibility.
        self.action = "list"
        queryset = self.get_queryset()
        serializer_class = self.get_serializer_class()
        viewers = member_viewers(signed_in(request))
        # A column is left out when no workspace of the caller's may read it.
        hidden = (
            set.intersection(
                *(set(visibility.hidden_fields(queryset.model, v)) for v in viewers.values())
            )
            if viewers
            else set()
        )
        return exports.export_response(
            fmt,
            rows=exports.serialized(
                queryset, serializer_class, dict(self.get_serializer_context())
            ),
            columns=exports.columns_of(serializer_class, hidden),
            name=exports.filename((self.basename or "export").removeprefix("api-"), fmt=fmt),
            title=(self.basename or "export").removeprefix("api-"),
        )
