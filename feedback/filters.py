"""The feedback list's filters, written once (django-filter) for the inbox page
(feedback.selectors.inbox_items) and GET /api/v1/feedback/ (feedback.api), as backlog.filters."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from backlog.filters import MAX_ID
from feedback.choices import FeedbackStatus, Source


class FeedbackFilter(django_filters.FilterSet):
    """status, source, customer (an id) and q (text in the feedback)."""

    status = django_filters.ChoiceFilter(choices=FeedbackStatus.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    customer = django_filters.NumberFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    q = django_filters.CharFilter(method="by_text")

    def by_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(content__icontains=value) if value else queryset
