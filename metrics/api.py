"""The metrics API: KPIs (`/api/v1/kpis/`: list, detail with the latest value, create) and bulk
ingestion of data points.

`POST /api/v1/kpis/{id}/datapoints/` takes a JSON list of up to 10,000 `{timestamp, value,
dimensions?}` points (or `{"points": [...]}`), validates all of them (a bad point rejects the
batch: 400 with its index and reason; points more than a day ahead are refused), stores them with
one bulk upsert (a point is identified by its timestamp and dimensions: sent again, it replaces
the stored value) and queues the recalculation of the buckets they touch. PM or admin role."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import services
from metrics.models import KPI
from metrics.points import LATEST, MAX_POINTS, PointsError, parse_points, parse_timestamp
from metrics.rollups import kpi_time_zone
from metrics.selectors import with_latest
from pm.api.exports import ExportMixin
from pm.api.permissions import parse_id
from pm.api.serializers import ProductRefField, UpdatedSinceField
from pm.api.viewsets import (
    DestroyMixin,
    ListMixin,
    ProductScopedViewSet,
    RetrieveMixin,
    UpdateMixin,
    reject_unknown_parameters,
)
from pm.choices import Role
from pm.http import signed_in
from pm.permissions import get_product_for_user


def kpi_for_user(user, pk: int, need: str = Role.STAKEHOLDER) -> KPI:
    """The KPI by id if the caller's role in its workspace meets `need` (404 for outsiders)."""
    kpi = KPI.objects.select_related("product__workspace").filter(pk=pk).first()
    if kpi is None:
        raise Http404("No such KPI.")
    kpi.product = get_product_for_user(user, kpi.product, need=need)
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
    not_found_detail = "No such KPI."  # every 404 here (pm.api.exceptions)

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
                    "stored": serializers.IntegerField(help_text="New points."),
                    "replaced": serializers.IntegerField(
                        help_text="Points already stored (same timestamp and dimensions) whose "
                        "value was replaced: a retried batch stores nothing twice."
                    ),
                    "first": serializers.DateTimeField(),
                    "last": serializers.DateTimeField(),
                    "recalculation": serializers.CharField(),
                },
            )
        },
        examples=[
            # drf-spectacular wraps the example of a list body in the list itself: one point
            # here is the body `[{...}]` ("Try it out" sends it as is).
            OpenApiExample(
                "One point",
                value={
                    "timestamp": "2027-01-31T10:30:00Z",
                    "value": 17.5,
                    "dimensions": {"plan": "pro"},
                },
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
            kpi=kpi, points=points, actor=signed_in(request), source="the API"
        )
        return Response(
            {
                "kpi": kpi.pk,
                "received": result.received,
                "stored": result.stored,
                "replaced": result.replaced,
                "first": result.first.isoformat(),
                "last": result.last.isoformat(),
                "recalculation": "queued",
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="kpi_datapoints_destroy",
        summary="Delete a KPI's data points in a time range",
        description=(
            "Deletes the points from `start` to `end` (both included; a bare date as `end` "
            "includes that whole day; times without an offset are in the workspace's time "
            "zone). The deletion is recorded in the KPI's history and the periods it touched "
            "are recalculated in the background. PM or admin role."
        ),
        parameters=[
            OpenApiParameter("start", str, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("end", str, OpenApiParameter.QUERY, required=True),
        ],
        request=None,
        responses={
            200: inline_serializer(
                "DataPointDeleteResult",
                {
                    "kpi": serializers.IntegerField(),
                    "deleted": serializers.IntegerField(),
                    "recalculation": serializers.CharField(),
                },
            )
        },
        tags=["kpis"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        kpi = kpi_for_user(request.user, pk, need=Role.PM)
        reject_unknown_parameters(request.query_params, ("start", "end"))
        tz = kpi_time_zone(kpi)
        bounds, errors = {}, {}
        for name in ("start", "end"):
            raw = request.query_params.get(name)
            try:
                # Deleting is how points dated in the future by mistake are removed.
                bounds[name] = parse_timestamp(raw, tz, now=LATEST)
            except ValueError as exc:
                errors[name] = ["This parameter is required." if raw is None else str(exc)]
        if errors:
            raise ValidationError(errors)
        whole_day = len(request.query_params["end"].strip()) == 10
        end = bounds["end"] + (timedelta(days=1) if whole_day else timedelta(microseconds=1))
        if end <= bounds["start"]:
            raise ValidationError({"end": ["Choose an end on or after the start."]})
        deleted = services.datapoints_delete(
            kpi=kpi, start=bounds["start"], end=end, actor=signed_in(request), source="the API"
        )
        return Response(
            {"kpi": kpi.pk, "deleted": deleted, "recalculation": "queued" if deleted else "none"}
        )


datapoints_create = DataPointIngest.as_view()


# --- KPIs -----------------------------------------------------------------------------------


class KPISerializer(serializers.ModelSerializer):
    """A KPI's definition and its latest value (the latest period at its granularity; for sums
    and counts the latest complete one)."""

    product = serializers.SerializerMethodField(help_text="The product's key.")
    numerator = serializers.IntegerField(
        source="numerator_id", allow_null=True, help_text="Ratio KPIs: the numerator KPI's id."
    )
    denominator = serializers.IntegerField(
        source="denominator_id",
        allow_null=True,
        help_text="Ratio KPIs: the denominator KPI's id.",
    )
    owner = serializers.IntegerField(source="owner_id", allow_null=True, help_text="User id.")
    latest_value = serializers.DecimalField(
        max_digits=38, decimal_places=10, allow_null=True, read_only=True
    )
    latest_period = serializers.DateField(
        allow_null=True,
        read_only=True,
        help_text="Start of the period the latest value is for (workspace time zone).",
    )

    class Meta:
        model = KPI
        fields = [
            "id",
            "product",
            "name",
            "description",
            "unit",
            "direction",
            "aggregation",
            "granularity",
            "numerator",
            "denominator",
            "ratio_multiplier",
            "target_value",
            "target_date",
            "owner",
            "latest_value",
            "latest_period",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_product(self, obj) -> str:
        return obj.product.key


class KPIFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    updated_since = UpdatedSinceField()


class KPICreateSerializer(serializers.ModelSerializer):
    """A new KPI. A ratio KPI names its numerator and denominator (KPIs of the same product)."""

    product = ProductRefField()
    numerator = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    denominator = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    owner = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    class Meta:
        model = KPI
        fields = [
            "product",
            "name",
            "description",
            "unit",
            "direction",
            "aggregation",
            "granularity",
            "numerator",
            "denominator",
            "ratio_multiplier",
            "target_value",
            "target_date",
            "owner",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Ids become rows: the numerator and denominator KPIs of the same product, the owner
        a member of its workspace (400 naming the field otherwise)."""
        product = self.context["product"]
        errors = {}
        for name in ("numerator", "denominator"):
            if attrs.get(name) is not None:
                attrs[name] = KPI.objects.filter(product=product, pk=attrs[name]).first()
                if attrs[name] is None:
                    errors[name] = ["No such KPI in this product."]
        if attrs.get("owner") is not None:
            attrs["owner"] = User.objects.filter(
                pk=attrs["owner"], memberships__workspace_id=product.workspace_id
            ).first()
            if attrs["owner"] is None:
                errors["owner"] = ["No such member of this workspace."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class KPIUpdateSerializer(KPICreateSerializer):
    """What a PATCH may change (pm, admin): the fields of a new KPI but its product. A change
    to how it is computed recalculates its history."""

    product = None  # type: ignore[assignment]  # DRF: a declared field set to None is removed
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version the change is based on: 409 when stale, and nothing changes.",
    )

    class Meta(KPICreateSerializer.Meta):
        fields = [f for f in KPICreateSerializer.Meta.fields if f != "product"] + ["version"]
        extra_kwargs = {f: {"required": False} for f in fields}


class KPIViewSet(
    ExportMixin, ListMixin, RetrieveMixin, UpdateMixin, DestroyMixin, ProductScopedViewSet
):
    """KPIs of the caller's products, by name; pm and admin define, change and delete them."""

    resource_name = "KPI"  # "No such KPI." (pm.api.exceptions)
    output_serializer_class = KPISerializer
    input_serializer_class = KPICreateSerializer
    update_serializer_class = KPIUpdateSerializer
    filter_serializer_class = KPIFilterSerializer
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at", "updated_at")
    schema_summaries = {
        "list": "KPIs with their latest value",
        "retrieve": "One KPI with its latest value",
        "create": "Define a KPI (pm, admin)",
        "partial_update": "Change a KPI (pm, admin)",
        "destroy": "Delete a KPI and its data (pm, admin)",
    }

    def get_queryset(self) -> QuerySet[KPI]:
        queryset = KPI.objects.select_related("product__workspace")
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.scope(queryset, filters)
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset.order_by("name", "id")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else with_latest(list(page))

    def get_object(self) -> KPI:
        pk = parse_id(self.kwargs["pk"])
        kpi = self.get_queryset().filter(pk=pk).first() if pk else None
        if kpi is None:
            raise Http404("No such KPI.")
        try:
            get_product_for_user(self.request.user, kpi.product, need=self.need)
        except Http404:
            raise Http404("No such KPI.") from None
        return with_latest([kpi])[0]

    def create(self, request: Request) -> Response:
        self.check_write_role()
        product = self.product_from_body()
        data = self.validated_input(self.input_serializer_class, product=product)
        data.pop("product")
        kpi = services.kpi_create(product=product, data=data, actor=signed_in(request))
        return self.detail_response(self.get_object_for(kpi), status.HTTP_201_CREATED)

    def update_item(
        self, instance: KPI, data: dict[str, Any], *, expected_version: int, actor: User
    ) -> KPI:
        return services.kpi_update(
            kpi=instance, data=data, expected_version=expected_version, actor=actor
        )

    def delete_item(self, instance: KPI, *, actor: User) -> None:
        services.kpi_delete(kpi=instance, actor=actor)

    def get_object_for(self, kpi: KPI) -> KPI:
        return with_latest([self.get_queryset().get(pk=kpi.pk)])[0]
