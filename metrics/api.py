"""The metrics API: bulk ingestion of data points.

`POST /api/v1/kpis/{id}/datapoints/` takes a JSON list of up to 10,000 `{timestamp, value,
dimensions?}` points (or `{"points": [...]}`), validates all of them (a bad point rejects the
batch: 400 with its index and reason), stores them with one bulk insert and queues the
recalculation of the buckets they touch. PM or admin role."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import services
from metrics.models import KPI
from metrics.points import MAX_POINTS, PointsError, parse_points
from metrics.rollups import kpi_time_zone
from pm.choices import Role
from pm.permissions import get_product_for_user


def kpi_for_user(user, pk: int, need: str = Role.STAKEHOLDER) -> KPI:
    """The KPI by id if the caller's role in its workspace meets `need` (404 for outsiders)."""
    kpi = KPI.objects.select_related("product__workspace").filter(pk=pk).first()
    if kpi is None:
        raise Http404("No such KPI.")
    kpi.product = get_product_for_user(user, kpi.product.key, need=need)
    return kpi


class _PointIn(serializers.Serializer):
    # Documents the shape for the OpenAPI schema; validation itself is metrics.points (fast).
    timestamp = serializers.DateTimeField(
        help_text="ISO 8601. Without an offset (or a bare date) it is read in the workspace's "
        "time zone."
    )
    value = serializers.DecimalField(max_digits=20, decimal_places=6)
    dimensions = serializers.DictField(required=False, help_text='Optional, e.g. {"plan": "pro"}')


class DataPointIngest(APIView):
    @extend_schema(
        operation_id="kpi_datapoints_create",
        summary="Ingest data points for a KPI",
        description=(
            f"Up to {MAX_POINTS:,} points per call, stored together or not at all. The rollups "
            "are recalculated in the background (only the days, weeks and months the points "
            "fall in)."
        ),
        request=_PointIn(many=True),
        responses={
            201: inline_serializer(
                "DataPointIngestResult",
                {
                    "kpi": serializers.IntegerField(),
                    "received": serializers.IntegerField(),
                    "stored": serializers.IntegerField(),
                    "first": serializers.DateTimeField(),
                    "last": serializers.DateTimeField(),
                    "recalculation": serializers.CharField(),
                },
            )
        },
        examples=[
            OpenApiExample(
                "Two points",
                value=[
                    {"timestamp": "2027-01-31T09:30:00Z", "value": 42},
                    {
                        "timestamp": "2027-01-31T10:30:00Z",
                        "value": 17.5,
                        "dimensions": {"plan": "pro"},
                    },
                ],
                request_only=True,
            )
        ],
        tags=["kpis"],
    )
    def post(self, request: Request, pk: int) -> Response:
        kpi = kpi_for_user(request.user, pk, need=Role.PM)
        try:
            points = parse_points(request.data, kpi_time_zone(kpi))
        except PointsError as exc:
            raise ValidationError(exc.as_api()) from exc
        result = services.datapoints_ingest(
            kpi=kpi, points=points, actor=request.user, source="the API"
        )
        return Response(
            {
                "kpi": kpi.pk,
                "received": result.received,
                "stored": result.stored,
                "first": result.first.isoformat(),
                "last": result.last.isoformat(),
                "recalculation": "queued",
            },
            status=status.HTTP_201_CREATED,
        )


datapoints_create = DataPointIngest.as_view()
