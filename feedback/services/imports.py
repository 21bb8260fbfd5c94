"""CSV imports of feedback: upload, preview, and the background run that creates customers
and items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback import csvimport
from feedback.models import Customer, FeedbackImport, FeedbackItem
from pm.background import STALLED_AFTER, content_hash, run_in_background
from pm.choices import ActivityAction, ImportStatus
from pm.models import ActivityLog, Product
from pm.services import activity_record


def feedback_import_upload(
    *, product: Product, raw: bytes, filename: str, encoding: str, actor: User
) -> FeedbackImport:
    """Keep an uploaded CSV file for preview. A file that cannot be read at all (wrong
    encoding, missing columns) is refused here with a ValidationError on `file`."""
    try:
        text = csvimport.decode(raw, encoding)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    result = csvimport.parse(text)
    if result.missing_columns:
        found = ", ".join(result.columns) or "none"
        raise ValidationError(
            {
                "file": (
                    f"Missing column{'s' if len(result.missing_columns) > 1 else ''}: "
                    f"{', '.join(result.missing_columns)}. The first row must name the columns; "
                    f"found: {found}."
                )
            }
        )
    if not result.row_count:
        raise ValidationError({"file": "The file has a header row but no feedback rows."})
    batch = FeedbackImport(
        product=product,
        uploaded_by=actor,
        filename=(filename or "upload.csv")[:200],
        encoding=encoding,
        content=text,
        content_hash=content_hash(text),
        row_count=result.row_count,
        invalid_count=result.invalid_count,
    )
    batch.save()
    return batch


def feedback_import_earlier(batch: FeedbackImport) -> FeedbackImport | None:
    """The last import of the same file (same text) into the same product, if any."""
    return (
        FeedbackImport.objects.filter(
            product_id=batch.product_id,
            content_hash=batch.content_hash,
            imported_at__isnull=False,
        )
        .exclude(pk=batch.pk)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-imported_at")
        .first()
    )


def feedback_import_start(
    *, batch: FeedbackImport, skip_invalid: bool, again: bool, actor: User
) -> FeedbackImport:
    """Hand an uploaded file to a worker (or, in trial mode, import it now). The checks that need
    no parsing happen here, so the answer is immediate; the import itself is all or nothing."""
    if batch.imported_at:
        raise ValidationError("This file was already imported.")
    valid = batch.row_count - batch.invalid_count
    if batch.invalid_count and not skip_invalid:
        raise ValidationError(
            f"{batch.invalid_count} row{'s' if batch.invalid_count != 1 else ''} "
            "have errors. Fix the file and upload it again, or choose to skip those rows."
        )
    if valid <= 0:
        raise ValidationError("No valid rows to import.")
    earlier = feedback_import_earlier(batch)
    if earlier and not again:
        raise ValidationError(
            f"This file was already imported on {earlier.imported_at:%-d %b %Y at %H:%M} "
            f"({earlier.imported_count:,} items). Tick “import it again” to add its rows once more."
        )
    now = timezone.now()
    startable = Q(status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED]) | Q(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], queued_at__lt=now - STALLED_AFTER
    )
    started = FeedbackImport.objects.filter(startable, pk=batch.pk, imported_at=None).update(
        status=ImportStatus.QUEUED, queued_at=now, error=""
    )
    if not started:
        raise ValidationError("This file is being imported already.")
    from feedback.tasks import import_feedback_file

    run_in_background(import_feedback_file, batch.pk, skip_invalid, actor.pk)
    batch.refresh_from_db()
    return batch


def _import_customers(
    product: Product, result: csvimport.ParseResult, actor: User | None
) -> dict[str, Customer]:
    """The customers the rows name, by lower-case name; new names are created in bulk."""
    wanted = result.customer_names
    if not wanted:
        return {}
    existing = {
        c.name.lower(): c
        for c in Customer.objects.filter(workspace_id=product.workspace_id)
        if c.name.lower() in wanted
    }
    details: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        key = row.customer.lower()
        if row.customer and key not in existing:
            merged = details.setdefault(key, {})
            for name, value in row.customer_details.items():
                merged.setdefault(name, value)
    new = [
        Customer(workspace_id=product.workspace_id, name=wanted[key], **details[key])
        for key in details
    ]
    if new:
        Customer.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        names = [c.name.lower() for c in new]
        created = [
            c
            for c in Customer.objects.filter(workspace_id=product.workspace_id)
            if c.name.lower() in names
        ]
        ActivityLog.objects.bulk_create(
            [
                ActivityLog(
                    workspace_id=product.workspace_id,
                    actor=actor,
                    action=ActivityAction.CREATED,
                    object_type=Customer._meta.label_lower,
                    object_id=c.pk,
                    object_repr=c.name[:200],
                    changes={"name": [None, c.name], "via": [None, "CSV import"]},
                    object_version=c.version,
                )
                for c in created
            ],
            batch_size=500,
        )
        existing.update({c.name.lower(): c for c in created})
    return existing


@transaction.atomic
def feedback_import_run(
    *,
    batch: FeedbackImport,
    skip_invalid: bool,
    actor: User | None,  # None: whoever started it has since been removed
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> FeedbackImport:
    """Import every valid row of an uploaded file in one transaction: all rows or none.

    A file with invalid rows imports nothing unless `skip_invalid` says to leave those rows out.
    A file is imported at most once (claimed with a conditional update). `progress(done,
    total)` hears of each slice of rows written."""
    claimed = FeedbackImport.objects.filter(pk=batch.pk, imported_at=None).update(
        imported_at=timezone.now()
    )
    if not claimed:
        raise ValidationError("This file was already imported.")
    product = batch.product
    result = csvimport.parse(batch.content)
    if result.missing_columns:
        raise ValidationError(f"Missing columns: {', '.join(result.missing_columns)}.")
    if result.errors and not skip_invalid:
        raise ValidationError(
            f"{result.invalid_count} row{'s' if result.invalid_count != 1 else ''} "
            "have errors. Fix the file and upload it again, or choose to skip those rows."
        )
    if not result.rows:
        raise ValidationError("No valid rows to import.")
    customers = _import_customers(product, result, actor)
    items = [
        FeedbackItem(
            product=product,
            customer=customers.get(row.customer.lower()) if row.customer else None,
            source=row.source,
            content=row.content,
            sentiment=row.sentiment,
            received_at=row.received_at,
            import_batch=batch,
            created_by=actor,
        )
        for row in result.rows
    ]
    for start in range(0, len(items), batch_size):
        FeedbackItem.objects.bulk_create(items[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, len(items)), len(items))
    batch.imported_at = FeedbackImport.objects.values_list("imported_at", flat=True).get(
        pk=batch.pk
    )
    batch.imported_count = len(items)
    batch.skipped_count = result.invalid_count
    batch.status, batch.error = ImportStatus.DONE, ""
    batch.save(update_fields=["imported_count", "skipped_count", "status", "error"])
    changes = {"items": [None, len(items)]}
    if result.invalid_count:
        changes["skipped rows"] = [None, result.invalid_count]
    activity_record(instance=batch, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return batch
