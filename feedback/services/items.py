"""Feedback items and their triage (status)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from feedback.choices import FeedbackStatus, Sentiment
from feedback.models import Customer, FeedbackItem, ResearchStudy
from feedback.services.common import FEEDBACK_FIELDS, REDACTED, _excerpt, _reject_unknown
from feedback.services.insights import demand_recompute
from pm.choices import ActivityAction
from pm.models import Product
from pm.services import EditConflict, activity_record, changed_since, field_display


def _check_customer(product: Product, customer: Customer | None) -> None:
    if customer is not None and customer.workspace_id != product.workspace_id:
        raise ValidationError({"customer": "Choose a customer of this workspace."})


@transaction.atomic
def feedback_create(
    *,
    product: Product,
    content: str,
    source: str,
    actor: User | None,
    customer: Customer | None = None,
    sentiment: str = Sentiment.NEUTRAL,
    received_at: datetime | None = None,
    study: ResearchStudy | None = None,
) -> FeedbackItem:
    """Capture one piece of feedback; it starts in the triage inbox as new."""
    _check_customer(product, customer)
    if study is not None and study.product_id != product.pk:
        raise ValidationError({"study": "Choose a study of this product."})
    item = FeedbackItem(
        product=product,
        customer=customer,
        study=study,
        source=source,
        content=(content or "").strip(),
        sentiment=sentiment or Sentiment.NEUTRAL,
        received_at=received_at or timezone.now(),
        created_by=actor,
    )
    item.full_clean()
    item.save()
    changes = {
        "source": [None, item.get_source_display()],
        "sentiment": [None, item.get_sentiment_display()],
        "content": [None, _excerpt(item.content)],
    }
    if study is not None:
        changes["study"] = [None, study.title]
    activity_record(instance=item, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return item


def _feedback_display(item: FeedbackItem, name: str) -> Any:
    if name == "customer":
        return REDACTED if item.customer_id else None
    value = field_display(item, name)
    return _excerpt(value) if name == "content" else value


@transaction.atomic
def feedback_update(
    *, item: FeedbackItem, data: dict[str, Any], expected_version: int, actor: User
) -> FeedbackItem:
    """Edit what was said, by whom, where and when — unless someone saved the item since
    `expected_version` (EditConflict; nothing is written)."""
    _reject_unknown(data, FEEDBACK_FIELDS)
    current = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    if current.version != expected_version:
        raise EditConflict(current=current, entries=changed_since(current, expected_version))
    _check_customer(item.product, data.get("customer"))
    before_customer = current.customer_id
    changes: dict[str, list[Any]] = {}
    for name, value in data.items():
        if name == "content":
            value = (value or "").strip()
        before, before_display = getattr(current, name), _feedback_display(current, name)
        setattr(current, name, value)
        if getattr(current, name) != before:
            changes[name] = [before_display, _feedback_display(current, name)]
    if not changes:
        return current
    current.full_clean()
    current.version += 1
    current.save(update_fields=[*data, "version", "updated_at"])
    activity_record(instance=current, action=ActivityAction.UPDATED, actor=actor, changes=changes)
    if current.customer_id != before_customer:
        demand_recompute(
            feature_ids=current.insights.filter(feature__isnull=False).values_list(
                "feature_id", flat=True
            )
        )
    return current


@transaction.atomic
def feedback_set_status(*, item: FeedbackItem, status: str, actor: User) -> FeedbackItem:
    """Triage: mark triaged, archive, or reopen as new. An item with insights is "linked"
    rather than triaged or new. Archived items stop counting towards feature demand.

    Status is triage bookkeeping, not content: it does not bump the version, so it never makes
    an open edit form conflict."""
    if status not in (FeedbackStatus.NEW, FeedbackStatus.TRIAGED, FeedbackStatus.ARCHIVED):
        raise ValidationError({"status": "Choose new, triaged or archived."})
    current = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    has_insights = current.insights.exists()
    if status != FeedbackStatus.ARCHIVED and has_insights:
        status = FeedbackStatus.LINKED
    before = current.status
    if before == status:
        return current
    current.status = status
    current.save(update_fields=["status", "updated_at"])
    activity_record(
        instance=current,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={
            "status": [FeedbackStatus(before).label, FeedbackStatus(status).label],
        },
    )
    if has_insights and FeedbackStatus.ARCHIVED in (before, status):
        demand_recompute(
            feature_ids=current.insights.filter(feature__isnull=False).values_list(
                "feature_id", flat=True
            )
        )
    item.status = current.status
    return current
