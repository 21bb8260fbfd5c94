"""Read endpoints for planning (`/api/v1/…`): initiative status updates, and the product's
delivery and revenue forecast (roadmap.delivery) as data.

Status updates follow their initiative's visibility (stakeholders read those on public
initiatives); the forecast is the team's, like its page: engineers and up.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pm.api.permissions import MAX_ID, product_for_user
from pm.api.serializers import ProductRefField
from pm.api.viewsets import reject_unknown_parameters
from pm.choices import Role
from pm.http import signed_in
from pm.visibility import Section
from roadmap.api import _ProductKey
from roadmap.api_read import ProductReadViewSet
from roadmap.choices import Health
from roadmap.delivery import Assumptions, WorkOutlook, delivery_forecast, revenue_forecast
from roadmap.models import InitiativeUpdate

# --- status updates -------------------------------------------------------------------------


class InitiativeUpdateSerializer(_ProductKey, serializers.ModelSerializer):
    initiative = serializers.IntegerField(source="initiative_id", help_text="Initiative id.")
    author = serializers.IntegerField(source="author_id", allow_null=True, help_text="User id.")

    class Meta:
        model = InitiativeUpdate
        fields = ["id", "product", "initiative", "status", "note", "author", "created_at"]
        read_only_fields = fields


class InitiativeUpdateFilter(serializers.Serializer):
    product = ProductRefField(required=False)
    initiative = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=Health.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="Posted at or after (ISO 8601).")


class InitiativeUpdateViewSet(ProductReadViewSet):
    """Initiative status updates, newest first; the latest is the initiative's health."""

    output_serializer_class = InitiativeUpdateSerializer
    filter_serializer_class = InitiativeUpdateFilter
    search_fields = ("note",)
    ordering_fields = ("created_at",)
    read_section = Section.ROADMAP
    schema_summaries = {
        "list": "Initiative status updates, newest first",
        "retrieve": "One status update",
    }
    noun = "status update"
    filter_lookups = {
        "initiative": "initiative_id",
        "status": "status",
        "since": "created_at__gte",
    }
    ordering = ("-created_at", "-id")

    def base_queryset(self) -> QuerySet[InitiativeUpdate]:
        return InitiativeUpdate.objects.select_related("product")


# --- forecast -------------------------------------------------------------------------------


class ForecastQuery(serializers.Serializer):
    product = ProductRefField(help_text="The product (id or key).")
    percentile = serializers.ChoiceField(choices=[50, 85, 95], required=False, default=50)
    months = serializers.IntegerField(required=False, min_value=3, max_value=36, default=12)
    ramp_months = serializers.IntegerField(required=False, min_value=0, max_value=12, default=0)
    cost_spread_months = serializers.IntegerField(
        required=False, min_value=0, max_value=12, default=0
    )


class OutlookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due = serializers.DateField(allow_null=True)
    done = serializers.BooleanField(help_text="Every feature shipped.")
    points_ahead = serializers.FloatField(
        allow_null=True, help_text="Open points before its last open story is done."
    )
    p50 = serializers.DateField(allow_null=True)
    p85 = serializers.DateField(allow_null=True)
    p95 = serializers.DateField(allow_null=True)
    chance_by_due = serializers.FloatField(
        allow_null=True, help_text="Probability (0–1) of being done by the due date."
    )
    unestimated_features = serializers.IntegerField(
        help_text="Open features without stories, not counted."
    )


class MonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost = serializers.DecimalField(max_digits=16, decimal_places=2)
    net = serializers.DecimalField(max_digits=16, decimal_places=2)
    cumulative = serializers.DecimalField(max_digits=16, decimal_places=2)


class ForecastSerializer(serializers.Serializer):
    product = serializers.CharField()
    available = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    runs = serializers.IntegerField()
    velocity_samples = serializers.ListField(child=serializers.IntegerField())
    sprint_days = serializers.IntegerField()
    initiatives = OutlookSerializer(many=True)
    releases = OutlookSerializer(many=True)
    assumptions = serializers.DictField(child=serializers.IntegerField())
    months = MonthSerializer(many=True)


def _outlook(work: WorkOutlook) -> dict[str, Any]:
    outlook = work.outlook
    return {
        "id": work.pk,
        "title": work.title,
        "due": work.target,
        "done": work.done,
        "points_ahead": outlook.remaining_points if outlook else None,
        "p50": outlook.p50 if outlook else None,
        "p85": outlook.p85 if outlook else None,
        "p95": outlook.p95 if outlook else None,
        "chance_by_due": outlook.probability_by_target if outlook else None,
        "unestimated_features": work.unestimated_features,
    }


class ForecastView(APIView):
    """`GET /api/v1/forecast/?product=LOD`: the Forecast page as data (engineers and up)."""

    @extend_schema(
        summary="Delivery and revenue forecast of a product",
        parameters=[ForecastQuery],
        responses={200: ForecastSerializer},
    )
    def get(self, request: Request) -> Response:
        reject_unknown_parameters(request.query_params, ForecastQuery().fields)
        query = ForecastQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        product = product_for_user(signed_in(request), params.pop("product"), need=Role.ENGINEER)
        delivery = delivery_forecast(product)
        revenue = revenue_forecast(product, delivery, Assumptions(**params))
        data = {
            "product": product.key,
            "available": delivery.available,
            "reason": delivery.reason,
            "runs": delivery.runs,
            "velocity_samples": delivery.samples,
            "sprint_days": delivery.sprint_days,
            "initiatives": [_outlook(w) for w in delivery.initiatives],
            "releases": [_outlook(w) for w in delivery.releases],
            "assumptions": params,
            "months": [vars(line) for line in revenue.lines],
        }
        return Response(ForecastSerializer(data).data)
