"""The ranked backlog table, feature detail and editing, and the Overview's top-of-backlog
panel.

Thin function views: a permission-scoped fetch first, a form to validate, a service to write,
then the page or (for htmx) the partial that changed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backlog import custom_fields, scoring, selectors, services
from backlog.choices import (
    CustomFieldKind,
    CustomFieldTarget,
    FeatureKind,
    FeatureStatus,
    Framework,
    MoSCoW,
    StoryStatus,
)
from backlog.forms import (
    BacklogSettingsForm,
    BulkStatusForm,
    FeatureCreateForm,
    FeatureForm,
    ScoreForm,
    StoryForm,
)
from backlog.models import BacklogSettings, Feature
from backlog.views.common import (
    _context,
    _feature_or_404,
    _history,
    _int_or_none,
    _score,
    _with_scores,
)
from backlog.views_fields import values_context
from pm import visibility
from pm.choices import Role
from pm.exports import list_export
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest, signed_in
from pm.models import Product
from pm.permissions import get_product_for_user
from pm.registry import registry
from pm.selectors import themes_for_product
from pm.views_support import add_service_errors, panels_for, saved_redirect, versioned_edit
from pm.visibility import Section, viewer_of

PAGE_SIZE = 100
MAX_SHOWN = 1000  # rows a re-rendered table keeps after a move

# --- the backlog --------------------------------------------------------------------------

BACKLOG_FILTERS = ("theme", "status", "kind", "moscow", "q", "sort")


def _backlog_filters(request: HttpRequest) -> dict[str, str]:
    """The backlog's filters from the query (or a form posted from the page): the fixed ones,
    and one "cf<id>" per custom field (custom_fields.filter_rows reads those)."""
    source = request.GET if request.method == "GET" else request.POST
    filters = {k: source.get(k, "") for k in BACKLOG_FILTERS}
    custom = [k for k in source if CUSTOM_FILTER.fullmatch(k)][: custom_fields.MAX_FIELDS]
    filters.update({k: source.get(k, "")[:200] for k in custom})
    return filters


CUSTOM_FILTER = re.compile(r"cf[0-9]{1,12}")


def _columns_key(product: Product) -> str:
    return f"backlog_columns:{product.pk}"


def _columns(request, product: Product, fields: list) -> list:
    """The custom fields shown as backlog columns: chosen on the page ("cols", with
    "cols_set" so that choosing none counts), remembered in the session per product. The
    session is written only when the choice changes."""
    source = request.GET if request.method == "GET" else request.POST
    if "cols_set" in source:
        chosen = sorted({v for v in source.getlist("cols") if v.isdigit() and len(v) < 13})
        if request.session.get(_columns_key(product), []) != chosen:
            request.session[_columns_key(product)] = chosen
    else:
        chosen = request.session.get(_columns_key(product), [])
    return [f for f in fields if f.key in chosen]


def _custom_cells(request, product, features: list, fields: list, columns: list) -> None:
    """Each feature's shown custom columns, as text (no queries but the members' names when
    a member column is shown)."""
    people = custom_fields.people_of(product, columns)
    for feature in features:
        values = feature.custom_values or {}
        feature.custom_cells = [
            custom_fields.display(f, values.get(f.key), people) for f in columns
        ]


def _backlog_context(
    request, product, filters, offset: int = 0, limit: int = PAGE_SIZE, **extra
) -> dict[str, Any]:
    context = _context(request, product, "backlog", **extra)
    fields = custom_fields.fields_for(product, CustomFieldTarget.FEATURE, viewer_of(product))
    columns = _columns(request, product, fields)
    qs = selectors.feature_list(product=product, user=request.user, filters=filters, custom=fields)
    rows = list(qs[offset : offset + limit + 1])
    has_more = len(rows) > limit
    features = _with_scores(rows[:limit], context["framework"], context["sees_internal"])
    _custom_cells(request, product, features, fields, columns)
    query = {k: v for k, v in filters.items() if v}
    context.update(
        features=features,
        offset=offset,
        page_size=PAGE_SIZE,
        next_offset=offset + limit if has_more else None,
        filters=filters,
        filter_query=urlencode(query),
        filtered=any(
            filters.get(k)
            for k in filters
            if k in ("theme", "status", "kind", "moscow", "q") or CUSTOM_FILTER.fullmatch(k)
        ),
        custom_filters=_custom_filter_controls(fields, filters, product),
        custom_sorts=custom_fields.sort_choices(fields),
        custom_fields=fields,
        columns=columns,
        column_keys=[f.key for f in columns],
        draggable=context["can_edit"] and (filters.get("sort") or "rank") == "rank",
        score_fields=scoring.INPUTS[Framework(context["framework"])],
        score_formula=scoring.FORMULAS[Framework(context["framework"])],
        status_choices=FeatureStatus.choices,
        kind_choices=FeatureKind.choices,
        moscow_choices=MoSCoW.choices,
        framework_choices=Framework.choices,
        reach_choices=BacklogSettings.ReachSource.choices,
    )
    return context


@login_required
@require_GET
def backlog(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.BACKLOG)
    filters = _backlog_filters(request)
    offset = max(_int_or_none(request.GET.get("offset")) or 0, 0)
    if offset and is_partial(request):
        # "Load more": only the next rows.
        context = _backlog_context(request, product, filters, offset)
        return render_fragment(request, "backlog/backlog.html", "feature-rows", context)
    context = _backlog_context(request, product, filters, themes=themes_for_product(product))
    context["new_form"] = FeatureCreateForm(product=product)
    return render_page(request, "backlog/backlog.html", context, partial="feature-table")


@login_required
@require_GET
def backlog_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The backlog as filtered on the page, with scores, as CSV, JSON or XLSX."""
    from backlog.api import FeatureSerializer

    filters = _backlog_filters(request)
    return list_export(
        request,
        key,
        section=Section.BACKLOG,
        rows=lambda product: selectors.feature_list(
            product=product, user=request.user, filters=filters
        ),
        serializer_class=FeatureSerializer,
        name="backlog",
        extra={
            "theme_name": lambda f: f.theme.name if f.theme else "",
            "stories": lambda f: f.story_count,
            "story_points": lambda f: f.story_points,
        },
    )


def _table_response(
    request, product, message: str, level: str = "success", limit: int = PAGE_SIZE
) -> HttpResponse:
    filters = _backlog_filters(request)
    if not is_partial(request):
        if level == "success":
            messages.success(request, message)
        else:
            messages.error(request, message)
        query = urlencode({k: v for k, v in filters.items() if v})
        return redirect(reverse("backlog", args=[product.key]) + (f"?{query}" if query else ""))
    context = _backlog_context(request, product, filters, limit=limit)
    response = render_fragment(request, "backlog/backlog.html", "feature-table", context)
    return toast(replace(response, "#feature-table"), message, level)


@login_required
@require_http_methods(["GET", "POST"])
def feature_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = FeatureCreateForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            feature = services.feature_create(
                product=product, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not is_partial(request):
                return redirect("feature_detail", key=product.key, pk=feature.pk)
            return _table_response(
                request, product, f"“{feature.title}” added at the bottom of the backlog."
            )
    context = _context(request, product, "backlog", new_form=form)
    if not is_partial(request):
        return render_page(request, "backlog/feature_new.html", context)
    return replace(
        render_fragment(request, "backlog/backlog.html", "new-feature", context), "#new-feature"
    )


@login_required
@require_POST
def feature_move(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Drag and drop: the dropped feature and its new neighbours (ids, either may be blank).
    The table comes back as saved, with as many rows as the page showed (`shown`), so rows
    loaded with "Show the next" stay on the page."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = _feature_or_404(request, product, pk)
    neighbours = {}
    for name in ("above", "below"):
        value = _int_or_none(request.POST.get(name))
        neighbours[name] = _feature_or_404(request, product, value) if value else None
    shown = min(max(_int_or_none(request.POST.get("shown")) or 0, PAGE_SIZE), MAX_SHOWN)
    try:
        services.feature_move(feature=feature, actor=request.user, **neighbours)
    except ValidationError as exc:
        return _table_response(request, product, " ".join(exc.messages), "error", limit=shown)
    return _table_response(request, product, f"Moved “{feature.title}”.", limit=shown)


def _custom_filter_controls(fields: list, filters: dict[str, str], product: Product) -> list:
    """The custom field filters of the backlog's "More filters": (field, param, value,
    choices or None for a typed value)."""
    controls = []
    members = None
    for field in fields:
        param = f"cf{field.pk}"
        choices = None
        if field.kind in (CustomFieldKind.SELECT, CustomFieldKind.MULTI_SELECT):
            choices = [(o, o) for o in field.options]
        elif field.kind == CustomFieldKind.USER:
            if members is None:
                members = [
                    (str(u.pk), u.get_full_name() or u.username)
                    for u in selectors.assignable_users(product)
                ]
            choices = members
        controls.append((field, param, filters.get(param, ""), choices))
    return controls


def _row_context(request, product, feature, **extra):
    context = _context(request, product, "backlog", **extra)
    _with_scores([feature], context["framework"], context["sees_internal"])
    fields = custom_fields.fields_for(product, CustomFieldTarget.FEATURE, viewer_of(product))
    columns = _columns(request, product, fields)
    _custom_cells(request, product, [feature], fields, columns)
    context["columns"] = columns
    context.update(
        f=feature,
        offset=None,
        draggable=context["can_edit"],
        score_fields=scoring.INPUTS[Framework(context["framework"])],
    )
    return context


def _annotated_feature(request, product, pk):
    try:
        return selectors.feature_list(product=product, user=request.user).get(pk=pk)
    except Feature.DoesNotExist:
        raise Http404("No such feature.") from None


@login_required
@require_GET
def feature_row(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """One backlog row as it stands (what "Cancel" on the inline score editor swaps back)."""
    product = get_product_for_user(request.user, key, section=Section.BACKLOG)
    feature = _annotated_feature(request, product, pk)
    if not is_partial(request):
        return redirect("backlog", key=product.key)
    context = _row_context(request, product, feature)
    return render_fragment(request, "backlog/backlog.html", "feature-row", context)


@login_required
@require_http_methods(["GET", "POST"])
def feature_score_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Inline editing of a row's score inputs (only the product's framework's inputs)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = _annotated_feature(request, product, pk)
    context = _row_context(request, product, feature)
    kwargs = {"framework": context["framework"], "reach_locked": context["reach_locked"]}
    edit = versioned_edit(
        request,
        ScoreForm,
        feature,
        lambda form, **kw: services.feature_update(feature=feature, **kw),
        **kwargs,
    )
    if edit.saved:
        if not is_partial(request):
            return redirect("backlog", key=product.key)
        feature = _annotated_feature(request, product, pk)
        context = _row_context(request, product, feature)
        response = render_fragment(request, "backlog/backlog.html", "feature-row", context)
        score = feature.score_info
        detail = f" Score {score.breakdown}." if score and score.ok else ""
        return toast(response, f"Saved “{feature.title}”.{detail}")
    if not is_partial(request):
        return redirect("feature_detail", key=product.key, pk=feature.pk)
    context["form"] = edit.form
    return render_fragment(request, "backlog/backlog.html", "score-form", context)


@login_required
@require_POST
def backlog_settings(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = BacklogSettingsForm(request.POST)
    if not form.is_valid():
        return _table_response(request, product, "Choose a valid framework.", "error")
    settings = services.backlog_settings_update(
        product=product,
        actor=request.user,
        framework=form.cleaned_data["framework"] or None,
        reach_source=form.cleaned_data["reach_source"] or None,
    )
    product.backlog_settings = settings
    message = f"Scoring with {Framework(settings.framework).label}; every feature was rescored."
    # The framework changes the column headers and the settings form: the whole page reloads.
    return saved_redirect(request, message, "backlog", key=product.key)


@login_required
@require_POST
def backlog_sort_by_score(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    count = services.features_sort_by_score(product=product, actor=request.user)
    return _table_response(request, product, f"Re-ranked {count} features by score, highest first.")


@login_required
@require_POST
def backlog_bulk_status(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = BulkStatusForm(request.POST)
    if not form.is_valid():
        errors = [e for errs in form.errors.values() for e in errs]
        return _table_response(request, product, " ".join(str(e) for e in errors), "error")
    changed = services.features_set_status(
        product=product,
        feature_ids=form.cleaned_data["features"],
        status=form.cleaned_data["new_status"],
        actor=request.user,
    )
    label = FeatureStatus(form.cleaned_data["new_status"]).label
    return _table_response(
        request, product, f"{changed} feature{'s' if changed != 1 else ''} set to {label}."
    )


# --- feature detail -----------------------------------------------------------------------


def _feature_context(request, product, feature, **extra) -> dict[str, Any]:
    context = _context(request, product, "backlog", **extra)
    internal = context["sees_internal"]
    frameworks = [f for f in Framework if internal or f != Framework.ROI]
    scores = [_score(feature, f, context["framework"]) for f in frameworks]
    context.update(
        feature=feature,
        score=next((s for s in scores if s.framework == context["framework"]), None),
        other_scores=[s for s in scores if s.framework != context["framework"]],
        roi=scoring.score_feature(feature, Framework.ROI) if internal else None,
        stories=list(selectors.stories_for_feature(feature, request.user)),
        history=_history(feature, viewer_of(product)),
        ideas=list(visibility.apply(feature.ideas.all(), viewer_of(product), product)[:20]),
        panels=panels_for(request, product, registry.feature_panels, feature),
        **values_context(
            request,
            product,
            feature,
            CustomFieldTarget.FEATURE,
            reverse("feature_values", args=[product.key, feature.pk]),
            context["can_edit"],
        ),
    )
    context["story_points"] = sum(s.points or 0 for s in context["stories"])
    context["done_points"] = sum(
        s.points or 0 for s in context["stories"] if s.status == StoryStatus.DONE
    )
    return context


@login_required
@require_GET
def feature_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    feature = _feature_or_404(request, product, pk)
    return render_page(request, "backlog/feature.html", _feature_context(request, product, feature))


@login_required
@require_http_methods(["GET", "POST"])
def feature_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = _feature_or_404(request, product, pk)
    settings = selectors.backlog_settings(product)
    kwargs: dict[str, Any] = {
        "product": product,
        "reach_locked": settings.reach_source != BacklogSettings.ReachSource.MANUAL,
    }
    # The form edits a copy: a rejected value must not reach the scores shown beside it.
    edit = versioned_edit(
        request,
        FeatureForm,
        copy.copy(feature),
        lambda form, **kw: services.feature_update(feature=feature, **kw),
        **kwargs,
    )
    if edit.saved:
        message = f"Saved “{edit.saved.title}”."
        return saved_redirect(request, message, "feature_detail", product.key, feature.pk)
    context = _feature_context(request, product, feature, form=edit.form, editing=True)
    if not is_partial(request):
        return render_page(request, "backlog/feature.html", context)
    return render_fragment(request, "backlog/feature.html", "feature-form", context)


@login_required
@require_http_methods(["GET", "POST"])
def story_new(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = _feature_or_404(request, product, pk)
    form = StoryForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            story = services.story_create(
                feature=feature, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not is_partial(request):
                return redirect("story_detail", key=product.key, number=story.number)
            context = _feature_context(request, product, feature)
            response = render_fragment(request, "backlog/feature.html", "story-list", context)
            return toast(replace(response, "#stories"), f"Story {story.key} added.")
    if not is_partial(request):
        return redirect("feature_detail", key=product.key, pk=feature.pk)
    context = _context(request, product, "backlog", form=form, feature=feature)
    return render_fragment(request, "backlog/feature.html", "story-form", context)


# --- overview panel -----------------------------------------------------------------------


def top_of_backlog_panel(request: HttpRequest, product: Product) -> dict[str, Any] | None:
    """Context of the Overview's "Top of the backlog" panel (two queries)."""
    settings = selectors.backlog_settings(product)
    features = selectors.top_of_backlog(product=product, user=signed_in(request), limit=5)
    internal = product.membership.allows(Role.ENGINEER)
    return {
        "product": product,
        "features": _with_scores(features, settings.framework, internal),
        "framework_label": Framework(settings.framework).label,
    }
