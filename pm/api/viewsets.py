"""The base of every API resource: permission-scoped lookups, filters validated by a
serializer, output and input serializers split by direction, and conditional requests.

A resource sets `output_serializer_class` (and `input_serializer_class` for POST,
`update_serializer_class` for PATCH, `filter_serializer_class` for list filters), implements
`get_queryset()` with a selector-style queryset limited to the caller's workspaces, and
`get_object()` with a permission-scoped fetch. The schema (pm.api.schema) reads the same
attributes, so the documentation follows the code.
"""

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from pm import visibility
from pm.api import conditional
from pm.api.exceptions import Conflict, PreconditionFailed
from pm.api.permissions import member_roles, member_viewers, product_for_user
from pm.api.serializers import ProductRefField, UpdatedSinceField
from pm.choices import Role
from pm.http import signed_in
from pm.models import Product
from pm.permissions import check_section, role_allows
from pm.services import EditConflict
from pm.visibility import Viewer

_OPTIONAL_FILTERS: dict[type[BaseSerializer], frozenset[str] | None] = {}
_LIST_FILTERS: dict[type, type[BaseSerializer]] = {}


def reject_unknown_parameters(params: Any, allowed: Any) -> None:
    """400 naming every query parameter the endpoint does not know (`?asignee=me` must not
    quietly return every story)."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise serializers.ValidationError(
            {name: [f"Unknown query parameter. This endpoint takes: {known}."] for name in unknown}
        )


def _names_a_filter(serializer_class: type[BaseSerializer], params: Any) -> bool:
    """Whether the query string holds one of the filter serializer's fields (always true for a
    serializer with a required field, which must get its 400 when absent)."""
    if serializer_class not in _OPTIONAL_FILTERS:
        fields = serializer_class().fields  # type: ignore[attr-defined]
        required = any(f.required for f in fields.values())
        _OPTIONAL_FILTERS[serializer_class] = None if required else frozenset(fields)
    names = _OPTIONAL_FILTERS[serializer_class]
    return names is None or any(name in names for name in params)


class ResourceViewSet(viewsets.GenericViewSet):
    """Who the caller is (roles per workspace), validated filters and input, ETags and
    preconditions. Actions come from ListMixin, RetrieveMixin or the resource itself."""

    output_serializer_class: type[BaseSerializer] | None = None
    input_serializer_class: type[BaseSerializer] | None = None
    update_serializer_class: type[BaseSerializer] | None = None
    filter_serializer_class: type[BaseSerializer] | None = None
    # The weakest role that may read, and that may write (POST/PATCH/DELETE).
    read_need: str = Role.STAKEHOLDER
    write_need: str = Role.PM
    # The section (pm.visibility.Section, or a tuple of any) a reader must browse for details.
    read_section: str | tuple[str, ...] | None = None
    lookup_value_regex = r"[^/]+"
    # One-line summaries of the actions in the schema and the docs: {"list": "…", …}.
    schema_summaries: dict[str, str] = {}
    # How the schema documents the lookup in the path (default: an integer `id`).
    lookup_parameter: OpenApiParameter | None = None
    # Lists: the columns `?search=` looks in (case-insensitive substring, any of them), and
    # the fields `?ordering=` may name (each also descending, with `-`).
    search_fields: tuple[str, ...] = ()
    ordering_fields: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        if self.action == "list":
            reject_unknown_parameters(request.query_params, self.query_parameters())

    def query_parameters(self) -> frozenset[str]:
        """The query parameters the list takes: its filters and pagination's."""
        names: set[str] = set()
        for attribute in ("page_query_param", "cursor_query_param", "page_size_query_param"):
            name = getattr(self.paginator, attribute, None)
            if name is not None:
                names.add(name)
        names |= set(self.list_filter_class()().fields)  # type: ignore[attr-defined]
        return frozenset(names)

    @classmethod
    def model(cls) -> type[models.Model] | None:
        meta = getattr(cls.output_serializer_class, "Meta", None)
        return getattr(meta, "model", None)

    @classmethod
    def list_filter_class(cls) -> type[BaseSerializer]:
        """The list's filter serializer plus what every list takes: `search`, `ordering` and
        `updated_since` (where the resource has them). The schema documents this one."""
        if cls in _LIST_FILTERS:
            return _LIST_FILTERS[cls]
        base = cls.filter_serializer_class or serializers.Serializer
        declared = getattr(base, "_declared_fields", {})
        extra: dict[str, serializers.Field] = {}
        if cls.search_fields and "search" not in declared:
            extra["search"] = serializers.CharField(
                required=False,
                max_length=200,
                trim_whitespace=True,
                help_text="Only items whose "
                + " or ".join(f.split("__")[0] for f in cls.search_fields)
                + " contains this text (case-insensitive).",
            )
        if cls.ordering_fields and "ordering" not in declared:
            choices = [c for f in cls.ordering_fields for c in (f, f"-{f}")]
            extra["ordering"] = serializers.ChoiceField(
                choices=choices,
                required=False,
                help_text="Sort by this field (`-` first: descending); the id breaks ties.",
            )
        model = cls.model()
        has_updated_at = model is not None and any(
            f.name == "updated_at" for f in model._meta.concrete_fields
        )
        if has_updated_at and "updated_since" not in declared:
            extra["updated_since"] = UpdatedSinceField()
        name = base.__name__ if base is not serializers.Serializer else f"{cls.__name__}Filter"
        _LIST_FILTERS[cls] = type(name, (base,), extra) if extra else base
        return _LIST_FILTERS[cls]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """`search`, `updated_since` and `ordering` on a list's queryset (after the resource's
        own filters in get_queryset)."""
        if self.action != "list":
            return queryset
        filters = self.filters()
        if filters.get("search") and self.search_fields:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": filters["search"]})
            queryset = queryset.filter(condition)
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        ordering = filters.get("ordering")
        if ordering:
            tie = "-id" if ordering.startswith("-") else "id"
            queryset = queryset.order_by(ordering, tie)
        return queryset

    # --- who and what -----------------------------------------------------------------

    @property
    def need(self) -> str:
        return self.read_need if self.request.method in ("GET", "HEAD") else self.write_need

    def roles(self) -> dict[int, str]:
        """{workspace id: the caller's role}; lists never reach beyond these workspaces."""
        return member_roles(signed_in(self.request))

    def workspace_ids(self) -> list[int]:
        return list(self.roles())

    def viewers(self) -> dict[int, Viewer]:
        """{workspace id: the caller's viewer} (pm.visibility)."""
        return member_viewers(signed_in(self.request))

    def visible(self, queryset: QuerySet) -> QuerySet:
        """The rows (and fields) of `queryset` the caller sees, across its workspaces."""
        return visibility.apply_across(queryset, self.viewers())

    def visible_object[M: models.Model](self, instance: M, noun: str) -> M:
        """404 unless the caller sees the row (pm.visibility); its hidden fields blanked."""
        model = type(instance)
        if not self.visible(model._default_manager.filter(pk=instance.pk)).exists():
            raise Http404(f"No such {noun}.")
        product = getattr(instance, "product", None)
        viewer = self.viewers().get(product.workspace_id) if product is not None else None
        return visibility.redact(instance, viewer, product)

    def check_section(self, product: Product) -> None:
        """403 when the resource is a section the caller may not browse (as its pages)."""
        if self.read_section is not None and self.request.method in ("GET", "HEAD"):
            check_section(product, self.read_section)

    def get_serializer_class(self):
        return self.output_serializer_class

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return context
        context["roles"] = self.roles()
        return context

    def filters(self) -> dict[str, Any]:
        """The list filters from the query string, validated (400 on bad values); read once
        per request."""
        cached = getattr(self, "_filters", None)
        if cached is not None:
            return cached
        filter_class = self.list_filter_class()
        self._filters: dict[str, Any] = {}
        if not _names_a_filter(filter_class, self.request.query_params):
            return self._filters  # nothing to validate (a list's first page): no serializer
        # A plain dict, not the QueryDict: DRF reads an empty HTML-form value as "absent",
        # but `?status=` is a bad filter value and gets a 400 like any other.
        serializer = filter_class(
            data=self.request.query_params.dict(), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        self._filters = {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}
        return self._filters

    def validated_input(self, serializer_class, **context: Any) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), **context}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # --- conditional requests ---------------------------------------------------------

    def audience(self, instance: models.Model) -> str:
        product = getattr(instance, "product", None)
        viewer = self.viewers().get(product.workspace_id) if product else None
        return "internal" if viewer is not None and viewer.is_team else "public"

    def etag(self, instance: models.Model) -> str:
        return conditional.etag_for(instance, self.audience(instance))

    def check_if_match(self, instance: models.Model) -> bool:
        """Refuse a write based on a stale ETag (412). True when If-Match was given."""
        header = self.request.headers.get("If-Match")
        current = self.etag(instance)
        if conditional.match_fails(header, current):
            raise PreconditionFailed(etag=current)
        return bool(header)

    def detail_response(self, instance: models.Model, status_code: int = 200) -> Response:
        etag = self.etag(instance)
        data = self.get_serializer(instance).data
        response = Response(data, status=status_code, headers={"ETag": etag})
        response["Vary"] = "Accept, Authorization, Cookie"
        return response


if TYPE_CHECKING:
    # For mypy, the mixins are the viewset they are mixed into.
    _ViewSetBase = ResourceViewSet
else:
    _ViewSetBase = object


class ListMixin(_ViewSetBase):
    """GET on the collection: the queryset, paginated, rendered."""

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is not None:
            response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        else:
            response = Response(self.get_serializer(queryset, many=True).data)
        return conditional.list_response(request, response)


class RetrieveMixin(_ViewSetBase):
    """GET on one item, with an ETag; `If-None-Match` with the current ETag gets 304."""

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        etag = self.etag(instance)
        if conditional.none_match(request.headers.get("If-None-Match"), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return self.detail_response(instance)


class UpdateMixin(_ViewSetBase):
    """PATCH on one item: a versioned change through the resource's service (`update_item`).

    The change is based on `version` in the body, else on the `If-Match` ETag, else on what is
    stored: stale, nothing changes (409 with the current version; 412 with the current ETag).
    The body is checked by `update_serializer_class` (context: `instance`, `product`) and the
    service's refusals come back as 400 with field messages (pm.api.exceptions)."""

    def update_item(
        self, instance: Any, data: dict[str, Any], *, expected_version: int, actor: Any
    ) -> Any:
        raise NotImplementedError

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        if_match = self.check_if_match(instance)
        data = self.validated_input(
            self.update_serializer_class, instance=instance, product=instance.product
        )
        version = data.pop("version", None)
        try:
            self.update_item(
                instance,
                data,
                expected_version=version if version is not None else instance.version,
                actor=signed_in(request),
            )
        except EditConflict as exc:
            if version is None and if_match:  # changed between our check and the write
                raise PreconditionFailed(etag=self.etag(exc.current)) from exc
            raise Conflict(version=exc.current.version) from exc
        return self.detail_response(self.get_object())


class DestroyMixin(_ViewSetBase):
    """DELETE on one item through the resource's service (`delete_item`): 204. With
    `If-Match`, a stale ETag gets 412 and nothing is deleted."""

    def delete_item(self, instance: Any, *, actor: Any) -> None:
        raise NotImplementedError

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        self.check_if_match(instance)
        self.delete_item(instance, actor=signed_in(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductScopedViewSet(ResourceViewSet):
    """A resource whose rows belong to a product (`product` FK): lists cover the caller's
    workspaces, or one product with `?product=` (id or key); POSTs name their product in the
    body; internal fields are for members who see them (`context["internal"]`)."""

    def scope(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        if "product" in filters:
            product = product_for_user(signed_in(self.request), filters["product"], need=self.need)
            return queryset.filter(product=product)
        return queryset.filter(product__workspace_id__in=self.workspace_ids())

    def check_write_role(self) -> None:
        """Refuse a write at once when the caller's role allows it in no workspace, before
        reading the body (so a stakeholder gets 403, not a 400 about their input)."""
        if not any(role_allows(role, self.write_need) for role in self.roles().values()):
            raise PermissionDenied("Your role does not allow this.")

    def internal_workspaces(self) -> set[int]:
        """Workspace ids where the caller sees internal fields (the team, pm.visibility)."""
        return {ws for ws, viewer in self.viewers().items() if viewer.is_team}

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["internal"] = self.internal_workspaces()
        return context

    def product_from_body(self) -> Product:
        """The product a POST is for (`product`: id or key), checked against write_need."""
        body = self.request.data if isinstance(self.request.data, dict) else {}
        if body.get("product") in (None, ""):
            raise serializers.ValidationError({"product": ["This field is required."]})
        try:
            value = ProductRefField().run_validation(body["product"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"product": exc.detail}) from exc
        return product_for_user(signed_in(self.request), value, need=self.write_need)
