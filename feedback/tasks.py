"""Background work for feedback: thin tasks that load by id and do one thing."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from feedback.models import PortalVote
from feedback.tokens import MAX_AGE, vote_token

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def send_vote_confirmation(self, vote_id: int) -> bool:
    """E-mail the signed link that confirms an ideas-portal vote. Does nothing for a vote that
    is gone or already confirmed, so a retry or a duplicate message sends no stale link."""
    vote = (
        PortalVote.objects.select_related("post__product")
        .filter(pk=vote_id, confirmed_at=None)
        .first()
    )
    if vote is None:
        log.info("portal vote %s is gone or confirmed; not sending", vote_id)
        return False
    product = vote.post.product
    context = {
        "vote": vote,
        "post": vote.post,
        "product": product,
        "days": MAX_AGE // 86400,
        "url": settings.SITE_URL
        + reverse("portal_vote_confirm", args=[product.key, vote_token(vote)]),
    }
    email = EmailMultiAlternatives(
        subject=f"Confirm your vote for “{vote.post.title}”",
        body=render_to_string("feedback/email/vote_confirm.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[vote.email],
    )
    email.attach_alternative(
        render_to_string("feedback/email/vote_confirm.html", context), "text/html"
    )
    email.send()
    return True
