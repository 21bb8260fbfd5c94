"""KPIs and their data: definitions, raw data points, rollups per time bucket, dirty ranges waiting
for recalculation, links to key results, launch impacts, experiments and funnels."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from backlog.models import Feature
from metrics.choices import (
    Aggregation,
    DataSource,
    Direction,
    EventMeasure,
    ExperimentStatus,
    Granularity,
)
from pm.choices import ImportStatus
from pm.fields import validate_plausible_date
from pm.models import KeyResult, Product, Versioned, Workspace
from pm.visibility import Rules, team_only, through


class KPI(Versioned):
    """A key performance indicator of a product: how its data points aggregate into one value per
    day, week or month, which way is good, and the target to reach.

    A ratio KPI has no data points of its own: each bucket is its numerator KPI's value divided
    by its denominator KPI's value for the same bucket (times `ratio_multiplier`, e.g. 100 for %).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown. What it measures and why.")
    unit = models.CharField(max_length=20, blank=True, help_text="For example %, €, users, ms.")
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    aggregation = models.CharField(
        max_length=10,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
        help_text="How the data points of one period combine into the period's value.",
    )
    granularity = models.CharField(
        max_length=5,
        choices=Granularity.choices,
        default=Granularity.DAY,
        help_text="The period shown by default (all three are always computed).",
    )
    numerator = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="ratios_as_numerator",
    )
    denominator = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="ratios_as_denominator",
    )
    ratio_multiplier = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text="Ratio KPIs only: 100 shows the ratio as a percentage.",
    )
    target_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    target_date = models.DateField(null=True, blank=True, validators=[validate_plausible_date])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_kpis",
    )
    # An events KPI is computed from the product's events (POST /api/v1/events/) instead of data
    # points: the events named `event_name`, counted, their users counted once per period, or
    # a numeric property summed. A ratio of two events KPIs is an ordinary ratio KPI.
    event_name = models.CharField(
        "event", max_length=120, blank=True, help_text="Events KPIs only: the event to measure."
    )
    event_measure = models.CharField(
        "measure", max_length=10, choices=EventMeasure.choices, blank=True
    )
    event_property = models.CharField(
        "property",
        max_length=100,
        blank=True,
        help_text="Events KPIs that sum a property: its name (numbers only are added).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"
        constraints = [
            models.UniqueConstraint(
                "product",
                Lower("name"),
                name="kpi_name_unique_per_product",
                violation_error_message="A KPI with this name already exists in this product.",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        aggregation=Aggregation.RATIO,
                        numerator__isnull=False,
                        denominator__isnull=False,
                    )
                    | models.Q(
                        ~models.Q(aggregation=Aggregation.RATIO),
                        numerator__isnull=True,
                        denominator__isnull=True,
                    )
                ),
                name="kpi_ratio_has_both_parts",
                violation_error_message=(
                    "A ratio KPI needs a numerator and a denominator KPI; other KPIs have neither."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(numerator=models.F("denominator")),
                name="kpi_ratio_parts_differ",
                violation_error_message="The numerator and denominator must be different KPIs.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ratio(self) -> bool:
        return self.aggregation == Aggregation.RATIO

    @property
    def from_events(self) -> bool:
        return bool(self.event_name)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == Direction.HIGHER

    def clean(self) -> None:
        super().clean()
        if self.event_name or self.event_measure:
            self._clean_events()
        if not self.is_ratio:
            return
        errors = {}
        for name in ("numerator", "denominator"):
            part = getattr(self, name)
            if part is None:
                errors[name] = "Choose a KPI."
            elif self.pk and part.pk == self.pk:
                errors[name] = "A ratio cannot use itself."
            elif part.product_id != self.product_id:
                errors[name] = "Choose a KPI of the same product."
            elif part.is_ratio:
                errors[name] = "Choose a KPI with its own data (not another ratio)."
        if self.numerator_id and self.numerator_id == self.denominator_id:
            errors["denominator"] = "The numerator and denominator must be different KPIs."
        if errors:
            raise ValidationError(errors)

    def _clean_events(self) -> None:
        errors = {}
        if not self.event_name.strip():
            errors["event_name"] = "Name the event to measure."
        if not self.event_measure:
            errors["event_measure"] = "Choose what to measure of the event."
        if self.event_measure == EventMeasure.SUM and not self.event_property.strip():
            errors["event_property"] = "Name the property to sum."
        if self.is_ratio:
            errors["aggregation"] = (
                "A ratio divides two KPIs: define the two events KPIs, then the ratio of them."
            )
        if errors:
            raise ValidationError(errors)


class DataPoint(models.Model):
    """One measurement of a KPI at a moment, with optional dimensions (plan, country, …).
    Stored as sent, one row per (KPI, timestamp, dimensions); the rollups are derived from
    these rows."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(
        KPI, on_delete=models.CASCADE, related_name="datapoints", db_index=False
    )
    timestamp = models.DateTimeField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    # {} for none. The KPI, timestamp and dimensions identify a point: sent again, it replaces.
    dimensions = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kpi", "timestamp"], name="datapoint_kpi_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "timestamp", "dimensions"], name="datapoint_point_unique"
            ),
        ]
        verbose_name = "data point"

    def __str__(self) -> str:
        return f"{self.kpi_id} @ {self.timestamp:%Y-%m-%d %H:%M}: {self.value}"


class Event(models.Model):
    """Something a person did in the product (signed up, opened a report, clicked upgrade), sent
    by the product's own code through `POST /api/v1/events/`: the raw material of event KPIs,
    funnels and experiments.

    Stored in monthly partitions of the timestamp like data points (metrics.partitions). An event
    is identified by its product, the sender's `event_id` and its timestamp: the same batch sent
    again stores nothing twice. `distinct_id` is the person: the `user_id` when the sender knows
    it, otherwise `anon:` and the anonymous id."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.CharField(max_length=100)
    name = models.CharField(max_length=120)
    distinct_id = models.CharField(max_length=210)
    timestamp = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["product", "name", "timestamp"], name="event_product_name_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "event_id", "timestamp"], name="event_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} by {self.distinct_id} @ {self.timestamp:%Y-%m-%d %H:%M}"


class Rollup(models.Model):
    """A KPI's value for one day, week or month (bucket dates are in the workspace's time zone),
    with the partial aggregates the value comes from, so coarser buckets and launch-impact windows
    combine exactly: sum and count of the points, and the latest point's value and time.

    For ratio KPIs `sum` holds the numerator's bucket value and `denominator` the denominator's.
    `run_id` marks the recalculation that last wrote the row; rows of a recalculated range that
    the run did not write are stale and removed."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    granularity = models.CharField(max_length=5, choices=Granularity.choices)
    bucket_start = models.DateField()
    value = models.DecimalField(max_digits=38, decimal_places=10, null=True)
    sum = models.DecimalField(max_digits=38, decimal_places=6, default=Decimal(0))
    count = models.BigIntegerField(default=0)
    last_value = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    last_at = models.DateTimeField(null=True)
    denominator = models.DecimalField(max_digits=38, decimal_places=10, null=True)
    run_id = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["kpi", "granularity", "bucket_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "granularity", "bucket_start"], name="rollup_bucket_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.granularity} {self.bucket_start}: {self.value}"


class HourRollup(models.Model):
    """The finest layer, internal: a KPI's partial aggregates per wall-clock hour in the
    workspace's time zone. Local hours nest in local days (even with half-hour offsets), so days
    are summed from hours and an incremental recalculation re-reads only the raw points of the
    hours that new points touched, however busy the rest of the day was."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    sum = models.DecimalField(max_digits=38, decimal_places=6, default=Decimal(0))
    count = models.BigIntegerField(default=0)
    last_value = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    last_at = models.DateTimeField(null=True)
    run_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kpi", "day", "hour"], name="hour_rollup_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.day} {self.hour:02d}h: {self.sum}"


class DirtyRange(models.Model):
    """The time span of a batch of new data points whose buckets are not recalculated yet.
    Written in the same transaction as the points; removed by the recalculation that covered it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="dirty_ranges")
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="dirty_range_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id}: {self.start} – {self.end}"


class PointsUpload(models.Model):
    """A CSV file of data points uploaded on a KPI's page, imported by a worker (all points or
    none). Its hash recognises the same file uploaded again."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    content_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    stored_count = models.PositiveIntegerField(default=0)
    summary = models.CharField(max_length=200, blank=True, help_text="“1,200 points stored”.")
    first = models.DateTimeField(null=True, blank=True)
    last = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} → {self.kpi_id} ({self.status})"

    @property
    def stalled(self) -> bool:
        from pm.background import stalled

        return stalled(self.status, self.created_at)


class KeyResultKPI(models.Model):
    """A key result measured by a KPI: the KPI's latest value becomes the key result's current
    value whenever the KPI is recalculated."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key_result = models.OneToOneField(KeyResult, on_delete=models.CASCADE, related_name="kpi_link")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="key_result_links")
    # The updates are logged in this person's name (the history needs someone to show).
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "key result KPI link"

    def __str__(self) -> str:
        return f"{self.key_result} ← {self.kpi}"


class LaunchImpact(Versioned):
    """A prediction that shipping a feature moves a KPI by some percentage. Once the feature has
    shipped, the KPI is compared over equal windows before and after the ship date."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="launch_impacts")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="launch_impacts")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="launch_impacts")
    predicted_change = models.DecimalField(
        "predicted change (%)",
        max_digits=8,
        decimal_places=2,
        help_text="Percent change you expect, signed: 5 for +5 %, -10 for −10 %.",
    )
    window_days = models.PositiveSmallIntegerField(
        "window (days)",
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Days compared on each side of the ship date.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # A launch's impact is shown with its feature: to whoever sees that feature.
    visibility_rules = Rules(rows=lambda viewer: through("feature", "backlog.feature", viewer))

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "kpi"],
                name="launch_impact_unique",
                violation_error_message="This feature already has a prediction for this KPI.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature} → {self.kpi}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.feature_id and self.feature.product_id != self.product_id:
            errors["feature"] = "Choose a feature of this product."
        if self.kpi_id and self.kpi.product_id != self.product_id:
            errors["kpi"] = "Choose a KPI of this product."
        if errors:
            raise ValidationError(errors)


class Experiment(Versioned):
    """An A/B test: a hypothesis, the feature it informs, and variants (the first is the
    control) with their exposures and conversions."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=160)
    hypothesis = models.TextField(help_text="Markdown. We believe that … will … because ….")
    feature = models.ForeignKey(
        Feature,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="experiments",
    )
    status = models.CharField(
        max_length=20, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING
    )
    started_on = models.DateField(null=True, blank=True, validators=[validate_plausible_date])
    ended_on = models.DateField(null=True, blank=True, validators=[validate_plausible_date])
    # Typed-in variants, or read from events (metrics.experiments_events): who saw which
    # variant (the exposure event's variant property) and who converted after.
    source = models.CharField(
        "numbers", max_length=10, choices=DataSource.choices, default=DataSource.MANUAL
    )
    exposure_event = models.CharField(
        max_length=120, blank=True, help_text="The event sent when someone sees a variant."
    )
    variant_property = models.CharField(
        max_length=100,
        blank=True,
        default="variant",
        help_text="The exposure event's property that names the variant.",
    )
    conversion_event = models.CharField(
        max_length=120, blank=True, help_text="The event that counts as converting."
    )
    control_variant = models.CharField(
        max_length=80,
        blank=True,
        help_text="The variant that is the control (default: “control”, else the first by name).",
    )
    minimum_detectable_effect = models.DecimalField(
        "minimum detectable effect (%)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal(1000))],
        help_text="The smallest relative change worth finding (10 = +10 %): plans the sample size.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(
        rows=lambda viewer: (
            models.Q(feature__isnull=True) | through("feature", "backlog.feature", viewer)
        )
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(started_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="experiment_ends_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.feature is not None and self.feature.product_id != self.product_id:
            raise ValidationError({"feature": "Choose a feature of this product."})
        if self.source == DataSource.EVENTS:
            missing = {
                name: "Events experiments need this."
                for name in ("exposure_event", "variant_property", "conversion_event")
                if not getattr(self, name).strip()
            }
            if missing:
                raise ValidationError(missing)


class Variant(models.Model):
    """One arm of an experiment; position 0 is the control. In a pricing experiment every arm
    carries the price it showed (metrics.services checks: all or none, all different), and the
    arms are compared by revenue per visitor as well as by conversion."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    exposures = models.PositiveIntegerField()
    conversions = models.PositiveIntegerField()
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Pricing experiments: the price this variant showed.",
    )

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "position"], name="variant_position_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(conversions__lte=models.F("exposures")),
                name="variant_conversions_within_exposures",
                violation_error_message="Conversions cannot exceed exposures.",
            ),
            models.CheckConstraint(
                condition=models.Q(price__isnull=True) | models.Q(price__gte=0),
                name="variant_price_not_negative",
                violation_error_message="A price cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Funnel(Versioned):
    """A sequence of steps (visit → sign up → activate …) with how many made each step over a
    period, to show where people drop off.

    A manual funnel's counts are typed in. An events funnel computes them (metrics.funnels): the
    people whose first step-1 event falls in the period, and of those who did each next step in
    order within `conversion_window_days` of their step 1; broken down by a property of that
    step-1 event when `breakdown_property` is set."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="funnels")
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    source = models.CharField(
        "counts", max_length=10, choices=DataSource.choices, default=DataSource.MANUAL
    )
    period_start = models.DateField(validators=[validate_plausible_date])
    period_end = models.DateField(validators=[validate_plausible_date])
    conversion_window_days = models.PositiveSmallIntegerField(
        "conversion window (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Events funnels: how long after step 1 the later steps still count.",
    )
    breakdown_property = models.CharField(
        max_length=100,
        blank=True,
        help_text="Events funnels: split by this property of the step-1 event (plan, platform).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="funnel_period_ordered",
                violation_error_message="The period cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FunnelStep(models.Model):
    """One step of a funnel, in order: the number of people (or events) that reached it, or for
    an events funnel the event (and property) that marks it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    funnel = models.ForeignKey(Funnel, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    count = models.PositiveBigIntegerField(default=0)  # manual funnels only
    # Events funnels: the event, and optionally one property it must have (`plan` = `pro`).
    event = models.CharField(max_length=120, blank=True)
    property_name = models.CharField(max_length=100, blank=True)
    property_value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["funnel", "position"]
        constraints = [
            models.UniqueConstraint(fields=["funnel", "position"], name="funnel_step_unique"),
        ]

    def __str__(self) -> str:
        return self.name


# --- pricing -------------------------------------------------------------------------------


class PricePlan(Versioned):
    """A plan (tier) of the product with its price points and the backlog features it includes.
    Prices are business data: the team reads them, nobody outside it."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_plans")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, max_length=2000)
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO code, e.g. EUR, USD.")
    monthly_price = models.DecimalField(
        "monthly price", max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    annual_price = models.DecimalField(
        "annual price",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Per year, when billed annually.",
    )
    features = models.ManyToManyField(Feature, blank=True, related_name="price_plans")
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["monthly_price", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "product", name="price_plan_name_unique_per_product"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def annual_discount(self) -> Decimal | None:
        """How much cheaper a year is billed annually than monthly, as a share (0.17 = 17%)."""
        if self.annual_price is None or not self.monthly_price:
            return None
        return 1 - self.annual_price / (self.monthly_price * 12)


class CompetitorPrice(models.Model):
    """A competitor's plan and its monthly price, to set beside ours."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    competitor = models.ForeignKey(
        "pm.Competitor", on_delete=models.CASCADE, related_name="price_points"
    )
    plan_name = models.CharField("plan", max_length=80)
    currency = models.CharField(max_length=3, default="EUR")
    monthly_price = models.DecimalField(
        "monthly price", max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["monthly_price", "id"]

    def __str__(self) -> str:
        return f"{self.competitor} {self.plan_name}"


class PriceSurvey(models.Model):
    """A Van Westendorp survey: the four prices each respondent named, as uploaded (CSV)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    # [[too cheap, cheap, expensive, too expensive], …] per respondent, as numbers.
    answers = models.JSONField(default=list)
    file_sha256 = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
