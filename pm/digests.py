"""Digest e-mails: scheduling, content and sending.

Exactly once per period: `digests_schedule` records one DigestDelivery row per (user, product,
period) under a unique constraint before anything is sent, so a second beat tick or a second
worker finds the row already there.

Sending is claimed and marked per message, so a worker killed at any moment duplicates at most
the one message it had handed to the SMTP server and not yet marked:

1. A batch first *reserves* its rows (pending → still pending, `claimed_by` = this run, a short
   lease). Reserved rows are what the run intends to send; its lease is renewed as it goes.
2. Each message is *claimed* with a conditional UPDATE (pending and reserved by this run →
   `sending`) just before it is handed to the SMTP server, and marked `sent` (with `sent_at`)
   right after the server accepted it.

A row whose lease has run out belongs to a run that died (a live run renews its lease long before
that): the next beat tick hands it to a worker again. A row left in `sending` is the message that
was in flight when its worker died; it is sent again, because whether the SMTP server accepted it
cannot be known. A row the SMTP server refused goes back to pending for the task's retry.

Content comes from the sections the apps register (`pm.registry.DigestSection`), built once per
product, role and period for a whole batch, so a batch costs a constant number of queries plus
two per message (its claim and its mark).
"""

import logging
import os
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from pm.choices import DeliveryStatus, DigestFrequency
from pm.models import DigestDelivery, DigestSubscription, Membership, Product
from pm.registry import registry

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# How long a batch handed to the queue by the beat waits before the next tick hands it out again
# (a queue message lost with its broker, say). Shorter than the beat interval (15 minutes).
QUEUE_WAIT = timedelta(minutes=10)
UNSUBSCRIBE_SALT = "lodestar.digest.unsubscribe"


# --- periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime  # when this period's digest is due (aware)
    since: datetime  # what it covers: from the previous due time …
    until: datetime  # … to this one


def current_period(subscription: DigestSubscription, now: datetime, tz: ZoneInfo) -> Period | None:
    """The latest period whose send time has passed, or None for an 'off' subscription."""
    local = now.astimezone(tz)
    due = local.replace(hour=subscription.hour, minute=0, second=0, microsecond=0)
    if subscription.frequency == DigestFrequency.DAILY:
        if due > local:
            due -= timedelta(days=1)
        return Period(due.date().isoformat(), due, due - timedelta(days=1), due)
    if subscription.frequency == DigestFrequency.WEEKLY:
        due -= timedelta(days=(local.weekday() - subscription.weekday) % 7)
        if due > local:
            due -= timedelta(days=7)
        year, week, _ = due.isocalendar()
        return Period(f"{year}-W{week:02d}", due, due - timedelta(days=7), due)
    return None


def _tz(product: Product) -> ZoneInfo:
    try:
        return ZoneInfo(product.workspace.time_zone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


# --- content ------------------------------------------------------------------------------


def digest_sections(*, product: Product, role: str, since: datetime, until: datetime) -> list:
    """[(DigestSection, context)] with something to say, as `role` may see it."""
    sections = []
    for section in registry.digest_sections:
        context = section.build(product=product, since=since, until=until, role=role)
        if context:
            sections.append((section, context))
    return sections


def unsubscribe_token(*, user_id: int, product_id: int) -> str:
    return signing.dumps({"u": user_id, "p": product_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_payload(token: str) -> dict | None:
    """The signed payload, or None when the token was tampered with."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not {"u", "p"} <= payload.keys():
        return None
    return payload


def render_digest(
    *, user: User, product: Product, sections: list, since: datetime, until: datetime
) -> dict:
    """Subject, text and HTML of one user's digest."""
    unsubscribe_url = settings.SITE_URL + reverse(
        "digest_unsubscribe", args=[unsubscribe_token(user_id=user.pk, product_id=product.pk)]
    )
    context = {
        "user": user,
        "product": product,
        "sections": sections,
        "since": since,
        "until": until,
        "site_url": settings.SITE_URL,
        "product_url": settings.SITE_URL + reverse("product_overview", args=[product.key]),
        "settings_url": settings.SITE_URL + reverse("digest_preview", args=[product.key]),
        "unsubscribe_url": unsubscribe_url,
    }
    return {
        "subject": f"{product.name}: what changed since {since.strftime('%-d %b')}",
        "text": render_to_string("pm/email/digest.txt", context),
        "html": render_to_string("pm/email/digest.html", context),
        "unsubscribe_url": unsubscribe_url,
    }


class DigestEmail(EmailMultiAlternatives):
    """A digest message whose headers are never folded below RFC 5322's 998-character limit.

    `List-Unsubscribe: <https://…/long-signed-token/>` is one unbreakable word: the standard
    library's folding would RFC 2047-encode and split it (`=?utf-8?q?=3Chttps…?=`), which mail
    clients' one-click unsubscribe (RFC 2369/8058) does not parse.
    """

    def message(self, *, policy=email_policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


# --- scheduling ---------------------------------------------------------------------------


def digests_schedule(*, now: datetime | None = None) -> list[int]:
    """Record the deliveries that are due and return their ids. Safe to run any number of times
    at once: a period's row is inserted once, whoever gets there first."""
    now = now or timezone.now()
    created: list[int] = []
    subscriptions = (
        DigestSubscription.objects.exclude(frequency=DigestFrequency.OFF)
        .filter(user__is_active=True)
        .select_related("product__workspace")
        .order_by("pk")
    )
    last_pk = 0
    while True:
        # Queries per batch: subscriptions, existing deliveries, the insert, the re-read.
        batch = list(subscriptions.filter(pk__gt=last_pk)[:BATCH_SIZE])
        if not batch:
            break
        last_pk = batch[-1].pk
        wanted = {}
        for sub in batch:
            period = current_period(sub, now, _tz(sub.product))
            # A subscription made after the period's send time waits for the next period.
            if period and sub.updated_at <= period.start:
                wanted[(sub.user_id, sub.product_id, period.key)] = (sub, period)
        if not wanted:
            continue
        existing = set(
            DigestDelivery.objects.filter(
                user_id__in={k[0] for k in wanted}, product_id__in={k[1] for k in wanted}
            )
            .filter(period_key__in={k[2] for k in wanted})
            .values_list("user_id", "product_id", "period_key")
        )
        new = [
            DigestDelivery(
                user_id=user_id,
                product_id=product_id,
                period_key=key,
                frequency=sub.frequency,
                period_start=period.start,
            )
            for (user_id, product_id, key), (sub, period) in wanted.items()
            if (user_id, product_id, key) not in existing
        ]
        if not new:
            continue
        # Another scheduler may insert the same rows concurrently: the constraint keeps one.
        DigestDelivery.objects.bulk_create(new, ignore_conflicts=True)
        q = Q()
        for d in new:
            q |= Q(user_id=d.user_id, product_id=d.product_id, period_key=d.period_key)
        created += list(
            DigestDelivery.objects.filter(q, status=DeliveryStatus.PENDING, attempts=0).values_list(
                "pk", flat=True
            )
        )
    return created


# --- sending ------------------------------------------------------------------------------


def claim_lease() -> timedelta:
    """How long a run's reservation and its in-flight claim hold without being renewed. Longer
    than rendering and sending one message can take (EMAIL_TIMEOUT bounds the SMTP part), much
    shorter than the beat interval, so a dead run's rows go out again at the next tick."""
    return timedelta(seconds=settings.DIGEST_LEASE_SECONDS)


def run_owner(task_id: str | None = None) -> str:
    """A name for one run of a batch, unique even when the broker redelivers the same task: the
    task id (for the logs), the worker's host and process, and a random suffix."""
    return f"{task_id or 'direct'}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[
        :200
    ]


def _reservable(now: datetime) -> Q:
    """Rows a run may reserve: pending rows nobody holds (or whose holder's lease ran out), and
    the message a dead run left in flight."""
    expired = Q(lease_until__lt=now)
    return Q(status=DeliveryStatus.PENDING) & (Q(claimed_by="") | expired) | Q(
        status=DeliveryStatus.SENDING
    ) & (expired | Q(lease_until=None))


def _reserve(delivery_ids: list[int], owner: str, now: datetime) -> list[int]:
    """Atomically take the reservable deliveries among `delivery_ids`; returns the ones `owner`
    now holds."""
    with transaction.atomic():
        ids = list(
            DigestDelivery.objects.select_for_update(skip_locked=True)
            .filter(_reservable(now), pk__in=delivery_ids)
            .values_list("pk", flat=True)
        )
        DigestDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, claimed_by=owner, lease_until=now + claim_lease()
        )
    return ids


def _mine(owner: str, **status) -> Q:
    return Q(claimed_by=owner, **status)


def digests_orphans(*, now: datetime | None = None) -> list[int]:
    """Deliveries nobody is working on: never handed out, or held by a run whose lease ran out
    (its worker died). The beat hands them out again."""
    now = now or timezone.now()
    return list(
        DigestDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        )
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def digests_hand_out(delivery_ids: list[int], *, until: datetime) -> None:
    """Mark deliveries as handed to the queue: the beat does not hand them out again before
    `until`, and any worker may reserve them."""
    DigestDelivery.objects.filter(pk__in=delivery_ids, claimed_by="").filter(
        status=DeliveryStatus.PENDING
    ).update(lease_until=until)


def digests_hold_for_retry(delivery_ids: list[int], *, until: datetime) -> None:
    """Refused deliveries wait for the task's retry at `until`; the beat leaves them alone."""
    DigestDelivery.objects.filter(
        pk__in=delivery_ids, status=DeliveryStatus.PENDING, claimed_by=""
    ).update(lease_until=until)


def digests_send(*, delivery_ids: list[int], owner: str | None = None) -> dict[str, list[int]]:
    """Send the given deliveries that nobody else holds. Returns {"sent": [...], "empty": [...],
    "failed": [...]}; failed ones are back in `pending` for the caller to retry."""
    owner = owner or run_owner()
    now = timezone.now()
    lease = claim_lease()
    result: dict[str, list[int]] = {"sent": [], "empty": [], "failed": []}
    ids = _reserve(delivery_ids, owner, now)
    if not ids:
        return result
    deliveries = list(
        DigestDelivery.objects.filter(pk__in=ids).select_related("user", "product__workspace")
    )
    roles = {
        (m.user_id, m.workspace_id): m.role
        for m in Membership.objects.filter(
            user_id__in={d.user_id for d in deliveries},
            workspace_id__in={d.product.workspace_id for d in deliveries},
        )
    }
    built: dict[tuple, list] = {}
    messages: list[tuple[DigestDelivery, EmailMultiAlternatives]] = []
    for delivery in deliveries:
        role = roles.get((delivery.user_id, delivery.product.workspace_id))
        if role is None or not delivery.user.email:
            # Left the workspace (or has no address) since subscribing: nothing to send.
            result["empty"].append(delivery.pk)
            continue
        span = timedelta(days=7 if delivery.frequency == DigestFrequency.WEEKLY else 1)
        since, until = delivery.period_start - span, delivery.period_start
        group = (delivery.product_id, role, since, until)
        if group not in built:
            built[group] = digest_sections(
                product=delivery.product, role=role, since=since, until=until
            )
        sections = built[group]
        if not sections:
            result["empty"].append(delivery.pk)
            continue
        rendered = render_digest(
            user=delivery.user,
            product=delivery.product,
            sections=sections,
            since=since,
            until=until,
        )
        email = DigestEmail(
            subject=rendered["subject"],
            body=rendered["text"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.user.email],
            headers={
                "List-Unsubscribe": f"<{rendered['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        email.attach_alternative(rendered["html"], "text/html")
        messages.append((delivery, email))

    if result["empty"]:
        DigestDelivery.objects.filter(
            _mine(owner, status=DeliveryStatus.PENDING), pk__in=result["empty"]
        ).update(status=DeliveryStatus.EMPTY, claimed_by="", lease_until=None)
    if not messages:
        return result
    _send_one_by_one(messages, owner, lease, result)
    return result


@contextmanager
def _committed_without_waiting_for_disk():
    """One claim or mark, committed on its own the moment it happens, so that a killed worker
    leaves it behind. Waiting for each of those commits to reach the disk costs a flush per
    statement (2–4 ms on our test machine, 0.2 ms without). The commits are visible to everyone
    at once either way; only a crash of PostgreSQL itself (not of the worker) could lose the last
    fraction of a second of them. `SET LOCAL` ends with the transaction: behind PgBouncer in
    transaction pooling the server connection serves someone else next, who must not inherit it
    (a session-level SET would leak to them, and its RESET land elsewhere)."""
    with transaction.atomic():
        if db_connection.vendor == "postgresql":
            with db_connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def _send_one_by_one(messages, owner: str, lease: timedelta, result: dict) -> None:
    renewed = timezone.now()
    connection = mailers.default
    with connection:
        for position, (delivery, email) in enumerate(messages):
            claimed_at = timezone.now()
            if claimed_at - renewed > lease / 4:
                # Still alive: keep the rest of the batch reserved.
                with _committed_without_waiting_for_disk():
                    DigestDelivery.objects.filter(
                        _mine(owner, status=DeliveryStatus.PENDING),
                        pk__in=[d.pk for d, _e in messages[position:]],
                    ).update(lease_until=claimed_at + lease)
                renewed = claimed_at
            # The claim: from here until the mark below, the message is in flight.
            with _committed_without_waiting_for_disk():
                claimed = DigestDelivery.objects.filter(
                    _mine(owner, status=DeliveryStatus.PENDING), pk=delivery.pk
                ).update(
                    status=DeliveryStatus.SENDING,
                    claimed_at=claimed_at,
                    lease_until=claimed_at + lease,
                    attempts=F("attempts") + 1,
                )
            if not claimed:  # our lease ran out and another run took the row over
                log.warning("digest %s was taken over by another run; not sending", delivery.pk)
                continue
            try:
                connection.send_messages([email])
            except OSError as exc:  # SMTP refused or unreachable: back to pending, retried
                log.warning("digest %s not sent: %s", delivery.pk, exc)
                result["failed"].append(delivery.pk)
                with _committed_without_waiting_for_disk():
                    DigestDelivery.objects.filter(
                        _mine(owner, status=DeliveryStatus.SENDING), pk=delivery.pk
                    ).update(
                        status=DeliveryStatus.PENDING,
                        claimed_by="",
                        lease_until=None,
                        error=str(exc)[:500],
                    )
            else:
                # The SMTP server accepted it: mark it before anything else can happen.
                with _committed_without_waiting_for_disk():
                    DigestDelivery.objects.filter(pk=delivery.pk).update(
                        status=DeliveryStatus.SENT,
                        sent_at=timezone.now(),
                        claimed_by="",
                        lease_until=None,
                        error="",
                    )
                result["sent"].append(delivery.pk)


# --- preferences --------------------------------------------------------------------------


@transaction.atomic
def digest_subscription_set(
    *, user: User, product: Product, frequency: str, weekday: int, hour: int
) -> DigestSubscription:
    subscription, _ = DigestSubscription.objects.select_for_update().get_or_create(
        user=user, product=product
    )
    subscription.frequency, subscription.weekday, subscription.hour = frequency, weekday, hour
    subscription.full_clean()
    subscription.save()
    return subscription


def digest_unsubscribe(*, user_id: int, product_id: int) -> bool:
    """Turn the digest off; True when there was one to turn off."""
    return bool(
        DigestSubscription.objects.filter(user_id=user_id, product_id=product_id)
        .exclude(frequency=DigestFrequency.OFF)
        .update(frequency=DigestFrequency.OFF, updated_at=timezone.now())
    )


def digest_preview(*, user: User, product: Product, role: str) -> dict:
    """What the user's digest would contain if it were sent now."""
    subscription = DigestSubscription.objects.filter(user=user, product=product).first()
    days = 7 if subscription is None or subscription.frequency != DigestFrequency.DAILY else 1
    until = timezone.now()
    since = until - timedelta(days=days)
    sections = digest_sections(product=product, role=role, since=since, until=until)
    return {
        "sections": sections,
        "since": since,
        "until": until,
        "rendered": render_digest(
            user=user, product=product, sections=sections, since=since, until=until
        ),
    }


# --- the core's own section ---------------------------------------------------------------

STRATEGY_TYPES = ("pm.product", "pm.strategictheme", "pm.objective", "pm.keyresult")
STRATEGY_LINES = 10
STRATEGY_SCAN = 500  # activity rows read at most: a bound on the query, not on what is said
# Changes worth naming in a line, per field: (field, label)
STRATEGY_CHANGES = (("status", ""), ("current_value", "current value "))


def strategy_section_build(*, product: Product, since: datetime, until: datetime, role: str):
    """Strategy changes in the period, one line per item (a key result updated five times by its
    KPI is one line, "updated", with its value from the first to the last): objectives and themes
    added or updated, key results moved. Strategy is visible to every role, so the section is the
    same for all. One query."""
    from pm.models import ActivityLog

    entries = list(
        ActivityLog.objects.filter(
            product=product,
            object_type__in=STRATEGY_TYPES,
            created_at__gte=since,
            created_at__lt=until,
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")[:STRATEGY_SCAN]
    )
    if not entries:
        return None
    items: dict[tuple[str, str], list] = {}
    for entry in entries:  # newest first
        items.setdefault((entry.object_type, str(entry.object_id)), []).append(entry)
    lines = []
    for history in items.values():
        newest = history[0]
        actions = {e.action for e in history}
        if newest.action == "deleted":
            action = newest
        elif "created" in actions:
            action = next(e for e in history if e.action == "created")
        else:
            action = newest
        change = ""
        if action.action == "updated":
            for field, label in STRATEGY_CHANGES:
                moves = [e.changes[field] for e in reversed(history) if field in (e.changes or {})]
                if moves and moves[0][0] != moves[-1][1]:
                    change = f"{label}{moves[0][0] if moves[0][0] is not None else '—'} → "
                    change += f"{moves[-1][1]}"
                    break
        lines.append(
            {
                "actor": newest.actor,
                "action": action.get_action_display(),
                "object_label": newest.object_label,
                "object_repr": newest.object_repr,
                "change": change,
            }
        )
    return {
        "entries": lines[:STRATEGY_LINES],
        "more": max(0, len(lines) - STRATEGY_LINES),
        "url": settings.SITE_URL + reverse("strategy", args=[product.key]),
    }
