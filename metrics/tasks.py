"""Background work for metrics: thin tasks that load by id and call one service.

Recalculation is idempotent by construction (every bucket is recomputed from its sources), so a
retried or duplicated task is harmless; overlapping runs for one KPI queue on its row lock.

That is what makes it safe to acknowledge a recalculation only once it finished (`acks_late`)
and to put it back in the queue when its worker process dies (`reject_on_worker_lost`): a
killed recalculation's transaction is rolled back, its dirty ranges come back with it, and the
task runs again. Behind that, `sweep_dirty_ranges` (beat, every minute) queues a recalculation
for any KPI whose dirty ranges are older than a minute and that nobody is recalculating, so a
range is never left waiting for the next ingestion or the nightly run."""

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import OperationalError

from metrics import services
from metrics.signals import kpi_recalculated

log = logging.getLogger(__name__)

_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


# Acknowledged when done, redelivered when the worker dies: safe because idempotent (above).
_DURABLE: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**_RETRY, **_DURABLE, soft_time_limit=10 * 60, time_limit=11 * 60)
def recalculate_kpi(kpi_id: int) -> dict | None:
    """Recompute the buckets touched by the KPI's pending dirty ranges."""
    result = services.kpi_recalculate(kpi_id=kpi_id)
    kpi_recalculated.send(sender=recalculate_kpi, kpi_id=kpi_id)
    return None if result is None else {"spans": len(result.spans), "rows": result.rows}


@shared_task(**_RETRY, **_DURABLE, soft_time_limit=30 * 60, time_limit=31 * 60)
def recalculate_kpi_full(kpi_id: int) -> dict | None:
    """Recompute every bucket of the KPI (and of the ratio KPIs built on it)."""
    result = services.kpi_recalculate(kpi_id=kpi_id, full=True)
    kpi_recalculated.send(sender=recalculate_kpi_full, kpi_id=kpi_id)
    return None if result is None else {"rows": result.rows}


@shared_task
def recalculate_all_kpis() -> int:
    """The nightly safety net: one full recalculation per KPI, spread over the workers."""
    kpi_ids = services.kpi_ids_for_nightly()
    for kpi_id in kpi_ids:
        recalculate_kpi_full.delay(kpi_id)
    log.info("queued full recalculation of %d KPIs", len(kpi_ids))
    return len(kpi_ids)


@shared_task
def sweep_dirty_ranges(older_than_seconds: int = 60) -> list[int]:
    """Beat, every minute: queue a recalculation for each KPI with dirty ranges older than
    `older_than_seconds` that no recalculation holds right now (its worker died, its queue
    message was lost). Returns the KPI ids queued."""
    kpi_ids = services.kpis_with_stale_dirty_ranges(
        older_than=timedelta(seconds=older_than_seconds)
    )
    for kpi_id in kpi_ids:
        recalculate_kpi.delay(kpi_id)
    if kpi_ids:
        log.warning("dirty ranges left behind: queued recalculation of KPIs %s", kpi_ids)
    return kpi_ids


@shared_task(**_DURABLE, soft_time_limit=10 * 60, time_limit=11 * 60)
def import_points_file(upload_id: int) -> dict | None:
    """Store an uploaded CSV file of data points (all or none); see points_upload_run."""
    upload = services.points_upload_run(upload_id=upload_id)
    return None if upload is None else {"status": upload.status, "stored": upload.stored_count}


@shared_task
def create_kpi_partitions() -> list[str]:
    """Beat, daily: this month's partition of data points and of events, and the next months'
    (see metrics.partitions). Returns the months created (events' as `events YYYY-MM`)."""
    from django.db import transaction

    from metrics import partitions

    with transaction.atomic():
        points = [str(m) for m in partitions.create_ahead()]
        events = partitions.create_ahead(parent=partitions.EVENTS)
        return points + [f"events {m}" for m in events]
