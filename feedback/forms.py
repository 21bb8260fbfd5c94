"""Forms for feedback pages and the public ideas portal."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from backlog.models import Feature, Idea
from feedback import csvimport
from feedback.choices import Importance, Sentiment, Source
from feedback.models import Customer, PortalSettings, ResearchStudy
from pm.fields import validate_plausible_date
from pm.forms import VersionedForm, model_choice
from pm.merge import MergeMixin
from pm.models import Product


class CustomerDetailsMixin(forms.Form):
    """Details for a customer created on the fly from a feedback form."""

    customer_name = forms.CharField(
        label="Customer",
        max_length=120,
        required=False,
        help_text="An existing customer's name, or a new one. Leave empty if unknown.",
        widget=forms.TextInput(attrs={"list": "customer-names", "autocomplete": "off"}),
    )
    new_segment = forms.CharField(label="Segment", max_length=60, required=False)
    new_plan = forms.CharField(label="Plan", max_length=60, required=False)
    new_arr = forms.DecimalField(
        label="ARR", max_digits=14, decimal_places=2, min_value=0, required=False
    )
    new_contact = forms.CharField(label="Contact", max_length=200, required=False)

    def customer_details(self) -> dict:
        return {
            "segment": self.cleaned_data.get("new_segment") or "",
            "plan": self.cleaned_data.get("new_plan") or "",
            "arr": self.cleaned_data.get("new_arr"),
            "contact": self.cleaned_data.get("new_contact") or "",
        }


def _received(value) -> datetime:
    """A received date becomes noon local time (a date alone has no time of day)."""
    return timezone.make_aware(datetime.combine(value, time(12, 0)))


class FeedbackForm(MergeMixin, CustomerDetailsMixin):
    """Capture (or edit) one piece of feedback. Editing passes `initial` with the version."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    content = forms.CharField(
        label="Feedback",
        max_length=csvimport.MAX_CONTENT,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "What did the customer say?"}),
    )
    source = forms.ChoiceField(choices=Source.choices, initial=Source.EMAIL)
    sentiment = forms.ChoiceField(choices=Sentiment.choices, initial=Sentiment.NEUTRAL)
    received_on = forms.DateField(
        label="Received on",
        validators=[validate_plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=lambda: timezone.localdate(),
    )
    field_order = [
        "content",
        "customer_name",
        "source",
        "sentiment",
        "received_on",
        "new_segment",
        "new_plan",
        "new_arr",
        "new_contact",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_merge(editing="version" in self.initial)

    def clean(self):
        super().clean()
        return self.clean_merge(self.cleaned_data)

    def clean_content(self) -> str:
        content = self.cleaned_data["content"].strip()
        if not content:
            raise forms.ValidationError("Write what the customer said.")
        return content

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("Feedback cannot be received in the future.")
        return value

    @property
    def received_at(self) -> datetime:
        return _received(self.cleaned_data["received_on"])


class LinkForm(forms.Form):
    """Link a feedback item to an idea or a feature. Suggestion buttons post `target`
    (feature:12 / idea:7); the "another idea or feature" combobox fills `other` (same form)
    from the link-targets search and posts target=other. The form never lists the backlog:
    a big product has thousands of features and ideas."""

    target = forms.CharField(max_length=40)
    other = forms.CharField(
        required=False, max_length=40, widget=forms.HiddenInput, label="Another idea or feature"
    )
    quote = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Select words in the feedback"}),
        help_text="Select the words that matter in the feedback above to quote them.",
    )
    importance = forms.ChoiceField(
        choices=Importance.choices, initial=Importance.IMPORTANT, widget=forms.RadioSelect
    )

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        self.other_title = ""
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        target = cleaned.get("target")
        if target == "other":
            target = cleaned.get("other")
            if not target:
                self.add_error("other", "Choose an idea or a feature.")
                return cleaned
        kind, _, pk = (target or "").partition(":")
        obj: Feature | Idea | None = None
        if kind == "feature" and pk.isdigit():
            obj = Feature.objects.filter(product=self.product, pk=pk).first()
        elif kind == "idea" and pk.isdigit():
            obj = Idea.objects.filter(product=self.product, pk=pk).first()
        if obj is None:
            self.add_error(None, "That idea or feature no longer exists.")
            return cleaned
        if cleaned.get("target") == "other":
            self.other_title = obj.title  # shown again in the combobox if the form has errors
        cleaned["feature"] = obj if kind == "feature" else None
        cleaned["idea"] = obj if kind == "idea" else None
        return cleaned


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: content, source, received_at (required); customer, segment, plan, arr, "
            "contact, sentiment (optional). The first row names the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    encoding = forms.ChoiceField(choices=csvimport.ENCODINGS, initial="utf-8")


class ImportRunForm(forms.Form):
    skip_invalid = forms.BooleanField(required=False)
    again = forms.BooleanField(required=False)


class CustomerForm(VersionedForm):
    class Meta:
        model = Customer
        fields = ["name", "segment", "plan", "arr", "contact"]
        widgets = {"segment": forms.TextInput(attrs={"list": "customer-segments"})}

    def __init__(self, *args, workspace, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Customer.objects.filter(workspace=self.workspace, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A customer with this name already exists.")
        return name


class StudyForm(VersionedForm):
    class Meta:
        model = ResearchStudy
        fields = [
            "title",
            "kind",
            "status",
            "goal",
            "participants",
            "participant_notes",
            "summary",
            "started_on",
            "ended_on",
        ]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 3}),
            "participant_notes": forms.Textarea(attrs={"rows": 2}),
            "summary": forms.Textarea(attrs={"rows": 4}),
            "started_on": forms.DateInput(attrs={"type": "date"}),
            "ended_on": forms.DateInput(attrs={"type": "date"}),
            "participants": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        model_choice(self, "participants").queryset = Customer.objects.filter(
            workspace_id=product.workspace_id
        )
        self.fields["participants"].required = False
        self.fields["participants"].help_text = "Customers who took part (optional)."
        self.instance.product = product

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("started_on"), cleaned.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", "A study cannot end before it starts.")
        return cleaned

    def model_data(self) -> dict:
        data = super().model_data()
        data.pop("participants", None)
        return data


class FindingForm(CustomerDetailsMixin):
    content = forms.CharField(
        label="Finding",
        max_length=csvimport.MAX_CONTENT,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What did you observe or hear?"}),
    )
    sentiment = forms.ChoiceField(choices=Sentiment.choices, initial=Sentiment.NEUTRAL)
    field_order = ["content", "customer_name", "sentiment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("new_segment", "new_plan", "new_arr", "new_contact"):
            del self.fields[name]
        self.fields["customer_name"].label = "Participant (customer)"


class PortalSettingsForm(VersionedForm):
    class Meta:
        model = PortalSettings
        fields = ["enabled", "accept_submissions", "title", "intro"]
        widgets = {"intro": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = True


class PublishForm(forms.Form):
    idea = forms.ModelChoiceField(queryset=Idea.objects.none(), label="Idea")
    title = forms.CharField(
        max_length=200, required=False, help_text="Public title; the idea's title if empty."
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Public description. The idea's internal description is not published.",
    )

    def __init__(self, *args, ideas, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice(self, "idea").queryset = ideas


class ModerateForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --- public portal ------------------------------------------------------------------------


class HoneypotMixin(forms.Form):
    """A field people never see (hidden by CSS and from assistive technology) but form-filling
    bots do. A filled honeypot is answered like a success and otherwise ignored."""

    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())


class PortalSubmitForm(HoneypotMixin):
    title = forms.CharField(
        max_length=120, help_text="One line: what would you like the product to do?"
    )
    description = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Why it matters to you, and how you work around it today.",
    )
    email = forms.EmailField(
        required=False,
        help_text="Optional: we may ask you a question. Never shown on the portal.",
    )

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if len(title) < 5:
            raise forms.ValidationError("Say a little more (at least 5 characters).")
        return title


class PortalVoteForm(HoneypotMixin):
    email = forms.EmailField(
        help_text="We e-mail you a link; your vote counts once you follow it. One vote per "
        "address. Never shown on the portal."
    )
