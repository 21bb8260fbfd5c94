"""The filters of the backlog's lists, each written once (django-filter) and applied by both the
pages (through backlog.selectors) and the API (backlog.api).

Pages are lenient: a value the filter does not take (a stale link, a hand-edited URL) is left
out, never an error. The API validates the query string first (its filter serializers: 400 with
the field's message, and the OpenAPI parameters) and then hands the values to the same filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from backlog.choices import (
    FeatureKind,
    FeatureStatus,
    IdeaSource,
    IdeaStatus,
    MoSCoW,
    StoryStatus,
)

# The largest id PostgreSQL's bigint holds: a longer number is no row, not an error.
MAX_ID = 2**63 - 1


def _text(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Title or description contains the text (case-insensitive)."""
    if not (value := value.strip()):
        return queryset
    return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class FeatureFilter(django_filters.FilterSet):
    """The backlog: theme (an id, or "none"), status (or "open": neither shipped nor archived),
    kind, MoSCoW (or "none"), and q (text in the title or description)."""

    theme = django_filters.CharFilter(method="by_theme")
    status = django_filters.ChoiceFilter(
        choices=[*FeatureStatus.choices, ("open", "Open")], method="by_status"
    )
    kind = django_filters.ChoiceFilter(choices=FeatureKind.choices)
    moscow = django_filters.ChoiceFilter(
        choices=[*MoSCoW.choices, ("none", "Not set")], method="by_moscow"
    )
    q = django_filters.CharFilter(method=_text)

    def by_theme(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        value = str(value)
        if value == "none":
            return queryset.filter(theme=None)
        return by_id(queryset, "theme_id", value)

    def by_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "open":
            return queryset.exclude(status__in=[FeatureStatus.SHIPPED, FeatureStatus.ARCHIVED])
        return queryset.filter(status=value)

    def by_moscow(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(moscow="" if value == "none" else value)


class IdeaFilter(django_filters.FilterSet):
    """The ideas inbox: status (or "open": new or under review), source, and q."""

    status = django_filters.ChoiceFilter(
        choices=[*IdeaStatus.choices, ("open", "Open")], method="by_status"
    )
    source = django_filters.ChoiceFilter(choices=IdeaSource.choices)
    q = django_filters.CharFilter(method=_text)

    def by_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "open":
            return queryset.filter(status__in=[IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW])
        return queryset.filter(status=value)


class StoryFilter(django_filters.FilterSet):
    """Stories: feature (an id), sprint (an id, "current": each product's sprint running
    today, else the next, else the latest; or "none"), status, assignee (a user id, "me" or
    "none") and updated_since (ISO 8601; without an offset, in the server's time zone).
    `user` is who "me" is."""

    feature = django_filters.NumberFilter(field_name="feature_id", min_value=1, max_value=MAX_ID)
    sprint = django_filters.CharFilter(method="by_sprint")
    status = django_filters.ChoiceFilter(choices=StoryStatus.choices)
    assignee = django_filters.CharFilter(method="by_assignee")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def by_sprint(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        from backlog.selectors import current_sprint_ids
        from pm.models import Product

        value = str(value)
        if value == "current":
            products = Product.objects.filter(
                pk__in=queryset.values("product_id").order_by().distinct()
            )
            return queryset.filter(sprint_id__in=current_sprint_ids(products))
        if value == "none":
            return queryset.filter(sprint=None)
        return by_id(queryset, "sprint_id", value)

    def by_assignee(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        value = str(value)
        if value == "me":
            return queryset.filter(assignee=self.user) if self.user else queryset.none()
        if value == "none":
            return queryset.filter(assignee=None)
        return by_id(queryset, "assignee_id", value)


def by_id(queryset: QuerySet, field: str, value: str) -> QuerySet:
    """Rows whose `field` is the id `value`; a value that is no id filters nothing (pages)."""
    if value.isdecimal() and 0 < int(value) <= MAX_ID:
        return queryset.filter(**{field: int(value)})
    return queryset


def filtered(
    filterset: type[django_filters.FilterSet],
    queryset: QuerySet,
    values: Mapping[str, Any],
    **options: Any,
) -> QuerySet:
    """`queryset` narrowed by the values (a dict, or a QueryDict's last values) that
    `filterset` takes; other keys, empty values and values it does not accept are left out."""
    data = {k: v for k, v in values.items() if v not in (None, "")}
    return filterset(data, queryset=queryset, **options).qs
