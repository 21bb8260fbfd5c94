"""Forms for the core app. Versioned forms carry the version the editor loaded."""

import re

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from pm.choices import Role
from pm.merge import MergeMixin, merge_message, merged_form
from pm.models import (
    Competitor,
    KeyResult,
    Objective,
    Persona,
    Product,
    StrategicTheme,
    Workspace,
    is_time_zone,
    next_theme_colour,
)


def model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A form's row-choosing field as what it is: `form.fields` is typed as a dict of plain
    Fields, and a view narrowing the choices to one product needs the queryset."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField), f"{name} does not choose rows"
    return field


class MemberChoiceField(forms.ModelChoiceField):
    """Chooses a workspace member, shown by full name (the username when they gave none)."""

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A form's choice field as what it is (see model_choice)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), f"{name} is not a choice field"
    return field


class VersionedForm(MergeMixin, forms.ModelForm):
    """A model form that submits the version it was rendered with, for conflict detection, and
    the values it was rendered with, for the three-way merge after a conflict (pm.merge)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "version" not in self.initial:
            self.initial["version"] = self.instance.version
        if not self.instance.pk:
            self.fields["version"].required = False
        self._init_merge(editing=bool(self.instance.pk))

    def clean(self):
        super().clean()
        return self.clean_merge(self.cleaned_data)

    def model_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k in (self._meta.fields or ())}


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name", "time_zone"]
        help_texts = {
            "time_zone": "An IANA name such as Europe/Amsterdam, America/New_York or UTC."
        }

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if not is_time_zone(value):
            raise forms.ValidationError(
                "Unknown time zone. Use an IANA name such as Europe/Amsterdam or UTC."
            )
        return value


class ProductCreateForm(VersionedForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "key",
            "vision",
            "mission",
            "target_customers",
            "value_proposition",
            "business_model",
        ]
        widgets = {
            "vision": forms.Textarea(attrs={"rows": 3}),
            "mission": forms.Textarea(attrs={"rows": 2}),
            "target_customers": forms.Textarea(attrs={"rows": 2}),
            "value_proposition": forms.Textarea(attrs={"rows": 2}),
            "business_model": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, workspace=None, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip().upper()
        # Only this workspace's products count: keys are unique per workspace, and whether
        # another tenant uses a key is none of this one's business.
        if self.workspace and Product.objects.filter(workspace=self.workspace, key=key).exists():
            raise forms.ValidationError("This workspace already has a product with this key.")
        return key


class ProductForm(VersionedForm):
    class Meta(ProductCreateForm.Meta):
        fields = [f for f in ProductCreateForm.Meta.fields if f != "key"]


class ThemeForm(VersionedForm):
    class Meta:
        model = StrategicTheme
        fields = ["name", "description", "colour"]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        if not self.instance.pk and "colour" not in self.initial:
            self.initial["colour"] = next_theme_colour(product)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = StrategicTheme.objects.filter(product=self.product, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A theme with this name already exists in this product.")
        return name


class ObjectiveForm(VersionedForm):
    class Meta:
        model = Objective
        fields = ["title", "period", "theme", "status", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        model_choice(self, "theme").queryset = StrategicTheme.objects.filter(product=product)


class KeyResultForm(VersionedForm):
    class Meta:
        model = KeyResult
        fields = ["description", "start_value", "target_value", "current_value", "unit"]

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)
        self.linked_kpi = self.instance.linked_kpi if self.instance.pk else None
        if self.linked_kpi is not None:
            # The KPI's next data point would overwrite a typed value: show it, don't take it.
            field = self.fields["current_value"]
            field.disabled = True
            field.help_text = (
                f"Follows the KPI “{self.linked_kpi.name}”: set by its latest data point. "
                "Unlink it on the KPI's page to type a value."
            )

    def model_data(self) -> dict:
        data = super().model_data()
        if self.linked_kpi is not None:
            data.pop("current_value", None)
        return data

    def clean(self):
        cleaned = super().clean()
        start, target = cleaned.get("start_value"), cleaned.get("target_value")
        if start is not None and target is not None and start == target:
            self.add_error("target_value", "The target must differ from the start value.")
        return cleaned


class PersonaForm(VersionedForm):
    class Meta:
        model = Persona
        fields = ["name", "segment", "goals", "pains", "quote"]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 2}),
            "pains": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)


class CompetitorForm(VersionedForm):
    class Meta:
        model = Competitor
        fields = [
            "name",
            "url",
            "positioning",
            "strengths",
            "weaknesses",
            "pricing_notes",
            "last_reviewed",
        ]
        widgets = {
            "positioning": forms.Textarea(attrs={"rows": 2}),
            "strengths": forms.Textarea(attrs={"rows": 2}),
            "weaknesses": forms.Textarea(attrs={"rows": 2}),
            "pricing_notes": forms.Textarea(attrs={"rows": 2}),
            "last_reviewed": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.PM)


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SignInSettingsForm(forms.Form):
    """A workspace's sign-in rules (admins): two-factor for password accounts, and who joins at
    their first single sign-on."""

    require_two_factor = forms.BooleanField(
        required=False,
        label="Require two-factor sign-in",
        help_text="Members who sign in with a password must use an authenticator app; those "
        "without one set it up at their next sign-in.",
    )
    sso_email_domains = forms.CharField(
        required=False,
        max_length=1000,
        label="Single sign-on: e-mail domains that join",
        help_text="People whose verified e-mail is at one of these domains (comma-separated, "
        "e.g. example.com) become members at their first sign-in through the identity provider.",
    )
    sso_default_role = forms.ChoiceField(
        choices=Role.choices, label="Their role", initial=Role.STAKEHOLDER
    )

    def clean_sso_email_domains(self) -> list[str]:
        raw = self.cleaned_data["sso_email_domains"]
        domains = []
        for part in re.split(r"[\s,;]+", raw.strip().lower()):
            part = part.lstrip("@")
            if not part:
                continue
            if not _DOMAIN.match(part):
                raise forms.ValidationError(f"“{part[:60]}” is not a domain such as example.com.")
            if part not in domains:
                domains.append(part)
        if len(domains) > 20:
            raise forms.ValidationError("At most 20 domains.")
        return domains


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SignUpForm(UserCreationForm):
    """Account creation for someone holding an invitation."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name")


def conflicted_form(form_class, data, conflict, **kwargs):
    """The form an editor gets back when their save hit an EditConflict: a three-way merge of
    what they typed with what is stored now, over the values they opened the form with
    (pm.merge). Fields only the other person changed show the stored value, fields only this
    person changed keep theirs, and a field both changed differently shows both side by side and
    needs a decision. Bound to the current version; nothing is saved until they save again.
    Pass `instance=conflict.current` for model forms, or `initial=` built from it."""
    form = merged_form(form_class, data, conflict, **kwargs)
    form.add_error(None, merge_message(form, conflict))
    form.conflict = conflict
    return form
