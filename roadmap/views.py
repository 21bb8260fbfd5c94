"""Roadmap pages: the timeline, the Now/Next/Later board, what changed, releases, share links,
and the public page behind a share link."""

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pm.choices import Role
from pm.exports import list_export
from pm.htmx import is_partial, render_fragment, render_page, toast
from pm.http import AuthedHttpRequest
from pm.models import Objective, Product
from pm.permissions import get_product_for_user
from pm.registry import registry
from pm.selectors import activity_for_object
from pm.services import EditConflict
from pm.views_support import (
    add_service_errors,
    panels_for,
    product_page,
    saved_redirect,
    versioned_edit,
)
from pm.visibility import viewer_of
from roadmap import public, selectors, services
from roadmap.api import InitiativeSerializer, ReleaseSerializer
from roadmap.delivery import delivery_forecast, revenue_forecast
from roadmap.forms import (
    FilterForm,
    ForecastForm,
    InitiativeForm,
    MoveForm,
    ReleaseForm,
    ShareLinkForm,
    ShipForm,
    StatusUpdateForm,
)
from roadmap.models import Initiative, Release, ShareLink
from roadmap.periods import period_suggestions
from roadmap.timeline import build as build_timeline

# --- helpers --------------------------------------------------------------------------------


def _context(request: AuthedHttpRequest, product: Product, section: str) -> dict[str, Any]:
    """pm's product page context, with the roadmap `visibility` the selectors take."""
    context = product_page(request, product, tab="roadmap", section=section)
    context["visibility"] = selectors.INTERNAL if context["sees_internal"] else selectors.PUBLIC
    return context


def _filters(request: HttpRequest, product) -> FilterForm:
    choices = selectors.filter_choices(product)
    return FilterForm(request.GET, themes=choices["themes"], objectives=choices["objectives"])


def _initiative_url(product):
    return lambda i: reverse("initiative_detail", args=[product.key, i.pk])


def _release_markers(releases, forecasts: dict | None = None) -> list[tuple]:
    forecasts = forecasts or {}
    return [
        (r.name, r.shipped_date or r.target_date, r.is_shipped, "", forecasts.get(r.pk))
        for r in releases
    ]


# --- timeline, board, what changed -----------------------------------------------------------


@login_required
@require_GET
def roadmap(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """The timeline: initiatives as bars on a month grid, grouped by theme."""
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "timeline")
    form = _filters(request, product)
    initiatives = selectors.initiative_list(
        product=product, visibility=context["visibility"], filters=form.filters()
    )
    releases = selectors.release_list(product=product, visibility=context["visibility"])
    items = selectors.initiatives_for_timeline(initiatives, url_for=_initiative_url(product))
    release_forecasts = None
    if context["sees_internal"]:
        # The team sees each open item's chance of finishing by its date (see Forecast).
        delivery = delivery_forecast(product)
        by_initiative = delivery.by_initiative()
        items = [replace(item, forecast=by_initiative.get(item.pk)) for item in items]
        release_forecasts = delivery.by_release()
    scale = "quarter" if request.GET.get("scale") == "quarter" else "month"
    context.update(
        filter_form=form,
        timeline=build_timeline(
            items, _release_markers(releases, release_forecasts), timezone.localdate()
        ),
        scale=scale,
        filter_query=urlencode(form.filters()),
    )
    return render_page(request, "roadmap/timeline.html", context, partial="view")


def _feature_titles(item: Initiative | Release) -> list[str]:
    return [f.title for f in item.features.all()]


@login_required
@require_GET
def initiatives_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The initiatives as filtered on the roadmap, as CSV, JSON or XLSX (stakeholders: the
    public roadmap, without internal notes, as the page)."""

    def rows(product: Product):
        initiatives = selectors.initiative_list(
            product=product,
            visibility=selectors.visibility_for(product.membership),
            filters=_filters(request, product).filters(),
        )
        return initiatives.prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.only("id")),
            selectors.features_prefetch(viewer_of(product)),
        )

    return list_export(
        request,
        key,
        rows=rows,
        serializer_class=InitiativeSerializer,
        name="initiatives",
        extra={
            "theme_name": lambda i: i.theme.name if i.theme_id else "",
            "feature_titles": _feature_titles,
        },
    )


@login_required
@require_GET
def roadmap_board(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """Now / Next / Later: columns by horizon, drag to move (PMs)."""
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "board")
    form = _filters(request, product)
    initiatives = selectors.initiative_list(
        product=product, visibility=context["visibility"], filters=form.filters()
    )
    context.update(
        filter_form=form,
        columns=selectors.initiatives_by_horizon(initiatives),
    )
    return render_page(request, "roadmap/board.html", context, partial="view")


def _since(request: HttpRequest):
    default = timezone.localdate() - timedelta(days=7)
    raw = request.GET.get("since")
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date() if raw else default
    except ValueError:
        day = default
    day = min(day, timezone.localdate())
    return day, timezone.make_aware(datetime.combine(day, time.min))


@login_required
@require_GET
def roadmap_changes(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """What changed since a date (default: a week ago), from the activity log."""
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "changes")
    day, since = _since(request)
    context.update(
        since=day,
        changes=selectors.roadmap_changes(
            product=product, since=since, visibility=context["visibility"]
        ),
    )
    return render_page(request, "roadmap/changes.html", context, partial="changes")


# --- initiatives -------------------------------------------------------------------------------


def _initiative_form_page(request, context, form, initiative=None) -> HttpResponse:
    context.update(
        form=form,
        initiative=initiative,
        suggestions=period_suggestions(timezone.localdate()),
    )
    return render_page(request, "roadmap/initiative_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "timeline")
    initial = {}
    if request.GET.get("horizon") in {"now", "next", "later"}:
        initial["horizon"] = request.GET["horizon"]
    form = InitiativeForm(request.POST or None, product=product, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            initiative = services.initiative_create(
                product=product,
                data=form.model_data(),
                objectives=form.cleaned_data["objectives"],
                features=form.cleaned_data["features"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Initiative “{initiative.title}” added.")
            return redirect("initiative_detail", key=product.key, pk=initiative.pk)
    return _initiative_form_page(request, context, form)


@login_required
@require_GET
def initiative_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    return _initiative_page(request, product, pk)


def _initiative_page(
    request: AuthedHttpRequest, product, pk: int, update_form: StatusUpdateForm | None = None
) -> HttpResponse:
    context = _context(request, product, "timeline")
    try:
        initiative = selectors.initiative_detail(
            product=product, pk=pk, visibility=context["visibility"], viewer=viewer_of(product)
        )
    except Initiative.DoesNotExist:
        raise Http404("No such initiative.") from None
    releases = selectors.release_list(product=product, visibility=context["visibility"]).filter(
        features__initiatives=initiative
    )
    context.update(
        initiative=initiative,
        releases=releases.distinct(),
        updates=selectors.initiative_updates(initiative=initiative)[:20],
        health_label=health.label if (health := selectors.health_of(initiative)) else "",
        update_form=update_form or StatusUpdateForm(),
        panels=panels_for(request, product, registry.initiative_panels, initiative),
    )
    if context["sees_internal"]:  # history names people and shows internal notes: the team only
        context["history"] = activity_for_object(initiative, viewer_of(product), limit=20)
    return render_page(request, "roadmap/initiative_detail.html", context)


@login_required
@require_POST
def initiative_post_update(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Post a status update (PMs): it becomes the initiative's health."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    initiative = get_object_or_404(Initiative, product=product, pk=pk)
    form = StatusUpdateForm(request.POST)
    if not form.is_valid():
        return _initiative_page(request, product, pk, update_form=form)
    update = services.initiative_post_update(
        initiative=initiative,
        status=form.cleaned_data["status"],
        note=form.cleaned_data["note"],
        actor=request.user,
    )
    messages.success(request, f"Status update posted: {update.get_status_display().lower()}.")
    return redirect("initiative_detail", key=product.key, pk=initiative.pk)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "timeline")
    initiative = get_object_or_404(Initiative, product=product, pk=pk)
    edit = versioned_edit(
        request,
        InitiativeForm,
        initiative,
        lambda form, **kw: services.initiative_update(
            initiative=initiative,
            objectives=form.cleaned_data["objectives"],
            features=form.cleaned_data["features"],
            **kw,
        ),
        product=product,
    )
    if edit.saved:
        message = f"Initiative “{edit.saved.title}” saved."
        return saved_redirect(request, message, "initiative_detail", product.key, initiative.pk)
    return _initiative_form_page(request, context, edit.form, initiative)


@login_required
@require_POST
def initiative_move(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """A drop on the board or a "Move to" button: the board comes back as saved (the move, or
    the old places with an error toast; 409 when the card was stale)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    initiative = get_object_or_404(Initiative, product=product, pk=pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    neighbours = {
        name: Initiative.objects.filter(product=product, pk=form.cleaned_data[name]).first()
        if form.cleaned_data[name]
        else None
        for name in ("above", "below")
    }
    try:
        moved = services.initiative_move(
            initiative=initiative,
            horizon=form.cleaned_data["horizon"],
            above=neighbours["above"],
            below=neighbours["below"],
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except EditConflict as conflict:
        return toast(_board_fragment(request, product, status=409), conflict.message(), "error")
    except ValidationError as exc:
        return toast(_board_fragment(request, product), " ".join(exc.messages), "error")
    message = f"“{moved.title}” moved to {moved.get_horizon_display()}."
    return toast(_board_fragment(request, product), message)


def _board_fragment(request, product, status: int = 200) -> HttpResponse:
    context = _context(request, product, "board")
    form = _filters(request, product)
    initiatives = selectors.initiative_list(
        product=product, visibility=context["visibility"], filters=form.filters()
    )
    context.update(filter_form=form, columns=selectors.initiatives_by_horizon(initiatives))
    return render_fragment(request, "roadmap/board.html", "view", context, status=status)


@login_required
@require_POST
def initiative_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    initiative = get_object_or_404(Initiative, product=product, pk=pk)
    title = initiative.title
    services.initiative_delete(initiative=initiative, actor=request.user)
    messages.success(request, f"Initiative “{title}” deleted.")
    return redirect("roadmap", key=product.key)


# --- releases ---------------------------------------------------------------------------------


def _releases_context(request, product) -> dict:
    context = _context(request, product, "releases")
    if context["sees_internal"]:
        releases = selectors.release_detail_list(product=product)
    else:
        releases = selectors.release_list(
            product=product, visibility=selectors.PUBLIC
        ).prefetch_related(selectors.features_prefetch(viewer_of(product)))
    context["releases"] = releases
    context["today"] = timezone.localdate()
    return context


@login_required
@require_GET
def releases(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    return render_page(
        request, "roadmap/releases.html", _releases_context(request, product), partial="releases"
    )


@login_required
@require_GET
def releases_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The releases, with their features' titles, as CSV, JSON or XLSX (stakeholders: the
    public ones, without internal notes, as the page)."""
    return list_export(
        request,
        key,
        rows=lambda product: selectors.release_list(
            product=product, visibility=selectors.visibility_for(product.membership)
        ).prefetch_related(selectors.features_prefetch(viewer_of(product))),
        serializer_class=ReleaseSerializer,
        name="releases",
        extra={"feature_titles": _feature_titles},
    )


def _release_form_page(request, context, form, release=None) -> HttpResponse:
    context.update(form=form, release=release)
    return render_page(request, "roadmap/release_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def release_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "releases")
    form = ReleaseForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            release = services.release_create(
                product=product,
                data=form.model_data(),
                features=form.cleaned_data["features"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Release “{release.name}” added.")
            return redirect("releases", key=product.key)
    return _release_form_page(request, context, form)


@login_required
@require_http_methods(["GET", "POST"])
def release_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "releases")
    release = get_object_or_404(Release, product=product, pk=pk)
    edit = versioned_edit(
        request,
        ReleaseForm,
        release,
        lambda form, **kw: services.release_update(
            release=release, features=form.cleaned_data["features"], **kw
        ),
        product=product,
    )
    if edit.saved:
        message = f"Release “{edit.saved.name}” saved."
        return saved_redirect(request, message, "releases", key=product.key)
    return _release_form_page(request, context, edit.form, release)


@login_required
@require_POST
def release_ship(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Ship a release: it and its features are marked shipped."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    release = get_object_or_404(Release, product=product, pk=pk)
    form = ShipForm(request.POST)
    message, level, warning = "", "success", None
    if not form.is_valid():
        message, level = "This release changed; reload and try again.", "error"
    else:
        try:
            release = services.release_ship(
                release=release,
                shipped_on=form.cleaned_data["shipped_date"],
                expected_version=form.cleaned_data["version"],
                actor=request.user,
                with_open_work=form.cleaned_data["with_open_work"],
            )
        except EditConflict as conflict:
            message, level = conflict.message(), "error"
        except services.ReleaseHasOpenWork as open_work:
            message, level = str(open_work.message), "warning"
            warning = {
                "release": release.pk,
                "features": open_work.features,
                "shipped_date": form.cleaned_data["shipped_date"],
            }
        except ValidationError as exc:
            message, level = " ".join(exc.messages), "error"
        else:
            count = release.features.count()
            message = f"“{release.name}” shipped with {count} feature{'s' if count != 1 else ''}."
    context = _releases_context(request, product)
    context["ship_warning"] = warning
    if not is_partial(request):
        if warning:  # the list would be lost in a redirect: show it on the page
            return render_page(request, "roadmap/releases.html", context)
        (messages.success if level == "success" else messages.error)(request, message)
        return redirect("releases", key=product.key)
    response = render_fragment(request, "roadmap/releases.html", "releases", context)
    return toast(response, message, level)


@login_required
@require_POST
def release_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    release = get_object_or_404(Release, product=product, pk=pk)
    name = release.name
    services.release_delete(release=release, actor=request.user)
    messages.success(request, f"Release “{name}” deleted.")
    return redirect("releases", key=product.key)


# --- share links --------------------------------------------------------------------------------


def _share_context(request, product, form=None, new_link=None, new_url=None) -> dict:
    context = _context(request, product, "share")
    context.update(
        links=selectors.share_links_for_product(product),
        form=form or ShareLinkForm(),
        new_link=new_link,
        new_url=new_url,
    )
    return context


@login_required
@require_http_methods(["GET", "POST"])
def share_links(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """Create (the URL is shown once), list with last use, revoke."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = ShareLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link, token = services.share_link_create(
                product=product,
                label=form.cleaned_data["label"],
                expires_at=form.expires_at,
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            url = request.build_absolute_uri(reverse("share_roadmap", args=[token]))
            context = _share_context(request, product, new_link=link, new_url=url)
            response = render_page(request, "roadmap/share_links.html", context, partial="panel")
            return toast(response, f"Share link “{link.label}” created.")
    context = _share_context(request, product, form=form)
    return render_page(request, "roadmap/share_links.html", context, partial="panel")


@login_required
@require_POST
def share_link_revoke(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    link = get_object_or_404(ShareLink, product=product, pk=pk)
    services.share_link_revoke(link=link, actor=request.user)
    if not is_partial(request):
        messages.success(request, f"Share link “{link.label}” revoked.")
        return redirect("share_links", key=product.key)
    response = render_fragment(
        request, "roadmap/share_links.html", "panel", _share_context(request, product)
    )
    return toast(response, f"Share link “{link.label}” revoked; it no longer opens.")


# --- the public roadmap ------------------------------------------------------------------------


@require_GET
def share_roadmap(request: HttpRequest, token: str) -> HttpResponse:
    """The public roadmap page behind a share link: no sign-in, public items only; 404 for a
    wrong, expired or revoked token."""
    rendered = public.resolve(token)
    return public.response(
        request, rendered.html, rendered.html_gzip, "text/html; charset=utf-8", rendered.html_etag
    )


@require_GET
def share_roadmap_json(request: HttpRequest, token: str) -> HttpResponse:
    """The share page's "Download as JSON": the public roadmap as GET /api/v1/roadmap/<token>/
    has it (public items only), as a file. The page links it relatively, so the cached page
    holds no token."""
    rendered = public.resolve(token)
    response = public.response(
        request, rendered.json, rendered.json_gzip, "application/json", rendered.json_etag
    )
    response.headers["Content-Disposition"] = 'attachment; filename="roadmap.json"'
    return response


# --- forecast ---------------------------------------------------------------------------------


def _pnl_chart(lines, width: int = 720, height: int = 220) -> dict:
    """Geometry of the P&L chart (drawn as SVG on the server: printable, no script): revenue bars
    up, cost bars down from a zero line, and the cumulative net as a line."""
    if not lines:
        return {}
    values = [line.revenue for line in lines] + [-line.cost for line in lines]
    values += [line.cumulative for line in lines] + [0]
    top, bottom = max(values), min(values)
    span = (top - bottom) or 1
    pad = 12
    inner = height - 2 * pad

    def y(value) -> float:
        return round(pad + float((top - value) / span) * inner, 1)

    step = width / len(lines)
    bar = max(step * 0.35, 2)
    zero = y(0)
    months = []
    for i, line in enumerate(lines):
        x = round(i * step + step / 2, 1)
        months.append(
            {
                "line": line,
                "x": x,
                "label_x": x,
                "revenue": (
                    round(x - bar, 1),
                    y(line.revenue),
                    round(bar, 1),
                    round(zero - y(line.revenue), 1),
                ),
                "cost": (round(x, 1), zero, round(bar, 1), round(y(-line.cost) - zero, 1)),
            }
        )
    points = " ".join(f"{m['x']},{y(m['line'].cumulative)}" for m in months)
    return {"width": width, "height": height, "zero": zero, "months": months, "points": points}


@login_required
@require_GET
def forecast(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """When open initiatives and releases are likely done, and the P&L the plan adds by month.

    Team only: the forecast reads ROI inputs and internal initiatives."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    context = _context(request, product, "forecast")
    form = ForecastForm(request.GET if request.GET else None)
    delivery = delivery_forecast(product)
    revenue = revenue_forecast(product, delivery, form.assumptions())
    context.update(
        form=form,
        delivery=delivery,
        revenue=revenue,
        chart=_pnl_chart(revenue.lines),
    )
    return render_page(request, "roadmap/forecast.html", context)
