"""`POST /api/v1/events/`: bulk ingestion of product-analytics events (metrics.events).

The body is `{"product": "LOD", "events": [...]}` (or a bare list with `?product=LOD`): up to
10,000 events `{id, event, user_id | anonymous_id, timestamp, properties?}`, validated together
(a bad event rejects the batch: 400 with its index and reason) and stored with one bulk insert
that skips events already stored (same id and timestamp). PM or admin role, as for data
points."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import services
from metrics.events import MAX_EVENTS, parse_events
from metrics.points import PointsError
from metrics.rollups import product_time_zone
from pm.api.permissions import product_for_user
from pm.api.serializers import ProductRefField
from pm.choices import Role
from pm.http import signed_in


class _EventIn(serializers.Serializer):
    # Documents the shape for the OpenAPI schema; validation itself is metrics.events (fast).
    id = serializers.CharField(
        max_length=100, help_text="Your id for the event (a UUID): sent again, it is stored once."
    )
    event = serializers.CharField(max_length=120, help_text="What happened, e.g. signed_up.")
    user_id = serializers.CharField(
        max_length=200, required=False, help_text="Who did it, when known."
    )
    anonymous_id = serializers.CharField(
        max_length=200, required=False, help_text="A device or cookie id, when there is no user id."
    )
    timestamp = serializers.DateTimeField(
        help_text="ISO 8601; without an offset it is read in the workspace's time zone."
    )
    properties = serializers.DictField(
        required=False, help_text='Flat: strings, numbers, booleans, null. {"plan": "pro"}'
    )


class _BatchIn(serializers.Serializer):
    product = ProductRefField()
    events = serializers.ListField(child=_EventIn(), min_length=1, max_length=MAX_EVENTS)


class EventIngest(APIView):
    not_found_detail = "No such product."

    @extend_schema(
        operation_id="events_create",
        summary="Send product-analytics events",
        description=(
            f"Up to {MAX_EVENTS:,} events per call, validated together and stored together or "
            "not at all. An event already stored (same id and timestamp) is skipped and counted "
            "as a duplicate. PM or admin role."
        ),
        parameters=[
            OpenApiParameter(
                "product", str, OpenApiParameter.QUERY, description="Instead of the body's."
            )
        ],
        request=_BatchIn,
        responses={
            201: inline_serializer(
                "EventIngestResult",
                {
                    "product": serializers.CharField(),
                    "received": serializers.IntegerField(),
                    "stored": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(
                        help_text="Events already stored: a retried batch stores nothing twice."
                    ),
                    "first": serializers.DateTimeField(),
                    "last": serializers.DateTimeField(),
                },
            )
        },
        examples=[
            OpenApiExample(
                "Two events",
                value={
                    "product": "LOD",
                    "events": [
                        {
                            "id": "5f0c6a1e-2b1e-4d7f-9a43-0d1c2b3a4e5f",
                            "event": "signed_up",
                            "user_id": "u_123",
                            "timestamp": "2027-01-31T09:30:00Z",
                            "properties": {"plan": "pro", "platform": "web"},
                        },
                        {
                            "id": "8a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
                            "event": "page_viewed",
                            "anonymous_id": "d41d8cd9",
                            "timestamp": "2027-01-31T09:29:12Z",
                        },
                    ],
                },
                request_only=True,
            )
        ],
        tags=["events"],
    )
    def post(self, request: Request) -> Response:
        user = signed_in(request)
        body = request.data
        ref = body.get("product") if isinstance(body, dict) else None
        if ref in (None, ""):
            ref = request.query_params.get("product")
        if ref in (None, ""):
            raise ValidationError({"product": ["This field is required (id or key, e.g. LOD)."]})
        try:
            ref = ProductRefField().run_validation(ref)
        except serializers.ValidationError as exc:
            raise ValidationError({"product": exc.detail}) from exc
        product = product_for_user(user, ref, need=Role.PM)
        try:
            events = parse_events(body, product_time_zone(product))
        except PointsError as exc:
            raise ValidationError(_as_api(exc)) from exc
        result = services.events_ingest(product=product, events=events, actor=user)
        return Response(
            {
                "product": product.key,
                "received": result.received,
                "stored": result.stored,
                "duplicates": result.duplicates,
                "first": result.first.isoformat(),
                "last": result.last.isoformat(),
            },
            status=status.HTTP_201_CREATED,
        )


def _as_api(error: PointsError) -> dict[str, list[str]]:
    body = error.as_api()
    # The house shape names the batch's field: `events`, `events.3.timestamp`.
    return {
        (key.replace("points", "events", 1) if key.startswith("points") else key): value
        for key, value in body.items()
    }


events_create = EventIngest.as_view()
