"""Feedback over the REST API: `GET/POST /api/v1/feedback/`, `GET /api/v1/feedback/{id}/`.

Input serializers validate, output serializers render, the view calls feedback.services. Lists
cover the caller's workspaces (or one product with `?product=`, id or key). Stakeholders get
`customer: null`: customer names, contacts and ARR are for engineers and above.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from backlog.filters import filtered
from feedback import selectors
from feedback.choices import FeedbackStatus, Sentiment, Source
from feedback.filters import FeedbackFilter
from feedback.models import Customer, FeedbackItem, Insight
from feedback.services.customers import customer_resolve
from feedback.services.items import feedback_create
from pm import visibility
from pm.api.exports import ExportMixin
from pm.api.permissions import MAX_ID, parse_id
from pm.api.serializers import ProductRefField, UpdatedSinceField
from pm.api.viewsets import ListMixin, ProductScopedViewSet, RetrieveMixin
from pm.choices import Role
from pm.models import Product
from pm.permissions import check_section, get_product_for_user
from pm.visibility import Section, viewer_of


def _product(user, ref, need: str) -> Product:
    """A product by key (`LOD`) or id (`42`), with the same 404/403 rules as the pages."""
    text = str(ref).strip()
    if text.isdecimal() and len(text) <= 18:
        return get_product_for_user(user, int(text), need=need)  # an id: never ambiguous
    if not text or len(text) > 10:
        raise Http404("No such product.")
    return get_product_for_user(user, text, need=need)


# --- input --------------------------------------------------------------------------------


class CustomerIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    segment = serializers.CharField(max_length=60, required=False, allow_blank=True)
    plan = serializers.CharField(max_length=60, required=False, allow_blank=True)
    arr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True)


class FeedbackIn(serializers.Serializer):
    product = serializers.CharField(max_length=20, help_text="Product key or id.")
    content = serializers.CharField(max_length=10_000)
    # DRF's serializer metaclass takes declared fields off the class, so this `source` does not
    # shadow Field.source at run time; the stubs cannot know.
    source = serializers.ChoiceField(choices=Source.choices)  # type: ignore[assignment]
    sentiment = serializers.ChoiceField(
        choices=Sentiment.choices, required=False, default=Sentiment.NEUTRAL
    )
    received_at = serializers.DateTimeField(required=False)
    customer_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    customer = CustomerIn(
        required=False,
        allow_null=True,
        help_text="A customer by name: the existing one of that name, or a new one.",
    )

    def validate(self, attrs):
        if attrs.get("customer_id") and attrs.get("customer"):
            raise serializers.ValidationError(
                {"customer": ["Give customer_id or customer, not both."]}
            )
        return attrs


# --- output -------------------------------------------------------------------------------


class CustomerOut(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "segment", "plan", "arr", "contact"]


class InsightOut(serializers.ModelSerializer):
    feature: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    idea: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Insight
        fields = ["id", "feature", "idea", "quote", "importance", "created_at"]


class FeedbackOut(serializers.ModelSerializer):
    product = serializers.CharField(source="product.key")
    customer = serializers.SerializerMethodField()
    insights = InsightOut(many=True, read_only=True)
    study: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Research study id."
    )

    class Meta:
        model = FeedbackItem
        fields = [
            "id",
            "product",
            "content",
            "source",
            "sentiment",
            "received_at",
            "status",
            "customer",
            "study",
            "insights",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(CustomerOut(allow_null=True))
    def get_customer(self, obj) -> dict | None:
        if obj.customer_id is None or visibility.is_redacted(obj, "customer"):
            return None
        return CustomerOut(obj.customer).data


class SuggestionOut(serializers.Serializer):
    """A feature or idea the new feedback is probably about (full text and meaning, fused)."""

    kind = serializers.ChoiceField(choices=["feature", "idea"])
    id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField(help_text="Fused rank score; higher is likelier.")


class FeedbackCreatedOut(FeedbackOut):
    suggestions = serializers.SerializerMethodField()

    class Meta(FeedbackOut.Meta):
        fields = [*FeedbackOut.Meta.fields, "suggestions"]

    @extend_schema_field(SuggestionOut(many=True))
    def get_suggestions(self, obj) -> list[dict]:
        return [
            {"kind": s.kind, "id": s.obj.pk, "title": s.obj.title, "score": round(s.score, 4)}
            for s in selectors.suggest_targets(product=obj.product, text=obj.content, limit=5)
        ]


# --- views --------------------------------------------------------------------------------


class FeedbackFilterSerializer(serializers.Serializer):
    product = ProductRefField(required=False)
    status = serializers.ChoiceField(choices=FeedbackStatus.choices, required=False)
    # A declared field, not Field.source: DRF's metaclass takes it off the class (as FeedbackIn's).
    source = serializers.ChoiceField(choices=Source.choices, required=False)  # type: ignore[assignment]
    customer = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Customer id."
    )
    updated_since = UpdatedSinceField()


class FeedbackViewSet(ExportMixin, ListMixin, RetrieveMixin, ProductScopedViewSet):
    """Feedback items, newest first. Filters: `product` (id or key), `status`, `source`,
    `customer` (id), `updated_since`."""

    output_serializer_class = FeedbackOut
    input_serializer_class = FeedbackIn
    filter_serializer_class = FeedbackFilterSerializer
    search_fields = ("content",)
    ordering_fields = ("received_at", "created_at", "updated_at")
    read_section = Section.FEEDBACK
    schema_summaries = {
        "list": "Feedback, newest first",
        "retrieve": "One feedback item",
        "create": "Add feedback, with suggested features and ideas (pm, admin)",
    }

    def get_queryset(self):
        qs = FeedbackItem.objects.select_related("product", "customer").prefetch_related("insights")
        if self.action != "list":
            return qs
        filters = self.filters()
        # Rows and fields from the one policy (pm.visibility): stakeholders get feedback only
        # where their workspace shares the feedback section, and never the customer.
        qs = self.visible(self.scope(qs, filters))
        return filtered(FeedbackFilter, qs, filters).order_by("-received_at", "-id")

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        item = self.get_queryset().filter(pk=pk).first() if pk else None
        if item is None:
            raise Http404("No such feedback.")
        product = get_product_for_user(self.request.user, item.product)  # 404 for outsiders
        check_section(product, Section.FEEDBACK)  # 403, as the inbox page
        return visibility.redact(item, viewer_of(product), product)

    @extend_schema(responses={201: FeedbackCreatedOut})
    def create(self, request, *args, **kwargs):
        """Add feedback. The answer carries `suggestions`: the features and ideas it is
        probably about, best first, to link with the web page or a later call."""
        self.check_write_role()
        incoming = FeedbackIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        product = _product(request.user, data["product"], Role.PM)
        try:
            with transaction.atomic():
                customer = None
                if data.get("customer_id"):
                    customer = Customer.objects.filter(
                        workspace_id=product.workspace_id, pk=data["customer_id"]
                    ).first()
                    if customer is None:
                        raise DjangoValidationError({"customer_id": "No such customer."})
                elif data.get("customer"):
                    details = dict(data["customer"])
                    customer = customer_resolve(
                        workspace=product.workspace,
                        name=details.pop("name"),
                        details=details,
                        actor=request.user,
                    )
                item = feedback_create(
                    product=product,
                    content=data["content"],
                    source=data["source"],
                    sentiment=data["sentiment"],
                    received_at=data.get("received_at"),
                    customer=customer,
                    actor=request.user,
                )
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        item = (
            FeedbackItem.objects.select_related("product", "customer")
            .prefetch_related("insights")
            .get(pk=item.pk)
        )
        out = FeedbackCreatedOut(item, context=self.get_serializer_context())
        response = Response(out.data, status=201, headers={"ETag": self.etag(item)})
        return response
