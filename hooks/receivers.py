"""What the hooks app listens to (activity entries, critical insights, KPI recalculations) and
the panels it adds to other apps' pages."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db.models.signals import post_save
from django.http import HttpRequest

log = logging.getLogger(__name__)


def connect() -> None:
    from feedback.models import Insight
    from metrics.signals import kpi_recalculated
    from pm.models import ActivityLog
    from pm.signals import activity_bulk_recorded

    post_save.connect(on_activity_saved, sender=ActivityLog, dispatch_uid="hooks.activity")
    activity_bulk_recorded.connect(on_activity_bulk, dispatch_uid="hooks.activity_bulk")
    post_save.connect(on_insight_saved, sender=Insight, dispatch_uid="hooks.insight")
    kpi_recalculated.connect(on_kpi_recalculated, dispatch_uid="hooks.kpi")


def on_activity_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from hooks.events import on_activity

        on_activity([instance])


def on_activity_bulk(sender, entries, **kwargs) -> None:
    from hooks.events import on_activity

    on_activity(entries)


def on_insight_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Feedback linked as critical: `feedback.critical`, about the feedback item."""
    from feedback.choices import Importance

    if not created or raw or instance.importance != Importance.CRITICAL:
        return
    from hooks.events import emit_object, subscribed_events

    item = instance.feedback_item
    if "feedback.critical" not in subscribed_events(item.product.workspace_id):
        return
    linked = instance.feature or instance.idea
    emit_object(
        event="feedback.critical",
        obj=item,
        extra={
            "insight": {
                "id": instance.pk,
                "quote": instance.quote,
                "importance": instance.importance,
                "linked_to": str(linked) if linked else "",
            }
        },
    )


def kpi_off_target(summary) -> bool:
    """As the digest has it: a target is set, not met, and less than 90% of the way there."""
    return not summary.target_met and summary.progress is not None and summary.progress < 0.9


def on_kpi_recalculated(sender, kpi_id: int, **kwargs) -> None:
    """`kpi.off_target` when a KPI (or a ratio built on it) goes from on to off target."""
    from django.db.models import Q

    from hooks.events import emit_object, subscribed_events
    from hooks.models import KpiTargetState
    from metrics.models import KPI
    from metrics.selectors import kpi_summaries

    kpis = list(
        KPI.objects.filter(Q(pk=kpi_id) | Q(numerator_id=kpi_id) | Q(denominator_id=kpi_id))
        .filter(target_value__isnull=False)
        .select_related("product__workspace")
    )
    if not kpis or "kpi.off_target" not in subscribed_events(kpis[0].product.workspace_id):
        return
    states = {s.kpi_id: s for s in KpiTargetState.objects.filter(kpi__in=kpis)}
    for summary in kpi_summaries(kpis):
        if summary.latest is None:
            continue
        off = kpi_off_target(summary)
        state = states.get(summary.kpi.pk)
        was_off = state.off_target if state else False
        KpiTargetState.objects.update_or_create(
            kpi=summary.kpi,
            defaults={"off_target": off, "workspace_id": summary.kpi.product.workspace_id},
        )
        if off and not was_off:
            emit_object(
                event="kpi.off_target",
                obj=summary.kpi,
                extra={
                    "target": {
                        "latest": _plain(summary.latest),
                        "target": _plain(summary.kpi.target_value),
                        "progress_percent": summary.progress_percent,
                    }
                },
            )


def _plain(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


# --- panels -------------------------------------------------------------------------------


def story_panel(request: HttpRequest, story) -> dict:
    """The story's Development panel: linked commits, branches and pull requests (one query)."""
    from hooks.models import DevLink
    from pm.permissions import membership_for, role_allows

    links = list(DevLink.objects.filter(story=story).order_by("kind", "-updated_at")[:50])
    return {
        "story": story,
        "product": story.product,
        "links": links,
        "pull_requests": [link for link in links if link.kind == DevLink.Kind.PULL_REQUEST],
        "branches": [link for link in links if link.kind == DevLink.Kind.BRANCH],
        "commits": [link for link in links if link.kind == DevLink.Kind.COMMIT],
        "can_configure": role_allows(
            getattr(membership_for(request.user, story.product.workspace_id), "role", None),
            "admin",
        ),
    }
