"""Background work for metrics: thin tasks that load by id and call one service.

Recalculation is idempotent by construction (every bucket is recomputed from its sources), so a
retried or duplicated task is harmless; overlapping runs for one KPI queue on its row lock."""

import logging

from celery import shared_task
from django.db import OperationalError

from metrics import services

log = logging.getLogger(__name__)

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**_RETRY, soft_time_limit=10 * 60, time_limit=11 * 60)
def recalculate_kpi(kpi_id: int) -> dict | None:
    """Recompute the buckets touched by the KPI's pending dirty ranges."""
    result = services.kpi_recalculate(kpi_id=kpi_id)
    return None if result is None else {"spans": len(result.spans), "rows": result.rows}


@shared_task(**_RETRY, soft_time_limit=30 * 60, time_limit=31 * 60)
def recalculate_kpi_full(kpi_id: int) -> dict | None:
    """Recompute every bucket of the KPI (and of the ratio KPIs built on it)."""
    result = services.kpi_recalculate(kpi_id=kpi_id, full=True)
    return None if result is None else {"rows": result.rows}


@shared_task
def recalculate_all_kpis() -> int:
    """The nightly safety net: one full recalculation per KPI, spread over the workers."""
    kpi_ids = services.kpi_ids_for_nightly()
    for kpi_id in kpi_ids:
        recalculate_kpi_full.delay(kpi_id)
    log.info("queued full recalculation of %d KPIs", len(kpi_ids))
    return len(kpi_ids)
