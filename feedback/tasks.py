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


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=10 * 60, time_limit=11 * 60
)
def import_feedback_file(batch_id: int, skip_invalid: bool, actor_id: int | None) -> dict:
    """Import an uploaded feedback CSV in one transaction, reporting progress as it goes.
    Acknowledged late: a worker killed halfway leaves nothing (the transaction rolls back) and
    the import runs again; one that already committed is not imported twice."""
    from django.contrib.auth.models import User
    from django.core.exceptions import ValidationError

    from feedback.models import FeedbackImport
    from feedback.services.imports import feedback_import_run
    from pm.background import progress_set
    from pm.choices import ImportStatus

    started = FeedbackImport.objects.filter(
        pk=batch_id, imported_at=None, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
    ).update(status=ImportStatus.RUNNING)
    if not started:
        return {"imported": 0, "already": True}
    batch = FeedbackImport.objects.select_related("product__workspace").get(pk=batch_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    progress_set("feedback", batch_id, done=0, total=batch.row_count, stage="Reading the file")

    def progress(done: int, total: int) -> None:
        progress_set("feedback", batch_id, done=done, total=total, stage="Saving feedback")

    try:
        batch = feedback_import_run(
            batch=batch, skip_invalid=skip_invalid, actor=actor, progress=progress
        )
    except ValidationError as exc:
        FeedbackImport.objects.filter(pk=batch_id, imported_at=None).update(
            status=ImportStatus.FAILED, error=" ".join(exc.messages)[:2000]
        )
        return {"imported": 0, "error": " ".join(exc.messages)}
    except Exception:
        FeedbackImport.objects.filter(pk=batch_id, imported_at=None).update(
            status=ImportStatus.FAILED,
            error="The import stopped with an unexpected error; nothing was imported. "
            "Try again, or tell your administrator.",
        )
        raise
    return {"imported": batch.imported_count}


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=10 * 60, time_limit=11 * 60
)
def embed_rows(kind: str, ids: list[int]) -> int:
    """Embed features, ideas, feedback items or quotes by id (the `embeddings` queue). Texts
    that did not change since their vector was made are skipped, so running it twice is cheap."""
    from feedback import embeddings

    return embeddings.refresh(kind, ids)


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=30 * 60, time_limit=31 * 60
)
def recluster_themes(product_id: int) -> int:
    """Re-cluster a product's feedback into themes from scratch (nightly, and on demand)."""
    from feedback import themes

    return themes.recluster(product_id)


@shared_task
def recluster_all_themes() -> int:
    """Nightly: every product with embedded feedback gets its themes worked out again."""
    from feedback.models import Embedding

    rows = Embedding.objects.filter(kind="feedback").values_list("product_id", flat=True)
    product_ids = set(rows.distinct())
    for product_id in sorted(product_ids):
        recluster_themes.delay(product_id)
    return len(product_ids)
