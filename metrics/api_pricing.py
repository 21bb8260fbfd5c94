"""Read endpoints for pricing (`/api/v1/…`): plans with their features, and price surveys with
their Van Westendorp analysis. The team's own: stakeholders get empty lists (the models' rules)
and 403 for one item."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers

from backlog.models import Feature
from metrics.models import PricePlan, PriceSurvey
from metrics.pricing import Answer, analyse
from pm.api.serializers import ProductRefField
from pm.choices import Role
from roadmap.api import _ProductKey
from roadmap.api_read import ProductReadViewSet


class _ProductFilter(serializers.Serializer):
    product = ProductRefField(required=False)


class PricePlanSerializer(_ProductKey, serializers.ModelSerializer):
    features = serializers.SerializerMethodField(help_text="Ids of the features it includes.")

    class Meta:
        model = PricePlan
        fields = [
            "id",
            "product",
            "name",
            "description",
            "currency",
            "monthly_price",
            "annual_price",
            "features",
            "version",
            "created_at",
        ]
        read_only_fields = fields

    def get_features(self, plan: PricePlan) -> list[int]:
        return sorted(f.pk for f in plan.features.all())


class PricePlanViewSet(ProductReadViewSet):
    """The product's plans, cheapest first (the team only)."""

    output_serializer_class = PricePlanSerializer
    filter_serializer_class = _ProductFilter
    read_need = Role.ENGINEER
    schema_summaries = {"list": "Price plans, cheapest first", "retrieve": "One price plan"}
    search_fields = ("name", "description")
    ordering_fields = ("name", "monthly_price")
    noun = "price plan"
    ordering = ("monthly_price", "id")

    def base_queryset(self) -> QuerySet[PricePlan]:
        return PricePlan.objects.select_related("product").prefetch_related(
            Prefetch("features", queryset=Feature.objects.only("id"))
        )


class PriceSurveySerializer(_ProductKey, serializers.ModelSerializer):
    respondents = serializers.SerializerMethodField()
    analysis = serializers.SerializerMethodField(
        help_text="acceptable_range [low, high], optimal, indifference, respondents, excluded"
    )

    class Meta:
        model = PriceSurvey
        fields = ["id", "product", "name", "respondents", "analysis", "created_at"]
        read_only_fields = fields

    def get_respondents(self, survey: PriceSurvey) -> int:
        return len(survey.answers)

    def get_analysis(self, survey: PriceSurvey) -> dict[str, Any] | None:
        try:
            result = analyse([Answer(*row) for row in survey.answers])
        except ValueError:
            return None
        return {
            "acceptable_range": list(result.acceptable_range) if result.acceptable_range else None,
            "optimal": result.optimal,
            "indifference": result.indifference,
            "respondents": result.respondents,
            "excluded": result.excluded,
        }


class PriceSurveyViewSet(ProductReadViewSet):
    """Van Westendorp surveys with their analysis, newest first (the team only)."""

    output_serializer_class = PriceSurveySerializer
    filter_serializer_class = _ProductFilter
    read_need = Role.ENGINEER
    schema_summaries = {"list": "Price surveys with their analysis", "retrieve": "One survey"}
    search_fields = ("name",)
    ordering_fields = ("name", "created_at")
    noun = "price survey"
    ordering = ("-created_at", "-id")

    def base_queryset(self) -> QuerySet[PriceSurvey]:
        return PriceSurvey.objects.select_related("product")
