"""Writes for webhooks: endpoints (created, edited, secret rotated, deleted), redelivery by
hand, and turning off an endpoint that failed for days."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hooks.events import CHAT_EVENTS, EVENTS, enqueue, forget_subscriptions
from hooks.models import Delivery, Endpoint, new_secret
from hooks.sending import validate_url
from pm.choices import ActivityAction, Role
from pm.models import Membership, Workspace
from pm.services import activity_record

log = logging.getLogger(__name__)


def _clean(*, url: str, kind: str, events: list[str]) -> list[str]:
    errors: dict[str, list[str]] = {}
    try:
        validate_url(url)
    except ValidationError as exc:
        errors["url"] = exc.messages
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        errors["events"] = [f"Unknown events: {', '.join(unknown)}."]
    elif not events:
        errors["events"] = ["Choose at least one event."]
    elif kind in (Endpoint.Kind.SLACK, Endpoint.Kind.TEAMS):
        other = sorted(set(events) - set(CHAT_EVENTS))
        if other:
            errors["events"] = [
                "Chat channels get shipped features, critical feedback and KPIs off target; "
                f"not {', '.join(other)}."
            ]
    if kind not in Endpoint.Kind.values:
        errors["kind"] = ["Choose webhook, Slack or Teams."]
    if errors:
        raise ValidationError(errors)
    return sorted(set(events))


@transaction.atomic
def endpoint_create(
    *, workspace: Workspace, name: str, url: str, kind: str, events: list[str], actor: User
) -> Endpoint:
    """A new endpoint with a new secret (the caller shows it once)."""
    events = _clean(url=url, kind=kind, events=events)
    endpoint = Endpoint(
        workspace=workspace, name=name.strip(), url=url, kind=kind, events=events, created_by=actor
    )
    endpoint.full_clean()
    endpoint.save()
    activity_record(
        instance=endpoint,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={"name": [None, endpoint.name], "url": [None, url], "events": [None, events]},
        workspace=workspace,
    )
    forget_subscriptions(workspace.pk)
    return endpoint


@transaction.atomic
def endpoint_update(
    *, endpoint: Endpoint, name: str, url: str, events: list[str], active: bool, actor: User
) -> Endpoint:
    events = _clean(url=url, kind=endpoint.kind, events=events)
    current = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    changes = {}
    for field, value in (("name", name.strip()), ("url", url), ("events", events)):
        if getattr(current, field) != value:
            changes[field] = [getattr(current, field), value]
            setattr(current, field, value)
    if current.active != active:
        changes["active"] = [current.active, active]
        current.active = active
        if active:  # turned on again by hand: a fresh start
            current.disabled_at, current.disabled_reason, current.failing_since = None, "", None
    if not changes:
        return current
    current.full_clean()
    current.save()
    activity_record(
        instance=current,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes=changes,
        workspace=current.workspace,
    )
    forget_subscriptions(current.workspace_id)
    return current


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint, actor: User) -> str:
    """A new secret; for a day deliveries are signed with the old one too."""
    current = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    current.previous_secret = current.secret
    current.secret = new_secret()
    current.rotated_at = timezone.now()
    current.save(update_fields=["previous_secret", "secret", "rotated_at", "updated_at"])
    activity_record(
        instance=current,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"secret": ["…", "rotated"]},
        workspace=current.workspace,
    )
    return current.secret


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor: User) -> None:
    workspace = endpoint.workspace
    activity_record(
        instance=endpoint, action=ActivityAction.DELETED, actor=actor, workspace=workspace
    )
    endpoint.delete()
    forget_subscriptions(workspace.pk)


def delivery_redeliver(*, delivery: Delivery, actor: User) -> Delivery:
    """Send a delivery again, now, with the same delivery id (a receiver that already handled
    it recognises it), and a fresh 24 hours of retries."""
    now = timezone.now()
    from datetime import timedelta

    window = timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    with transaction.atomic():
        updated = (
            Delivery.objects.filter(pk=delivery.pk)
            .exclude(status=Delivery.Status.SENDING, lease_until__gt=now)
            .update(
                status=Delivery.Status.PENDING,
                next_attempt_at=now,
                give_up_at=now + window,
                claimed_by="",
                lease_until=None,
            )
        )
        if not updated:
            raise ValidationError("This delivery is being sent right now.")
        transaction.on_commit(lambda: enqueue([delivery.pk]))
    log.info("delivery %s redelivered by %s", delivery.pk, actor)
    delivery.refresh_from_db()
    return delivery


def endpoint_disable_failing(*, endpoint: Endpoint, now: datetime) -> bool:
    """Turn off an endpoint that has failed since `failing_since`; e-mail the admins."""
    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    reason = f"Every delivery failed for {days} days (since {endpoint.failing_since:%d %b %Y})."
    turned_off = Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_at=now, disabled_reason=reason[:200]
    )
    if not turned_off:
        return False
    forget_subscriptions(endpoint.workspace_id)
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, last_error="The endpoint was disabled."
    )
    admins = list(
        Membership.objects.filter(workspace_id=endpoint.workspace_id, role=Role.ADMIN)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    workspace = Workspace.objects.get(pk=endpoint.workspace_id)
    url = settings.SITE_URL + reverse("webhook_detail", args=[workspace.slug, endpoint.pk])
    if admins:
        try:
            send_mail(
                subject=f"Webhook “{endpoint.name}” was turned off",
                message=(
                    f"Lodestar turned off the webhook endpoint “{endpoint.name}” of "
                    f"{workspace.name} ({endpoint.url}).\n\n{reason}\n\n"
                    f"See its deliveries and turn it on again when the receiver works:\n{url}\n"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=admins,
            )
        except OSError as exc:
            log.warning("endpoint %s disabled; the admins' e-mail failed: %s", endpoint.pk, exc)
    log.warning("endpoint %s disabled: %s", endpoint.pk, reason)
    return True
