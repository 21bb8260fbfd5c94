"""Forms for the roadmap. Versioned forms carry the version the editor loaded."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from backlog.models import Feature
from pm.fields import validate_plausible_date
from pm.forms import VersionedForm, choice_field, model_choice
from pm.models import Objective, Product, StrategicTheme
from roadmap.choices import Health, Horizon, InitiativeStatus
from roadmap.delivery import Assumptions
from roadmap.models import Initiative, Release
from roadmap.periods import Period


class PeriodField(forms.Field):
    """A month or a quarter typed as text ('2027 Q1', '2027-03', 'Mar 2027')."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update(
            {"placeholder": "2027 Q1 or 2027-03", "list": "period-suggestions", "maxlength": 20}
        )

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        if len(value) > 20:
            raise forms.ValidationError("Write a month (2027-03) or a quarter (2027 Q1).")
        try:
            return Period.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def prepare_value(self, value):
        return value.label if isinstance(value, Period) else value


class InitiativeForm(VersionedForm):
    start_period = PeriodField(label="Start", help_text="A month (2027-03) or a quarter (2027 Q1).")
    end_period = PeriodField(label="End", help_text="The last month or quarter of the work.")

    class Meta:
        model = Initiative
        fields = [
            "title",
            "theme",
            "status",
            "horizon",
            "confidence",
            "visibility",
            "description",
            "objectives",
            "features",
            "internal_notes",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
            "objectives": forms.CheckboxSelectMultiple,
            "features": forms.SelectMultiple(attrs={"size": 8}),
        }
        help_texts = {
            "visibility": "Public initiatives appear on share links and for stakeholders.",
            "description": "Markdown.",
        }

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        model_choice(self, "theme").queryset = StrategicTheme.objects.filter(product=product)
        model_choice(self, "objectives").queryset = Objective.objects.filter(product=product)
        model_choice(self, "features").queryset = Feature.objects.filter(product=product).only(
            "id", "title"
        )
        self.fields[
            "features"
        ].help_text = (
            "Backlog features that deliver this initiative (Ctrl- or ⌘-click to pick several)."
        )
        if self.instance.pk and self.instance.start:
            self.initial.setdefault("start_period", self.instance.start_period.label)
            self.initial.setdefault("end_period", self.instance.end_period.label)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_period"), cleaned.get("end_period")
        if "start_period" in cleaned and "end_period" in cleaned:
            if bool(start) != bool(end):
                missing = "end_period" if start else "start_period"
                self.add_error(missing, "Give both a start and an end, or neither.")
            elif start and end and end.last_day < start.first_day:
                self.add_error("end_period", "The end must not be before the start.")
        return cleaned

    def model_data(self) -> dict:
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k in (self._meta.fields or ()) and k not in {"objectives", "features"}
        }
        start, end = self.cleaned_data.get("start_period"), self.cleaned_data.get("end_period")
        data["start"] = start.first_day if start else None
        data["end"] = end.last_day if end else None
        if start:
            data["start_precision"] = start.precision
        if end:
            data["end_precision"] = end.precision
        return data


class ReleaseForm(VersionedForm):
    class Meta:
        model = Release
        fields = ["name", "target_date", "visibility", "notes", "features", "internal_notes"]
        widgets = {
            "target_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
            "features": forms.SelectMultiple(attrs={"size": 8}),
        }
        help_texts = {"notes": "Public release notes (markdown)."}

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        model_choice(self, "features").queryset = Feature.objects.filter(product=product).only(
            "id", "title"
        )
        self.fields[
            "features"
        ].help_text = "Shipping the release marks these shipped (Ctrl- or ⌘-click to pick several)."

    def model_data(self) -> dict:
        return {
            k: v
            for k, v in self.cleaned_data.items()
            if k in (self._meta.fields or ()) and k != "features"
        }


class ShipForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    shipped_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Shipped on"
    )
    # Set by the "Ship anyway" button, after the PM saw the features with open stories.
    with_open_work = forms.BooleanField(required=False)


class MoveForm(forms.Form):
    """A drop on the Now/Next/Later board."""

    horizon = forms.ChoiceField(choices=Horizon.choices)
    version = forms.IntegerField(min_value=1)
    above = forms.IntegerField(required=False, help_text="The card now above it.")
    below = forms.IntegerField(required=False, help_text="The card now below it.")


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=120, help_text="Who the link is for, e.g. “Board”, “Customer advisory group”."
    )
    expires_on = forms.DateField(
        required=False,
        validators=[validate_plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Expires on",
        help_text="Optional. The link stops working at the end of this day.",
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day and day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later day.")
        return day

    @property
    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if not day:
            return None
        return timezone.make_aware(datetime.combine(day, time.max))


class FilterForm(forms.Form):
    """Filters shared by the timeline and the board (GET parameters)."""

    theme = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *InitiativeStatus.choices]
    )
    objective = forms.ChoiceField(required=False)

    def __init__(self, data, *, themes, objectives):
        super().__init__(data)
        choice_field(self, "theme").choices = [
            ("", "Any theme"),
            *[(str(t.pk), t.name) for t in themes],
            ("none", "No theme"),
        ]
        choice_field(self, "objective").choices = [
            ("", "Any objective"),
            *[(str(o.pk), o.title) for o in objectives],
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.filters())


class ForecastForm(forms.Form):
    """The revenue forecast's assumptions, edited on the forecast page (GET: shareable links)."""

    percentile = forms.TypedChoiceField(
        label="Ship dates at",
        choices=[(50, "50% confidence"), (85, "85% confidence"), (95, "95% confidence")],
        coerce=int,
        initial=50,
        help_text="Which forecast date a planned feature starts earning from.",
    )
    months = forms.IntegerField(label="Months shown", min_value=3, max_value=36, initial=12)
    ramp_months = forms.IntegerField(
        label="Ramp-up (months)",
        min_value=0,
        max_value=12,
        initial=0,
        help_text="Months until a feature earns its full monthly share.",
    )
    cost_spread_months = forms.IntegerField(
        label="Cost spread (months)",
        min_value=0,
        max_value=12,
        initial=0,
        help_text="0 books a feature's cost in its ship month; N spreads it over N months.",
    )

    def __init__(self, data=None, **kwargs):
        # Missing fields take their defaults, so a link that sets one assumption is still valid.
        if data is not None:
            data = {name: data.get(name, field.initial) for name, field in self.base_fields.items()}
        super().__init__(data, **kwargs)

    def assumptions(self) -> Assumptions:
        if not self.is_bound or not self.is_valid():
            return Assumptions()
        return Assumptions(**self.cleaned_data)


class StatusUpdateForm(forms.Form):
    """A status update on an initiative: how it is going, and why."""

    status = forms.ChoiceField(
        label="How is it going?", choices=Health.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=5000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What changed, what is in the way, what you need."}
        ),
        help_text="Markdown. Readers who see the initiative see its updates.",
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if (
            cleaned.get("status") in ("at_risk", "off_track")
            and not (cleaned.get("note") or "").strip()
        ):
            self.add_error("note", "Say why it is at risk or off track: readers will ask.")
        return cleaned
