"""The broker hands a task that was taken but not acknowledged to another worker once the
visibility timeout has passed. A task still running (acks_late) or still waiting for its retry
countdown at that point would run twice, so the timeout must outlast both."""

from django.conf import settings

from pm.celery import app
from pm.tasks import DIGEST_RETRY_MAX_COUNTDOWN


def _longest_countdown(task) -> int:
    if task.name == "pm.tasks.send_digest_batch":
        return DIGEST_RETRY_MAX_COUNTDOWN
    if getattr(task, "autoretry_for", ()):
        return int(getattr(task, "retry_backoff_max", 600))
    return 0


def test_the_visibility_timeout_outlasts_every_task_and_retry_countdown():
    app.loader.import_default_modules()
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ours = [t for name, t in app.tasks.items() if not name.startswith("celery.")]
    assert any(t.acks_late for t in ours)
    for task in ours:
        running = (task.time_limit or settings.CELERY_TASK_TIME_LIMIT) if task.acks_late else 0
        assert _longest_countdown(task) + running < timeout, task.name


def test_recalculations_are_acknowledged_late_and_requeued_when_their_worker_dies():
    from metrics.tasks import recalculate_kpi, recalculate_kpi_full

    for task in (recalculate_kpi, recalculate_kpi_full):
        assert task.acks_late and task.reject_on_worker_lost, task.name
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["metrics.tasks.sweep_dirty_ranges"] <= 60
