"""Forms for the backlog pages. They validate input; the services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from backlog import scoring
from backlog.choices import STORY_POINTS, FeatureStatus, Framework, MoSCoW, StoryStatus
from backlog.models import BacklogSettings, Feature, Idea, Sprint, UserStory
from backlog.selectors import assignable_users
from pm.forms import MemberChoiceField, VersionedForm, choice_field, model_choice
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
