"""The initiatives' filters, written once (django-filter, as backlog.filters) for the timeline
and the board (roadmap.selectors.initiative_list, after the pages' FilterForm has offered the
product's themes and objectives) and GET /api/v1/initiatives/ (roadmap.api)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from backlog.filters import by_id
from roadmap.choices import Horizon, InitiativeStatus


class InitiativeFilter(django_filters.FilterSet):
    """theme (an id, or "none"), status, horizon, objective (an id)."""

    theme = django_filters.CharFilter(method="by_theme")
    status = django_filters.ChoiceFilter(choices=InitiativeStatus.choices)
    horizon = django_filters.ChoiceFilter(choices=Horizon.choices)
    objective = django_filters.CharFilter(method="by_objective")

    def by_theme(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        value = str(value)
        if value == "none":
            return queryset.filter(theme=None)
        return by_id(queryset, "theme_id", value)

    def by_objective(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return by_id(queryset, "objectives", str(value))
