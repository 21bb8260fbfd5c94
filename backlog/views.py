"""Backlog pages: ideas, the ranked backlog, feature detail, stories, sprints and the board.

Thin function views: a permission-scoped fetch first, a form to validate, a service to write,
then the page or (for htmx) the partial that changed.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from backlog import custom_fields, retro, scoring, selectors, services
from backlog.choices import (
    CustomFieldKind,
    CustomFieldTarget,
    FeatureKind,
    FeatureStatus,
    Framework,
    IdeaSource,
    IdeaStatus,
    MoSCoW,
    StoryStatus,
)
from backlog.forms import (
    BacklogSettingsForm,
    BulkStatusForm,
    CriterionForm,
    DeclineForm,
    EngineerStoryForm,
    FeatureCreateForm,
    FeatureForm,
    IdeaEditForm,
    IdeaForm,
    MergeForm,
    ScoreForm,
    SprintForm,
    StoryForm,
    StoryStatusForm,
)
from backlog.models import BacklogSettings, Feature, Idea, Sprint, UserStory
from backlog.views_fields import values_context
from pm import visibility
from pm.choices import Role
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest, signed_in
from pm.models import Product
from pm.permissions import get_product_for_user
from pm.registry import registry
from pm.selectors import activity_for_object, themes_for_product
from pm.services import EditConflict
from pm.views_support import add_service_errors, product_page, saved_redirect, versioned_edit
from pm.visibility import Section, viewer_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 100


# --- shared helpers -----------------------------------------------------------------------


def _context(
    request: AuthedHttpRequest, product: Product, tab: str, **extra: Any
) -> dict[str, Any]:
    """pm's product page context plus the product's backlog settings (framework, reach)."""
    settings = selectors.backlog_settings(product)
    return product_page(
        request,
        product,
        tab=tab,
        browses_backlog=(viewer := viewer_of(product)) is not None
        and viewer.browses(Section.BACKLOG),
        settings=settings,
        framework=settings.framework,
        framework_label=Framework(settings.framework).label,
        reach_locked=settings.reach_source != BacklogSettings.ReachSource.MANUAL,
        **extra,
    )


def _panels(
    request: AuthedHttpRequest, product: Product, panels: list, obj: Any
) -> list[tuple[str, dict]]:
    """[(template, context)] of the panels other apps add to an idea, feature or story page
    that the reader's role may see and that have something to show."""
    shown = []
    for panel in panels:
        if product.membership.allows(panel.need):
            panel_context = panel.context(request, obj)
            if panel_context is not None:
                shown.append((panel.template, panel_context))
    return shown


def _feature_or_404(request, product: Product, pk: int) -> Feature:
    try:
        return selectors.feature_get(product=product, user=request.user, pk=pk)
    except Feature.DoesNotExist:
        raise Http404("No such feature.") from None


def _story_or_404(request, product: Product, number: int) -> UserStory:
    try:
        return selectors.story_get(product=product, user=request.user, number=number)
    except UserStory.DoesNotExist:
        raise Http404("No such story.") from None


def _sprint_or_404(product: Product, pk: int) -> WithAnnotations[Sprint, selectors.SprintPoints]:
    try:
        return selectors.sprint_get(product=product, pk=pk)
    except Sprint.DoesNotExist:
        raise Http404("No such sprint.") from None


def _idea_or_404(product: Product, pk: int) -> Idea:
    """The idea as the reader may see it (pm.visibility: rows and fields)."""
    qs = Idea.objects.select_related("product").filter(product=product)
    try:
        return visibility.apply(qs, viewer_of(product), product).get(pk=pk)
    except Idea.DoesNotExist:
        raise Http404("No such idea.") from None


def _score(feature, framework: str, current: str):
    """The feature's score with its breakdown — or, when an input is hidden from the reader
    (reach that is customers' ARR), the stored score alone (of the product's `current`
    framework): the score, never the inputs."""
    if any(visibility.is_redacted(feature, name) for name in scoring.INPUTS[Framework(framework)]):
        value = feature.score if framework == current else None
        return scoring.Score(
            framework,
            value,
            scoring.FORMULAS[Framework(framework)],
            reason="" if value is not None else "Computed from inputs only the team sees.",
        )
    return scoring.score_feature(feature, framework)


def _with_scores(features, framework: str, internal: bool):
    """Attach each feature's score breakdown (pure Python, no queries). Stakeholders get no
    ROI breakdown: it would spell out cost and expected revenue."""
    for feature in features:
        if framework == Framework.ROI and not internal:
            feature.score_info = None
        else:
            feature.score_info = _score(feature, framework, framework)
    return features


# Bookkeeping fields that would only clutter a history entry.
_HISTORY_HIDDEN = {"rank", "score", "demand_customers", "demand_arr", "version", "number"}


def _history(instance, viewer, limit: int = 30) -> list:
    """The object's activity entries as the reader may see them (pm.visibility: internal
    fields redacted), newest first, each with `shown`: its changes minus bookkeeping fields."""
    entries = activity_for_object(instance, viewer, limit=limit)
    for entry in entries:
        entry.shown = {
            k: [_readable(v) for v in pair]
            for k, pair in entry.changes.items()
            if k not in _HISTORY_HIDDEN
        }
    return entries


def _readable(value):
    """Acceptance criteria (a list of {text, done}) as "3 criteria, 1 done"."""
    if isinstance(value, list) and all(isinstance(c, dict) for c in value):
        done = sum(1 for c in value if c.get("done"))
        return f"{len(value)} criteri{'on' if len(value) == 1 else 'a'}, {done} done"
    return value


def _int_or_none(value) -> int | None:
    """An integer the database can hold (a 64-bit one), or None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -(2**63) <= number < 2**63 else None


# --- ideas --------------------------------------------------------------------------------


def _idea_filters(request: HttpRequest) -> dict[str, str]:
    filters = {k: request.GET.get(k, "") for k in ("status", "source", "q", "sort")}
    if "status" not in request.GET:
        filters["status"] = "open"
    return filters


IDEAS_PAGE_SIZE = 50


def _ideas_context(request, product, **extra) -> dict[str, Any]:
    filters = _idea_filters(request) if request.method == "GET" else {"status": "open"}
    qs = selectors.idea_list(product=product, user=request.user, filters=filters)
    page = Paginator(qs, IDEAS_PAGE_SIZE).get_page(
        request.GET.get("page") if request.method == "GET" else 1
    )
    return _context(
        request,
        product,
        "ideas",
        ideas=list(page.object_list),
        page=page,
        filters=filters,
        # The filters as a query string, for the page links.
        filter_query=urlencode({k: v for k, v in filters.items() if v}),
        status_choices=[("open", "Open"), *IdeaStatus.choices],
        source_choices=IdeaSource.choices,
        **extra,
    )


@login_required
@require_GET
def ideas(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.IDEAS)
    return render_page(
        request, "backlog/ideas.html", _ideas_context(request, product), partial="idea-list"
    )


def _from_idea_page(request: HttpRequest, product: Product, idea: Idea | None) -> bool:
    """Was this htmx request made from the idea's own page (not the Ideas list)?"""
    if idea is None:
        return False
    current = urlparse(request.headers.get("HX-Current-URL", "")).path
    return current == reverse("idea_detail", args=[product.key, idea.pk])


def _ideas_list_response(
    request, product, message: str, level: str = "success", idea: Idea | None = None
) -> HttpResponse:
    if is_partial(request) and idea is not None and _from_idea_page(request, product, idea):
        # Triage from the idea's page: back to that page, which shows the outcome.
        (messages.success if level == "success" else messages.error)(request, message)
        return HttpResponseClientRedirect(reverse("idea_detail", args=[product.key, idea.pk]))
    if not is_partial(request):
        messages.success(request, message)
        return redirect("ideas", key=product.key)
    response = render_fragment(
        request, "backlog/ideas.html", "idea-list", _ideas_context(request, product)
    )
    return toast(replace(response, "#idea-list"), message, level)


@login_required
@require_http_methods(["GET", "POST"])
def idea_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = IdeaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.idea_create(product=product, data=form.model_data(), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _ideas_list_response(request, product, f"Idea “{idea.title}” captured.")
    context = _context(request, product, "ideas", form=form)
    if not is_partial(request):
        return render_page(request, "backlog/idea_form.html", context)
    return render_fragment(request, "backlog/ideas.html", "idea-form", context)


def _idea_context(request, product, idea, **extra) -> dict[str, Any]:
    context = _context(request, product, "ideas", idea=idea, **extra)
    context.update(
        history=_history(idea, viewer_of(product)),
        merged_ideas=list(idea.merged_ideas.order_by("title").only("id", "title", "product_id")),
        panels=_panels(request, product, registry.idea_panels, idea),
        triageable=idea.status in (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW),
        **values_context(
            request,
            product,
            idea,
            CustomFieldTarget.IDEA,
            reverse("idea_values", args=[product.key, idea.pk]),
            context["can_edit"],
        ),
    )
    return context


@login_required
@require_GET
def idea_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """One idea: its wording, who asked, votes, triage outcome, linked feedback, history."""
    product = get_product_for_user(request.user, key, section=Section.IDEAS)
    idea = _idea_or_404(product, pk)
    return render_page(request, "backlog/idea.html", _idea_context(request, product, idea))


@login_required
@require_http_methods(["GET", "POST"])
def idea_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    edit = versioned_edit(
        request, IdeaEditForm, idea, lambda form, **kw: services.idea_update(idea=idea, **kw)
    )
    if edit.saved:
        return saved_redirect(
            request, f"Saved “{edit.saved.title}”.", "idea_detail", product.key, idea.pk
        )
    context = _idea_context(request, product, idea, form=edit.form, editing=True)
    if not is_partial(request):
        return render_page(request, "backlog/idea.html", context)
    return render_fragment(request, "backlog/idea.html", "idea-edit-form", context)


@login_required
@require_POST
def idea_accept(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    try:
        feature = services.idea_accept(idea=idea, actor=request.user)
    except ValidationError as exc:
        return _ideas_list_response(request, product, " ".join(exc.messages), "error", idea)
    return _ideas_list_response(
        request,
        product,
        f"Accepted: “{feature.title}” is now at the bottom of the backlog.",
        idea=idea,
    )


@login_required
@require_http_methods(["GET", "POST"])
def idea_decline(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.idea_decline(idea=idea, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _ideas_list_response(request, product, f"Declined “{idea.title}”.", idea=idea)
    if not is_partial(request):
        return redirect("ideas", key=product.key)
    context = _context(request, product, "ideas", form=form, idea=idea)
    return render_fragment(request, "backlog/ideas.html", "decline-form", context)


@login_required
@require_http_methods(["GET", "POST"])
def idea_merge(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    idea = _idea_or_404(product, pk)
    form = MergeForm(request.POST or None, targets=selectors.idea_merge_targets(idea))
    if request.method == "POST" and form.is_valid():
        try:
            target = services.idea_merge(
                idea=idea, into=form.cleaned_data["into"], actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _ideas_list_response(
                request,
                product,
                f"Merged “{idea.title}” into “{target.title}”: {target.merge_summary}",
                idea=idea,
            )
    if not is_partial(request):
        return redirect("ideas", key=product.key)
    context = _context(request, product, "ideas", form=form, idea=idea)
    return render_fragment(request, "backlog/ideas.html", "merge-form", context)


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


def _backlog_context(request, product, filters, offset: int = 0, **extra) -> dict[str, Any]:
    context = _context(request, product, "backlog", **extra)
    fields = custom_fields.fields_for(product, CustomFieldTarget.FEATURE, viewer_of(product))
    columns = _columns(request, product, fields)
    qs = selectors.feature_list(product=product, user=request.user, filters=filters, custom=fields)
    rows = list(qs[offset : offset + PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    features = _with_scores(rows[:PAGE_SIZE], context["framework"], context["sees_internal"])
    _custom_cells(request, product, features, fields, columns)
    query = {k: v for k, v in filters.items() if v}
    context.update(
        features=features,
        offset=offset,
        page_size=PAGE_SIZE,
        next_offset=offset + PAGE_SIZE if has_more else None,
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


def _table_response(request, product, message: str, level: str = "success") -> HttpResponse:
    filters = _backlog_filters(request)
    if not is_partial(request):
        if level == "success":
            messages.success(request, message)
        else:
            messages.error(request, message)
        query = urlencode({k: v for k, v in filters.items() if v})
        return redirect(reverse("backlog", args=[product.key]) + (f"?{query}" if query else ""))
    context = _backlog_context(request, product, filters)
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
    """Drag and drop: the dropped feature and its new neighbours (ids, either may be blank)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    feature = _feature_or_404(request, product, pk)
    neighbours = {}
    for name in ("above", "below"):
        value = _int_or_none(request.POST.get(name))
        neighbours[name] = _feature_or_404(request, product, value) if value else None
    try:
        services.feature_move(feature=feature, actor=request.user, **neighbours)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"ok": True, "message": f"Moved “{feature.title}”.", "rank": feature.rank})


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
        panels=_panels(request, product, registry.feature_panels, feature),
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


# --- stories ------------------------------------------------------------------------------


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


def _story_context(request, product, story, **extra) -> dict[str, Any]:
    context = _context(
        request,
        product,
        "backlog",
        story=story,
        history=_history(story, viewer_of(product)),
        statuses=StoryStatus.choices,
        panels=_panels(request, product, registry.story_panels, story),
        **extra,
    )
    context.update(
        values_context(
            request,
            product,
            story,
            CustomFieldTarget.STORY,
            reverse("story_values", args=[product.key, story.number]),
            context["can_work"],
        )
    )
    return context


@login_required
@require_GET
def story_detail(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=(Section.BACKLOG, Section.SPRINTS))
    story = _story_or_404(request, product, number)
    return render_page(request, "backlog/story.html", _story_context(request, product, story))


@login_required
@require_http_methods(["GET", "POST"])
def story_edit(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    """PMs edit the whole story; engineers status, points and assignee."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    story = _story_or_404(request, product, number)
    form_class = StoryForm if product.membership.allows(Role.PM) else EngineerStoryForm
    edit = versioned_edit(
        request,
        form_class,
        story,
        lambda form, **kw: services.story_update(story=story, **kw),
        product=product,
    )
    if edit.saved:
        story = _story_or_404(request, product, number)
        if not is_partial(request):
            messages.success(request, f"Saved {story.key}.")
            return redirect("story_detail", key=product.key, number=story.number)
        context = _story_context(request, product, story)
        response = render_fragment(request, "backlog/story.html", "story-main", context)
        return toast(replace(response, "#story-main"), f"Saved {story.key}.")
    context = _story_context(request, product, story, form=edit.form, editing=True)
    if not is_partial(request):
        return render_page(request, "backlog/story.html", context)
    return render_fragment(request, "backlog/story.html", "story-form", context)


@login_required
@require_POST
def story_criterion(request: AuthedHttpRequest, key: str, number: int, index: int) -> HttpResponse:
    """Check an acceptance criterion off, or on again."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    story = _story_or_404(request, product, number)
    form = CriterionForm(request.POST)
    message, level = "", "success"
    if form.is_valid():
        try:
            story = services.story_set_criterion(
                story=story,
                index=index,
                text=form.cleaned_data["text"],
                done=form.cleaned_data["done"],
                actor=request.user,
            )
            message = (
                "Criterion checked off." if form.cleaned_data["done"] else "Criterion reopened."
            )
        except EditConflict:
            message, level = (
                "The criteria changed meanwhile; here they are as they stand now.",
                "error",
            )
    else:
        message, level = "That criterion could not be found.", "error"
    story = _story_or_404(request, product, number)
    if not is_partial(request):
        return redirect("story_detail", key=product.key, number=story.number)
    context = _story_context(request, product, story)
    response = render_fragment(request, "backlog/story.html", "story-main", context)
    return toast(replace(response, "#story-main"), message, level)


@login_required
@require_POST
def story_move(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    """Drag and drop in a feature's story list: the story and its new neighbours (numbers)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    story = _story_or_404(request, product, number)
    neighbours = {}
    for name in ("above", "below"):
        value = _int_or_none(request.POST.get(name))
        neighbours[name] = _story_or_404(request, product, value) if value else None
    try:
        services.story_move(story=story, actor=request.user, **neighbours)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"ok": True, "message": f"Moved {story.key}.", "rank": story.rank})


@login_required
@require_POST
def story_status(request: AuthedHttpRequest, key: str, number: int) -> HttpResponse:
    """The board's drag and drop: a new status for a story, refused if the card was stale."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    story = _story_or_404(request, product, number)
    form = StoryStatusForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "Choose a valid status."}, status=400)
    try:
        story = services.story_update(
            story=story,
            data={"status": form.cleaned_data["status"]},
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except EditConflict as conflict:
        return JsonResponse({"error": conflict.message()}, status=409)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    label = StoryStatus(story.status).label
    return JsonResponse(
        {
            "ok": True,
            "version": story.version,
            "message": f"{product.key}-{story.number} moved to {label}.",
        }
    )


# --- sprints ------------------------------------------------------------------------------


def _sprints_context(request, product, **extra) -> dict[str, Any]:
    sprints = list(selectors.sprint_list(product=product).order_by("-start"))
    points = selectors.velocity(product)
    current = selectors.current_sprint(product)
    chart = {
        "labels": [p.sprint for p in points],
        "done": [p.done for p in points],
        "committed": [p.committed for p in points],
    }
    return _context(
        request,
        product,
        "sprints",
        sprints=sprints,
        current=current,
        velocity=points,
        average_velocity=selectors.average_velocity(points),
        chart=chart,
        **extra,
    )


@login_required
@require_GET
def sprints(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.SPRINTS)
    return render_page(request, "backlog/sprints.html", _sprints_context(request, product))


@login_required
@require_http_methods(["GET", "POST"])
def sprint_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = SprintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sprint = services.sprint_create(
                product=product, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{sprint.name} created. Now plan it.")
            plan = reverse("sprint_plan", args=[product.key, sprint.pk])
            # The form sits in a dialog on the sprints list; the new sprint's page replaces it.
            return HttpResponseClientRedirect(plan) if is_partial(request) else redirect(plan)
    context = _context(request, product, "sprints", form=form)
    if not is_partial(request):
        return render_page(request, "backlog/sprint_form.html", context)
    return render_fragment(request, "backlog/sprints.html", "sprint-form", context)


@login_required
@require_http_methods(["GET", "POST"])
def sprint_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sprint = _sprint_or_404(product, pk)
    edit = versioned_edit(
        request, SprintForm, sprint, lambda form, **kw: services.sprint_update(sprint=sprint, **kw)
    )
    if edit.saved:
        message = f"{edit.saved.name} saved."
        return saved_redirect(request, message, "sprint_board", key=product.key, pk=sprint.pk)
    context = _context(request, product, "sprints", form=edit.form, sprint=sprint)
    if not is_partial(request):
        return render_page(request, "backlog/sprint_form.html", context)
    return render_fragment(request, "backlog/sprints.html", "sprint-form", context)


def _commitment(sprint: WithAnnotations[Sprint, selectors.SprintPoints]) -> dict[str, Any]:
    committed, capacity = sprint.committed_points, sprint.capacity
    return {
        "committed": committed,
        "capacity": capacity,
        "over": committed > capacity,
        "over_by": committed - capacity,
        "left": max(capacity - committed, 0),
        "percent": round(100 * committed / capacity) if capacity else (100 if committed else 0),
    }


@login_required
@require_GET
def sprint_board(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.SPRINTS)
    sprint = _sprint_or_404(product, pk)
    columns = selectors.board_stories(sprint, viewer_of(product))
    context = _context(
        request,
        product,
        "sprints",
        sprint=sprint,
        columns=[(StoryStatus(s), columns[s]) for s in StoryStatus.values],
        commitment=_commitment(sprint),
        sprints=list(selectors.sprint_list(product=product).order_by("-start")[:12]),
    )
    return render_page(request, "backlog/board.html", context, partial="board")


def _plan_context(request, product, sprint, refresh: bool = True, **extra) -> dict[str, Any]:
    if refresh:  # committed points after a change
        sprint = _sprint_or_404(product, sprint.pk)
    return _context(
        request,
        product,
        "sprints",
        sprint=sprint,
        commitment=_commitment(sprint),
        candidates=list(selectors.plannable_stories(product)[:300]),
        planned=list(
            selectors.story_list(product=product, user=request.user, filters={"sprint": sprint.pk})
        ),
        **extra,
    )


@login_required
@require_GET
def sprint_plan(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sprint = _sprint_or_404(product, pk)
    context = _plan_context(request, product, sprint, refresh=False)
    # What earlier retrospectives agreed and nobody has done yet (backlog.retro).
    context["open_actions"] = list(retro.open_action_items(product=product, before=sprint))
    return render_page(request, "backlog/plan.html", context, partial="plan")


@login_required
@require_POST
def sprint_plan_story(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Move a story into the sprint (action=add) or back to the backlog (action=remove)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    sprint = _sprint_or_404(product, pk)
    number = _int_or_none(request.POST.get("story"))
    action = request.POST.get("action")
    message, level = "", "success"
    if number is None or action not in ("add", "remove"):
        message, level = "Choose a story to add or remove.", "error"
    else:
        story = _story_or_404(request, product, number)
        try:
            story = services.story_update(
                story=story,
                data={"sprint": sprint if action == "add" else None},
                expected_version=_int_or_none(request.POST.get("version")) or story.version,
                actor=request.user,
            )
        except EditConflict as conflict:
            message, level = conflict.message(), "error"
        else:
            message = (
                f"{story.key} added to {sprint.name}."
                if action == "add"
                else f"{story.key} moved back to the backlog."
            )
    if not is_partial(request):
        return redirect("sprint_plan", key=product.key, pk=sprint.pk)
    context = _plan_context(request, product, sprint)
    if level == "success" and context["commitment"]["over"]:
        message += f" Over capacity by {context['commitment']['over_by']} points."
        level = "warning"
    response = render_fragment(request, "backlog/plan.html", "plan", context)
    return toast(replace(response, "#plan"), message, level)


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
