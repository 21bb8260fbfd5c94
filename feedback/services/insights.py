"""Insights (feedback linked to a feature or idea) and the demand they put on features:
distinct customers and their summed ARR, stored on the feature through the backlog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Feature, Idea
from feedback.choices import FeedbackStatus, Importance
from feedback.models import FeedbackItem, Insight
from feedback.services.common import _excerpt
from pm.choices import ActivityAction, NotificationKind
from pm.notifications import notification_create
from pm.services import activity_record


def _target_label(insight: Insight) -> str:
    kind = "feature" if insight.feature_id else "idea"
    return f"{kind} “{insight.target}”"


@transaction.atomic
def insight_create(
    *,
    item: FeedbackItem,
    actor: User,
    feature: Feature | None = None,
    idea: Idea | None = None,
    quote: str = "",
    importance: str = Importance.IMPORTANT,
) -> Insight:
    """Link feedback to an idea or a feature, with the quote that matters and its importance.
    The item becomes "linked"; a feature's demand is recomputed."""
    if (feature is None) == (idea is None):
        raise ValidationError({"target": "Link the feedback to one idea or one feature."})
    target = feature or idea
    assert target is not None  # exactly one of them, checked above
    if target.product_id != item.product_id:
        raise ValidationError({"target": "Choose an idea or feature of this product."})
    insight = Insight(
        workspace_id=item.product.workspace_id,
        feedback_item=item,
        feature=feature,
        idea=idea,
        quote=(quote or "").strip(),
        importance=importance,
        created_by=actor,
    )
    insight.full_clean()
    try:
        with transaction.atomic():
            insight.save()
    except IntegrityError as exc:  # a concurrent identical link
        raise ValidationError({"target": "This feedback is already linked there."}) from exc
    FeedbackItem.objects.filter(pk=item.pk).exclude(status=FeedbackStatus.LINKED).update(
        status=FeedbackStatus.LINKED, updated_at=timezone.now()
    )
    item.status = FeedbackStatus.LINKED
    activity_record(
        instance=item,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={
            "linked to": [None, f"{_target_label(insight)} ({insight.get_importance_display()})"]
        },
    )
    if feature is not None:
        demand_recompute(feature_ids=[feature.pk])
        owner = feature.owner if feature.owner_id else None
        if owner is not None:
            who = actor.get_full_name() or actor.username
            notification_create(
                user=owner,
                kind=NotificationKind.FEEDBACK_LINKED,
                message=f"{who} linked feedback ({insight.get_importance_display().lower()}) "
                f"to your feature “{feature.title}”",
                url=reverse("feature_detail", args=[feature.product.key, feature.pk]),
                product=feature.product,
                actor=actor,
            )
    return insight


@transaction.atomic
def insight_update(
    *, insight: Insight, actor: User, importance: str | None = None, quote: str | None = None
) -> Insight:
    """Change how much the linked feedback matters, or its quote."""
    current = Insight.objects.select_for_update().select_related("feedback_item").get(pk=insight.pk)
    changes: dict[str, list[str | None]] = {}
    if importance is not None and importance != current.importance:
        before = current.get_importance_display()
        current.importance = importance
        changes["importance"] = [before, current.get_importance_display()]
    if quote is not None and quote.strip() != current.quote:
        current.quote = quote.strip()
        changes["quote"] = [None, _excerpt(current.quote)]
    if not changes:
        return current
    current.full_clean()
    current.save(update_fields=["importance", "quote"])
    activity_record(
        instance=current.feedback_item,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={f"link to {_target_label(current)}: {k}": v for k, v in changes.items()},
    )
    return current


@transaction.atomic
def insight_delete(*, insight: Insight, actor: User) -> None:
    """Unlink; an item left without links goes back to "triaged"."""
    item = FeedbackItem.objects.select_for_update().get(pk=insight.feedback_item_id)
    feature_id = insight.feature_id
    label = _target_label(insight)
    insight.delete()
    if item.status == FeedbackStatus.LINKED and not item.insights.exists():
        item.status = FeedbackStatus.TRIAGED
        item.save(update_fields=["status", "updated_at"])
    activity_record(
        instance=item,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"linked to": [label, None]},
    )
    if feature_id:
        demand_recompute(feature_ids=[feature_id])


def demand_of(feature_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Distinct customers and their summed ARR per feature, from linked, non-archived feedback.
    One query whatever the number of features."""
    rows = (
        Insight.objects.filter(feature_id__in=feature_ids, feedback_item__customer__isnull=False)
        .exclude(feedback_item__status=FeedbackStatus.ARCHIVED)
        .values_list("feature_id", "feedback_item__customer_id", "feedback_item__customer__arr")
        .distinct()
    )
    customers: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for feature_id, customer_id, arr in rows:
        customers[feature_id][customer_id] = arr
    return {
        fid: (len(customers[fid]), sum(customers[fid].values(), Decimal(0))) for fid in feature_ids
    }


@transaction.atomic
def demand_recompute(*, feature_ids: Iterable[int]) -> int:
    """Recompute and store (through the backlog) the demand of these features; returns how many
    changed. The features are locked first, so of two concurrent links the one that commits
    last counts both."""
    ids = sorted(set(feature_ids))
    if not ids:
        return 0
    features = list(Feature.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    demand = demand_of(ids)
    changed = 0
    for feature in features:
        customers, arr = demand[feature.pk]
        if feature.demand_customers == customers and feature.demand_arr == arr:
            continue
        backlog_services.feature_set_demand(feature=feature, customers=customers, arr=arr)
        changed += 1
    return changed
