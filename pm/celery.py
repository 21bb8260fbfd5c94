"""The Celery app: Redis broker when REDIS_URL is set, eager in-process execution otherwise."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm.settings")

app = Celery("lodestar")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Intent-named entries; the apps that own the work add theirs here as they land.
app.conf.beat_schedule = {
    "purge-expired-invitations-nightly": {
        "task": "pm.tasks.purge_expired_invitations",
        "schedule": 24 * 60 * 60,
    },
    "purge-expired-idempotency-keys-hourly": {
        "task": "pm.tasks.purge_idempotency_keys",
        "schedule": 60 * 60,
    },
    # Once per user per day whatever the number of runs (a MentionReminder row per day).
    "remind-of-unread-mentions-daily": {
        "task": "pm.tasks.send_mention_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "send-due-digests-every-quarter-hour": {
        "task": "pm.tasks.schedule_digests",
        "schedule": 15 * 60,
    },
    # Dirty ranges nobody recalculated within a minute (a worker died mid-task): queued again.
    "recalculate-left-behind-kpi-ranges-every-minute": {
        "task": "metrics.tasks.sweep_dirty_ranges",
        "schedule": 60,
    },
    # Webhook deliveries whose queue message was lost or whose worker died: sent again.
    "sweep-webhook-deliveries-every-minute": {
        "task": "hooks.tasks.sweep_webhooks",
        "schedule": 60,
    },
    # Data points' monthly partitions exist before their month starts (metrics.partitions).
    "create-kpi-partitions-ahead-daily": {
        "task": "metrics.tasks.create_kpi_partitions",
        "schedule": crontab(hour=2, minute=10),
    },
    # The safety net behind incremental recalculation: every KPI's rollups recomputed in full.
    # Feedback themes worked out from scratch (feedback.themes; new items join themes as they come).
    "recluster-feedback-themes-nightly": {
        "task": "feedback.tasks.recluster_all_themes",
        "schedule": crontab(hour=4, minute=0),
    },
    "recompute-all-kpi-rollups-nightly": {
        "task": "metrics.tasks.recalculate_all_kpis",
        "schedule": crontab(hour=3, minute=30),
    },
}
