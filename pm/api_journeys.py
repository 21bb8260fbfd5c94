"""`/api/v1/journeys/`: user journey maps with their stages and opportunities, read-only (the
pages write them). Everyone who reads strategy reads them; an opportunity's links name only the
features, ideas and feedback items the caller may see (pm.visibility)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers

from backlog.models import Feature, Idea
from feedback.models import FeedbackItem
from pm.api.serializers import ProductRefField
from pm.journey_models import Journey, JourneyOpportunity, JourneyStage
from pm.visibility import Section, Viewer, visible_across
from roadmap.api import _ProductKey
from roadmap.api_read import ProductReadViewSet

if TYPE_CHECKING:
    from pm.journeys import LinkedModel

_LINKS: dict[str, LinkedModel] = {"feature": Feature, "idea": Idea, "feedback": FeedbackItem}


class _JourneyFilter(serializers.Serializer):
    product = ProductRefField(required=False)
    persona = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class OpportunitySerializer(serializers.ModelSerializer):
    feature = serializers.SerializerMethodField(help_text="Feature id, if you may see it.")
    idea = serializers.SerializerMethodField(help_text="Idea id, if you may see it.")
    feedback = serializers.SerializerMethodField(help_text="Feedback item id, if you may see it.")

    class Meta:
        model = JourneyOpportunity
        fields = ["id", "text", "feature", "idea", "feedback", "created_at"]
        read_only_fields = fields

    def _link(self, opportunity: JourneyOpportunity, kind: str) -> int | None:
        pk = getattr(opportunity, f"{kind}_id")
        return pk if pk in self.context["allowed"][kind] else None

    def get_feature(self, opportunity: JourneyOpportunity) -> int | None:
        return self._link(opportunity, "feature")

    def get_idea(self, opportunity: JourneyOpportunity) -> int | None:
        return self._link(opportunity, "idea")

    def get_feedback(self, opportunity: JourneyOpportunity) -> int | None:
        return self._link(opportunity, "feedback")


class StageSerializer(serializers.ModelSerializer):
    opportunities = OpportunitySerializer(many=True, read_only=True)

    class Meta:
        model = JourneyStage
        fields = [
            "id",
            "position",
            "name",
            "actions",
            "touchpoints",
            "thoughts",
            "pains",
            "emotion",
            "opportunities",
            "version",
        ]
        read_only_fields = fields


class JourneySerializer(_ProductKey, serializers.ModelSerializer):
    persona = serializers.IntegerField(
        source="persona_id", allow_null=True, help_text="Persona id."
    )
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Journey
        fields = [
            "id",
            "product",
            "persona",
            "name",
            "goal",
            "stages",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def allowed_links(journeys: list[Journey], viewers: dict[int, Viewer]) -> dict[str, set[int]]:
    """{kind: ids the caller sees} over every opportunity of `journeys` (prefetched): one query
    per kind, whatever the number of journeys."""
    wanted: dict[str, set[int]] = {kind: set() for kind in _LINKS}
    for journey in journeys:
        for stage in journey.stages.all():
            for opportunity in stage.opportunities.all():
                for kind in _LINKS:
                    pk = getattr(opportunity, f"{kind}_id")
                    if pk:
                        wanted[kind].add(pk)
    return {
        kind: set(
            visible_across(model.objects.filter(pk__in=wanted[kind]), viewers).values_list(
                "pk", flat=True
            )
        )
        if wanted[kind]
        else set()
        for kind, model in _LINKS.items()
    }


class JourneyViewSet(ProductReadViewSet):
    """User journeys by persona, each with its stages in order and their opportunities."""

    output_serializer_class = JourneySerializer
    filter_serializer_class = _JourneyFilter
    read_section = Section.STRATEGY
    schema_summaries = {"list": "User journeys with their stages", "retrieve": "One journey"}
    noun = "journey"
    filter_lookups = {"persona": "persona_id"}
    ordering = ("name", "id")

    def base_queryset(self) -> QuerySet[Journey]:
        return Journey.objects.select_related("product").prefetch_related(
            Prefetch(
                "stages",
                queryset=JourneyStage.objects.order_by("position", "id").prefetch_related(
                    Prefetch("opportunities", queryset=JourneyOpportunity.objects.order_by("id"))
                ),
            )
        )

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and not getattr(self, "swagger_fake_view", False):
            rows = args[0]
            journeys = list(rows) if isinstance(rows, list | QuerySet) else [rows]
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["allowed"] = allowed_links(journeys, self.viewers())
        return super().get_serializer(*args, **kwargs)
