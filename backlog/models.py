"""The backlog: ideas, features (ranked, scored), user stories and sprints."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from backlog.choices import (
    STORY_POINTS,
    CustomFieldKind,
    CustomFieldTarget,
    FeatureKind,
    FeatureStatus,
    Framework,
    IdeaSource,
    IdeaStatus,
    MoSCoW,
    StoryStatus,
)
from pm.fields import RankField, validate_plausible_date
from pm.models import Persona, Product, StrategicTheme, Versioned
from pm.visibility import NOTHING, Rules, Section, Viewer, in_section, team_only


def reach_from_arr(product: Product) -> bool:
    """Whether the product's reach is the summed ARR of customers (then reach is customer
    data: internal). Read once per product object (or from its loaded backlog settings)."""
    cached = getattr(product, "_reach_from_arr", None)
    if cached is None:
        loaded = product._state.fields_cache.get("backlog_settings")
        if loaded is not None:
            cached = loaded.reach_source == BacklogSettings.ReachSource.ARR
        else:
            cached = BacklogSettings.objects.filter(
                product_id=product.pk, reach_source=BacklogSettings.ReachSource.ARR
            ).exists()
        product._reach_from_arr = cached
    return cached


JIRA_ISSUE_PATH = re.compile(r"^/browse/[A-Z][A-Z0-9_]*-[0-9]+/?$")


def validate_jira_url(value: str) -> None:
    """A link to one Jira issue: https://<site>/browse/ABC-123."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            "Enter the issue's address, such as https://acme.atlassian.net/browse/ABC-123."
        )
    if not JIRA_ISSUE_PATH.match(parts.path):
        raise ValidationError(
            "That is not a link to one Jira issue: it should end in /browse/ABC-123."
        )


def jira_url_field() -> "models.URLField[str, str]":
    """The link from a feature or story to its Jira issue (internal: the team's tooling)."""
    return models.URLField(
        "Jira issue",
        max_length=500,
        blank=True,
        validators=[validate_jira_url],
        help_text=(
            "A link to the matching Jira issue, such as https://acme.atlassian.net/browse/ABC-123."
        ),
    )


# --- custom fields -------------------------------------------------------------------------
#
# Storage: the values of a row's custom fields live on the row itself, in one JSONB column
# (`custom_values`, {"<field id>": value}), not in a value table. Why: every page and API list
# that shows the row already loads it, so values cost no query at all (a value table needs a
# prefetch per list, or a join that multiplies rows); a versioned edit of a row's values is one
# UPDATE of that row, under the same version check as its other fields; and filtering is a
# containment test (`custom_values @> {"12": "Mobile"}`) that a GIN index (jsonb_path_ops;
# PostgreSQL only, so created by migration backlog 0009, not declared here) answers. Sorting
# reads one key (`custom_values ->> '12'`), cast for numbers. Definitions (name, type, options,
# public) are CustomField rows, one query per page.


def custom_values_field() -> "models.JSONField[Any, Any]":
    return models.JSONField(
        default=dict,
        blank=True,
        help_text="Values of the product's custom fields, keyed by field id (CustomField).",
    )


def public_custom_keys(target: str) -> Callable[[Product | None], frozenset[str]]:
    """The keys of `custom_values` readers outside the team see in a product: the ids of its
    public, unarchived fields on `target` (pm.visibility `Rules.shown_keys`). One query per
    product object, cached on it."""

    def shown(product: Product | None) -> frozenset[str]:
        if product is None:
            return frozenset()
        cached: dict[str, frozenset[str]] | None = getattr(product, "_public_custom_keys", None)
        if cached is None:
            found: dict[str, set[str]] = {}
            for pk, applies_to in CustomField.objects.filter(
                product_id=product.pk, public=True, archived_at=None
            ).values_list("pk", "applies_to"):
                found.setdefault(applies_to, set()).add(str(pk))
            cached = {k: frozenset(v) for k, v in found.items()}
            product._public_custom_keys = cached
        return cached.get(target, frozenset())

    return shown


def _custom_field_rows(viewer: Viewer) -> models.Q:
    """Outside the team, only public fields that are in use: a private field's name is as
    internal as its values."""
    if viewer.is_team:
        return models.Q()
    return models.Q(public=True, archived_at=None)


class CustomField(models.Model):
    """A typed field a product's PMs add to its features, ideas, stories or feedback items.

    Values live on the rows (`custom_values`, keyed by this field's id). Archiving hides the
    field everywhere and keeps its values, so un-archiving brings them back."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="custom_fields")
    applies_to = models.CharField(max_length=20, choices=CustomFieldTarget.choices)
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=20, choices=CustomFieldKind.choices)
    # The choices of a (multi) select, in the order shown: ["Web", "iOS", "Android"].
    options = models.JSONField(default=list, blank=True)
    public = models.BooleanField(
        default=False,
        help_text="Stakeholders (and the public roadmap) may see this field and its values.",
    )
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=_custom_field_rows)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                "product",
                "applies_to",
                Lower("name"),
                name="custom_field_name_unique",
            ),
        ]
        indexes = [models.Index(fields=["product", "applies_to"], name="custom_field_target")]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        """The key of this field's value in `custom_values`."""
        return str(self.pk)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_numeric(self) -> bool:
        return self.kind == CustomFieldKind.NUMBER


def _feature_rows(viewer: Viewer) -> models.Q:
    """The team: every feature. Readers of the whole backlog: all but archived ones. Readers of
    released features: shipped ones. Everyone else: none."""
    if viewer.is_team:
        return models.Q()
    if viewer.browses(Section.BACKLOG):
        return ~models.Q(status=FeatureStatus.ARCHIVED)
    if viewer.browses(Section.RELEASED):
        return models.Q(status=FeatureStatus.SHIPPED)
    return NOTHING


def _story_rows(viewer: Viewer) -> models.Q:
    """Stories are delivery detail: for readers of the whole backlog or of sprints, under a
    feature they see."""
    if viewer.is_team:
        return models.Q()
    if viewer.browses(Section.BACKLOG) or viewer.browses(Section.SPRINTS):
        return ~models.Q(feature__status=FeatureStatus.ARCHIVED)
    return NOTHING


class BacklogSettings(models.Model):
    """Per-product backlog preferences: the prioritisation framework and where reach comes from."""

    class ReachSource(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        CUSTOMERS = "customers", "Distinct customers in linked feedback"
        ARR = "arr", "Summed ARR of customers in linked feedback"

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, related_name="backlog_settings"
    )
    framework = models.CharField(max_length=20, choices=Framework.choices, default=Framework.RICE)
    reach_source = models.CharField(
        max_length=20, choices=ReachSource.choices, default=ReachSource.MANUAL
    )
    last_story_number = models.PositiveIntegerField(
        default=0, help_text="The number of the product's latest story key (LOD-42 → 42)."
    )

    def __str__(self) -> str:
        return f"Backlog settings of {self.product}"


class Idea(Versioned):
    """A raw request or suggestion, waiting for triage."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(
        max_length=20, choices=IdeaSource.choices, default=IdeaSource.INTERNAL
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submitted_ideas",
    )
    submitter_name = models.CharField(
        max_length=120,
        blank=True,
        help_text="Who asked, when not a user (a customer, a colleague).",
    )
    status = models.CharField(max_length=20, choices=IdeaStatus.choices, default=IdeaStatus.NEW)
    decline_reason = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_ideas"
    )
    feature = models.ForeignKey(
        "Feature", on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    votes = models.PositiveIntegerField(default=0)
    custom_values = custom_values_field()
    # Members who voted from the idea page; each also counts once in `votes` (with the portal's).
    voters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="voted_ideas"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Who outside the team asked is internal; ideas are a section stakeholders may be given.
    visibility_rules = Rules(
        internal=("submitter_name",),
        rows=in_section(Section.IDEAS),
        shown_keys={"custom_values": public_custom_keys(CustomFieldTarget.IDEA)},
    )

    # Not a column: set on the target by backlog.services.idea_merge for the message.
    merge_summary: str

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="idea_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Feature(Versioned):
    """A backlog item: ranked by hand, scored by the product's framework."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="features")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    kind = models.CharField(max_length=20, choices=FeatureKind.choices, default=FeatureKind.FEATURE)
    theme = models.ForeignKey(
        StrategicTheme, on_delete=models.SET_NULL, null=True, blank=True, related_name="features"
    )
    status = models.CharField(
        max_length=20, choices=FeatureStatus.choices, default=FeatureStatus.BACKLOG
    )
    moscow = models.CharField("MoSCoW", max_length=10, choices=MoSCoW.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_features",
        help_text="Notified when feedback is linked to the feature.",
    )
    shipped_at = models.DateTimeField(null=True, blank=True, validators=[validate_plausible_date])
    rank = RankField()

    # Prioritisation inputs (all optional; a score needs its framework's inputs).
    reach = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    impact = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    confidence = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent.",
    )
    effort = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Person-months.",
    )
    ease = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    business_value = models.PositiveSmallIntegerField(null=True, blank=True)
    time_criticality = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_reduction = models.PositiveSmallIntegerField(null=True, blank=True)
    job_size = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    value = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )

    # ROI inputs (internal: never shown to stakeholders).
    expected_revenue = models.DecimalField(
        "expected revenue or savings",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    roi_horizon_months = models.PositiveSmallIntegerField(
        "ROI horizon (months)", null=True, blank=True, validators=[MinValueValidator(1)]
    )

    # Demand from linked customer feedback, maintained by the feedback app through
    # backlog.services.feature_set_demand (stored so the backlog can sort and score by it).
    demand_customers = models.PositiveIntegerField(default=0)
    demand_arr = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    jira_url = jira_url_field()
    custom_values = custom_values_field()
    score = models.DecimalField(
        max_digits=16,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Computed from the inputs with the product's framework; stored to sort by.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # ROI inputs and customers' ARR are internal; so is reach when it is their summed ARR; the
    # Jira link is the team's tooling.
    visibility_rules = Rules(
        internal=("expected_revenue", "cost", "roi_horizon_months", "demand_arr", "jira_url"),
        internal_if={"reach": reach_from_arr},
        rows=_feature_rows,
        shown_keys={"custom_values": public_custom_keys(CustomFieldTarget.FEATURE)},
    )

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["product", "rank"], name="feature_rank_unique"),
        ]
        indexes = [models.Index(fields=["product", "status"], name="feature_product_status")]

    def __str__(self) -> str:
        return self.title


class Sprint(Versioned):
    """A time-box of committed stories; velocity is derived from its done stories."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="sprints")
    name = models.CharField(max_length=100)
    goal = models.TextField(blank=True)
    start = models.DateField(validators=[validate_plausible_date])
    end = models.DateField(validators=[validate_plausible_date])
    capacity = models.PositiveIntegerField(help_text="Story points the team can take on.")
    created_at = models.DateTimeField(auto_now_add=True)
    # For API polling (`?updated_since=`): changed by every save, like the other resources.
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=in_section(Section.SPRINTS))

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="sprint_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UserStory(Versioned):
    """A story under a feature: "As a … I want … so that …", with acceptance criteria."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stories")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="stories")
    number = models.PositiveIntegerField(help_text="The N in the story key KEY-N.")
    title = models.CharField(max_length=200)
    persona = models.ForeignKey(
        Persona, on_delete=models.SET_NULL, null=True, blank=True, related_name="stories"
    )
    as_a = models.CharField("as a", max_length=200, blank=True)
    i_want = models.TextField("I want", blank=True)
    so_that = models.TextField("so that", blank=True)
    # [{"text": "Given … when … then …", "done": false}, …]
    acceptance_criteria = models.JSONField(default=list, blank=True)
    points = models.PositiveSmallIntegerField(choices=STORY_POINTS, null=True, blank=True)
    status = models.CharField(max_length=20, choices=StoryStatus.choices, default=StoryStatus.TODO)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_stories",
    )
    sprint = models.ForeignKey(
        Sprint, on_delete=models.SET_NULL, null=True, blank=True, related_name="stories"
    )
    rank = RankField()
    jira_url = jira_url_field()
    custom_values = custom_values_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    # The Jira link is the team's tooling, like the development links.
    visibility_rules = Rules(
        internal=("jira_url",),
        rows=_story_rows,
        shown_keys={"custom_values": public_custom_keys(CustomFieldTarget.STORY)},
    )

    class Meta:
        ordering = ["rank"]
        verbose_name = "user story"
        verbose_name_plural = "user stories"
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="story_number_unique"),
            models.UniqueConstraint(fields=["product", "rank"], name="story_rank_unique"),
        ]
        # The API's story list across a workspace's products, first page in rank order,
        # without sorting every story (bench/api_stories.py).
        indexes = [models.Index(fields=["rank", "id"], name="story_rank_order")]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"{self.product.key}-{self.number}"


# --- sprint review and retrospective -------------------------------------------------------


class SprintReview(Versioned):
    """What the team showed at the sprint review and what stakeholders said about it. The done
    and not-done stories come from the sprint itself; these are the notes around them."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sprint = models.OneToOneField(Sprint, on_delete=models.CASCADE, related_name="review")
    demo_notes = models.TextField(
        "demo notes", blank=True, max_length=20_000, help_text="Markdown."
    )
    stakeholder_feedback = models.TextField(
        "stakeholder feedback", blank=True, max_length=20_000, help_text="Markdown."
    )
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=in_section(Section.SPRINTS))

    def __str__(self) -> str:
        return f"Review of {self.sprint}"


class RetroColumn(models.TextChoices):
    WENT_WELL = "went_well", "Went well"
    TO_IMPROVE = "to_improve", "To improve"
    IDEAS = "ideas", "Ideas"


class RetroItem(models.Model):
    """A card on a sprint's retrospective board. Retrospectives are the team's own: nobody
    outside it reads them, whatever sections stakeholders are given."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="retro_items")
    column = models.CharField(max_length=20, choices=RetroColumn.choices)
    text = models.CharField(max_length=500)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    voters = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["sprint", "column"], name="retro_item_sprint_column")]

    def __str__(self) -> str:
        return self.text[:80]


class ActionItem(models.Model):
    """Something the team agreed to change at a retrospective, with an owner. Open action items
    follow the team into the next sprint's planning until they are done."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sprint = models.ForeignKey(Sprint, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retro_actions",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["product", "done_at"], name="action_item_open")]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
