"""The events endpoints subscribe to, and the outbox: `emit` writes one Delivery per subscribed
endpoint in the transaction of the change and hands them to the `webhooks` queue once it commits.

Events come from the activity log (every create and update of the core models writes one entry
in its own transaction), from insights marked critical, and from KPI recalculations. Payloads are
what an engineer's API token reads: each object goes through the visibility policy for the
engineer audience and then through the API's own serializer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from pm import visibility
from pm.choices import ActivityAction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectKind:
    name: str  # story, feature, … (the event prefix)
    model_label: str  # app_label.model
    serializer: str  # dotted path of the API serializer an engineer's token reads it through
    url: Callable[[Any], str]
    prefetch: tuple[str, ...] = ()
    shipped: Callable[[Any, dict], bool] | None = None  # (object, changes) → just shipped?
    status_field: str | None = "status"

    def queryset(self) -> QuerySet:
        model = apps.get_model(self.model_label)
        return model.objects.select_related("product__workspace").prefetch_related(*self.prefetch)

    def serialize(self, obj: Model) -> dict:
        return dict(import_string(self.serializer)(obj).data)


def _status_shipped(obj: Any, changes: dict) -> bool:
    return "status" in changes and obj.status == "shipped"


def _release_shipped(obj: Any, changes: dict) -> bool:
    before = (changes.get("shipped_date") or [None, None])[0]
    return "shipped_date" in changes and before in (None, "") and obj.shipped_date is not None


def _site(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=args)


KINDS = {
    k.model_label: k
    for k in (
        ObjectKind(
            "story",
            "backlog.userstory",
            "backlog.api.StorySerializer",
            lambda o: _site("story_detail", o.product.key, o.number),
        ),
        ObjectKind(
            "feature",
            "backlog.feature",
            "backlog.api.FeatureSerializer",
            lambda o: _site("feature_detail", o.product.key, o.pk),
            shipped=_status_shipped,
        ),
        ObjectKind(
            "idea",
            "backlog.idea",
            "backlog.api.IdeaSerializer",
            lambda o: _site("idea_detail", o.product.key, o.pk),
        ),
        ObjectKind(
            "initiative",
            "roadmap.initiative",
            "roadmap.api.InitiativeSerializer",
            lambda o: _site("roadmap", o.product.key),
            prefetch=("objectives", "features"),
            shipped=_status_shipped,
        ),
        ObjectKind(
            "release",
            "roadmap.release",
            "roadmap.api.ReleaseSerializer",
            lambda o: _site("roadmap", o.product.key),
            prefetch=("features",),
            shipped=_release_shipped,
            status_field=None,
        ),
        ObjectKind(
            "feedback",
            "feedback.feedbackitem",
            "feedback.api.FeedbackOut",
            lambda o: _site("feedback_detail", o.product.key, o.pk),
            prefetch=("customer", "insights"),
            status_field=None,
        ),
        ObjectKind(
            "kpi",
            "metrics.kpi",
            "metrics.api.KPISerializer",
            lambda o: _site("kpi_detail", o.product.key, o.pk),
            status_field=None,
        ),
    )
}
BY_NAME = {k.name: k for k in KINDS.values()}

# Every event an endpoint may subscribe to, with what it means (the settings page lists them).
EVENTS: dict[str, str] = {}
for _kind in ("story", "feature", "idea", "initiative", "release"):
    _a = "An" if _kind[0] in "aeiou" else "A"
    EVENTS[f"{_kind}.created"] = f"{_a} {_kind} was created"
    EVENTS[f"{_kind}.updated"] = f"{_a} {_kind} was edited"
    if BY_NAME[_kind].status_field:
        EVENTS[f"{_kind}.status_changed"] = f"{_a} {_kind}'s status changed"
    if BY_NAME[_kind].shipped:
        EVENTS[f"{_kind}.shipped"] = f"{_a} {_kind} shipped"
EVENTS["feedback.created"] = "Feedback was recorded"
EVENTS["feedback.critical"] = "Feedback was linked to a feature or idea as critical"
EVENTS["kpi.off_target"] = "A KPI went off target"
# What a chat channel is for: the few events worth a message.
CHAT_EVENTS = ("feature.shipped", "feedback.critical", "kpi.off_target")


# --- who listens --------------------------------------------------------------------------

CACHE_KEY = "hooks:subscribed:{}"
CACHE_SECONDS = 300


def subscribed_events(workspace_id: int) -> frozenset[str]:
    """The events any active endpoint of the workspace wants: most writes happen in workspaces
    without endpoints, and this answer comes from the cache (no query per write)."""
    from hooks.models import Endpoint

    key = CACHE_KEY.format(workspace_id)
    events = cache.get(key)
    if events is None:
        events = set()
        for names in Endpoint.objects.filter(workspace_id=workspace_id, active=True).values_list(
            "events", flat=True
        ):
            events |= set(names or ())
        events = sorted(events)
        cache.set(key, events, CACHE_SECONDS)
    return frozenset(events)


def forget_subscriptions(workspace_id: int) -> None:
    # After the transaction: a reader must not cache the state from before it.
    transaction.on_commit(lambda: cache.delete(CACHE_KEY.format(workspace_id)))
    cache.delete(CACHE_KEY.format(workspace_id))


# --- emitting -----------------------------------------------------------------------------


def engineer_view(kind: ObjectKind, pk: int, workspace: Any) -> Any:
    """The object as an engineer's API token reads it (None when gone)."""
    viewer = visibility.viewer_for_role("engineer", workspace)
    return visibility.apply(kind.queryset().filter(pk=pk), viewer).first()


def payload(*, event: str, obj: Any, kind: ObjectKind, extra: dict | None = None) -> dict:
    product = obj.product
    body = {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "workspace": product.workspace.slug,
        "product": product.key,
        "object": {"type": kind.name, "id": obj.pk, "url": kind.url(obj)},
        "data": kind.serialize(obj),
    }
    body.update(extra or {})
    return body


def events_for_entry(entry: Any, kind: ObjectKind, obj: Any) -> list[str]:
    changes = entry.changes or {}
    if entry.action == ActivityAction.CREATED:
        return [f"{kind.name}.created"]
    if entry.action != ActivityAction.UPDATED:
        return []
    names = [f"{kind.name}.updated"]
    if kind.status_field and kind.status_field in changes:
        names.append(f"{kind.name}.status_changed")
    if kind.shipped and kind.shipped(obj, changes):
        names.append(f"{kind.name}.shipped")
    return names


def on_activity(entries: Iterable) -> None:
    """Activity entries just written (same transaction): events for the ones endpoints want."""
    for entry in entries:
        kind = KINDS.get(entry.object_type)
        if kind is None or entry.product_id is None:
            continue
        wanted = subscribed_events(entry.workspace_id)
        if not wanted or not any(e.startswith(kind.name + ".") for e in wanted):
            continue
        obj = engineer_view(kind, entry.object_id, entry.workspace)
        if obj is None:
            continue
        names = [n for n in events_for_entry(entry, kind, obj) if n in wanted]
        if not names:
            continue
        changes = {"changes": entry.changes or {}} if entry.action == ActivityAction.UPDATED else {}
        for name in names:
            emit(
                workspace_id=entry.workspace_id,
                event=name,
                object_key=f"{kind.model_label}:{obj.pk}",
                body=payload(event=name, obj=obj, kind=kind, extra=changes),
            )


def emit_object(*, event: str, obj: Any, extra: dict | None = None) -> int:
    """An event about `obj` outside the activity log (critical feedback, KPI off target)."""
    kind = KINDS[obj._meta.label_lower]
    workspace_id = obj.product.workspace_id
    if event not in subscribed_events(workspace_id):
        return 0
    seen = engineer_view(kind, obj.pk, obj.product.workspace)
    if seen is None:
        return 0
    return emit(
        workspace_id=workspace_id,
        event=event,
        object_key=f"{kind.model_label}:{obj.pk}",
        body=payload(event=event, obj=seen, kind=kind, extra=extra),
    )


def emit(*, workspace_id: int, event: str, object_key: str, body: dict) -> int:
    """Outbox rows for every active endpoint subscribed to `event`, enqueued on commit."""
    from hooks.models import Delivery, Endpoint

    endpoints = [
        e
        for e in Endpoint.objects.filter(workspace_id=workspace_id, active=True)
        if event in (e.events or ())
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    window = timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    rows = Delivery.objects.bulk_create(
        [
            Delivery(
                workspace_id=workspace_id,
                endpoint=e,
                event=event,
                object_key=object_key,
                payload=body,
                next_attempt_at=now,
                give_up_at=now + window,
            )
            for e in endpoints
        ]
    )
    ids = [d.pk for d in rows]
    transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


def enqueue(delivery_ids: list[int], countdown: float = 0) -> None:
    from hooks.tasks import deliver_webhook
    from pm.celery import app

    for pk in delivery_ids:
        if app.conf.task_always_eager:
            # Trial mode: no worker; send once in-process (a failure waits for "Redeliver").
            deliver_webhook.apply(args=(pk,), kwargs={"retry": False})
        else:
            deliver_webhook.apply_async(args=(pk,), countdown=countdown)
