"""KPI pages: the list and detail with charts, definitions, CSV upload, key-result links, launch
impact, experiments and funnels. Thin function views: permission-scoped fetch, form, service,
render."""

import json
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from metrics import price_plans, selectors, services
from metrics.api import KPISerializer
from metrics.choices import DataSource, Granularity
from metrics.forms import (
    ExperimentForm,
    FunnelForm,
    KeyResultLinkForm,
    KPIForm,
    LaunchImpactForm,
    PlannerForm,
    PointsDeleteForm,
    StepFormSet,
    UploadForm,
    VariantFormSet,
    formset_rows,
)
from metrics.models import KPI, Experiment, Funnel, KeyResultKPI, LaunchImpact, PointsUpload
from metrics.rollups import kpi_time_zone
from metrics.stats import sample_size_per_variant
from pm.background import progress_get
from pm.choices import ImportStatus, Role
from pm.exports import list_export
from pm.htmx import is_partial, render_fragment, render_page, toast
from pm.http import AuthedHttpRequest
from pm.models import Product
from pm.permissions import get_product_for_user
from pm.views_support import add_service_errors, product_page, saved_redirect, versioned_edit
from pm.visibility import viewer_of


def _context(request: AuthedHttpRequest, product: Product, section: str) -> dict[str, Any]:
    return product_page(request, product, tab="kpi_list", section=section)


# --- KPI list and detail ------------------------------------------------------------------


@login_required
@require_GET
def kpi_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "kpis")
    context["summaries"] = selectors.kpi_summaries(list(selectors.kpi_list(product=product)))
    context["objectives"] = selectors.objectives_with_progress(product)
    return render_page(request, "metrics/kpi_list.html", context)


@login_required
@require_GET
def kpi_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The KPIs with their latest value and target, as CSV, JSON or XLSX."""
    return list_export(
        request,
        key,
        rows=lambda product: selectors.kpi_list(product=product).order_by("name", "id"),
        serializer_class=KPISerializer,
        name="kpis",
        prepare=selectors.with_latest,
    )


def _granularity(request: HttpRequest, kpi: KPI) -> str:
    wanted = request.GET.get("g")
    return wanted if wanted in Granularity.values else kpi.granularity


@login_required
@require_GET
def kpi_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = _detail_context(request, product, pk)
    return render_page(request, "metrics/kpi_detail.html", context, partial="chart")


def _detail_context(request: AuthedHttpRequest, product, pk: int, **forms) -> dict:
    kpi = get_object_or_404(
        KPI.objects.select_related("owner", "numerator", "denominator"), product=product, pk=pk
    )
    kpi.product = product
    context = _context(request, product, "kpis")
    granularity = _granularity(request, kpi)
    chart, annotations = selectors.chart_data(kpi, granularity, viewer_of(product))
    (summary,) = selectors.kpi_summaries([kpi])
    impacts = selectors.launch_impacts(kpi=kpi, viewer=viewer_of(product))
    context.update(
        kpi=kpi,
        summary=summary,
        granularity=granularity,
        granularities=Granularity.choices,
        chart=chart,
        chart_json=json.dumps(chart),
        annotations=annotations,
        time_zone=str(kpi_time_zone(kpi)),
        links=selectors.key_result_links(kpi),
        measurements=selectors.measure_impacts(list(impacts)),
        pending=selectors.pending_recalculation(kpi),
    )
    if context["can_edit"]:
        context["upload_form"] = UploadForm()
        upload = (
            PointsUpload.objects.filter(
                kpi=kpi, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
            )
            .defer("content")
            .first()
        )
        if upload:
            context.update(_upload_status(upload, kpi))
        context["link_form"] = KeyResultLinkForm(product=product)
        context["delete_points_form"] = PointsDeleteForm()
    context.update(forms)
    return context


@login_required
@require_POST
def kpi_points_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Delete a KPI's points between two days (workspace time zone, both days included)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    kpi.product = product
    form = PointsDeleteForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, product, pk, delete_points_form=form)
        return render_page(request, "metrics/kpi_detail.html", context)
    tz = kpi_time_zone(kpi)
    first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
    deleted = services.datapoints_delete(
        kpi=kpi,
        start=datetime.combine(first, time.min, tzinfo=tz),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        actor=request.user,
    )
    days = f"{first:%-d %b %Y}" + (f" – {last:%-d %b %Y}" if last != first else "")
    if deleted:
        messages.success(
            request,
            f"{deleted:,} data point{'s' if deleted != 1 else ''} of {days} deleted; "
            "the chart updates shortly.",
        )
    else:
        messages.info(request, f"{kpi.name} has no data points in {days}; nothing was deleted.")
    return redirect("kpi_detail", key=product.key, pk=pk)


def _kpi_form_page(request, product, form, kpi=None) -> HttpResponse:
    context = _context(request, product, "kpis")
    context.update(form=form, kpi=kpi)
    return render_page(request, "metrics/kpi_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def kpi_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = KPIForm(request.POST or None, product=product, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            kpi = services.kpi_create(product=product, data=form.model_data(), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"KPI “{kpi.name}” created. Send it data to see a chart.")
            return redirect("kpi_detail", key=product.key, pk=kpi.pk)
    return _kpi_form_page(request, product, form)


@login_required
@require_http_methods(["GET", "POST"])
def kpi_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    edit = versioned_edit(
        request,
        KPIForm,
        kpi,
        lambda form, **kw: services.kpi_update(kpi=kpi, **kw),
        product=product,
    )
    if edit.saved:
        message = f"KPI “{edit.saved.name}” saved."
        return saved_redirect(request, message, "kpi_detail", key=product.key, pk=kpi.pk)
    return _kpi_form_page(request, product, edit.form, kpi)


@login_required
@require_POST
def kpi_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    try:
        services.kpi_delete(kpi=kpi, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("kpi_detail", key=product.key, pk=pk)
    messages.success(request, f"KPI “{kpi.name}” and its data deleted.")
    return redirect("kpi_list", key=product.key)


@login_required
@require_POST
def kpi_upload(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """CSV upload: the same validation and service as the API, run by a worker (all points or
    none), with its progress polled by the page. The same file uploaded again is recognised."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    kpi.product = product
    form = UploadForm(request.POST, request.FILES)
    upload = earlier = None
    if form.is_valid():
        file = form.cleaned_data["file"]
        raw = file.read()
        earlier = services.points_upload_earlier(kpi=kpi, raw=raw)
        if earlier and not form.cleaned_data["again"]:
            when = timezone.localtime(earlier.finished_at).strftime("%-d %b %Y at %H:%M")
            form.add_error(
                "file",
                f"This file was already imported on {when} ({earlier.stored_count:,} points). "
                "Choose it again and tick “Import it again anyway” to import it once more.",
            )
        else:
            earlier = None
            upload = services.points_upload_start(
                kpi=kpi, raw=raw, filename=file.name, actor=request.user
            )
    if not is_partial(request):
        if upload is None:
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            messages.error(request, " ".join(errors) or "Choose a file.")
        elif upload.status == ImportStatus.DONE:
            span = _upload_status(upload, kpi)["upload_span"]
            messages.success(request, f"{upload.summary} ({span}); the chart updates shortly.")
        elif upload.status == ImportStatus.FAILED:
            messages.error(request, upload.error)
        else:
            messages.info(request, "The file is being imported; this page shows its progress.")
        return redirect("kpi_detail", key=product.key, pk=pk)
    context = _context(request, product, "kpis")
    context.update(kpi=kpi, upload_form=form if upload is None else UploadForm(), upload=upload)
    context.update(earlier=earlier, **_upload_status(upload, kpi))
    response = render_fragment(request, "metrics/kpi_detail.html", "upload", context)
    if upload and upload.status == ImportStatus.DONE:
        toast(response, f"{upload.summary} ({context['upload_span']}); recalculation queued.")
    return response


def _upload_status(upload: PointsUpload | None, kpi: KPI) -> dict:
    """What the upload's status fragment shows: the upload, its progress, its days."""
    if upload is None:
        return {"upload": None}
    done = upload.status == ImportStatus.DONE and upload.first
    return {
        "upload": upload,
        "progress": progress_get("points", upload.pk),
        "upload_span": _upload_span(upload, kpi_time_zone(kpi)) if done else "",
    }


def _upload_span(result, zone) -> str:
    """The uploaded points' first and last day in the workspace's time zone, as the chart cuts
    its buckets (a point at 00:30 in Amsterdam is that day, not the day before in UTC)."""
    first = timezone.localtime(result.first, zone).date()
    last = timezone.localtime(result.last, zone).date()
    return f"{first:%-d %b %Y}" + (f" – {last:%-d %b %Y}" if last != first else "")


@login_required
@require_GET
def kpi_upload_progress(request: AuthedHttpRequest, key: str, pk: int, upload: int) -> HttpResponse:
    """The progress of an upload being imported (polled by htmx), then its outcome."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    batch = get_object_or_404(PointsUpload.objects.defer("content"), kpi=kpi, pk=upload)
    context = _context(request, product, "kpis")
    context.update(kpi=kpi, **_upload_status(batch, kpi))
    return render_fragment(request, "metrics/kpi_detail.html", "upload_status", context)


@login_required
@require_POST
def kpi_recalculate(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    services.kpi_recalculation_request(kpi=kpi, actor=request.user)
    messages.success(request, "Full recalculation queued; the chart updates when it finishes.")
    return redirect("kpi_detail", key=product.key, pk=pk)


@login_required
@require_POST
def kpi_link_key_result(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    kpi = get_object_or_404(KPI, product=product, pk=pk)
    form = KeyResultLinkForm(request.POST, product=product)
    if form.is_valid():
        try:
            services.key_result_link(
                key_result=form.cleaned_data["key_result"], kpi=kpi, actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Key result linked: its current value now follows this KPI.")
    else:
        messages.error(request, "Choose a key result of this product.")
    return redirect(reverse("kpi_detail", args=[product.key, pk]) + "#key-results")


@login_required
@require_POST
def kpi_unlink_key_result(
    request: AuthedHttpRequest, key: str, pk: int, link_pk: int
) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    link = get_object_or_404(
        KeyResultKPI.objects.select_related("key_result", "kpi"),
        kpi__product=product,
        kpi_id=pk,
        pk=link_pk,
    )
    services.key_result_unlink(link=link, actor=request.user)
    messages.success(request, "Key result unlinked; its current value is edited by hand again.")
    return redirect(reverse("kpi_detail", args=[product.key, pk]) + "#key-results")


# --- launch impact ------------------------------------------------------------------------


@login_required
@require_GET
def launch_impact_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "impact")
    # Stakeholders see the impact of released features only (pm.visibility).
    impacts = selectors.launch_impacts(product=product, viewer=viewer_of(product))
    context["measurements"] = selectors.measure_impacts(list(impacts))
    return render_page(request, "metrics/launch_impacts.html", context)


def _impact_form_page(request, product, form, impact=None) -> HttpResponse:
    context = _context(request, product, "impact")
    context.update(form=form, impact=impact)
    return render_page(request, "metrics/launch_impact_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def launch_impact_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    initial = {k: request.GET[k] for k in ("feature", "kpi") if request.GET.get(k, "").isdigit()}
    form = LaunchImpactForm(request.POST or None, product=product, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.launch_impact_create(
                product=product, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Prediction recorded.")
            return redirect("launch_impact_list", key=product.key)
    return _impact_form_page(request, product, form)


@login_required
@require_http_methods(["GET", "POST"])
def launch_impact_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    impact = get_object_or_404(LaunchImpact, product=product, pk=pk)
    edit = versioned_edit(
        request,
        LaunchImpactForm,
        impact,
        lambda form, **kw: services.launch_impact_update(impact=impact, **kw),
        product=product,
    )
    if edit.saved:
        return saved_redirect(request, "Prediction saved.", "launch_impact_list", key=product.key)
    return _impact_form_page(request, product, edit.form, impact)


@login_required
@require_POST
def launch_impact_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    impact = get_object_or_404(LaunchImpact, product=product, pk=pk)
    services.launch_impact_delete(impact=impact, actor=request.user)
    messages.success(request, "Prediction deleted.")
    return redirect("launch_impact_list", key=product.key)


# --- experiments --------------------------------------------------------------------------


@login_required
@require_GET
def experiment_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "experiments")
    context["results"] = results = [
        selectors.experiment_result(e)
        for e in selectors.experiment_list(product=product, viewer=viewer_of(product))
    ]
    if any(r.pricing for r in results):
        context["currency"] = price_plans.plan_currency(product)
    return render_page(request, "metrics/experiments.html", context)


@login_required
@require_GET
def experiment_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    experiments = selectors.experiment_list(product=product, viewer=viewer_of(product))
    experiment = get_object_or_404(experiments, pk=pk)
    if experiment.source == DataSource.EVENTS:
        result = selectors.experiment_events_result(experiment)
    else:
        result = selectors.experiment_result(experiment)
    context = _context(request, product, "experiments")
    context["r"] = result
    if result.pricing:
        context["currency"] = price_plans.plan_currency(product)
    control = result.variants[0] if result.variants else None
    initial = {
        "baseline": round(control.rate * 100, 2) if control and 0 < control.rate < 1 else 10,
        "effect": experiment.minimum_detectable_effect or 10,
    }
    planner = PlannerForm(request.GET if "effect" in request.GET else None, initial=initial)
    values = planner.cleaned_data if planner.is_valid() else None
    if values is None and not planner.is_bound:
        values = initial
    variants = max(len(result.variants), 2)
    if values is not None:
        per_variant = sample_size_per_variant(
            float(values["baseline"]) / 100,
            float(values["effect"]) / 100,
            comparisons=variants - 1,
        )
        context["plan_impossible"] = per_variant is None
        if per_variant is not None:
            context["plan"] = {
                "baseline": values["baseline"],
                "effect": values["effect"],
                "variants": variants,
                "comparisons": variants - 1,
                "per_variant": per_variant,
                "total": per_variant * variants,
            }
    context["planner"] = planner
    return render_page(request, "metrics/experiment_detail.html", context)


def _experiment_page(request, product, form, formset, experiment=None) -> HttpResponse:
    context = _context(request, product, "experiments")
    context.update(form=form, formset=formset, experiment=experiment)
    return render_page(request, "metrics/experiment_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = ExperimentForm(request.POST or None, product=product)
    formset = VariantFormSet(
        request.POST or None,
        prefix="variants",
        initial=[
            {"name": "Control", "exposures": 0, "conversions": 0},
            {"name": "Variant B", "exposures": 0, "conversions": 0},
        ],
    )
    # An events experiment keeps no typed-in variants: their rows need not be valid.
    from_events = request.POST.get("source") == DataSource.EVENTS
    if request.method == "POST" and form.is_valid() and (from_events or formset.is_valid()):
        try:
            experiment = services.experiment_create(
                product=product,
                data=form.model_data(),
                variants=[] if from_events else formset_rows(formset),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, formset)
        else:
            messages.success(request, f"Experiment “{experiment.name}” created.")
            return redirect(reverse("experiment_list", args=[product.key]) + f"#e{experiment.pk}")
    return _experiment_page(request, product, form, formset)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    experiment = get_object_or_404(Experiment, product=product, pk=pk)
    formset = VariantFormSet(
        request.POST or None,
        prefix="variants",
        initial=list(experiment.variants.values("name", "exposures", "conversions", "price")),
    )
    from_events = request.POST.get("source") == DataSource.EVENTS
    edit = versioned_edit(
        request,
        ExperimentForm,
        experiment,
        lambda form, **kw: services.experiment_update(
            experiment=experiment, variants=[] if from_events else formset_rows(formset), **kw
        ),
        formset=None if from_events else formset,
        product=product,
    )
    if edit.saved:
        message = f"Experiment “{edit.saved.name}” saved."
        to = reverse("experiment_list", args=[product.key]) + f"#e{experiment.pk}"
        return saved_redirect(request, message, to)
    return _experiment_page(request, product, edit.form, formset, experiment)


@login_required
@require_POST
def experiment_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    experiment = get_object_or_404(Experiment, product=product, pk=pk)
    services.experiment_delete(experiment=experiment, actor=request.user)
    messages.success(request, f"Experiment “{experiment.name}” deleted.")
    return redirect("experiment_list", key=product.key)


# --- funnels ------------------------------------------------------------------------------


@login_required
@require_GET
def funnel_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "funnels")
    # Typed-in funnels show their steps here; events funnels are computed on their own page.
    context["funnels"] = [
        (funnel, None if funnel.source == DataSource.EVENTS else selectors.funnel_result(funnel))
        for funnel in selectors.funnel_list(product=product)
    ]
    return render_page(request, "metrics/funnels.html", context)


@login_required
@require_GET
def funnel_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    funnel = get_object_or_404(selectors.funnel_list(product=product), pk=pk)
    context = _context(request, product, "funnels")
    context["funnel"] = funnel
    if funnel.source == DataSource.EVENTS:
        result = selectors.funnel_events(funnel)
        context.update(rows=result.rows, segments=result.segments, weeks=result.weeks)
    else:
        context["rows"] = selectors.funnel_result(funnel)
    return render_page(request, "metrics/funnel_detail.html", context)


def _funnel_page(request, product, form, formset, funnel=None) -> HttpResponse:
    context = _context(request, product, "funnels")
    context.update(form=form, formset=formset, funnel=funnel)
    return render_page(request, "metrics/funnel_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def funnel_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = FunnelForm(request.POST or None, product=product)
    formset = StepFormSet(request.POST or None, prefix="steps")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            funnel = services.funnel_create(
                product=product,
                data=form.model_data(),
                steps=formset_rows(formset),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, formset)
        else:
            messages.success(request, f"Funnel “{funnel.name}” created.")
            return redirect(reverse("funnel_list", args=[product.key]) + f"#f{funnel.pk}")
    return _funnel_page(request, product, form, formset)


@login_required
@require_http_methods(["GET", "POST"])
def funnel_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    funnel = get_object_or_404(Funnel, product=product, pk=pk)
    formset = StepFormSet(
        request.POST or None,
        prefix="steps",
        initial=list(
            funnel.steps.values("name", "count", "event", "property_name", "property_value")
        ),
    )
    edit = versioned_edit(
        request,
        FunnelForm,
        funnel,
        lambda form, **kw: services.funnel_update(funnel=funnel, steps=formset_rows(formset), **kw),
        formset=formset,
        product=product,
    )
    if edit.saved:
        message = f"Funnel “{edit.saved.name}” saved."
        to = reverse("funnel_list", args=[product.key]) + f"#f{funnel.pk}"
        return saved_redirect(request, message, to)
    return _funnel_page(request, product, edit.form, formset, funnel)


@login_required
@require_POST
def funnel_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    funnel = get_object_or_404(Funnel, product=product, pk=pk)
    services.funnel_delete(funnel=funnel, actor=request.user)
    messages.success(request, f"Funnel “{funnel.name}” deleted.")
    return redirect("funnel_list", key=product.key)
