from django import forms
from django.core.exceptions import ValidationError

from hooks.events import CHAT_EVENTS, EVENTS
from hooks.models import DevSettings, Endpoint
from hooks.sending import validate_url


class EndpointForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What receives it, such as “CI bot” or “#launches”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where Lodestar POSTs each event. Public http(s) addresses only.",
    )
    kind = forms.ChoiceField(
        choices=Endpoint.Kind.choices,
        initial=Endpoint.Kind.WEBHOOK,
        help_text="Slack and Teams channels get shipped features, critical feedback and KPIs "
        "off target, formatted for the channel.",
    )
    events = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {text}") for name, text in EVENTS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, editing: Endpoint | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            del self.fields["kind"]
            if editing.kind != Endpoint.Kind.WEBHOOK:
                self.fields["events"].choices = [
                    c for c in self.fields["events"].choices if c[0] in CHAT_EVENTS
                ]
        else:
            del self.fields["active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        validate_url(url)
        return url

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or (self.editing.kind if self.editing else Endpoint.Kind.WEBHOOK)
        events = data.get("events") or []
        if kind != Endpoint.Kind.WEBHOOK:
            other = [e for e in events if e not in CHAT_EVENTS]
            if other:
                self.add_error(
                    "events",
                    ValidationError(
                        "Chat channels get shipped features, critical feedback and KPIs off "
                        f"target; not {', '.join(other)}."
                    ),
                )
        return data


class DevSettingsForm(forms.ModelForm):
    class Meta:
        model = DevSettings
        fields = ["done_on_merge"]
        labels = {"done_on_merge": "A merged pull request moves the stories it names to done"}


class JiraImportForm(forms.Form):
    file = forms.FileField(
        label="Jira search JSON",
        help_text="The response of Jira's REST search (/rest/api/2/search or /3/search), saved "
        "as a file.",
    )
