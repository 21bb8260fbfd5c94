"""Imports from other tools run in a worker (the `imports` queue, with the other uploaded files)."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=10 * 60, time_limit=11 * 60
)
def import_tool_file(batch_id: int, actor_id: int | None) -> dict:
    """Import an uploaded export in one transaction, reporting progress as it goes.
    Acknowledged late: a worker killed halfway leaves nothing (the transaction rolls back) and
    the import runs again; one that already committed is not imported twice."""
    from django.contrib.auth.models import User
    from django.core.exceptions import ValidationError

    from imports import services
    from imports.models import ToolImport
    from pm.background import progress_set
    from pm.choices import ImportStatus

    started = ToolImport.objects.filter(
        pk=batch_id, imported_at=None, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
    ).update(status=ImportStatus.RUNNING)
    if not started:
        return {"imported": 0, "already": True}
    batch = ToolImport.objects.select_related("product__workspace").get(pk=batch_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    progress_set("tools", batch_id, done=0, total=batch.row_count, stage="Reading the file")

    def progress(done: int, total: int) -> None:
        progress_set("tools", batch_id, done=done, total=total, stage="Saving records")

    try:
        if actor is None:
            raise ValidationError("The person who started this import no longer exists.")
        batch = services.tool_import_run(batch=batch, actor=actor, progress=progress)
    except ValidationError as exc:
        ToolImport.objects.filter(pk=batch_id, imported_at=None).update(
            status=ImportStatus.FAILED, error=" ".join(exc.messages)[:2000]
        )
        return {"imported": 0, "error": " ".join(exc.messages)}
    except Exception:
        ToolImport.objects.filter(pk=batch_id, imported_at=None).update(
            status=ImportStatus.FAILED,
            error="The import stopped with an unexpected error; nothing was imported. "
            "Try again, or tell your administrator.",
        )
        raise
    return {"created": batch.created_count, "updated": batch.updated_count}
