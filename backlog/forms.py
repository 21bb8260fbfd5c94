"""Forms for the backlog pages. They validate input; the services do the writing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import User

from backlog import custom_fields, scoring
from backlog.choices import (
    STORY_POINTS,
    CustomFieldKind,
    CustomFieldTarget,
    FeatureStatus,
    Framework,
    MoSCoW,
    StoryStatus,
)
from backlog.models import BacklogSettings, CustomField, Feature, Idea, Sprint, UserStory
from backlog.selectors import assignable_users
from pm.fields import validate_plausible_date
from pm.forms import MemberChoiceField, VersionedForm, choice_field, model_choice
from pm.merge import MergeMixin
from pm.models import Persona, Product, StrategicTheme

ROI_FIELDS = scoring.ROI_INPUTS
SCORE_FIELDS = scoring.SCORE_INPUTS
_NUMBER = {"inputmode": "decimal", "step": "any"}


def _number_widgets(names: list[str]) -> dict[str, forms.Widget]:
    return {name: forms.NumberInput(attrs=dict(_NUMBER)) for name in names}


def _blank_labels(form: forms.ModelForm, product: Product) -> None:
    model_choice(form, "theme").queryset = StrategicTheme.objects.filter(product=product)
    model_choice(form, "theme").empty_label = "No theme"
    choice_field(form, "moscow").choices = [("", "Not set"), *MoSCoW.choices]


class IdeaForm(forms.ModelForm):
    class Meta:
        model = Idea
        fields = ["title", "description", "source", "submitter_name"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"submitter_name": "Asked by"}
        help_texts = {"submitter_name": "A customer or colleague; leave blank if it's your idea."}

    def model_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class IdeaEditForm(VersionedForm):
    """Editing an idea's wording and origin; triage (accept, decline, merge) has its own
    actions and votes come from the portal."""

    class Meta(IdeaForm.Meta):
        pass


class DeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="The submitter may see this; be kind and specific.",
    )


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(queryset=Idea.objects.none(), label="Merge into")

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice(self, "into").queryset = targets


class FeatureForm(VersionedForm):
    """The whole feature, for PMs. Internal ROI fields are part of it; only PMs see this form."""

    class Meta:
        model = Feature
        fields = [
            "title",
            "description",
            "kind",
            "status",
            "theme",
            "moscow",
            "owner",
            "jira_url",
            *SCORE_FIELDS,
            *ROI_FIELDS,
        ]
        field_classes = {"owner": MemberChoiceField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            **_number_widgets(SCORE_FIELDS + ROI_FIELDS),
        }
        help_texts = {
            "description": "Markdown.",
            "impact": "0–10 (RICE commonly 0.25, 0.5, 1, 2, 3).",
            "confidence": "Percent, 0–100.",
            "effort": "Person-months.",
            "ease": "0–10.",
        }

    def __init__(self, *args, product: Product, reach_locked: bool = False, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        _blank_labels(self, product)
        model_choice(self, "owner").queryset = (
            User.objects.filter(
                memberships__workspace_id=product.workspace_id,
                memberships__role__in=["admin", "pm", "engineer"],
            )
            .distinct()
            .order_by("username")
        )
        if reach_locked:
            self.fields["reach"].disabled = True
            self.fields["reach"].help_text = "Filled from linked customer feedback."


class FeatureCreateForm(forms.ModelForm):
    """The quick "add a feature" form on the backlog page."""

    class Meta:
        model = Feature
        fields = ["title", "kind", "theme", "moscow"]

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        _blank_labels(self, product)

    def model_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ScoreForm(VersionedForm):
    """Only the inputs of the product's framework: the inline editor of a backlog row."""

    class Meta:
        model = Feature
        fields = SCORE_FIELDS + ROI_FIELDS
        widgets = _number_widgets(SCORE_FIELDS + ROI_FIELDS)

    def __init__(self, *args, framework: str, reach_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        keep = set(scoring.INPUTS[framework])
        if reach_locked:
            keep.discard("reach")
        for name in list(self.fields):
            if name != "version" and name not in keep:
                del self.fields[name]
        for name, field in self.fields.items():
            if name != "version":
                field.label = scoring.LABELS[name].capitalize()

    def model_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in {"version", "base"}}


class BacklogSettingsForm(forms.Form):
    framework = forms.ChoiceField(choices=Framework.choices, required=False)
    reach_source = forms.ChoiceField(choices=BacklogSettings.ReachSource.choices, required=False)


class _FeatureIdsField(forms.TypedMultipleChoiceField):
    def valid_value(self, value: Any) -> bool:
        # Any id may be posted; the service scopes them to the product.
        return str(value).isdigit()


class BulkStatusForm(forms.Form):
    # Not `status`: the bulk form also carries the page's filters, and `status` is one of them.
    new_status = forms.ChoiceField(choices=FeatureStatus.choices, label="New status")
    features = _FeatureIdsField(
        coerce=int, choices=(), error_messages={"required": "Select at least one feature."}
    )


def _criteria_text(criteria: list[dict[str, Any]]) -> str:
    return "\n".join(c["text"] for c in criteria)


def criteria_from_text(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One criterion per line; an unchanged line keeps its done flag."""
    done = {c["text"]: c.get("done", False) for c in previous}
    lines = [line.strip() for line in (text or "").splitlines()]
    return [{"text": line, "done": done.get(line, False)} for line in lines if line]


class StoryForm(VersionedForm):
    """The whole story, for PMs."""

    criteria = forms.CharField(
        label="Acceptance criteria",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, e.g. “Given a filtered backlog, when I export, then the CSV "
        "has only the visible rows.” Checked items stay checked unless reworded.",
    )

    class Meta:
        model = UserStory
        fields = [
            "title",
            "persona",
            "as_a",
            "i_want",
            "so_that",
            "points",
            "status",
            "assignee",
            "sprint",
            "jira_url",
        ]
        field_classes = {"assignee": MemberChoiceField}
        widgets = {
            "i_want": forms.Textarea(attrs={"rows": 2}),
            "so_that": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        model_choice(self, "persona").queryset = Persona.objects.filter(product=product)
        model_choice(self, "assignee").queryset = assignable_users(product)
        model_choice(self, "sprint").queryset = Sprint.objects.filter(product=product)
        self.fields["points"] = forms.TypedChoiceField(
            choices=[("", "—"), *STORY_POINTS],
            coerce=int,
            empty_value=None,
            required=False,
            help_text="Fibonacci.",
        )
        if self.instance.pk and "criteria" not in self.initial:
            self.initial["criteria"] = _criteria_text(self.instance.acceptance_criteria)

    def model_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k in (self._meta.fields or ())}
        previous = self.instance.acceptance_criteria if self.instance.pk else []
        data["acceptance_criteria"] = criteria_from_text(self.cleaned_data["criteria"], previous)
        return data


class EngineerStoryForm(VersionedForm):
    """What an engineer may change: status, points and assignee."""

    class Meta:
        model = UserStory
        fields = ["status", "points", "assignee"]
        field_classes = {"assignee": MemberChoiceField}

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        model_choice(self, "assignee").queryset = assignable_users(product)
        self.fields["points"] = forms.TypedChoiceField(
            choices=[("", "—"), *STORY_POINTS], coerce=int, empty_value=None, required=False
        )


class StoryStatusForm(forms.Form):
    status = forms.ChoiceField(choices=StoryStatus.choices)
    version = forms.IntegerField(min_value=1)


class CriterionForm(forms.Form):
    text = forms.CharField(max_length=1000, strip=False)
    done = forms.BooleanField(required=False)


class SprintForm(VersionedForm):
    class Meta:
        model = Sprint
        fields = ["name", "goal", "start", "end", "capacity"]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 2}),
            "start": forms.DateInput(attrs={"type": "date"}),
            "end": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The sprint must end on or after its start.")
        return cleaned


# --- custom fields ----------------------------------------------------------------------------


class CustomFieldForm(forms.Form):
    """Define a custom field (or, with `field`, rename it, change its options, make it public).
    Its type and what it is on are fixed once created: stored values were checked for them."""

    applies_to = forms.ChoiceField(label="On", choices=CustomFieldTarget.choices)
    name = forms.CharField(max_length=60)
    kind = forms.ChoiceField(label="Type", choices=CustomFieldKind.choices)
    options = forms.CharField(
        required=False,
        max_length=custom_fields.MAX_OPTIONS * (custom_fields.MAX_OPTION_LENGTH + 2),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For select fields: one option per line, in the order to show them.",
    )
    public = forms.BooleanField(
        required=False,
        label="Public",
        help_text="Stakeholders (and the public roadmap) see this field and its values.",
    )

    def __init__(self, *args, field=None, **kwargs):
        self.field = field
        if field is not None:
            kwargs.setdefault(
                "initial",
                {
                    "applies_to": field.applies_to,
                    "name": field.name,
                    "kind": field.kind,
                    "options": "\n".join(field.options),
                    "public": field.public,
                },
            )
        super().__init__(*args, **kwargs)
        if field is not None:
            for name in ("applies_to", "kind"):
                self.fields[name].disabled = True

    def clean_options(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


def _value_field(field: CustomField, members: list[tuple[int, str]]) -> forms.Field:
    """The form field that edits one custom field's value (custom_fields.clean_value checks it
    again in the service)."""
    label, kind = field.name, field.kind
    if kind == CustomFieldKind.NUMBER:
        return forms.DecimalField(
            label=label,
            required=False,
            max_digits=custom_fields.MAX_DIGITS,
            decimal_places=custom_fields.MAX_DECIMALS,
            widget=forms.NumberInput(attrs=dict(_NUMBER)),
        )
    if kind == CustomFieldKind.DATE:
        return forms.DateField(
            label=label,
            required=False,
            validators=[validate_plausible_date],
            widget=forms.DateInput(attrs={"type": "date"}),
        )
    if kind == CustomFieldKind.URL:
        return forms.URLField(label=label, required=False, max_length=custom_fields.MAX_URL)
    if kind == CustomFieldKind.SELECT:
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "—"), *[(o, o) for o in field.options]]
        )
    if kind == CustomFieldKind.MULTI_SELECT:
        return forms.MultipleChoiceField(
            label=label,
            required=False,
            choices=[(o, o) for o in field.options],
            widget=forms.CheckboxSelectMultiple,
        )
    if kind == CustomFieldKind.USER:
        return forms.TypedChoiceField(
            label=label,
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", "—"), *members],
        )
    return forms.CharField(label=label, required=False, max_length=custom_fields.MAX_TEXT)


class CustomValuesForm(MergeMixin, forms.Form):
    """Edit the values of a row's custom fields; built from the product's fields on the row's
    kind. Carries the row's version, and after a conflict merges like every edit form."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, custom: list[CustomField], members: list[tuple[int, str]], **kw):
        super().__init__(*args, **kw)
        self.custom = custom
        for field in custom:
            self.fields[f"cf_{field.pk}"] = _value_field(field, members)
        self._init_merge(editing=True)

    def clean(self):
        super().clean()
        return self.clean_merge(self.cleaned_data)

    def model_data(self) -> dict[str, Any]:
        """{field key: value} as custom_fields.clean_value takes it."""
        data: dict[str, Any] = {}
        for field in self.custom:
            value = self.cleaned_data.get(f"cf_{field.pk}")
            if isinstance(value, Decimal):
                value = format(value, "f")
            data[field.key] = value
        return data


def custom_values_initial(instance: Any, custom: list[CustomField]) -> dict[str, Any]:
    values = instance.custom_values or {}
    initial: dict[str, Any] = {"version": instance.version}
    for field in custom:
        initial[f"cf_{field.pk}"] = values.get(field.key)
    return initial
