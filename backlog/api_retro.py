"""Read endpoints for sprint reviews and retrospectives (`/api/v1/…`).

Reviews are read by whoever browses sprints (as the review page); retrospective cards and
action items are the team's own — pm.visibility's rules on the models leave stakeholders an
empty list, and a stakeholder asking for one by id gets 403 from the role check.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet
from rest_framework import serializers

from backlog.models import ActionItem, RetroColumn, RetroItem, SprintReview
from pm.api.permissions import MAX_ID
from pm.api.serializers import ProductRefField
from pm.choices import Role
from pm.visibility import Section
from roadmap.api import _ProductKey
from roadmap.api_read import ProductReadViewSet


class _SprintFilter(serializers.Serializer):
    product = ProductRefField(required=False)
    sprint = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class SprintReviewSerializer(_ProductKey, serializers.ModelSerializer):
    sprint = serializers.IntegerField(source="sprint_id", help_text="Sprint id.")

    class Meta:
        model = SprintReview
        fields = [
            "id",
            "product",
            "sprint",
            "demo_notes",
            "stakeholder_feedback",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class SprintReviewViewSet(ProductReadViewSet):
    """Sprint review notes (the stories done and not done are the sprint's stories)."""

    output_serializer_class = SprintReviewSerializer
    filter_serializer_class = _SprintFilter
    read_section = Section.SPRINTS
    schema_summaries = {"list": "Sprint review notes", "retrieve": "One sprint's review notes"}
    noun = "sprint review"
    filter_lookups = {"sprint": "sprint_id"}
    ordering = ("-sprint__start", "id")

    def base_queryset(self) -> QuerySet[SprintReview]:
        return SprintReview.objects.select_related("product")


class RetroItemSerializer(_ProductKey, serializers.ModelSerializer):
    sprint = serializers.IntegerField(source="sprint_id", help_text="Sprint id.")
    author = serializers.IntegerField(source="author_id", allow_null=True, help_text="User id.")
    votes = serializers.IntegerField(help_text="How many people voted for the card.")

    class Meta:
        model = RetroItem
        fields = ["id", "product", "sprint", "column", "text", "author", "votes", "created_at"]
        read_only_fields = fields


class RetroItemFilter(_SprintFilter):
    column = serializers.ChoiceField(choices=RetroColumn.choices, required=False)


class RetroItemViewSet(ProductReadViewSet):
    """Retrospective cards with their votes (the team only)."""

    output_serializer_class = RetroItemSerializer
    filter_serializer_class = RetroItemFilter
    search_fields = ("text",)
    ordering_fields = ("created_at",)
    read_need = Role.ENGINEER
    schema_summaries = {"list": "Retrospective cards, most votes first", "retrieve": "One card"}
    noun = "retrospective card"
    filter_lookups = {"sprint": "sprint_id", "column": "column"}
    ordering = ("-votes", "created_at", "id")

    def base_queryset(self) -> QuerySet[RetroItem]:
        return RetroItem.objects.select_related("product").annotate(
            votes=Count("voters", distinct=True)
        )


class ActionItemSerializer(_ProductKey, serializers.ModelSerializer):
    sprint = serializers.IntegerField(source="sprint_id", help_text="The retrospective's sprint.")
    owner = serializers.IntegerField(source="owner_id", allow_null=True, help_text="User id.")
    done = serializers.BooleanField(source="is_done")

    class Meta:
        model = ActionItem
        fields = ["id", "product", "sprint", "text", "owner", "done", "done_at", "created_at"]
        read_only_fields = fields


class ActionItemFilter(_SprintFilter):
    open = serializers.BooleanField(required=False, allow_null=True, default=None)


class ActionItemViewSet(ProductReadViewSet):
    """Action items agreed at retrospectives (the team only); `open=true` for those not done."""

    output_serializer_class = ActionItemSerializer
    filter_serializer_class = ActionItemFilter
    search_fields = ("text",)
    ordering_fields = ("created_at",)
    read_need = Role.ENGINEER
    schema_summaries = {"list": "Retrospective action items", "retrieve": "One action item"}
    noun = "action item"
    filter_lookups = {"sprint": "sprint_id", "open": "done_at__isnull"}
    ordering = ("created_at", "id")

    def base_queryset(self) -> QuerySet[ActionItem]:
        return ActionItem.objects.select_related("product")
