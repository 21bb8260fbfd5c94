"""Customer feedback: customers, feedback items, insights that link them to the backlog, research
studies, CSV imports and the public ideas portal."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from backlog.choices import CustomFieldTarget
from backlog.models import Feature, Idea, custom_values_field, public_custom_keys
from feedback.choices import (
    FeedbackStatus,
    Importance,
    PostStatus,
    Sentiment,
    Source,
    StudyKind,
    StudyStatus,
    status_rank,
)
from pm.choices import ImportStatus
from pm.fields import validate_plausible_date
from pm.models import Product, Versioned, Workspace
from pm.visibility import Rules, Section, Viewer, in_section, team_only, through


def _insight_rows(viewer: Viewer) -> models.Q:
    """Readers of the feedback section: every insight. Others: the evidence on the features
    they see (quotes, never the customer)."""
    if viewer.is_team or viewer.browses(Section.FEEDBACK):
        return models.Q()
    return models.Q(feature__isnull=False) & through("feature", "backlog.feature", viewer)


def _post_rows(viewer: Viewer) -> models.Q:
    """Published posts are public (the portal shows them); the rest is the team's."""
    if viewer.is_team:
        return models.Q()
    return models.Q(status=PostStatus.PUBLISHED)


class Customer(Versioned):
    """A customer account of the workspace. Name, contact and ARR are internal: stakeholders and
    the public portal never see them."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=120)
    segment = models.CharField(
        max_length=60, blank=True, help_text="For example SMB, Mid-market or Enterprise."
    )
    plan = models.CharField(max_length=60, blank=True, help_text="The plan they pay for.")
    arr = models.DecimalField(
        "ARR",
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="Annual recurring revenue.",
    )
    contact = models.CharField(
        max_length=200, blank=True, help_text="Who to talk to, for example an e-mail address."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(
        internal=("name", "arr", "contact", "plan"), rows=team_only, workspace="workspace_id"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("name"),
                name="customer_name_unique_per_workspace",
                violation_error_message="A customer with this name already exists.",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "name", "id"], name="customer_by_name")]

    def __str__(self) -> str:
        return self.name


class ResearchStudy(Versioned):
    """Interviews, a survey or a usability test. Its findings are feedback items (with the study
    set), so they are triaged and linked to features like any other feedback."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="studies")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=StudyKind.choices)
    status = models.CharField(
        max_length=20, choices=StudyStatus.choices, default=StudyStatus.PLANNED
    )
    goal = models.TextField(help_text="What you want to learn. Markdown.")
    participants = models.ManyToManyField(Customer, blank=True, related_name="studies")
    participant_notes = models.TextField(
        blank=True, help_text="Who took part, for example “8 PMs at mid-size SaaS companies”."
    )
    summary = models.TextField(blank=True, help_text="What you learned overall. Markdown.")
    started_on = models.DateField(null=True, blank=True, validators=[validate_plausible_date])
    ended_on = models.DateField(null=True, blank=True, validators=[validate_plausible_date])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(internal=("participant_notes",), rows=in_section(Section.FEEDBACK))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "research study"
        verbose_name_plural = "research studies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(started_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="study_ends_after_start",
                violation_error_message="A study cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FeedbackImport(models.Model):
    """An uploaded CSV file waiting for (or done with) its import. The decoded text is kept so the
    preview and the import read exactly the same rows."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="feedback_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    filename = models.CharField(max_length=200)
    encoding = models.CharField(max_length=20)
    content = models.TextField()
    row_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    imported_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="SHA-256 of the text."
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.filename}"

    @property
    def stalled(self) -> bool:
        from pm.background import stalled

        return stalled(self.status, self.queued_at)


class FeedbackItem(Versioned):
    """One piece of customer feedback: what was said, by whom, where and when."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="feedback_items")
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_items",
    )
    study = models.ForeignKey(
        ResearchStudy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    content = models.TextField()
    sentiment = models.CharField(
        max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL
    )
    received_at = models.DateTimeField(default=timezone.now, validators=[validate_plausible_date])
    status = models.CharField(
        max_length=10, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW
    )
    import_batch = models.ForeignKey(
        FeedbackImport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    custom_values = custom_values_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Readers outside the team never learn which customer said it.
    visibility_rules = Rules(
        internal=("customer",),
        rows=in_section(Section.FEEDBACK),
        shown_keys={"custom_values": public_custom_keys(CustomFieldTarget.FEEDBACK)},
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "feedback item"
        indexes = [
            # A status tab of the inbox, its counts, the next new item to triage.
            models.Index(
                fields=["product", "status", "-received_at", "-id"], name="feedback_inbox"
            ),
            # The inbox without a status filter: new first, then triaged, linked, archived.
            models.Index(
                "product",
                status_rank(),
                models.F("received_at").desc(),
                models.F("id").desc(),
                name="feedback_inbox_order",
            ),
            # The inbox's status counts: an index-only scan of two narrow columns.
            models.Index(fields=["product", "status"], name="feedback_status_counts"),
            # The Overview's latest feedback.
            models.Index(fields=["product", "-received_at", "-id"], name="feedback_latest"),
        ]

    def __str__(self) -> str:
        # Never the customer's name: this text lands in the product history that stakeholders read.
        excerpt = " ".join(self.content.split())
        return f"#{self.pk}: {excerpt[:60]}{'…' if len(excerpt) > 60 else ''}"


class Insight(models.Model):
    """Evidence: a feedback item linked to an idea or a feature, with the quote that matters and
    how much it matters to that customer."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    feedback_item = models.ForeignKey(
        FeedbackItem, on_delete=models.CASCADE, related_name="insights"
    )
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, null=True, blank=True, related_name="insights"
    )
    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="insights"
    )
    quote = models.TextField(blank=True, help_text="The words in the feedback that matter.")
    importance = models.CharField(
        max_length=20, choices=Importance.choices, default=Importance.IMPORTANT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=_insight_rows, workspace="feedback_item__product__workspace_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(feature__isnull=False) & models.Q(idea__isnull=True))
                | (models.Q(feature__isnull=True) & models.Q(idea__isnull=False)),
                name="insight_links_one_target",
            ),
            models.UniqueConstraint(
                fields=["feedback_item", "feature"],
                condition=models.Q(feature__isnull=False),
                name="insight_unique_feature",
                violation_error_message="This feedback is already linked to that feature.",
            ),
            models.UniqueConstraint(
                fields=["feedback_item", "idea"],
                condition=models.Q(idea__isnull=False),
                name="insight_unique_idea",
                violation_error_message="This feedback is already linked to that idea.",
            ),
        ]

    def __str__(self) -> str:
        return f"Feedback #{self.feedback_item_id} → {self.target}"

    @property
    def target(self) -> Feature | Idea | None:
        return self.feature if self.feature_id else self.idea

    @property
    def product(self) -> Product:
        return self.feedback_item.product


class PortalSettings(Versioned):
    """The public ideas portal of a product: off until a PM turns it on."""

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, related_name="portal_settings"
    )
    enabled = models.BooleanField(
        default=False, help_text="Anyone with the link can browse published ideas and vote."
    )
    accept_submissions = models.BooleanField(
        default=True, help_text="Visitors may submit ideas; a PM approves them before they show."
    )
    title = models.CharField(max_length=120, blank=True, help_text="Defaults to “<product> ideas”.")
    intro = models.TextField(blank=True, help_text="Shown at the top of the portal. Markdown.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "portal settings"
        verbose_name_plural = "portal settings"

    def __str__(self) -> str:
        return f"Ideas portal of {self.product}"

    @property
    def display_title(self) -> str:
        return self.title or f"{self.product.name} ideas"


class PortalPost(models.Model):
    """An idea as the public portal shows it. A visitor's submission waits for moderation; once
    approved it becomes a backlog Idea. The title and description are the public copy."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="portal_posts")
    idea = models.OneToOneField(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="portal_post"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=PostStatus.choices, default=PostStatus.PENDING)
    author_email = models.EmailField(blank=True)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    votes = models.PositiveIntegerField(default=0, help_text="Confirmed votes.")
    submitted_at = models.DateTimeField(default=timezone.now)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    visibility_rules = Rules(internal=("author_email",), rows=_post_rows)

    class Meta:
        ordering = ["-votes", "-submitted_at"]
        indexes = [models.Index(fields=["product", "status", "-votes"], name="portal_post_list")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(idea__isnull=False),
                name="portal_post_published_has_idea",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PortalVote(models.Model):
    """One vote of one identified voter on one portal idea: a signed-in user (counted at once) or
    an e-mail address (counted once confirmed through the e-mailed link)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(PortalPost, on_delete=models.CASCADE, related_name="portal_votes")
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(
        internal=("email",), rows=team_only, workspace="post__product__workspace_id"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(~models.Q(email="") & models.Q(user__isnull=True))
                | (models.Q(email="") & models.Q(user__isnull=False)),
                name="portal_vote_one_identity",
            ),
            models.UniqueConstraint(
                fields=["post", "email"],
                condition=~models.Q(email=""),
                name="portal_vote_unique_email",
            ),
            models.UniqueConstraint(
                fields=["post", "user"],
                condition=models.Q(user__isnull=False),
                name="portal_vote_unique_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Vote on {self.post_id}"


class Embedding(models.Model):
    """The meaning of one row as a vector (feedback.semantic): a feature, an idea, a feedback item
    or a quote (insight). `target_kind`/`target_id` say which feature or idea a quote stands for,
    so evidence adds to how its target is found. Written by the `embeddings` queue."""

    KINDS = [
        ("feature", "Feature"),
        ("idea", "Idea"),
        ("feedback", "Feedback item"),
        ("insight", "Quote"),
        ("post", "Portal post"),
    ]

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=KINDS)
    object_id = models.PositiveBigIntegerField()
    target_kind = models.CharField(max_length=10, blank=True)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    vector = models.BinaryField(help_text="384 little-endian float32, unit length.")
    digest = models.CharField(max_length=32, help_text="Hash of the text that was embedded.")
    theme = models.ForeignKey(
        "FeedbackTheme", on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    updated_at = models.DateTimeField(auto_now=True)

    # No visibility_rules: vectors are machinery that no page, API, history or export shows;
    # what they find is read back through the rows' own selectors.

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="embedding_one_per_row")
        ]
        indexes = [
            # A product's vectors of one kind, and the stamp that says whether a cached copy
            # is still current (the latest write).
            models.Index(fields=["product", "kind", "updated_at"], name="embedding_by_product"),
        ]

    def __str__(self) -> str:
        return f"Embedding of {self.kind} #{self.object_id}"


class FeedbackTheme(models.Model):
    """A cluster of a product's feedback that says much the same (feedback.themes): found by
    meaning, labelled by its most distinctive words (c-TF-IDF), linkable to a feature in one
    step. Members are the feedback vectors (Embedding.theme)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="feedback_themes")
    label = models.CharField(max_length=200)
    words = models.JSONField(default=list, help_text="Most distinctive words, best first.")
    centroid = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    feature = models.ForeignKey(
        Feature, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback_themes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=in_section(Section.FEEDBACK))

    class Meta:
        ordering = ["-size", "id"]
        indexes = [models.Index(fields=["product", "-size"], name="theme_by_size")]

    def __str__(self) -> str:
        return self.label


class SuggestionDecision(models.Model):
    """A PM's answer to a suggestion: linked (or merged) as suggested, or dismissed. What the
    Feedback page's precision counts."""

    LINK = "link"
    DUPLICATE = "duplicate"
    KINDS = [(LINK, "Link to a feature or idea"), (DUPLICATE, "Duplicate")]

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=KINDS)
    source_kind = models.CharField(max_length=10)
    source_id = models.PositiveBigIntegerField()
    target_kind = models.CharField(max_length=10)
    target_id = models.PositiveBigIntegerField()
    accepted = models.BooleanField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    # No visibility_rules: only counted (the precision the PM pages show), never listed.

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_kind", "source_id", "target_kind", "target_id"],
                name="suggestion_decided_once",
            )
        ]
        indexes = [models.Index(fields=["product", "kind", "accepted"], name="suggestion_stats")]

    def __str__(self) -> str:
        verdict = "accepted" if self.accepted else "dismissed"
        source = f"{self.source_kind}#{self.source_id}"
        return f"{self.kind} {source} → {self.target_kind}#{self.target_id} {verdict}"
