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
from pm.api.viewsets import ListMixin, ProductScopedViewSet, RetrieveMixin
from pm.choices import Role
from pm.visibility import Section
from roadmap.api import _ProductKey, _Visible


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


class SprintReviewViewSet(_Visible, ListMixin, RetrieveMixin, ProductScopedViewSet):
    """Sprint review notes (the stories done and not done are the sprint's stories)."""

    output_serializer_class = SprintReviewSerializer
    filter_serializer_class = _SprintFilter
    read_section = Section.SPRINTS
    schema_summaries = {"list": "Sprint review notes", "retrieve": "One sprint's review notes"}

    def get_queryset(self) -> QuerySet[SprintReview]:
        queryset = SprintReview.objects.select_related("product")
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        if "sprint" in filters:
            queryset = queryset.filter(sprint_id=filters["sprint"])
        return queryset.order_by("-sprint__start", "id")

    def get_object(self) -> SprintReview:
        return self.scoped_object(self.get_queryset(), "sprint review")


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


class RetroItemViewSet(_Visible, ListMixin, RetrieveMixin, ProductScopedViewSet):
    """Retrospective cards with their votes (the team only)."""

    output_serializer_class = RetroItemSerializer
    filter_serializer_class = RetroItemFilter
    read_need = Role.ENGINEER
    schema_summaries = {"list": "Retrospective cards, most votes first", "retrieve": "One card"}

    def get_queryset(self) -> QuerySet[RetroItem]:
        queryset = RetroItem.objects.select_related("product").annotate(
            votes=Count("voters", distinct=True)
        )
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        if "sprint" in filters:
            queryset = queryset.filter(sprint_id=filters["sprint"])
        if "column" in filters:
            queryset = queryset.filter(column=filters["column"])
        return queryset.order_by("-votes", "created_at", "id")

    def get_object(self) -> RetroItem:
        return self.scoped_object(self.get_queryset(), "retrospective card")


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


class ActionItemViewSet(_Visible, ListMixin, RetrieveMixin, ProductScopedViewSet):
    """Action items agreed at retrospectives (the team only); `open=true` for those not done."""

    output_serializer_class = ActionItemSerializer
    filter_serializer_class = ActionItemFilter
    read_need = Role.ENGINEER
    schema_summaries = {"list": "Retrospective action items", "retrieve": "One action item"}

    def get_queryset(self) -> QuerySet[ActionItem]:
        queryset = ActionItem.objects.select_related("product")
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        if "sprint" in filters:
            queryset = queryset.filter(sprint_id=filters["sprint"])
        if filters.get("open") is not None:
            queryset = queryset.filter(done_at__isnull=filters["open"])
        return queryset.order_by("created_at", "id")

    def get_object(self) -> ActionItem:
        return self.scoped_object(self.get_queryset(), "action item")
