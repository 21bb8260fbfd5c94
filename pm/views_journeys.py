"""User journey pages: the journeys of a product's personas, and each journey as a map.

Everyone who reads the product's strategy reads its journeys (stakeholders too); product
managers write them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pm import journeys
from pm.choices import Role
from pm.forms import VersionedForm
from pm.htmx import render_page
from pm.http import AuthedHttpRequest
from pm.journey_models import EMOTION_LABELS, Journey, JourneyOpportunity, JourneyStage
from pm.models import Persona, Product
from pm.permissions import get_product_for_user
from pm.selectors import activity_for_object
from pm.views_support import add_service_errors, product_page, saved_redirect, versioned_edit
from pm.visibility import Section, apply, viewer_of

EMOTION_CHOICES = [(value, f"{value:+d} {label}") for value, label in EMOTION_LABELS.items()]


class JourneyForm(VersionedForm):
    class Meta:
        model = Journey
        fields = ["persona", "name", "goal"]
        widgets = {"goal": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        persona = self.fields["persona"]
        assert isinstance(persona, forms.ModelChoiceField)
        persona.queryset = Persona.objects.filter(product=product).order_by("name")
        persona.required = True
        persona.empty_label = "Choose a persona…"


class StageForm(VersionedForm):
    emotion = forms.TypedChoiceField(choices=EMOTION_CHOICES, coerce=int, initial=0)

    class Meta:
        model = JourneyStage
        fields = ["name", "actions", "touchpoints", "thoughts", "pains", "emotion"]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ("actions", "touchpoints", "thoughts", "pains")
        }


class OpportunityForm(forms.Form):
    text = forms.CharField(
        label="Opportunity",
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "What could we do better here?"}),
    )
    feature = forms.TypedChoiceField(label="Feature", coerce=int, required=False, empty_value=None)
    idea = forms.TypedChoiceField(label="Idea", coerce=int, required=False, empty_value=None)
    feedback = forms.IntegerField(
        label="Feedback #",
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The number of a feedback item that shows the need.",
    )

    def __init__(self, *args: Any, choices: dict[str, list[tuple[Any, str]]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in ("feature", "idea"):
            field = self.fields[name]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [("", "—"), *choices[name]]


def _link_choices(product: Product) -> dict[str, list[tuple[Any, str]]]:
    from backlog.models import Feature, Idea

    features = Feature.objects.filter(product=product).exclude(status="archived")
    ideas = Idea.objects.filter(product=product)
    return {
        "feature": list(features.order_by("title").values_list("pk", "title")[:500]),
        "idea": list(ideas.order_by("-created_at").values_list("pk", "title")[:300]),
    }


def _product(request: AuthedHttpRequest, key: str, *, need: str = Role.STAKEHOLDER) -> Product:
    return get_product_for_user(request.user, key, need=need, section=Section.STRATEGY)


def _journey(product: Product, pk: int) -> Journey:
    rows = Journey.objects.filter(product=product).select_related("persona")
    return get_object_or_404(apply(rows, viewer_of(product), product), pk=pk)


def _stage(journey: Journey, pk: int) -> JourneyStage:
    return get_object_or_404(JourneyStage, journey=journey, pk=pk)


# --- the list -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def journey_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """Every journey of the product, by persona; PMs start a new one here."""
    product = _product(request, key)
    form = None
    if request.method == "POST":
        if not product.membership.allows(Role.PM):
            raise PermissionDenied("Only product managers create journeys.")
        form = JourneyForm(request.POST, product=product)
        if form.is_valid():
            try:
                journey = journeys.journey_create(
                    product=product,
                    persona_id=form.cleaned_data["persona"].pk,
                    name=form.cleaned_data["name"],
                    goal=form.cleaned_data["goal"],
                    actor=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Journey “{journey.name}” created: add its stages.")
                return redirect("journey_detail", key=product.key, pk=journey.pk)
    wanted = request.GET.get("persona", "")
    persona = (
        Persona.objects.filter(product=product, pk=int(wanted)).first()
        if wanted.isdecimal() and len(wanted) < 10
        else None
    )
    context = product_page(request, product, tab="strategy", section="journeys")
    context.update(
        rows=journeys.journeys_for_product(
            product, viewer_of(product), persona_id=persona.pk if persona else None
        ),
        persona=persona,
        has_personas=Persona.objects.filter(product=product).exists(),
        form=form or JourneyForm(product=product, initial={"persona": persona}),
    )
    return render_page(request, "pm/journeys/list.html", context, status=400 if form else 200)


# --- one journey ----------------------------------------------------------------------------


def _detail_context(request: AuthedHttpRequest, product: Product, journey: Journey, **extra: Any):
    viewer = viewer_of(product)
    context = product_page(request, product, tab="strategy", section="journeys")
    context.update(journey=journey, map=journeys.journey_map(journey, viewer))
    if context["can_edit"]:
        choices = _link_choices(product)
        context.update(
            stage_form=extra.pop("stage_form", None) or StageForm(),
            opportunity_forms={},
            link_choices=choices,
            opportunity_form=extra.pop("opportunity_form", None)
            or OpportunityForm(choices=choices),
            failed_stage=extra.pop("failed_stage", None),
        )
    if context["sees_internal"]:
        context["history"] = activity_for_object(journey, viewer, limit=10)
    context.update(extra)
    return context


@login_required
@require_GET
def journey_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _product(request, key)
    journey = _journey(product, pk)
    return render_page(request, "pm/journeys/map.html", _detail_context(request, product, journey))


@login_required
@require_http_methods(["GET", "POST"])
def journey_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    edit = versioned_edit(
        request,
        JourneyForm,
        journey,
        lambda form, **kw: journeys.journey_update(journey=journey, **kw),
        product=product,
    )
    if edit.saved is not None:
        return saved_redirect(request, "Journey saved.", "journey_detail", product.key, pk)
    context = product_page(request, product, tab="strategy", section="journeys")
    context.update(journey=journey, form=edit.form)
    status = 400 if request.method == "POST" else 200
    return render_page(request, "pm/journeys/form.html", context, status=status)


@login_required
@require_POST
def journey_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    journeys.journey_delete(journey=journey, actor=request.user)
    messages.success(request, f"Journey “{journey.name}” deleted.")
    return redirect("journey_list", key=product.key)


# --- stages ---------------------------------------------------------------------------------


@login_required
@require_POST
def stage_add(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    form = StageForm(request.POST)
    if form.is_valid():
        data = form.model_data()
        try:
            stage = journeys.stage_add(journey=journey, actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Stage “{stage.name}” added.")
            return redirect("journey_detail", key=product.key, pk=journey.pk)
    context = _detail_context(request, product, journey, stage_form=form)
    return render_page(request, "pm/journeys/map.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: AuthedHttpRequest, key: str, pk: int, stage: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    row = _stage(journey, stage)
    edit = versioned_edit(
        request,
        StageForm,
        row,
        lambda form, **kw: journeys.stage_update(stage=row, **kw),
    )
    if edit.saved is not None:
        return saved_redirect(request, "Stage saved.", "journey_detail", product.key, pk)
    context = product_page(request, product, tab="strategy", section="journeys")
    context.update(journey=journey, stage=row, form=edit.form)
    status = 400 if request.method == "POST" else 200
    return render_page(request, "pm/journeys/stage_form.html", context, status=status)


@login_required
@require_POST
def stage_move(request: AuthedHttpRequest, key: str, pk: int, stage: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    row = _stage(journey, stage)
    seen = request.POST.get("position", "")
    try:
        journeys.stage_move(
            stage=row,
            direction=request.POST.get("direction", ""),
            seen_position=int(seen) if seen.isdecimal() and len(seen) < 9 else None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("journey_detail", key=product.key, pk=journey.pk)


@login_required
@require_POST
def stage_delete(request: AuthedHttpRequest, key: str, pk: int, stage: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    row = _stage(journey, stage)
    journeys.stage_delete(stage=row, actor=request.user)
    messages.success(request, f"Stage “{row.name}” deleted.")
    return redirect("journey_detail", key=product.key, pk=journey.pk)


# --- opportunities --------------------------------------------------------------------------


@login_required
@require_POST
def opportunity_add(request: AuthedHttpRequest, key: str, pk: int, stage: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    row = _stage(journey, stage)
    form = OpportunityForm(request.POST, choices=_link_choices(product))
    if form.is_valid():
        data = form.cleaned_data
        try:
            journeys.opportunity_add(
                stage=row,
                text=data["text"],
                actor=request.user,
                feature_id=data["feature"],
                idea_id=data["idea"],
                feedback_id=data["feedback"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Opportunity added to “{row.name}”.")
            return redirect("journey_detail", key=product.key, pk=journey.pk)
    context = _detail_context(request, product, journey, opportunity_form=form, failed_stage=row.pk)
    return render_page(request, "pm/journeys/map.html", context, status=400)


@login_required
@require_POST
def opportunity_delete(request: AuthedHttpRequest, key: str, pk: int, item: int) -> HttpResponse:
    product = _product(request, key, need=Role.PM)
    journey = _journey(product, pk)
    opportunity = get_object_or_404(JourneyOpportunity, stage__journey=journey, pk=item)
    journeys.opportunity_delete(opportunity=opportunity, actor=request.user)
    messages.success(request, "Opportunity removed.")
    return redirect("journey_detail", key=product.key, pk=journey.pk)
