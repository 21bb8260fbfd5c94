"""Core background tasks: thin wrappers that load by id and call one piece of work."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from pm import mail
from pm.choices import EmailStatus
from pm.models import Invitation

log = logging.getLogger(__name__)

# The longest a refused digest waits for its retry (the broker's visibility timeout exceeds it).
DIGEST_RETRY_MAX_COUNTDOWN = 3600


@shared_task
def ping(payload: str = "pong") -> dict[str, str]:
    """A no-op that proves a worker consumes from the broker and reports back."""
    return {"echo": payload, "worker_time": timezone.now().isoformat()}


@shared_task(bind=True)
def send_invitation_email(self, invitation_id: int, token: str) -> bool:
    """E-mail the invitation link and record the outcome on the invitation (sent, or failed with
    the reason); an unreachable or temporarily refusing mail server is retried with backoff."""
    invitation = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        log.info("invitation %s is no longer pending; not sending", invitation_id)
        return False
    this_link = Invitation.objects.filter(pk=invitation_id, token_hash=Invitation.hash_token(token))
    if not this_link.exists():  # a resend replaced this link: only the newest one goes out
        log.info("invitation %s has a newer link; not sending this one", invitation_id)
        return False
    context = {
        "invitation": invitation,
        "url": settings.SITE_URL + reverse("invitation_accept", args=[token]),
    }
    email = EmailMultiAlternatives(
        subject=f"You're invited to {invitation.workspace.name} on Lodestar",
        body=render_to_string("pm/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    email.attach_alternative(render_to_string("pm/email/invitation.html", context), "text/html")
    try:
        email.send()
    except Exception as exc:
        reason = mail.failure_reason(exc)
        # In-process (trial mode, no broker) there is no worker to try again later.
        retries = settings.INVITATION_EMAIL_RETRIES
        later = not self.request.is_eager and self.request.retries < retries
        if mail.retryable(exc) and later:
            this_link.update(email_error=f"{reason} Trying again.")
            log.warning("invitation %s: e-mail not sent, retrying: %s", invitation_id, reason)
            wait = min(settings.INVITATION_EMAIL_RETRY_SECONDS * 2**self.request.retries, 600)
            raise self.retry(exc=exc, countdown=wait, max_retries=retries) from exc
        this_link.update(email_status=EmailStatus.FAILED, email_error=reason)
        log.warning("invitation %s: e-mail failed: %s", invitation_id, reason)
        return False
    this_link.update(email_status=EmailStatus.SENT, email_error="", email_sent_at=timezone.now())
    return True


@shared_task
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key responses older than 24 hours."""
    from pm.idempotency import purge_expired

    return purge_expired()


@shared_task
def purge_expired_invitations() -> int:
    """Drop invitations that expired more than 30 days ago (their history stays in the log)."""
    cutoff = timezone.now() - timedelta(days=30)
    deleted, _ = Invitation.objects.filter(accepted_at=None, expires_at__lt=cutoff).delete()
    return deleted


@shared_task
def schedule_digests() -> int:
    """Beat, every quarter hour: record the digests that are due and hand them to workers in
    batches, together with the ones a dead worker left behind (their lease ran out). Running it
    twice at once records each digest once, and sending claims each message, so a digest handed
    out twice is still sent once."""
    from pm.digests import (
        BATCH_SIZE,
        QUEUE_WAIT,
        digests_hand_out,
        digests_orphans,
        digests_schedule,
    )

    now = timezone.now()
    new = digests_schedule(now=now)
    ids = sorted(set(new) | set(digests_orphans(now=now)))
    digests_hand_out(ids, until=now + QUEUE_WAIT)
    for start in range(0, len(ids), BATCH_SIZE):
        send_digest_batch.delay(ids[start : start + BATCH_SIZE])
    if len(ids) > len(new):
        log.info("handed out %d digests left behind by a stopped worker", len(ids) - len(new))
    return len(ids)


@shared_task(
    bind=True,
    acks_late=True,  # guarded: each message is claimed with a conditional update
    reject_on_worker_lost=True,
    max_retries=5,
    soft_time_limit=300,
    time_limit=360,
)
def send_digest_batch(self, delivery_ids: list[int]) -> dict[str, list[int]]:
    """Send a batch of digests; the ones the SMTP server refused are retried with backoff."""
    from pm.choices import DeliveryStatus
    from pm.digests import digests_hold_for_retry, digests_send, run_owner
    from pm.models import DigestDelivery

    result = digests_send(delivery_ids=delivery_ids, owner=run_owner(self.request.id))
    if result["failed"]:
        if self.request.retries >= self.max_retries:
            DigestDelivery.objects.filter(pk__in=result["failed"]).update(
                status=DeliveryStatus.FAILED
            )
            log.error("digests %s failed after %s retries", result["failed"], self.max_retries)
            return result
        # This run's sent digests stay sent; only the refused ones go again, and the beat
        # leaves them to this retry until it is due.
        countdown = min(60 * 2**self.request.retries, DIGEST_RETRY_MAX_COUNTDOWN)
        digests_hold_for_retry(
            result["failed"], until=timezone.now() + timedelta(seconds=countdown)
        )
        raise self.retry(args=[result["failed"]], countdown=countdown)
    return result


@shared_task(bind=True, max_retries=5, soft_time_limit=60, time_limit=90)
def send_notification_emails(self, user_id: int) -> int:
    """The batched e-mail of a user's new mentions and comments: enqueued a few minutes after
    each, it takes every one still due then (so a burst of mentions is one e-mail)."""
    from pm.collab import send_notification_emails as send

    try:
        return send(user_id=user_id)
    except Exception as exc:
        if self.request.is_eager or not mail.retryable(exc):
            log.warning("notification e-mail to user %s failed: %s", user_id, exc)
            raise
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 1800)) from exc


@shared_task
def send_mention_reminders() -> int:
    """Beat, daily: the e-mail of unread mentions for users who get no digest (once per
    user per day, whichever run gets there first)."""
    from pm.collab import send_mention_reminders as send

    return send()
