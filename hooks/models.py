"""Webhooks out (endpoints, their outbox of deliveries, each attempt) and development tools in
(GitHub/GitLab receivers per product and the commits, branches and pull requests they link to
stories)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from pm.models import Product, Workspace
from pm.visibility import Rules, team_only


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def new_receiver_id() -> str:
    return secrets.token_urlsafe(18)


class Endpoint(models.Model):
    """A URL a workspace admin registered to receive events: a signed JSON webhook, or a Slack
    or Microsoft Teams incoming webhook (the same outbox, another body)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams incoming webhook"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="endpoints")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WEBHOOK)
    events = models.JSONField(default=list, help_text="Event names (hooks.events.EVENTS).")
    active = models.BooleanField(default=True)
    # Kept in clear: every delivery is signed with it. Shown once, at creation and rotation.
    secret = models.CharField(max_length=100, default=new_secret)
    # The secret before the last rotation: deliveries carry both signatures for a day.
    previous_secret = models.CharField(max_length=100, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt since the last success."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=team_only, workspace="workspace_id")

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["workspace", "active"], name="endpoint_workspace_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_hint(self) -> str:
        return self.secret[:10] + "…"


class Delivery(models.Model):
    """One event for one endpoint: the outbox row, written in the transaction of the change.

    Sent in order per object and endpoint (`object_key`): a delivery waits while an earlier one
    for the same object is unfinished. `uuid` is the `X-Lodestar-Delivery` header, the
    receiver's idempotency key: a delivery resent after a worker died keeps it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Given up"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=40)
    object_key = models.CharField(max_length=80, help_text="app.model:id, for the order.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    give_up_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only, workspace="workspace_id")

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["endpoint", "object_key", "id"], name="delivery_object_order"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="delivery_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Attempt(models.Model):
    """One HTTP request of a delivery, for the delivery log."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"


class KpiTargetState(models.Model):
    """Whether a KPI was off target when last looked at, so `kpi.off_target` fires on the change
    from on target to off target, not on every recalculation."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kpi = models.OneToOneField("metrics.KPI", on_delete=models.CASCADE, related_name="+")
    off_target = models.BooleanField(default=False)
    checked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.kpi_id}: {'off' if self.off_target else 'on'} target"


class DevSettings(models.Model):
    """A product's development-tool receivers: the GitHub secret and GitLab token they verify,
    and whether a merged pull request moves its stories to done."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="dev_settings")
    # The receivers' URLs name the product by this (product keys are unique per workspace only).
    receiver_id = models.CharField(max_length=40, unique=True, default=new_receiver_id)
    github_secret = models.CharField(max_length=100, default=new_secret)
    gitlab_token = models.CharField(max_length=100, default=new_secret)
    done_on_merge = models.BooleanField(
        default=False, help_text="A merged pull/merge request moves the stories it names to done."
    )
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(
        internal=("github_secret", "gitlab_token"),
        rows=team_only,
        workspace="product__workspace_id",
    )

    def __str__(self) -> str:
        return f"Development tools of {self.product}"


class DevLink(models.Model):
    """A commit, branch or pull/merge request that mentions a story key."""

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"

    class Kind(models.TextChoices):
        COMMIT = "commit", "Commit"
        BRANCH = "branch", "Branch"
        PULL_REQUEST = "pull_request", "Pull request"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        CLOSED = "closed", "Closed"
        NONE = "", "—"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="dev_links")
    story = models.ForeignKey(
        "backlog.UserStory", on_delete=models.CASCADE, related_name="dev_links"
    )
    provider = models.CharField(max_length=10, choices=Provider.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    repository = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, help_text="SHA, branch name or PR number.")
    title = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    author = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Delivery detail (branch names, commit messages, authors): the team's, like the stories.
    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "provider", "repository", "kind", "external_id"],
                name="devlink_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"
