"""The roadmap's REST resources (`/api/v1/…`): initiatives, releases, share links, and the
public roadmap behind a share link.

Input serializers validate, output serializers render, the views call roadmap.services. Lists
cover the caller's workspaces (or one product with `?product=`, id or key) and apply the same
visibility as the pages: stakeholders see public initiatives and releases only, and never the
internal notes. Share links are for PMs and admins; a token is returned once, at creation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backlog.api import ProductRefField, ProductScopedViewSet
from backlog.filters import filtered
from backlog.models import Feature
from pm.api.exports import ExportMixin
from pm.api.permissions import MAX_ID, parse_id
from pm.api.schema import IF_NONE_MATCH
from pm.api.serializers import RedactedFieldsMixin, UpdatedSinceField
from pm.api.viewsets import DestroyMixin, ListMixin, RetrieveMixin, UpdateMixin
from pm.choices import Role
from pm.http import signed_in
from pm.models import Objective, StrategicTheme
from pm.permissions import get_product_for_user
from roadmap import public, services
from roadmap.choices import Confidence, Horizon, InitiativeStatus, Precision, Visibility
from roadmap.filters import InitiativeFilter
from roadmap.models import Initiative, Release, ShareLink
from roadmap.periods import Period

# --- shared pieces --------------------------------------------------------------------------


def _internal(field_class: type[serializers.Field], **kwargs: Any) -> serializers.Field:
    """Present for members who see internal fields, absent for stakeholders (so not
    `required` in the schema)."""
    return field_class(required=False, **kwargs)


class _ProductKey(serializers.Serializer):
    product = serializers.SerializerMethodField(help_text="The product's key.")

    def get_product(self, obj) -> str:
        return obj.product.key


class _Ids(serializers.ListField):
    """A list of ids of the product's objectives or features."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 500)
        super().__init__(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs)


class PeriodInput(serializers.CharField):
    """A month or a quarter: `2027-03`, `Mar 2027`, `2027 Q1`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "A month (2027-03) or a quarter (2027 Q1).")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if len(text) > 20:
            raise serializers.ValidationError("Write a month (2027-03) or a quarter (2027 Q1).")
        try:
            return Period.parse(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


def _of_product(model, ids: list[int] | None, product, name: str) -> list:
    if not ids:
        return []
    found = list(model.objects.filter(product=product, pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise serializers.ValidationError({name: [f"Choose {name} of this product."]})
    return found


if TYPE_CHECKING:
    from pm.api.viewsets import ResourceViewSet as _ViewSetBase
else:
    _ViewSetBase = object


class _Visible(_ViewSetBase):
    """Rows and fields from the one policy (pm.visibility, via ResourceViewSet.visible):
    stakeholders get public rows without internal notes; the team everything."""

    def scoped_object(self, queryset: QuerySet, noun: str):
        pk = parse_id(self.kwargs["pk"])
        obj = queryset.filter(pk=pk).first() if pk else None
        if obj is None:
            raise Http404(f"No such {noun}.")
        try:
            product = get_product_for_user(self.request.user, obj.product, need=self.need)
        except Http404:
            raise Http404(f"No such {noun}.") from None
        self.check_section(product)  # a section the reader may not browse: 403, as its page
        return self.visible_object(obj, noun)


# --- initiatives ----------------------------------------------------------------------------


class InitiativeSerializer(RedactedFieldsMixin, _ProductKey, serializers.ModelSerializer):
    """An initiative on the roadmap. `internal_notes` is left out for stakeholders."""

    theme = serializers.IntegerField(source="theme_id", allow_null=True, help_text="Theme id.")
    objectives = serializers.SerializerMethodField(help_text="Objective ids.")
    features = serializers.SerializerMethodField(help_text="Feature ids.")
    timeframe = serializers.CharField(help_text="For people: '2027 Q1 – May 2027'.")
    internal_notes = _internal(serializers.CharField, allow_blank=True)

    class Meta:
        model = Initiative
        fields = [
            "id",
            "product",
            "title",
            "description",
            "theme",
            "objectives",
            "features",
            "status",
            "horizon",
            "start",
            "start_precision",
            "end",
            "end_precision",
            "timeframe",
            "confidence",
            "visibility",
            "internal_notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_objectives(self, initiative: Initiative) -> list[int]:
        return sorted(o.pk for o in initiative.objectives.all())

    def get_features(self, initiative: Initiative) -> list[int]:
        return sorted(f.pk for f in initiative.features.all())


class InitiativeFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    horizon = serializers.ChoiceField(choices=Horizon.choices, required=False)
    status = serializers.ChoiceField(choices=InitiativeStatus.choices, required=False)
    theme = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    updated_since = UpdatedSinceField()


class InitiativeCreateSerializer(serializers.Serializer):
    """A new initiative, added at the bottom of its horizon column."""

    product = ProductRefField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    theme = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Theme id."
    )
    objectives = _Ids(help_text="Objective ids of the same product.")
    features = _Ids(help_text="Feature ids of the same product.")
    status = serializers.ChoiceField(choices=InitiativeStatus.choices, required=False)
    horizon = serializers.ChoiceField(choices=Horizon.choices, required=False)
    start = PeriodInput()
    end = PeriodInput()
    confidence = serializers.ChoiceField(choices=Confidence.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    internal_notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        product = self.context["product"]
        start, end = attrs.pop("start", None), attrs.pop("end", None)
        if bool(start) != bool(end):
            raise serializers.ValidationError(
                {"end" if start else "start": ["Give both a start and an end, or neither."]}
            )
        if start and end:
            if end.last_day < start.first_day:
                raise serializers.ValidationError(
                    {"end": ["The end must not be before the start."]}
                )
            attrs.update(
                start=start.first_day,
                start_precision=start.precision,
                end=end.last_day,
                end_precision=end.precision,
            )
        theme = attrs.get("theme")
        if theme is not None:
            attrs["theme"] = StrategicTheme.objects.filter(pk=theme, product=product).first()
            if attrs["theme"] is None:
                raise serializers.ValidationError({"theme": ["Choose a theme of this product."]})
        attrs["objectives"] = _of_product(Objective, attrs.get("objectives"), product, "objectives")
        attrs["features"] = _of_product(Feature, attrs.get("features"), product, "features")
        return attrs


def _given_only(attrs: dict[str, Any], body: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A PATCH replaces a list of related rows only when the body names it: absent, kept."""
    for name in names:
        if not isinstance(body, dict) or name not in body:
            attrs.pop(name, None)
    return attrs


class InitiativeUpdateSerializer(InitiativeCreateSerializer):
    """What a PATCH may change (pm, admin): the fields of a new initiative but its product;
    `objectives` and `features` replace the lists when given."""

    product = None  # type: ignore[assignment]  # DRF: a declared field set to None is removed
    title = serializers.CharField(max_length=200, required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version the change is based on: 409 when stale, and nothing changes.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        return _given_only(attrs, self.initial_data, ("objectives", "features"))


class InitiativeViewSet(
    ExportMixin, _Visible, ListMixin, RetrieveMixin, UpdateMixin, DestroyMixin, ProductScopedViewSet
):
    """Initiatives in board order (horizon, then rank); pm and admin create, change and
    delete them."""

    output_serializer_class = InitiativeSerializer
    input_serializer_class = InitiativeCreateSerializer
    update_serializer_class = InitiativeUpdateSerializer
    filter_serializer_class = InitiativeFilterSerializer
    search_fields = ("title", "description")
    ordering_fields = ("title", "start", "created_at", "updated_at")
    schema_summaries = {
        "list": "Initiatives in board order (horizon, then rank)",
        "retrieve": "One initiative",
        "create": "Add an initiative (pm, admin)",
        "partial_update": "Change an initiative (pm, admin)",
        "destroy": "Delete an initiative (pm, admin)",
    }

    def get_queryset(self) -> QuerySet[Initiative]:
        queryset = Initiative.objects.select_related("product").prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.only("id")),
            Prefetch("features", queryset=Feature.objects.only("id")),
        )
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        return filtered(InitiativeFilter, queryset, filters).order_by(
            "product_id", "horizon", "rank", "id"
        )

    def get_object(self) -> Initiative:
        return self.scoped_object(self.get_queryset(), "initiative")

    def create(self, request: Request) -> Response:
        self.check_write_role()
        product = self.product_from_body()
        data = self.validated_input(self.input_serializer_class, product=product)
        data.pop("product")
        objectives, features = data.pop("objectives"), data.pop("features")
        initiative = services.initiative_create(
            product=product,
            data=data,
            objectives=objectives,
            features=features,
            actor=signed_in(request),
        )
        return self.detail_response(
            self.get_queryset().get(pk=initiative.pk), status.HTTP_201_CREATED
        )

    def update_item(
        self, instance: Initiative, data: dict[str, Any], *, expected_version: int, actor: User
    ) -> Initiative:
        return services.initiative_update(
            initiative=instance,
            data=data,
            objectives=data.pop("objectives", None),
            features=data.pop("features", None),
            expected_version=expected_version,
            actor=actor,
        )

    def delete_item(self, instance: Initiative, *, actor: User) -> None:
        services.initiative_delete(initiative=instance, actor=actor)


# --- releases -------------------------------------------------------------------------------


class ReleaseSerializer(RedactedFieldsMixin, _ProductKey, serializers.ModelSerializer):
    """A release. `internal_notes` is left out for stakeholders; `notes` are public."""

    features = serializers.SerializerMethodField(help_text="Feature ids.")
    internal_notes = _internal(serializers.CharField, allow_blank=True)

    class Meta:
        model = Release
        fields = [
            "id",
            "product",
            "name",
            "target_date",
            "shipped_date",
            "features",
            "notes",
            "visibility",
            "internal_notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_features(self, release: Release) -> list[int]:
        return sorted(f.pk for f in release.features.all())


class ReleaseFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    shipped = serializers.BooleanField(required=False, allow_null=True, default=None)
    updated_since = UpdatedSinceField()


class ReleaseCreateSerializer(serializers.Serializer):
    product = ProductRefField()
    name = serializers.CharField(max_length=120)
    target_date = serializers.DateField()
    features = _Ids(help_text="Feature ids of the same product.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    internal_notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["features"] = _of_product(
            Feature, attrs.get("features"), self.context["product"], "features"
        )
        return attrs


class ReleaseUpdateSerializer(ReleaseCreateSerializer):
    """What a PATCH may change (pm, admin); `features` replaces the list when given. Shipping
    is the Releases page's decision (it checks the open work)."""

    product = None  # type: ignore[assignment]  # DRF: a declared field set to None is removed
    name = serializers.CharField(max_length=120, required=False)
    target_date = serializers.DateField(required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version the change is based on: 409 when stale, and nothing changes.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        return _given_only(attrs, self.initial_data, ("features",))


class ReleaseViewSet(
    ExportMixin, _Visible, ListMixin, RetrieveMixin, UpdateMixin, DestroyMixin, ProductScopedViewSet
):
    """Releases by target date; pm and admin create, change and delete them (shipping is on
    the Releases page)."""

    output_serializer_class = ReleaseSerializer
    input_serializer_class = ReleaseCreateSerializer
    update_serializer_class = ReleaseUpdateSerializer
    filter_serializer_class = ReleaseFilterSerializer
    search_fields = ("name", "notes")
    ordering_fields = ("target_date", "shipped_date", "name", "updated_at")
    schema_summaries = {
        "list": "Releases by target date",
        "retrieve": "One release",
        "create": "Plan a release (pm, admin)",
        "partial_update": "Change a release (pm, admin)",
        "destroy": "Delete a release (pm, admin)",
    }

    def get_queryset(self) -> QuerySet[Release]:
        queryset = Release.objects.select_related("product").prefetch_related(
            Prefetch("features", queryset=Feature.objects.only("id"))
        )
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        if filters.get("shipped") is not None:
            queryset = queryset.filter(shipped_date__isnull=not filters["shipped"])
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset.order_by("target_date", "id")

    def get_object(self) -> Release:
        return self.scoped_object(self.get_queryset(), "release")

    def create(self, request: Request) -> Response:
        self.check_write_role()
        product = self.product_from_body()
        data = self.validated_input(self.input_serializer_class, product=product)
        data.pop("product")
        features = data.pop("features")
        release = services.release_create(
            product=product, data=data, features=features, actor=signed_in(request)
        )
        return self.detail_response(self.get_queryset().get(pk=release.pk), status.HTTP_201_CREATED)

    def update_item(
        self, instance: Release, data: dict[str, Any], *, expected_version: int, actor: User
    ) -> Release:
        return services.release_update(
            release=instance,
            data=data,
            features=data.pop("features", None),
            expected_version=expected_version,
            actor=actor,
        )

    def delete_item(self, instance: Release, *, actor: User) -> None:
        services.release_delete(release=instance, actor=actor)


# --- share links ----------------------------------------------------------------------------


class ShareLinkSerializer(_ProductKey, serializers.ModelSerializer):
    """A share link. The token itself is never shown again after creation."""

    created_by = serializers.IntegerField(
        source="created_by_id", allow_null=True, help_text="User id."
    )
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"])

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "product",
            "label",
            "token_hint",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "state",
        ]
        read_only_fields = fields


class NewShareLinkSerializer(ShareLinkSerializer):
    """A share link just created: with its token and URL, shown this once."""

    token = serializers.CharField(help_text="The secret: store it now, it is not kept.")
    url = serializers.CharField(help_text="The public page.")
    api_url = serializers.CharField(help_text="The same roadmap as JSON.")

    class Meta(ShareLinkSerializer.Meta):
        fields = [*ShareLinkSerializer.Meta.fields, "token", "url", "api_url"]
        read_only_fields = fields


class ShareLinkFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)


class ShareLinkCreateSerializer(serializers.Serializer):
    product = ProductRefField()
    # DRF's metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField(max_length=120)  # type: ignore[assignment]
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ShareLinkViewSet(ListMixin, ProductScopedViewSet):
    """Share links of the products where the caller is pm or admin: list, create, revoke
    (DELETE keeps the row, revoked, for the record)."""

    output_serializer_class = ShareLinkSerializer
    input_serializer_class = ShareLinkCreateSerializer
    filter_serializer_class = ShareLinkFilterSerializer
    search_fields = ("label",)
    ordering_fields = ("label", "created_at")
    schema_summaries = {
        "list": "Share links of the products you manage (pm, admin)",
        "create": "Create a share link; its token is shown once (pm, admin)",
        "destroy": "Revoke a share link (pm, admin)",
    }
    read_need = Role.PM
    write_need = Role.PM

    def get_serializer_class(self):
        if self.action == "create":
            return NewShareLinkSerializer
        return self.output_serializer_class

    def get_queryset(self) -> QuerySet[ShareLink]:
        queryset = ShareLink.objects.select_related("product")
        managed = [ws for ws, role in self.roles().items() if role in (Role.PM, Role.ADMIN)]
        filters = self.filters() if self.action == "list" else {}
        queryset = self.scope(queryset, filters).filter(product__workspace_id__in=managed)
        return queryset.order_by("-created_at", "-id")

    @extend_schema(responses={201: NewShareLinkSerializer})
    def create(self, request: Request) -> Response:
        self.check_write_role()
        product = self.product_from_body()
        data = self.validated_input(self.input_serializer_class, product=product)
        link, token = services.share_link_create(
            product=product,
            label=data["label"],
            expires_at=data.get("expires_at"),
            actor=signed_in(request),
        )
        link.token = token
        link.url = request.build_absolute_uri(reverse("share_roadmap", args=[token]))
        link.api_url = request.build_absolute_uri(reverse("api_public_roadmap", args=[token]))
        link.product = product
        return Response(NewShareLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        number = parse_id(pk)
        link = (
            ShareLink.objects.select_related("product").filter(pk=number).first()
            if number is not None
            else None
        )
        if link is None:
            raise Http404("No such share link.")
        try:
            get_product_for_user(request.user, link.product, need=Role.PM)
        except Http404:
            raise Http404("No such share link.") from None
        services.share_link_revoke(link=link, actor=signed_in(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the public roadmap ----------------------------------------------------------------------


class PublicThemeSerializer(serializers.Serializer):
    name = serializers.CharField()
    colour = serializers.CharField()


class PublicInitiativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(help_text="Markdown.")
    theme = PublicThemeSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=InitiativeStatus.choices)
    status_label = serializers.CharField()
    horizon = serializers.ChoiceField(choices=Horizon.choices)
    horizon_label = serializers.CharField()
    start = serializers.DateField(allow_null=True)
    start_precision = serializers.ChoiceField(choices=Precision.choices, allow_null=True)
    end = serializers.DateField(allow_null=True)
    end_precision = serializers.ChoiceField(choices=Precision.choices, allow_null=True)
    timeframe = serializers.CharField()
    confidence = serializers.ChoiceField(choices=Confidence.choices)


class PublicReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    target_date = serializers.DateField()
    shipped_date = serializers.DateField(allow_null=True)
    notes = serializers.CharField(help_text="Markdown.")


class PublicChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["added", "moved", "redated", "shipped"])
    at = serializers.DateTimeField()
    item_type = serializers.ChoiceField(choices=["initiative", "release"])
    item_id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    before = serializers.CharField(allow_null=True)
    after = serializers.CharField(allow_null=True)
    actor = serializers.CharField(allow_null=True, help_text="Always null on the public roadmap.")


class PublicProductSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class PublicRoadmapSerializer(serializers.Serializer):
    product = PublicProductSerializer()
    generated_at = serializers.DateTimeField()
    initiatives = PublicInitiativeSerializer(many=True)
    releases = PublicReleaseSerializer(many=True)
    changes = PublicChangeSerializer(many=True, help_text="The last 30 days, newest first.")


class PublicRoadmapView(APIView):
    """`GET /api/v1/roadmap/{token}/`: what the share page shows, as data (the same whitelisted
    public fields). No authentication: the token is the credential; a wrong, expired or revoked
    one gets 404. The JSON is rendered once per change and served as bytes, with an ETag and
    `Cache-Control: no-cache`: send the ETag back in If-None-Match to get 304 while unchanged."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[IF_NONE_MATCH],
        responses={
            200: PublicRoadmapSerializer,
            304: OpenApiResponse(description="Not modified: the If-None-Match ETag is current"),
        },
        auth=[],
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        rendered = public.resolve(token)
        return public.response(
            request, rendered.json, rendered.json_gzip, "application/json", rendered.json_etag
        )
