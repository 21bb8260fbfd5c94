from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    PM = "pm", "Product manager"
    ENGINEER = "engineer", "Engineer"
    STAKEHOLDER = "stakeholder", "Stakeholder"


# What each role may do, as a rank: a need is met by its own role and every stronger one.
ROLE_RANK: dict[str, int] = {
    Role.STAKEHOLDER: 0,
    Role.ENGINEER: 1,
    Role.PM: 2,
    Role.ADMIN: 3,
}


class ObjectiveStatus(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    DONE = "done", "Done"


class ActivityAction(models.TextChoices):
    CREATED = "created", "created"
    UPDATED = "updated", "updated"
    DELETED = "deleted", "deleted"


class DigestFrequency(models.TextChoices):
    OFF = "off", "Off"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    EMPTY = "empty", "Nothing new (not sent)"
    FAILED = "failed", "Failed"


class NotificationKind(models.TextChoices):
    MENTION = "mention", "Mention"
    ASSIGNMENT = "assignment", "Assignment"
    FEEDBACK_LINKED = "feedback_linked", "Feedback linked"
    COMMENT = "comment", "Comment"


class EmailStatus(models.TextChoices):
    """Where an invitation's e-mail is: waiting for a worker, handed to the mail server, or
    given up on (with the reason)."""

    QUEUED = "queued", "queued"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class ImportStatus(models.TextChoices):
    """Where an uploaded file is on its way in (feedback and KPI CSV imports)."""

    UPLOADED = "uploaded", "Not imported"
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
