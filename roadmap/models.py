"""The roadmap: initiatives on a timeline and a Now/Next/Later board, releases, share links."""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from backlog.models import Feature
from pm.fields import RankField, validate_plausible_date
from pm.models import Objective, Product, StrategicTheme, Versioned
from pm.visibility import Rules, Viewer, public_rows, team_only, through
from roadmap.choices import (
    Confidence,
    Health,
    Horizon,
    InitiativeStatus,
    Precision,
    Visibility,
)
from roadmap.periods import Period, span_label


class Initiative(Versioned):
    """A strategic piece of work on the roadmap: dated to a month or quarter, placed in a horizon,
    linked to the objectives it serves and the backlog features that deliver it.

    `internal_notes` and internal initiatives never reach stakeholders or share links.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    theme = models.ForeignKey(
        StrategicTheme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="initiatives",
    )
    objectives = models.ManyToManyField(Objective, blank=True, related_name="initiatives")
    features = models.ManyToManyField(Feature, blank=True, related_name="initiatives")
    status = models.CharField(
        max_length=20, choices=InitiativeStatus.choices, default=InitiativeStatus.PLANNED
    )
    horizon = models.CharField(max_length=10, choices=Horizon.choices, default=Horizon.NEXT)
    start = models.DateField(
        null=True,
        blank=True,
        validators=[validate_plausible_date],
        help_text="First day of the start period.",
    )
    start_precision = models.CharField(
        max_length=10, choices=Precision.choices, default=Precision.QUARTER
    )
    end = models.DateField(
        null=True,
        blank=True,
        validators=[validate_plausible_date],
        help_text="Last day of the end period.",
    )
    end_precision = models.CharField(
        max_length=10, choices=Precision.choices, default=Precision.QUARTER
    )
    confidence = models.CharField(
        max_length=10, choices=Confidence.choices, default=Confidence.MEDIUM
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    internal_notes = models.TextField(
        blank=True, help_text="Never shown to stakeholders or on shared roadmaps."
    )
    # Order within the horizon column (fractional keys: a move writes one row).
    rank = RankField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(internal=("internal_notes",), rows=public_rows)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "horizon", "rank"], name="initiative_rank_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(start__isnull=True, end__isnull=True)
                | models.Q(start__isnull=False, end__isnull=False, end__gte=models.F("start")),
                name="initiative_dates_ordered",
                violation_error_message="The end must not be before the start.",
            ),
            models.CheckConstraint(
                condition=models.Q(horizon__in=Horizon.values), name="initiative_horizon_valid"
            ),
        ]
        indexes = [models.Index(fields=["product", "horizon"], name="initiative_product_horizon")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValidationError("Give both a start and an end, or neither.")
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": "The end must not be before the start."})

    @property
    def start_period(self) -> Period | None:
        return Period.starting(self.start, self.start_precision) if self.start else None

    @property
    def end_period(self) -> Period | None:
        return Period.ending(self.end, self.end_precision) if self.end else None

    @property
    def timeframe(self) -> str:
        return span_label(self.start, self.start_precision, self.end, self.end_precision)

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


def _updates_of_visible_initiatives(viewer: Viewer) -> Q:
    return through("initiative", "roadmap.initiative", viewer)


class InitiativeUpdate(models.Model):
    """A periodic status update on an initiative (on track / at risk / off track, with a note):
    the latest is the initiative's health on the roadmap, the overview and in digests. Readers
    who see the initiative see its updates — they are written for stakeholders too."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=Health.choices)
    note = models.TextField(blank=True, max_length=5000, help_text="Markdown.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    visibility_rules = Rules(rows=_updates_of_visible_initiatives)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["initiative", "-created_at"], name="initiative_update_latest"),
            models.Index(fields=["product", "-created_at"], name="initiative_update_product"),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.initiative}"


class Release(Versioned):
    """A named delivery with a target date; shipping it marks its features shipped.

    `notes` are public release notes; `internal_notes` are not.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=120)
    target_date = models.DateField(validators=[validate_plausible_date])
    shipped_date = models.DateField(null=True, blank=True, validators=[validate_plausible_date])
    features = models.ManyToManyField(Feature, blank=True, related_name="releases")
    notes = models.TextField(blank=True, help_text="Public release notes (markdown).")
    internal_notes = models.TextField(
        blank=True, help_text="Never shown to stakeholders or on shared roadmaps."
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(internal=("internal_notes",), rows=public_rows)

    class Meta:
        ordering = ["target_date", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shipped(self) -> bool:
        return self.shipped_date is not None

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


class ShareLink(models.Model):
    """A secret link to a product's public roadmap, for people without an account.

    Only a SHA-256 hash of the token is stored (the token has 256 bits of entropy, so a plain hash
    is enough): a leaked database dump holds no usable link. The token is shown once, at creation.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="share_links")
    label = models.CharField(max_length=120, help_text="Who the link is for, e.g. “Board Q1”.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=8, editable=False, help_text="The token's first characters, to tell links apart."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, validators=[validate_plausible_date])
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    visibility_rules = Rules(rows=team_only)

    # Not columns: a link just created carries its secret and addresses for the one response
    # that shows them (roadmap.api); only the token's hash is stored.
    token: str
    url: str
    api_url: str

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Share link “{self.label}”"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)  # 256 bits

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

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
