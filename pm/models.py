"""Core models: workspaces, membership and roles, products, vision and strategy, activity log."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.apps import apps
from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from pm.choices import (
    ROLE_RANK,
    ActivityAction,
    DeliveryStatus,
    DigestFrequency,
    EmailStatus,
    NotificationKind,
    ObjectiveStatus,
    Role,
)
from pm.fields import validate_plausible_date
from pm.visibility import Rules, Viewer, team_only

if TYPE_CHECKING:
    from metrics.models import KPI

product_key_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$",
    "Use 2–10 capital letters or digits, starting with a letter (e.g. LOD).",
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #4f46e5.")


def is_time_zone(name: str) -> bool:
    """Whether `name` is a time zone ZoneInfo accepts (digests and KPI rollups rely on it)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Versioned(models.Model):
    """A row that is edited concurrently: services refuse a save whose version is stale."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class Workspace(models.Model):
    """A team's space: its members, roles and products."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    stakeholder_sections = models.JSONField(
        default=list,
        blank=True,
        help_text="Sections stakeholders may browse beyond strategy, roadmap, KPIs and released "
        "features (pm.visibility.WIDENABLE_SECTIONS).",
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Members who sign in with a password must use an authenticator app (TOTP); "
        "those without one are sent to set it up at their next sign-in.",
    )
    sso_email_domains = models.JSONField(
        default=list,
        blank=True,
        help_text="E-mail domains whose people join this workspace at their first single "
        "sign-on (pm.sso), with `sso_default_role`.",
    )
    sso_default_role = models.CharField(
        max_length=20, choices=Role.choices, default=Role.STAKEHOLDER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: the reader's membership, set by pm.permissions.get_workspace_for_user.
    membership: "Membership"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one workspace; a user may belong to several."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAKEHOLDER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]
        ordering = ["workspace__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"

    def allows(self, need: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[need]


def _invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    """An e-mailed, expiring invitation to join a workspace with a role.

    Only a hash of the token is stored; the token itself travels in the e-mail link.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    email_error = models.CharField(
        max_length=300, blank=True, help_text="Why the last attempt to e-mail it failed."
    )
    email_sent_at = models.DateTimeField(null=True, blank=True)

    visibility_rules = Rules(rows=team_only, workspace="workspace_id")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.workspace}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class Product(Versioned):
    """A product and its why: vision, mission, customers, value proposition, business model."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=120)
    key = models.CharField(
        max_length=10,
        validators=[product_key_validator],
        help_text="Short key used in story keys such as LOD-42. Unique within the workspace.",
    )
    vision = models.TextField("vision statement", blank=True)
    mission = models.TextField(blank=True)
    target_customers = models.TextField(blank=True)
    value_proposition = models.TextField(blank=True)
    business_model = models.TextField("business model notes", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not columns: the reader's membership, set by pm.permissions.get_product_for_user, and the
    # Viewer that pm.visibility.viewer_of derives from it once per request.
    membership: Membership
    _viewer: Viewer | None
    # Whether reach is summed customer ARR (backlog.models.reach_from_arr), read once.
    _reach_from_arr: bool | None
    # Public custom field keys by the kind of record they apply to (backlog.models), read once.
    _public_custom_keys: dict[str, frozenset[str]] | None

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key__regex=r"^[A-Z][A-Z0-9]{1,9}$"), name="product_key_format"
            ),
            # Per workspace: another tenant's keys are neither reserved nor revealed.
            models.UniqueConstraint(
                "workspace",
                "key",
                name="product_key_unique_per_workspace",
                violation_error_message="This workspace already has a product with this key.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


# Colours offered to new themes, in order; the first is the model's default.
THEME_PALETTE = (
    "#4f46e5",  # indigo
    "#0891b2",  # cyan
    "#16a34a",  # green
    "#d97706",  # amber
    "#db2777",  # pink
    "#7c3aed",  # violet
    "#dc2626",  # red
    "#0d9488",  # teal
    "#65a30d",  # lime
    "#2563eb",  # blue
    "#ea580c",  # orange
    "#475569",  # slate
)


def next_theme_colour(product: "Product") -> str:
    """The first palette colour none of the product's themes uses (or, with every colour taken,
    the least used one), so a new theme never starts with the same colour as an existing one."""
    used: dict[str, int] = {}
    for colour in StrategicTheme.objects.filter(product=product).values_list("colour", flat=True):
        used[colour.lower()] = used.get(colour.lower(), 0) + 1
    return min(THEME_PALETTE, key=lambda colour: used.get(colour, 0))


class StrategicTheme(Versioned):
    """A strategic theme: a broad area of investment that initiatives and features roll up to."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default=THEME_PALETTE[0], validators=[colour_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "product",
                Lower("name"),
                name="theme_name_unique_per_product",
                violation_error_message="A theme with this name already exists in this product.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Objective(Versioned):
    """An outcome to reach in a period, measured by key results."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    period = models.CharField(max_length=40, help_text="For example 2027 Q1 or H1 2027.")
    theme = models.ForeignKey(
        StrategicTheme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="objectives",
    )
    status = models.CharField(
        max_length=20, choices=ObjectiveStatus.choices, default=ObjectiveStatus.ON_TRACK
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def progress(self) -> float | None:
        """Mean progress of the key results, 0–1, or None without key results."""
        values = [p for kr in self.key_results.all() if (p := kr.progress) is not None]
        return sum(values) / len(values) if values else None

    @property
    def progress_percent(self) -> int | None:
        progress = self.progress
        return None if progress is None else round(progress * 100)


class KeyResult(Versioned):
    """A measurable result of an objective: from a start value towards a target."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    # Set by the creating service (the objective's product's workspace): every tenant row carries
    # its workspace (tests/test_tenant_columns.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    description = models.CharField(max_length=200)
    start_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    target_value = models.DecimalField(max_digits=14, decimal_places=2)
    current_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    unit = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(start_value=models.F("target_value")),
                name="key_result_target_differs_from_start",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def product(self) -> Product:
        return self.objective.product

    @property
    def linked_kpi(self) -> "KPI | None":
        """The KPI whose data points set this result's current value, or None (the link lives in
        the metrics app: `KeyResultKPI`, reverse accessor `kpi_link`)."""
        try:
            return self.kpi_link.kpi
        except models.ObjectDoesNotExist:
            return None

    @property
    def progress(self) -> float | None:
        """Share of the way from start to target, clamped to 0–1 (works for decreasing targets)."""
        span = self.target_value - self.start_value
        if span == 0:
            return None
        share = float((self.current_value - self.start_value) / span)
        return max(0.0, min(1.0, share))

    @property
    def progress_percent(self) -> int | None:
        progress = self.progress
        return None if progress is None else round(progress * 100)


class Persona(Versioned):
    """A user archetype the product is built for."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=100)
    segment = models.CharField(max_length=100, blank=True)
    goals = models.TextField(blank=True)
    pains = models.TextField(blank=True)
    quote = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Competitor(Versioned):
    """A competing product and how we compare."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(max_length=100)
    url = models.URLField("URL", blank=True)
    positioning = models.TextField(blank=True)
    strengths = models.TextField(blank=True)
    weaknesses = models.TextField(blank=True)
    pricing_notes = models.TextField(blank=True)
    last_reviewed = models.DateField(null=True, blank=True, validators=[validate_plausible_date])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ActivityLog(models.Model):
    """Who changed what and when, with before/after values, for history pages and digests."""

    # Not columns: what pm.visibility.history_for leaves a reader (`shown` changes, and whether
    # some were withheld).
    shown: dict[str, list[Any]]
    redacted: bool

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="activity")
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=ActivityAction.choices)
    object_type = models.CharField(max_length=60, help_text="app_label.model of the record")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}")
    object_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The record's version after this change."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"], name="activity_product_recent"),
            models.Index(fields=["object_type", "object_id"], name="activity_object"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type} {self.object_repr}"

    @property
    def object_label(self) -> str:
        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type.split(".")[-1]


class ApiToken(models.Model):
    """A personal access token for the REST API (`Authorization: Token <key>`).

    The key is shown once at creation; only its SHA-256 is stored, with a short prefix so the
    owner can tell tokens apart. A read token may only make safe (GET/HEAD/OPTIONS) requests.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read-write", "Read and write"

    KEY_PREFIX = "lod_"
    DISPLAY_LENGTH = 12  # "lod_" + 8 characters of the secret

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.READ)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=DISPLAY_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=["read", "read-write"]), name="api_token_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def new_key(cls) -> str:
        """A fresh secret: 256 bits of randomness behind a recognisable prefix."""
        return cls.KEY_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class IdempotentRequest(models.Model):
    """An API POST sent with an `Idempotency-Key` header, and the response it got, kept for
    24 hours (pm.idempotency): the same key from the same user with the same request is answered
    with this stored response instead of being executed again. `status_code` is null while the
    first request is still running; its uncommitted row makes a concurrent duplicate wait."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path, query string and body: "same request".
    fingerprint = models.CharField(max_length=64)
    path = models.CharField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


class DigestSubscription(models.Model):
    """A user's digest preference for one product: off, daily or weekly at an hour of the
    workspace's time zone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    frequency = models.CharField(
        max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.OFF
    )
    weekday = models.PositiveSmallIntegerField(
        choices=WEEKDAYS, default=0, help_text="For weekly digests."
    )
    hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="Hour of day, workspace time."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="digest_subscription_unique"),
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="digest_hour_valid"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="digest_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.product} ({self.frequency})"


class DigestDelivery(models.Model):
    """One digest for one user, product and period. The unique constraint is what makes a digest
    go out at most once per period: the row is recorded before anything is sent, and sending
    claims it with a conditional update."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=10, choices=DigestFrequency.choices)
    period_key = models.CharField(max_length=20, help_text="2026-11-26 (daily) or 2026-W48.")
    period_start = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=200, blank=True, help_text="The run (task, host, process) holding the row."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="The holder's claim (or the queue's) runs out then."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "product", "period_key"], name="digest_once_per_period"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="digest_delivery_status")]

    def __str__(self) -> str:
        return f"Digest {self.period_key} for {self.user} ({self.product.key}): {self.status}"


class Notification(models.Model):
    """An in-app notification: a mention, an assignment, feedback linked to your feature."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Whether the user's preferences ask for an e-mail of it (decided when it is created), and
    # when the batched e-mail (pm.collab.send_notification_emails) took it.
    email_due = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(fields=["user", "kind", "-created_at"], name="notification_by_kind"),
            # The batched e-mail's pick: a user's notifications still waiting to be e-mailed.
            models.Index(
                fields=["user", "created_at"],
                name="notification_email_due",
                condition=models.Q(email_due=True, emailed_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.message


class NotificationSettings(models.Model):
    """What a user wants e-mailed besides the in-app notifications (rows exist only for users
    who changed something: the defaults are the field defaults)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_mentions = models.BooleanField(
        "E-mail me when someone mentions me",
        default=True,
        help_text="Batched: one e-mail for the mentions of a few minutes.",
    )
    email_comments = models.BooleanField("E-mail me new comments on what I follow", default=False)
    daily_unread_mentions = models.BooleanField(
        "Daily e-mail of mentions I have not read",
        default=True,
        help_text="Only when you get no digest: the digest already says what happened.",
    )

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"


class Comment(models.Model):
    """A comment on a feature, story, idea, initiative or feedback item (the commented object is
    `content_type` + `object_id`; `product` keeps the thread's product, for permissions). Internal:
    only the team reads comments. Markdown, sanitised when shown; edits keep the earlier text as
    CommentRevision rows."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="comments")
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    # Comments are the team's conversation: stakeholders, share links and the portal never see
    # them (nor their history).
    visibility_rules = Rules(rows=team_only, workspace="workspace_id")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"], name="comment_thread")
        ]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.content_type_id}:{self.object_id}"


class CommentRevision(models.Model):
    """The text a comment had before one of its edits."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    replaced_at = models.DateTimeField(default=timezone.now)

    visibility_rules = Rules(rows=team_only, workspace="workspace_id")

    class Meta:
        ordering = ["-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"Earlier text of comment {self.comment_id}"


class Watch(models.Model):
    """A user following (or, `following=False`, having unfollowed) a commentable object. People
    who comment or are mentioned follow it from then on; assignees follow without a row (the
    object's app says who they are) unless they unfollowed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField()
    following = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="watch_once_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {'follows' if self.following else 'unfollowed'} {self.object_id}"


class MentionReminder(models.Model):
    """The daily e-mail of unread mentions, once per user per day: the row is claimed before the
    e-mail goes out, so a beat that runs twice sends it once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    mentions = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="mention_reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"Unread mentions of {self.user} on {self.day}"


class SsoIdentity(models.Model):
    """A user's account at the identity provider (pm.sso): who signs in as whom. Found by the
    provider's issuer and subject, which never change, rather than by e-mail, which may."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True, help_text="The address at the first sign-in.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer}"


# User journey maps live in their own module; importing them here registers them as pm's models.
from pm.journey_models import Journey, JourneyOpportunity, JourneyStage  # noqa: E402, F401
