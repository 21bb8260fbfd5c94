"""Forms for the metrics pages. Versioned forms carry the version the editor loaded."""

from decimal import Decimal

from django import forms
from django.contrib.auth.models import User

from backlog.models import Feature
from metrics.choices import Aggregation, DataSource
from metrics.models import KPI, Experiment, Funnel, LaunchImpact
from pm.fields import validate_plausible_date
from pm.forms import MemberChoiceField, VersionedForm, model_choice
from pm.models import KeyResult, Product


class KPIForm(VersionedForm):
    class Meta:
        model = KPI
        fields = [
            "name",
            "description",
            "unit",
            "direction",
            "aggregation",
            "granularity",
            "numerator",
            "denominator",
            "ratio_multiplier",
            "target_value",
            "target_date",
            "owner",
            "event_name",
            "event_measure",
            "event_property",
        ]
        field_classes = {"owner": MemberChoiceField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"numerator": "Numerator KPI", "denominator": "Denominator KPI"}

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        self.instance.product = product  # the model's clean() compares products
        parts = KPI.objects.filter(product=product).exclude(aggregation=Aggregation.RATIO)
        if self.instance.pk:
            parts = parts.exclude(pk=self.instance.pk)
        for name in ("numerator", "denominator"):
            model_choice(self, name).queryset = parts
            self.fields[name].help_text = "Ratio KPIs only."
        model_choice(self, "owner").queryset = User.objects.filter(
            memberships__workspace_id=product.workspace_id
        ).order_by("first_name", "username")
        self.fields["target_value"].help_text = "In the KPI's unit, e.g. 4.5 for 4.5 %."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = KPI.objects.filter(product=self.product, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A KPI with this name already exists in this product.")
        return name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("aggregation") == Aggregation.RATIO:
            for name in ("numerator", "denominator"):
                if not cleaned.get(name):
                    self.add_error(name, "A ratio KPI needs this.")
            if cleaned.get("numerator") and cleaned.get("numerator") == cleaned.get("denominator"):
                self.add_error("denominator", "Choose a different KPI than the numerator.")
            if self.instance.pk and (
                self.instance.ratios_as_numerator.exists()
                or self.instance.ratios_as_denominator.exists()
            ):
                self.add_error(
                    "aggregation", "Other ratio KPIs are built on this one; it cannot be a ratio."
                )
        else:
            cleaned["numerator"] = cleaned["denominator"] = None
        return cleaned


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "A header row with “timestamp” (or “date”) and “value”; other columns become "
            "dimensions. Up to 10,000 rows. Times without an offset are in the workspace's "
            "time zone."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    # Shown only when the same file was imported before.
    again = forms.BooleanField(required=False, label="Import it again anyway")

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it up.")
        return upload


class PointsDeleteForm(forms.Form):
    """Delete a KPI's data points between two days (both included, in the workspace's time
    zone): a wrong upload, a test batch, points dated in the future by mistake."""

    first_day = forms.DateField(
        label="From",
        validators=[validate_plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    last_day = forms.DateField(
        label="To (included)",
        validators=[validate_plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "Choose a day on or after the first day.")
        return cleaned


class KeyResultChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: KeyResult) -> str:
        return f"{obj.objective.title} — {obj.description}"


class KeyResultLinkForm(forms.Form):
    key_result = KeyResultChoiceField(queryset=KeyResult.objects.none(), label="Key result")

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice(self, "key_result").queryset = KeyResult.objects.filter(
            objective__product=product
        ).select_related("objective")


class LaunchImpactForm(VersionedForm):
    class Meta:
        model = LaunchImpact
        fields = ["feature", "kpi", "predicted_change", "window_days", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"kpi": "KPI"}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.product = product  # the model's clean() compares products
        model_choice(self, "feature").queryset = Feature.objects.filter(product=product).order_by(
            "title"
        )
        model_choice(self, "kpi").queryset = KPI.objects.filter(product=product)
        self.product = product

    def clean(self):
        cleaned = super().clean()
        feature, kpi = cleaned.get("feature"), cleaned.get("kpi")
        if feature and kpi:
            clash = LaunchImpact.objects.filter(feature=feature, kpi=kpi)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("kpi", "This feature already has a prediction for this KPI.")
        return cleaned


class ExperimentForm(VersionedForm):
    class Meta:
        model = Experiment
        fields = [
            "name",
            "hypothesis",
            "feature",
            "status",
            "started_on",
            "ended_on",
            "minimum_detectable_effect",
            "source",
            "exposure_event",
            "variant_property",
            "conversion_event",
            "control_variant",
        ]
        widgets = {
            "hypothesis": forms.Textarea(attrs={"rows": 3}),
            "started_on": forms.DateInput(attrs={"type": "date"}),
            "ended_on": forms.DateInput(attrs={"type": "date"}),
            "source": forms.RadioSelect,
        }

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.product = product
        model_choice(self, "feature").queryset = Feature.objects.filter(product=product).order_by(
            "title"
        )
        self.fields["source"].required = False  # posted without it: typed-in variants

    def clean_source(self) -> str:
        return self.cleaned_data.get("source") or DataSource.MANUAL


class PlannerForm(forms.Form):
    """The sample-size planner on an experiment's page (GET)."""

    baseline = forms.DecimalField(
        label="control conversion rate (%)",
        min_value=Decimal("0.01"),
        max_value=Decimal("99.99"),
        decimal_places=2,
        max_digits=5,
    )
    effect = forms.DecimalField(
        label="minimum detectable effect (relative %)",
        min_value=Decimal("0.1"),
        max_value=Decimal(1000),
        decimal_places=2,
        max_digits=7,
    )


# Variant and step rows are checked here for their types only; the rules across rows (distinct
# names, conversions within exposures, a funnel that narrows) are the service's, which the views
# show above the rows (pm.views_support.add_service_errors).


class VariantForm(forms.Form):
    name = forms.CharField(max_length=80)
    exposures = forms.IntegerField(min_value=0, max_value=2_000_000_000)
    conversions = forms.IntegerField(min_value=0, max_value=2_000_000_000)
    price = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Price"
    )


def formset_rows(formset: forms.BaseFormSet) -> list[dict]:
    """The cleaned rows of a valid formset, without blank extra rows and deleted ones."""
    return [
        f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


VariantFormSet = forms.formset_factory(
    VariantForm,
    extra=1,
    min_num=2,
    max_num=8,
    validate_min=True,
    validate_max=True,
)


class FunnelForm(VersionedForm):
    class Meta:
        model = Funnel
        fields = [
            "name",
            "description",
            "source",
            "period_start",
            "period_end",
            "conversion_window_days",
            "breakdown_property",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "source": forms.RadioSelect,
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.product = product
        # A form posted without them (scripts, older pages) means a typed-in funnel, 7 days.
        self.fields["source"].required = False
        self.fields["conversion_window_days"].required = False

    def clean_source(self) -> str:
        return self.cleaned_data.get("source") or DataSource.MANUAL

    def clean_conversion_window_days(self) -> int:
        return self.cleaned_data.get("conversion_window_days") or 7


class StepForm(forms.Form):
    name = forms.CharField(max_length=80)
    # Typed-in funnels: the count; events funnels: the event and an optional property filter.
    count = forms.IntegerField(min_value=0, max_value=10**15, required=False)
    event = forms.CharField(max_length=120, required=False)
    property_name = forms.CharField(max_length=100, required=False, label="where property")
    property_value = forms.CharField(max_length=200, required=False, label="equals")


StepFormSet = forms.formset_factory(
    StepForm,
    extra=1,
    min_num=2,
    max_num=12,
    validate_min=True,
    validate_max=True,
)
