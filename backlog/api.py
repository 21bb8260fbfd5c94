"""The backlog's REST resources: stories, sprints, features and ideas (`/api/v1/…`).

Input serializers validate, output serializers render, the views call backlog.services. Lists
cover the caller's workspaces (or one product with `?product=`, id or key) and apply the same
visibility as the pages, from the one policy (pm.visibility, through ResourceViewSet.visible
and visible_object): stakeholders never see internal fields (ROI inputs, customer ARR, reach
when it is that ARR, who outside the team asked for an idea) nor rows their sections do not
show (archived features; ideas, stories and sprints unless the workspace shares them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from backlog import scoring, services
from backlog.choices import (
    STORY_POINTS,
    FeatureKind,
    FeatureStatus,
    IdeaSource,
    IdeaStatus,
    MoSCoW,
    StoryStatus,
)
from backlog.filters import FeatureFilter, IdeaFilter, StoryFilter, filtered
from backlog.models import Feature, Idea, Sprint, UserStory
from pm.api import conditional
from pm.api.exports import ExportMixin
from pm.api.pagination import RankCursorPagination
from pm.api.permissions import parse_id
from pm.api.serializers import (
    IdOrWordField,
    ProductRefField,
    RedactedFieldsMixin,
    UpdatedSinceField,
)
from pm.api.viewsets import ListMixin, ProductScopedViewSet, RetrieveMixin, UpdateMixin
from pm.choices import Role
from pm.http import signed_in
from pm.models import StrategicTheme
from pm.permissions import get_product_for_user, role_allows
from pm.visibility import Section

_STORY_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,9})$")
INTERNAL_FEATURE_FIELDS = Feature.visibility_rules.internal
INTERNAL_IDEA_FIELDS = Idea.visibility_rules.internal


# --- shared pieces --------------------------------------------------------------------------

# ProductRefField, IdOrWordField and ProductScopedViewSet live in pm.api (the platform); they
# are re-exported here for the apps that import them from backlog.api.
__all__ = ["IdOrWordField", "ProductRefField", "ProductScopedViewSet"]


class _ProductKeyMixin(serializers.Serializer):
    product = serializers.SerializerMethodField(help_text="The product's key.")

    def get_product(self, obj) -> str:
        return obj.product.key


# --- stories --------------------------------------------------------------------------------


class CriterionSerializer(serializers.Serializer):
    text = serializers.CharField()
    done = serializers.BooleanField()


def datetime_renderer() -> Callable[[datetime], str]:
    """What DRF's DateTimeField renders (ISO 8601 in the current time zone, "Z" for UTC), with
    the zone looked up once per response instead of once per value."""
    zone = timezone.get_current_timezone()

    def render(moment: datetime) -> str:
        text = moment.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def story_json(row: dict[str, Any], when: Callable[[datetime], str]) -> dict[str, Any]:
    """A story's representation from its STORY_ROW values (lists) or an instance's (one
    story): the fields StorySerializer documents, in its order."""
    key = row["product__key"]
    return {
        "id": row["id"],
        "key": f"{key}-{row['number']}",
        "product": key,
        "title": row["title"],
        "as_a": row["as_a"],
        "i_want": row["i_want"],
        "so_that": row["so_that"],
        "acceptance_criteria": [
            {"text": str(c.get("text", "")), "done": bool(c.get("done", False))}
            for c in row["acceptance_criteria"] or []
            if isinstance(c, dict)
        ],
        "points": row["points"],
        "status": row["status"],
        "assignee": row["assignee_id"],
        "sprint": row["sprint_id"],
        "feature": row["feature_id"],
        "persona": row["persona_id"],
        "rank": row["rank"],
        "created_at": when(row["created_at"]),
        "updated_at": when(row["updated_at"]),
        "version": row["version"],
    }


class StorySerializer(_ProductKeyMixin, serializers.ModelSerializer):
    """A user story: “As a … I want … so that …” with checkable acceptance criteria."""

    key = serializers.SerializerMethodField(help_text="The story key, e.g. LOD-42.")
    acceptance_criteria = CriterionSerializer(many=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True, help_text="User id.")
    sprint = serializers.IntegerField(source="sprint_id", allow_null=True, help_text="Sprint id.")
    feature = serializers.IntegerField(source="feature_id", help_text="Feature id.")
    persona = serializers.IntegerField(
        source="persona_id", allow_null=True, help_text="Persona id."
    )
    points = serializers.IntegerField(allow_null=True)
    rank = serializers.CharField(
        help_text="Position in the backlog: ranks sort as strings (byte order); a move "
        "changes it and `updated_at`."
    )

    class Meta:
        model = UserStory
        fields = [
            "id",
            "key",
            "product",
            "title",
            "as_a",
            "i_want",
            "so_that",
            "acceptance_criteria",
            "points",
            "status",
            "assignee",
            "sprint",
            "feature",
            "persona",
            "rank",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def get_key(self, story: UserStory) -> str:
        return f"{story.product.key}-{story.number}"

    def to_representation(self, story: UserStory) -> dict[str, Any]:
        # Built by hand (story_json, shared with the list): the generic field machinery costs
        # more than the query. The fields above document it.
        row = {name: getattr(story, name) for name in STORY_ROW if "__" not in name}
        return story_json({**row, "product__key": story.product.key}, datetime_renderer())


def _column(name: str) -> str:
    """The column behind one of StorySerializer's documented fields."""
    declared = StorySerializer._declared_fields.get(name)
    return getattr(declared, "source", None) or name


# A story's columns as the list reads them (.values(), no model instances: bench/api_stories.py):
# those of the documented fields, the product's key for `key` and `product`, and the rank the
# cursor positions by.
STORY_ROW = (
    "product__key",
    "number",
    "rank",
    *(
        _column(name)
        for name in StorySerializer.Meta.fields
        if name not in ("key", "product", "rank")
    ),
)


class StoryFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    sprint = IdOrWordField(
        words=("current", "none"),
        help_text="Sprint id, `current` (running today, else the next) or `none`.",
    )
    status = serializers.ChoiceField(choices=StoryStatus.choices, required=False)
    assignee = IdOrWordField(words=("me", "none"), help_text="User id, `me` or `none`.")
    feature = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    updated_since = UpdatedSinceField()


class StoryCriterionInput(serializers.Serializer):
    text = serializers.CharField(
        required=False, max_length=1000, help_text="Omit to keep the current text."
    )
    done = serializers.BooleanField()


class StoryUpdateSerializer(serializers.Serializer):
    """What a PATCH may change. Engineers: status, points, assignee and criteria `done` flags
    (send every criterion; `text` may be omitted). PMs and admins: the rest as well."""

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version the change is based on: 409 when stale, and nothing changes.",
    )
    status = serializers.ChoiceField(choices=StoryStatus.choices, required=False)
    points = serializers.ChoiceField(choices=STORY_POINTS, required=False, allow_null=True)
    assignee = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="User id."
    )
    # DRF hands max_length to the list (LIST_SERIALIZER_KWARGS); its stubs do not know it.
    acceptance_criteria = StoryCriterionInput(many=True, required=False, max_length=200)  # type: ignore[call-arg]
    title = serializers.CharField(required=False, max_length=200)
    as_a = serializers.CharField(required=False, allow_blank=True, max_length=200)
    i_want = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    so_that = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    sprint = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="Sprint id."
    )

    def validate_assignee(self, value: int | None) -> User | None:
        if value is None:
            return None
        user = User.objects.filter(pk=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No such user in this workspace.")
        return user

    def validate_sprint(self, value: int | None) -> Sprint | None:
        if value is None:
            return None
        sprint = Sprint.objects.filter(
            pk=value, product=self.context["instance"].product_id
        ).first()
        if sprint is None:
            raise serializers.ValidationError("Choose a sprint of this product.")
        return sprint

    def validate_acceptance_criteria(self, items: list[dict]) -> list[dict]:
        current = self.context["instance"].acceptance_criteria or []
        if any("text" not in item for item in items):
            if len(items) != len(current):
                raise serializers.ValidationError(
                    f"Send all {len(current)} criteria, in order, to check them off "
                    "(or give each one's text)."
                )
            items = [
                {"text": item.get("text", old.get("text", "")), "done": item["done"]}
                for item, old in zip(items, current, strict=True)
            ]
        return [{"text": item["text"], "done": item["done"]} for item in items]


STORY_COLUMNS = (
    *(f.name for f in UserStory._meta.concrete_fields if f.name != "product"),
    "product__key",
    "product__workspace_id",
)


class StoryCreateSerializer(serializers.Serializer):
    """A new story under a feature (pm, admin), keyed next (`LOD-43`) and ranked at the bottom.
    Criteria are texts (open) or `{"text", "done"}`."""

    feature = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="Feature id.")
    title = serializers.CharField(max_length=200)
    as_a = serializers.CharField(required=False, allow_blank=True, max_length=200)
    i_want = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    so_that = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    acceptance_criteria = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        max_length=200,
        help_text="The criteria, each open.",
    )
    points = serializers.ChoiceField(choices=STORY_POINTS, required=False, allow_null=True)
    status = serializers.ChoiceField(choices=StoryStatus.choices, required=False)
    assignee = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="User id."
    )
    sprint = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="Sprint id."
    )

    def validate_assignee(self, value: int | None) -> User | None:
        if value is None:
            return None
        user = User.objects.filter(pk=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No such user in this workspace.")
        return user


class MoveSerializer(serializers.Serializer):
    """Where an item goes in rank order: below `above`, or (when `above` is null) above
    `below`; both null puts it at the end."""

    above = serializers.CharField(
        required=False, allow_null=True, max_length=40, help_text="The item it goes below."
    )
    below = serializers.CharField(
        required=False, allow_null=True, max_length=40, help_text="The item it goes above."
    )


def _neighbours(request: Request, siblings: QuerySet, *, by_key: bool = False) -> tuple[Any, Any]:
    """The `above` and `below` rows a move names, among `siblings` (400 naming the field when
    one is not there): ids, or for stories keys (`LOD-42`) or numbers."""
    serializer = MoveSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    found: dict[str, Any] = {}
    for name in ("above", "below"):
        value = serializer.validated_data.get(name)
        if value in (None, ""):
            found[name] = None
            continue
        row = None
        if by_key and (match := re.fullmatch(r"(?:([A-Za-z][A-Za-z0-9]*)-)?(\d{1,9})", value)):
            prefix, number = match.groups()
            row = siblings.filter(number=int(number)).first()
            if row is not None and prefix and prefix.upper() != row.product.key:
                row = None
        elif not by_key and (pk := parse_id(value)):
            row = siblings.filter(pk=pk).first()
        if row is None:
            raise serializers.ValidationError({name: ["No such item in this product."]})
        found[name] = row
    return found["above"], found["below"]


class StoryViewSet(ExportMixin, ListMixin, RetrieveMixin, UpdateMixin, ProductScopedViewSet):
    """User stories by key (`LOD-42`), in rank order."""

    output_serializer_class = StorySerializer
    schema_summaries = {
        "list": "Stories in rank order (cursor-paginated)",
        "retrieve": "One story by key",
        "create": "Add a story under a feature (pm, admin)",
        "partial_update": "Update a story (engineers: status, points, assignee, check-offs)",
        "move": "Move a story in rank order (engineers and up)",
    }
    input_serializer_class = StoryCreateSerializer
    update_serializer_class = StoryUpdateSerializer
    filter_serializer_class = StoryFilterSerializer
    pagination_class = RankCursorPagination
    write_need = Role.ENGINEER
    read_section = (Section.BACKLOG, Section.SPRINTS)
    lookup_field = "key"
    search_fields = ("title", "i_want")
    ordering_fields = ("rank", "number", "created_at", "updated_at")
    lookup_parameter = OpenApiParameter(
        "key",
        str,
        OpenApiParameter.PATH,
        pattern=_STORY_KEY.pattern,
        description="The story key, e.g. LOD-42.",
    )

    def get_queryset(self) -> QuerySet[UserStory]:
        # Only the columns the representation needs (not the product's long texts).
        queryset = UserStory.objects.select_related("product").only(*STORY_COLUMNS)
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        return filtered(StoryFilter, queryset, filters, user=signed_in(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page read as rows (.values()) and rendered by story_json: no model instance or
        serializer field per story. None of the columns it reads is internal (pm.visibility:
        the story's internal fields are not in the representation), which this relies on; were
        one read, the list would render redacted instances again."""
        rules = UserStory.visibility_rules
        ordering = self.filters().get("ordering")
        if ordering and self.paginator is not None:
            tie = "-id" if ordering.startswith("-") else "id"
            self.paginator.ordering = (ordering, tie)  # type: ignore[attr-defined]
        if {*rules.internal, *rules.internal_if} & set(STORY_ROW):
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset.values(*STORY_ROW))
        when = datetime_renderer()
        response = self.get_paginated_response([story_json(row, when) for row in page or []])
        return conditional.list_response(request, response)

    def get_object(self) -> UserStory:
        match = _STORY_KEY.match(self.kwargs["key"])
        if match is None:
            raise Http404("No such story.")
        try:
            product = get_product_for_user(self.request.user, match[1], need=self.need)
        except Http404:
            raise Http404("No such story.") from None  # the same 404 as an unknown story
        self.check_section(product)
        story = self.get_queryset().filter(product=product, number=int(match[2])).first()
        if story is None:
            raise Http404("No such story.")
        return self.visible_object(story, "story")

    def update_item(
        self, instance: UserStory, data: dict[str, Any], *, expected_version: int, actor: User
    ) -> UserStory:
        """Engineers update status, points, assignee and criteria check-offs; PMs the rest."""
        return services.story_update(
            story=instance, data=data, expected_version=expected_version, actor=actor
        )

    @extend_schema(responses={201: StorySerializer})
    def create(self, request: Request) -> Response:
        """Add a story under a feature (pm, admin). The feature names the product."""
        if not any(role_allows(role, Role.PM) for role in self.roles().values()):
            raise PermissionDenied("Your role does not allow this.")  # before reading the body
        data = self.validated_input(self.input_serializer_class)
        feature = Feature.objects.select_related("product").filter(pk=data.pop("feature")).first()
        if feature is None:
            raise serializers.ValidationError({"feature": ["No such feature."]})
        try:
            get_product_for_user(request.user, feature.product, need=Role.PM)
        except Http404:
            raise serializers.ValidationError({"feature": ["No such feature."]}) from None
        if data.get("sprint") is not None:
            data["sprint"] = Sprint.objects.filter(
                pk=data["sprint"], product=feature.product
            ).first()
            if data["sprint"] is None:
                raise serializers.ValidationError({"sprint": ["Choose a sprint of this product."]})
        story = services.story_create(feature=feature, data=data, actor=signed_in(request))
        return self.detail_response(self.get_queryset().get(pk=story.pk), status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses={200: StorySerializer})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, key: str) -> Response:
        """Put the story just below `above` (null: at the top), or just above `below` (story
        keys or ids). The new position shows in `rank` and `updated_at`."""
        story = self.get_object()
        siblings = UserStory.objects.filter(product_id=story.product_id).select_related("product")
        above, below = _neighbours(request, siblings, by_key=True)
        services.story_move(story=story, above=above, below=below, actor=signed_in(request))
        return self.detail_response(self.get_object())


# --- sprints --------------------------------------------------------------------------------


class SprintSerializer(_ProductKeyMixin, serializers.ModelSerializer):
    """A sprint with its committed and done story points."""

    committed_points = serializers.IntegerField(help_text="Points of the sprint's stories.")
    done_points = serializers.IntegerField(help_text="Points of its done stories.")

    class Meta:
        model = Sprint
        fields = [
            "id",
            "product",
            "name",
            "goal",
            "start",
            "end",
            "capacity",
            "committed_points",
            "done_points",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class SprintFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)


class SprintViewSet(ListMixin, ProductScopedViewSet):
    """Sprints, latest first."""

    output_serializer_class = SprintSerializer
    schema_summaries = {"list": "Sprints with committed and done points, latest first"}
    filter_serializer_class = SprintFilterSerializer
    search_fields = ("name", "goal")
    ordering_fields = ("start", "end", "name", "updated_at")

    def get_queryset(self) -> QuerySet[Sprint]:
        queryset = Sprint.objects.select_related("product").annotate(
            committed_points=Coalesce(Sum("stories__points"), 0),
            done_points=Coalesce(
                Sum("stories__points", filter=Q(stories__status=StoryStatus.DONE)), 0
            ),
        )
        if self.action == "list":
            queryset = self.visible(self.scope(queryset, self.filters()))
        return queryset.order_by("-start", "-id")


# --- features -------------------------------------------------------------------------------


def custom_fields_output() -> serializers.Field:
    """A row's custom field values (backlog.custom_fields), as the caller may read them."""
    return serializers.DictField(
        source="custom_values",
        child=serializers.JSONField(),
        read_only=True,
        help_text="Custom field values keyed by field id (the product's Fields page names "
        "them): text, number, option, list of options, date (YYYY-MM-DD), user id or URL. "
        "Stakeholders get public fields only.",
    )


def _internal_field(field_class: type[serializers.Field], **kwargs: Any) -> serializers.Field:
    """An internal field: present for members who see internal fields, absent for
    stakeholders — so not `required` in the schema. (Output only: it never reads input.)"""
    return field_class(required=False, **kwargs)


class FeatureSerializer(RedactedFieldsMixin, _ProductKeyMixin, serializers.ModelSerializer):
    """A backlog item. ROI inputs and customers' ARR are left out for stakeholders."""

    theme = serializers.IntegerField(source="theme_id", allow_null=True, help_text="Theme id.")
    moscow = serializers.ChoiceField(choices=MoSCoW.choices, allow_blank=True)
    expected_revenue = _internal_field(
        serializers.DecimalField, max_digits=14, decimal_places=2, allow_null=True
    )
    cost = _internal_field(
        serializers.DecimalField, max_digits=14, decimal_places=2, allow_null=True
    )
    roi_horizon_months = _internal_field(serializers.IntegerField, allow_null=True)
    demand_arr = _internal_field(serializers.DecimalField, max_digits=16, decimal_places=2)
    custom_fields = custom_fields_output()

    class Meta:
        model = Feature
        fields = [
            "id",
            "product",
            "title",
            "description",
            "kind",
            "theme",
            "status",
            "moscow",
            "shipped_at",
            "score",
            *scoring.SCORE_INPUTS,
            "demand_customers",
            "rank",
            "custom_fields",
            "created_at",
            "updated_at",
            "version",
            *INTERNAL_FEATURE_FIELDS,
        ]
        read_only_fields = [f for f in fields if f not in INTERNAL_FEATURE_FIELDS]


class FeatureFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    status = serializers.ChoiceField(choices=FeatureStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=FeatureKind.choices, required=False)
    theme = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    updated_since = UpdatedSinceField()


class FeatureCreateSerializer(serializers.ModelSerializer):
    """A new feature, added at the bottom of its product's backlog and scored."""

    product = ProductRefField()
    theme = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="Theme id."
    )

    class Meta:
        model = Feature
        fields = [
            "product",
            "title",
            "description",
            "kind",
            "theme",
            "status",
            "moscow",
            *scoring.SCORE_INPUTS,
            *scoring.ROI_INPUTS,
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        theme = attrs.get("theme")
        if theme is not None:
            attrs["theme"] = StrategicTheme.objects.filter(
                pk=theme, product=self.context["product"]
            ).first()
            if attrs["theme"] is None:
                raise serializers.ValidationError({"theme": "Choose a theme of this product."})
        return attrs


class FeatureUpdateSerializer(FeatureCreateSerializer):
    """What a PATCH may change (pm, admin): any field of a new feature but its product."""

    product = None  # type: ignore[assignment]  # DRF: a declared field set to None is removed

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version the change is based on: 409 when stale, and nothing changes.",
    )

    class Meta(FeatureCreateSerializer.Meta):
        fields = [f for f in FeatureCreateSerializer.Meta.fields if f != "product"] + ["version"]
        extra_kwargs = {f: {"required": False} for f in fields}


class FeatureViewSet(ExportMixin, ListMixin, RetrieveMixin, UpdateMixin, ProductScopedViewSet):
    """Features in backlog (rank) order; pm and admin create, change and re-rank them."""

    output_serializer_class = FeatureSerializer
    schema_summaries = {
        "list": "Features in backlog order",
        "retrieve": "One feature",
        "create": "Add a feature at the bottom of the backlog (pm, admin)",
        "partial_update": "Change a feature (pm, admin)",
        "move": "Move a feature in backlog order (pm, admin)",
    }
    input_serializer_class = FeatureCreateSerializer
    update_serializer_class = FeatureUpdateSerializer
    filter_serializer_class = FeatureFilterSerializer
    search_fields = ("title", "description")
    ordering_fields = ("rank", "score", "title", "created_at", "updated_at")

    def get_queryset(self) -> QuerySet[Feature]:
        queryset = Feature.objects.select_related("product")
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        return filtered(FeatureFilter, queryset, filters).order_by("rank", "id")

    def get_object(self) -> Feature:
        pk = parse_id(self.kwargs["pk"])
        feature = self.get_queryset().filter(pk=pk).first() if pk else None
        if feature is None:
            raise Http404("No such feature.")
        try:
            get_product_for_user(self.request.user, feature.product, need=self.need)
        except Http404:
            raise Http404("No such feature.") from None
        return self.visible_object(feature, "feature")

    def create(self, request: Request) -> Response:
        self.check_write_role()
        product = self.product_from_body()
        data = self.validated_input(self.input_serializer_class, product=product)
        data.pop("product")
        feature = services.feature_create(product=product, data=data, actor=signed_in(request))
        return self.detail_response(self.get_queryset().get(pk=feature.pk), status.HTTP_201_CREATED)

    def update_item(
        self, instance: Feature, data: dict[str, Any], *, expected_version: int, actor: User
    ) -> Feature:
        return services.feature_update(
            feature=instance, data=data, expected_version=expected_version, actor=actor
        )

    @extend_schema(request=MoveSerializer, responses={200: FeatureSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str) -> Response:
        """Put the feature just below `above` (null: at the top), or just above `below`. The
        new position shows in `rank` and `updated_at` (polling clients see the move)."""
        feature = self.get_object()
        above, below = _neighbours(request, Feature.objects.filter(product=feature.product))
        services.feature_move(feature=feature, above=above, below=below, actor=signed_in(request))
        return self.detail_response(self.get_object())


# --- ideas ----------------------------------------------------------------------------------


class IdeaSerializer(RedactedFieldsMixin, _ProductKeyMixin, serializers.ModelSerializer):
    """An idea waiting for triage. Who outside the team asked is left out for stakeholders."""

    submitter = serializers.IntegerField(
        source="submitter_id", allow_null=True, help_text="User id."
    )
    feature = serializers.IntegerField(
        source="feature_id", allow_null=True, help_text="Feature id."
    )
    merged_into = serializers.IntegerField(
        source="merged_into_id", allow_null=True, help_text="Idea id."
    )
    submitter_name = _internal_field(serializers.CharField, allow_blank=True)
    custom_fields = custom_fields_output()

    class Meta:
        model = Idea
        fields = [
            "id",
            "product",
            "title",
            "description",
            "source",
            "status",
            "submitter",
            "votes",
            "feature",
            "merged_into",
            "decline_reason",
            "custom_fields",
            "created_at",
            "updated_at",
            "version",
            *INTERNAL_IDEA_FIELDS,
        ]
        read_only_fields = [f for f in fields if f not in INTERNAL_IDEA_FIELDS]


class IdeaFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    status = serializers.ChoiceField(choices=IdeaStatus.choices, required=False)
    # DRF's serializer metaclass takes declared fields off the class: no clash with Field.source.
    source = serializers.ChoiceField(choices=IdeaSource.choices, required=False)  # type: ignore[assignment]
    updated_since = UpdatedSinceField()


class IdeaCreateSerializer(serializers.ModelSerializer):
    """A new idea; the caller is its submitter unless `submitter_name` says who asked."""

    product = ProductRefField()

    class Meta:
        model = Idea
        fields = ["product", "title", "description", "source", "submitter_name"]


class IdeaUpdateSerializer(serializers.ModelSerializer):
    """What a PATCH may change (pm, admin). Accepting, merging and declining an idea are the
    ideas page's decisions, not a status to set."""

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version the change is based on: 409 when stale, and nothing changes.",
    )

    class Meta:
        model = Idea
        fields = ["title", "description", "source", "submitter_name", "version"]
        extra_kwargs = {f: {"required": False} for f in fields}


class IdeaViewSet(ExportMixin, ListMixin, RetrieveMixin, UpdateMixin, ProductScopedViewSet):
    """Ideas, newest first; pm and admin capture and change them."""

    output_serializer_class = IdeaSerializer
    schema_summaries = {
        "list": "Ideas, newest first",
        "retrieve": "One idea",
        "create": "Capture an idea (pm, admin)",
        "partial_update": "Change an idea (pm, admin)",
    }
    input_serializer_class = IdeaCreateSerializer
    update_serializer_class = IdeaUpdateSerializer
    filter_serializer_class = IdeaFilterSerializer
    search_fields = ("title", "description")
    ordering_fields = ("created_at", "updated_at", "votes", "title")
    read_section = Section.IDEAS

    def get_queryset(self) -> QuerySet[Idea]:
        queryset = Idea.objects.select_related("product")
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        return filtered(IdeaFilter, queryset, filters).order_by("-created_at", "-id")

    def get_object(self) -> Idea:
        pk = parse_id(self.kwargs["pk"])
        idea = self.get_queryset().filter(pk=pk).first() if pk else None
        if idea is None:
            raise Http404("No such idea.")
        try:
            product = get_product_for_user(self.request.user, idea.product, need=self.need)
        except Http404:
            raise Http404("No such idea.") from None
        self.check_section(product)
        return self.visible_object(idea, "idea")

    def create(self, request: Request) -> Response:
        self.check_write_role()
        product = self.product_from_body()
        data = self.validated_input(self.input_serializer_class, product=product)
        data.pop("product")
        idea = services.idea_create(product=product, data=data, actor=signed_in(request))
        return self.detail_response(self.get_queryset().get(pk=idea.pk), status.HTTP_201_CREATED)

    def update_item(
        self, instance: Idea, data: dict[str, Any], *, expected_version: int, actor: User
    ) -> Idea:
        return services.idea_update(
            idea=instance, data=data, expected_version=expected_version, actor=actor
        )
