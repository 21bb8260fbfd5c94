"""The Pricing page: plans and the features in each, competitors' price points beside them, and
Van Westendorp surveys with their curves. The team reads it; PMs change it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from metrics import price_plans, selectors
from metrics.models import CompetitorPrice, PricePlan, PriceSurvey
from metrics.pricing import Analysis
from pm.choices import Role
from pm.forms import VersionedForm
from pm.htmx import render_page
from pm.http import AuthedHttpRequest
from pm.models import Competitor, Product
from pm.permissions import get_product_for_user
from pm.views_support import add_service_errors, product_page, saved_redirect, versioned_edit
from pm.visibility import viewer_of


class PlanForm(VersionedForm):
    class Meta:
        model = PricePlan
        fields = ["name", "description", "currency", "monthly_price", "annual_price", "features"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        features = self.fields["features"]
        assert isinstance(features, forms.ModelMultipleChoiceField)
        features.queryset = price_plans.plan_feature_choices(product)
        features.help_text = "The backlog features this plan includes."

    def model_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k in price_plans.PLAN_FIELDS}


class CompetitorPriceForm(forms.Form):
    competitor = forms.ModelChoiceField(queryset=Competitor.objects.none())
    plan_name = forms.CharField(label="Their plan", max_length=80)
    monthly_price = forms.DecimalField(
        label="Monthly price", min_value=0, max_digits=12, decimal_places=2
    )
    currency = forms.CharField(max_length=3, min_length=3, initial="EUR")

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        competitor = self.fields["competitor"]
        assert isinstance(competitor, forms.ModelChoiceField)
        competitor.queryset = Competitor.objects.filter(product=product)


class SurveyForm(forms.Form):
    name = forms.CharField(label="Survey", max_length=120, initial="Price survey")
    file = forms.FileField(
        label="CSV file",
        help_text="A row per respondent: too cheap, cheap, expensive, too expensive.",
    )


def _chart(analysis: Analysis, width: int = 640, height: int = 240) -> dict[str, Any]:
    """The four curves as SVG polylines (drawn on the server: printable, no script)."""
    c = analysis.curves
    low, high = c.prices[0], c.prices[-1]
    span = (high - low) or 1
    pad = 8

    def x(price: float) -> float:
        return round(pad + (price - low) / span * (width - 2 * pad), 1)

    def y(share: float) -> float:
        return round(pad + (1 - share) * (height - 2 * pad), 1)

    def line(values: list[float]) -> str:
        return " ".join(f"{x(p)},{y(v)}" for p, v in zip(c.prices, values, strict=True))

    marks = []
    for label, price in (
        ("Marginal cheapness", analysis.marginal_cheapness),
        ("Optimal", analysis.optimal),
        ("Indifference", analysis.indifference),
        ("Marginal expensiveness", analysis.marginal_expensiveness),
    ):
        if price is not None:
            marks.append({"label": label, "price": price, "x": x(price)})
    band = None
    if analysis.acceptable_range:
        start, end = analysis.acceptable_range
        band = {"x": x(start), "width": round(x(end) - x(start), 1)}
    return {
        "width": width,
        "height": height,
        "too_cheap": line(c.too_cheap),
        "not_cheap": line(c.not_cheap),
        "not_expensive": line(c.not_expensive),
        "too_expensive": line(c.too_expensive),
        "marks": marks,
        "band": band,
        "low": low,
        "high": high,
        # Evenly spaced, so a row of labels spread edge to edge sits under its prices.
        "ticks": [low + span * i / 4 for i in range(5)],
    }


def _page(request: AuthedHttpRequest, product: Product, **forms_: Any) -> HttpResponse:
    plan_list = list(price_plans.plans(product))
    results = price_plans.surveys(product)
    context = product_page(request, product, tab="pricing")
    context.update(
        plans=plan_list,
        matrix=price_plans.feature_matrix(plan_list),
        competitor_prices=list(price_plans.competitor_prices(product)),
        surveys=[(r, _chart(r.analysis) if r.analysis else None) for r in results],
        price_form=forms_.get("price_form") or CompetitorPriceForm(product=product),
        survey_form=forms_.get("survey_form") or SurveyForm(),
        has_competitors=Competitor.objects.filter(product=product).exists(),
        # Through the experiments' selector: the same visibility as the experiments page.
        pricing_experiments=selectors.pricing_experiments(
            product=product, viewer=viewer_of(product)
        ),
        currency=price_plans.plan_currency(product, plan_list),
    )
    return render_page(request, "metrics/pricing.html", context)


def _team(request: AuthedHttpRequest, key: str, need: str = Role.ENGINEER) -> Product:
    return get_product_for_user(request.user, key, need=need)


@login_required
@require_GET
def pricing(request: AuthedHttpRequest, key: str) -> HttpResponse:
    return _page(request, _team(request, key))


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = _team(request, key, Role.PM)
    form = PlanForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            plan = price_plans.plan_create(
                product=product,
                data=form.model_data(),
                features=form.cleaned_data["features"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Plan “{plan.name}” added.")
            return redirect("pricing", key=product.key)
    context = product_page(request, product, tab="pricing", form=form, plan=None)
    return render_page(request, "metrics/plan_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _team(request, key, Role.PM)
    plan = get_object_or_404(price_plans.plans(product), pk=pk)
    edit = versioned_edit(
        request,
        PlanForm,
        plan,
        lambda form, **kw: price_plans.plan_update(
            plan=plan, features=form.cleaned_data["features"], **kw
        ),
        product=product,
    )
    if edit.saved is not None:
        return saved_redirect(request, f"Plan “{edit.saved.name}” saved.", "pricing", product.key)
    context = product_page(request, product, tab="pricing", form=edit.form, plan=plan)
    return render_page(request, "metrics/plan_form.html", context)


@login_required
@require_POST
def plan_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _team(request, key, Role.PM)
    plan = get_object_or_404(PricePlan, product=product, pk=pk)
    price_plans.plan_delete(plan=plan, actor=request.user)
    messages.success(request, f"Plan “{plan.name}” deleted.")
    return redirect("pricing", key=product.key)


@login_required
@require_POST
def competitor_price_add(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = _team(request, key, Role.PM)
    form = CompetitorPriceForm(request.POST, product=product)
    if form.is_valid():
        try:
            price_plans.competitor_price_add(
                product=product, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Competitor price added.")
            return redirect("pricing", key=product.key)
    return _page(request, product, price_form=form)


@login_required
@require_POST
def competitor_price_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _team(request, key, Role.PM)
    price = get_object_or_404(CompetitorPrice, product=product, pk=pk)
    price_plans.competitor_price_delete(price=price, actor=request.user)
    return redirect("pricing", key=product.key)


@login_required
@require_POST
def survey_upload(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = _team(request, key, Role.PM)
    form = SurveyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            survey = price_plans.survey_upload(
                product=product,
                name=form.cleaned_data["name"],
                data=form.cleaned_data["file"].read(price_plans.MAX_SURVEY_BYTES + 1),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{survey.name}”: {len(survey.answers)} answers analysed.")
            return redirect("pricing", key=product.key)
    return _page(request, product, survey_form=form)


@login_required
@require_POST
def survey_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = _team(request, key, Role.PM)
    survey = get_object_or_404(PriceSurvey, product=product, pk=pk)
    price_plans.survey_delete(survey=survey, actor=request.user)
    return redirect("pricing", key=product.key)
