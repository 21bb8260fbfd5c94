"""Acting on suggestions by meaning: merging duplicate feedback, recording decisions, and
linking a theme's feedback to a feature."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backlog.models import Feature
from feedback.choices import FeedbackStatus
from feedback.models import Embedding, FeedbackItem, FeedbackTheme, Insight, SuggestionDecision
from feedback.services.common import _excerpt
from feedback.services.insights import insight_create
from pm.choices import ActivityAction
from pm.models import Product
from pm.services import activity_record


@transaction.atomic
def feedback_merge(*, item: FeedbackItem, into: FeedbackItem, actor: User) -> FeedbackItem:
    """`item` says what `into` says: it is archived as a duplicate, and linked to every feature
    and idea `into` is linked to that it was not, so its customer still counts as demand (each
    item keeps its customer and its own links). History on both items."""
    if item.pk == into.pk:
        raise ValidationError({"into": "Feedback cannot be merged into itself."})
    if item.product_id != into.product_id:
        raise ValidationError({"into": "Choose feedback of the same product."})
    locked = {
        i.pk: i
        for i in FeedbackItem.objects.select_for_update()
        .select_related("product")
        .filter(pk__in=[item.pk, into.pk])
        .order_by("pk")
    }
    source, target = locked[item.pk], locked[into.pk]
    have = {(i.feature_id, i.idea_id) for i in source.insights.all()}
    added = 0
    for insight in target.insights.select_related("feature", "idea"):
        if (insight.feature_id, insight.idea_id) in have:
            continue
        insight_create(
            item=source,
            feature=insight.feature,
            idea=insight.idea,
            quote=_excerpt(source.content, 300),
            importance=insight.importance,
            actor=actor,
        )
        added += 1
    FeedbackItem.objects.filter(pk=source.pk).update(
        status=FeedbackStatus.ARCHIVED, updated_at=timezone.now()
    )
    source.status = FeedbackStatus.ARCHIVED
    activity_record(
        instance=source,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"merged into": [None, f"feedback #{target.pk}"], "status": [None, "Archived"]},
    )
    activity_record(
        instance=target,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"duplicate merged in": [None, f"feedback #{source.pk} ({added} links copied)"]},
    )
    return target


def suggestion_decide(
    *,
    product: Product,
    kind: str,
    source: tuple[str, int],
    target: tuple[str, int],
    accepted: bool,
    actor: User | None,
) -> SuggestionDecision:
    """Remember a PM's answer to a suggestion (the last answer counts)."""
    decision, _ = SuggestionDecision.objects.update_or_create(
        kind=kind,
        source_kind=source[0],
        source_id=source[1],
        target_kind=target[0],
        target_id=target[1],
        defaults={"product": product, "accepted": accepted, "decided_by": actor},
    )
    return decision


@transaction.atomic
def theme_link_feature(*, theme: FeedbackTheme, feature: Feature, actor: User) -> int:
    """Link every feedback item of `theme` to `feature` (as insights, quote = the text), and
    remember the feature on the theme. Items already linked to it are left alone. Returns how
    many were linked."""
    if feature.product_id != theme.product_id:
        raise ValidationError({"feature": "Choose a feature of this product."})
    member_ids = list(
        Embedding.objects.filter(theme=theme, kind="feedback").values_list("object_id", flat=True)
    )
    already = set(
        Insight.objects.filter(feature=feature, feedback_item_id__in=member_ids).values_list(
            "feedback_item_id", flat=True
        )
    )
    linked = 0
    for item in FeedbackItem.objects.filter(
        pk__in=member_ids, product_id=theme.product_id
    ).select_related("product"):
        if item.pk in already:
            continue
        insight_create(item=item, feature=feature, quote=_excerpt(item.content, 300), actor=actor)
        linked += 1
    theme.feature = feature
    theme.save(update_fields=["feature", "updated_at"])
    return linked
