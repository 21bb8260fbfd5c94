"""A read-only API resource of a product's rows: list (scoped to the caller's workspaces or one
`?product=`, visible rows only, simple equality filters) and retrieve (role-checked, 404 for rows
the caller may not see). For planning data that the pages write and integrations only read
(status updates, sprint reviews, retrospectives, pricing)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import QuerySet

from pm.api.viewsets import ListMixin, ProductScopedViewSet, RetrieveMixin
from roadmap.api import _Visible


class ProductReadViewSet(_Visible, ListMixin, RetrieveMixin, ProductScopedViewSet):
    # What one row is called in a 404 ("No such action item.").
    noun: ClassVar[str] = "item"
    # {query parameter: lookup}: a given (not None) filter value narrows the list.
    filter_lookups: ClassVar[dict[str, str]] = {}
    ordering: ClassVar[tuple[str, ...]] = ("id",)

    def base_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.base_queryset()
        if self.action != "list":
            return queryset
        filters = self.filters()
        queryset = self.visible(self.scope(queryset, filters))
        for name, lookup in self.filter_lookups.items():
            if filters.get(name) is not None:
                queryset = queryset.filter(**{lookup: filters[name]})
        return queryset.order_by(*self.ordering)

    def get_object(self) -> models.Model:
        return self.scoped_object(self.get_queryset(), self.noun)
