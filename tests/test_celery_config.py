"""The broker hands a task that was taken but not acknowledged to another worker once the
visibility timeout has passed. A task still running (acks_late) or still waiting for its retry
countdown at that point would run twice, so the timeout must outlast both."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from pm.celery import app
from pm.tasks import DIGEST_RETRY_MAX_COUNTDOWN

ROOT = Path(__file__).resolve().parent.parent


def _longest_countdown(task) -> int:
    if task.name == "pm.tasks.send_digest_batch":
        return DIGEST_RETRY_MAX_COUNTDOWN
    if task.name == "hooks.tasks.deliver_webhook":  # its next attempt, queued with a countdown
        return settings.WEBHOOK_RETRY_MAX_SECONDS
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


# --- queues by kind ----------------------------------------------------------------------------

DECLARED_QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def _our_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_the_kinds_of_work_have_their_own_queues():
    assert {"ingest", "rollups", "digests", "imports", "embeddings", "webhooks"} <= DECLARED_QUEUES
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "celery" in DECLARED_QUEUES


def test_every_task_in_the_codebase_is_routed_to_a_declared_queue():
    # From the app's registry, so a new task without a route in settings fails here.
    unrouted = [name for name in _our_tasks() if name not in settings.CELERY_TASK_ROUTES]
    assert not unrouted, f"add these tasks to CELERY_TASK_ROUTES in pm/settings.py: {unrouted}"
    for name in _our_tasks():
        queue = app.amqp.router.route({}, name)["queue"].name
        assert queue == settings.CELERY_TASK_ROUTES[name]["queue"], name
        assert queue in DECLARED_QUEUES, f"{name} goes to {queue!r}, which is not declared"


def test_no_route_names_a_task_that_does_not_exist():
    # A renamed task would silently fall back to the default queue.
    stale = sorted(set(settings.CELERY_TASK_ROUTES) - set(_our_tasks()))
    assert not stale, f"routes for tasks that do not exist: {stale}"


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("pm.tasks.send_invitation_email", "celery"),
        ("pm.tasks.send_digest_batch", "digests"),
        ("metrics.tasks.recalculate_kpi", "rollups"),
        ("metrics.tasks.recalculate_all_kpis", "rollups"),
        ("metrics.tasks.import_points_file", "imports"),
        ("feedback.tasks.import_feedback_file", "imports"),
    ],
)
def test_slow_kinds_of_work_stay_out_of_the_e_mail_queue(task, queue):
    app.loader.import_default_modules()
    assert app.amqp.router.route({}, task)["queue"].name == queue


def compose_worker_queues() -> dict[str, list[str]]:
    """Each docker-compose.yml worker service and the queues its `-Q` consumes."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    workers = {}
    for name, spec in compose["services"].items():
        command = str(spec.get("command", "")).split()
        if "worker" in command and "celery" in command:
            assert "-Q" in command, f"{name} consumes no explicit queues (-Q)"
            workers[name] = command[command.index("-Q") + 1].split(",")
    return workers


def test_every_queue_is_consumed_by_a_compose_worker_and_every_worker_queue_exists():
    workers = compose_worker_queues()
    consumed = {queue for queues in workers.values() for queue in queues}
    assert DECLARED_QUEUES - consumed == set(), "queues no compose worker consumes"
    assert consumed - DECLARED_QUEUES == set(), "compose workers consume undeclared queues"
    # The e-mail queue has a worker of its own, not one shared with the slow kinds of work.
    (default_worker,) = [q for q in workers.values() if "celery" in q]
    assert not {"imports", "rollups", "embeddings"} & set(default_worker)


def test_each_compose_worker_is_a_full_app_service_with_a_health_check():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in compose_worker_queues():
        spec = compose["services"][name]
        assert "celery@$$HOSTNAME" in str(spec["healthcheck"]["test"]), name
        assert spec["depends_on"]["redis"]["condition"] == "service_healthy", name
