"""Feedback pages for the team: the triage inbox, capture and CSV import, customers, demand on a
feature, research studies and the ideas-portal admin. The public portal is in portal_views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backlog.choices import CustomFieldTarget
from backlog.models import Feature
from backlog.selectors import feature_get
from backlog.views_fields import values_context
from feedback import csvimport, selectors
from feedback.api import CustomerOut, FeedbackOut
from feedback.choices import FeedbackStatus, PostStatus, Source
from feedback.forms import (
    CustomerForm,
    FeedbackForm,
    FindingForm,
    ImportRunForm,
    ImportUploadForm,
    LinkForm,
    ModerateForm,
    PortalSettingsForm,
    PublishForm,
    StudyForm,
)
from feedback.models import (
    Customer,
    FeedbackImport,
    FeedbackItem,
    Insight,
    PortalPost,
    ResearchStudy,
)
from feedback.services.customers import customer_create, customer_resolve, customer_update
from feedback.services.imports import (
    feedback_import_earlier,
    feedback_import_start,
    feedback_import_upload,
)
from feedback.services.insights import insight_create, insight_delete
from feedback.services.items import feedback_create, feedback_set_status, feedback_update
from feedback.services.portal import (
    portal_post_moderate,
    portal_post_publish,
    portal_post_unpublish,
    portal_settings_get,
    portal_settings_update,
)
from feedback.services.studies import study_add_finding, study_create, study_update
from feedback.services.suggestions import suggestion_decide
from pm import visibility
from pm.background import progress_get
from pm.choices import Role
from pm.exports import list_export
from pm.htmx import is_partial, render_fragment, render_page, toast
from pm.http import AuthedHttpRequest
from pm.models import Product
from pm.permissions import get_product_for_user, viewer_for_user
from pm.views_support import (
    add_service_errors,
    background_progress,
    background_started,
    product_page,
    saved_redirect,
    versioned_edit,
)
from pm.visibility import Section, viewer_of

INBOX_PAGE = 25
CUSTOMER_PAGE = 50


def _context(
    request: AuthedHttpRequest, product: Product, section: str, **extra: Any
) -> dict[str, Any]:
    return product_page(request, product, tab="feedback_inbox", section=section, **extra)


def _customer_names(product) -> list[str]:
    return list(
        Customer.objects.filter(workspace_id=product.workspace_id)
        .order_by("name")
        .values_list("name", flat=True)[:1000]
    )


# --- inbox and triage ---------------------------------------------------------------------


def _inbox_filters(request: HttpRequest) -> dict:
    status = request.GET.get("status", "")
    if status not in FeedbackStatus.values and status != "all":
        status = ""
    source = request.GET.get("source", "")
    if source not in Source.values:
        source = ""
    return {"status": status, "source": source, "q": request.GET.get("q", "").strip()[:200]}


def _status_tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [
        ("", "Open", counts["open"]),
        *[(value, label, counts[value]) for value, label in FeedbackStatus.choices],
        ("all", "All", counts["all"]),
    ]


def _panel_context(product, item, *, can_edit: bool, link_form=None) -> dict:
    """What the triage panel shows for one item. Suggestions, duplicates and the link form are
    for PMs only (a constant number of queries: two ranked searches, one duplicate search,
    two for the picker)."""
    context = {"item": item, "link_form": None, "suggestions": [], "duplicates": []}
    if can_edit:
        linked = {
            (("feature", i.feature_id) if i.feature_id else ("idea", i.idea_id))
            for i in item.insights.all()
        }
        from feedback.semantic_selectors import dismissed_for

        context["suggestions"] = selectors.suggest_targets(
            product=product,
            text=item.content,
            limit=5,
            exclude=linked | dismissed_for(item),
        )
        context["duplicates"] = selectors.likely_duplicates(item=item)
        context["link_form"] = link_form or LinkForm(product=product)
    return context


def _inbox_items(product: Product, filters: dict, *, with_customers: bool):
    status = filters["status"]
    return selectors.inbox_items(
        product=product,
        status=None if status in ("", "all") else status,
        include_archived=status == "all",
        source=filters["source"] or None,
        q=filters["q"],
        with_customers=with_customers,
    )


@login_required
@require_GET
def inbox(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.FEEDBACK)
    context = _context(request, product, "inbox")
    filters = _inbox_filters(request)
    status = filters["status"]
    items = _inbox_items(product, filters, with_customers=context["sees_internal"])
    counts = selectors.status_counts(product)
    paginator = Paginator(items, INBOX_PAGE)
    if not (filters["source"] or filters["q"]):
        # The status tab's count is known already: no second count of a big inbox.
        paginator.count = counts[status or "open"]
    page = paginator.get_page(request.GET.get("page"))
    context.update(
        page=page,
        filters=filters,
        counts=counts,
        sources=Source.choices,
        status_tabs=_status_tabs(counts),
        in_inbox=True,
        filter_query=urlencode({k: v for k, v in filters.items() if v}),
    )
    if is_partial(request):
        return render_page(request, "feedback/inbox.html", context, partial="inbox-list")
    first = page.object_list[0] if page.object_list else None
    if first is not None:
        context.update(_panel_context(product, first, can_edit=context["can_edit"]))
    if context["can_edit"]:
        from feedback.semantic_selectors import precision

        context["precision"] = precision(product)
    return render_page(request, "feedback/inbox.html", context)


def _item_or_404(product, pk: int, context: dict):
    try:
        return selectors.feedback_item(
            product=product, pk=pk, with_customers=context["sees_internal"]
        )
    except FeedbackItem.DoesNotExist:
        raise Http404("No such feedback.") from None


@login_required
@require_GET
def feedback_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """One item: a page of its own, or (htmx) the triage panel of the inbox."""
    product = get_product_for_user(request.user, key, section=Section.FEEDBACK)
    context = _context(request, product, "inbox")
    item = _item_or_404(product, pk, context)
    context["in_inbox"] = request.GET.get("in_inbox") == "1"
    context.update(_panel_context(product, item, can_edit=context["can_edit"]))
    if is_partial(request):
        return render_fragment(request, "feedback/item.html", "triage-panel", context)
    # Custom field values as the reader may see them (pm.visibility: public fields only).
    visibility.redact(item, viewer_of(product), product)
    edit_url = reverse("feedback_values", args=[product.key, item.pk])
    context.update(
        values_context(
            request, product, item, CustomFieldTarget.FEEDBACK, edit_url, context["can_edit"]
        )
    )
    return render_page(request, "feedback/item.html", context)


def _triage_response(request, product, context, item, *, advance: bool, message: str = ""):
    """After a triage action: the panel (of the next new item when advancing in the inbox),
    plus, in the inbox, the acted-on row and the status counts swapped out of band."""
    in_inbox = request.POST.get("in_inbox") == "1"
    acted = _item_or_404(product, item.pk, context)
    shown = acted
    if in_inbox and advance:
        following = selectors.next_new_item(product=product, after=acted)
        if following is not None:
            shown = _item_or_404(product, following.pk, context)
    context.update(
        in_inbox=in_inbox,
        acted=acted,
    )
    if in_inbox:
        context["status_tabs"] = _status_tabs(selectors.status_counts(product))
    context.update(_panel_context(product, shown, can_edit=True, link_form=context.get("form")))
    response = render_fragment(request, "feedback/item.html", "triage-response", context)
    return toast(response, message) if message else response


@login_required
@require_POST
def feedback_status(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "inbox")
    item = get_object_or_404(product.feedback_items, pk=pk)
    status = request.POST.get("status", "")
    try:
        item = feedback_set_status(item=item, status=status, actor=request.user)
    except ValidationError as exc:
        if not is_partial(request):
            messages.error(request, " ".join(exc.messages))
            return redirect("feedback_detail", key=product.key, pk=pk)
        return toast(
            _triage_response(request, product, context, item, advance=False),
            " ".join(exc.messages),
            "error",
        )
    message = f"Feedback #{item.pk} is now {item.get_status_display().lower()}."
    if not is_partial(request):
        messages.success(request, message)
        return redirect("feedback_detail", key=product.key, pk=pk)
    advance = item.status in (FeedbackStatus.TRIAGED, FeedbackStatus.ARCHIVED)
    return _triage_response(request, product, context, item, advance=advance, message=message)


@login_required
@require_POST
def feedback_link(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "inbox")
    item = get_object_or_404(product.feedback_items, pk=pk)
    form = LinkForm(request.POST, product=product)
    message = ""
    if form.is_valid():
        try:
            insight = insight_create(
                item=item,
                feature=form.cleaned_data["feature"],
                idea=form.cleaned_data["idea"],
                quote=form.cleaned_data["quote"],
                importance=form.cleaned_data["importance"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            message = f"Linked to {'feature' if insight.feature_id else 'idea'} “{insight.target}”."
            target_id = insight.feature_id or insight.idea_id
            if request.POST.get("target", "other") != "other" and target_id is not None:
                # Linked from a suggestion button: a confirmed suggestion (precision).
                kind = "feature" if insight.feature_id else "idea"
                suggestion_decide(
                    product=product,
                    kind="link",
                    source=("feedback", item.pk),
                    target=(kind, target_id),
                    accepted=True,
                    actor=request.user,
                )
    if not is_partial(request):
        if message:
            messages.success(request, message)
        else:
            messages.error(
                request,
                "Not linked: "
                + " ".join(str(e) for errors in form.errors.values() for e in errors),
            )
        return redirect("feedback_detail", key=product.key, pk=pk)
    if not message:
        context["form"] = form
    return _triage_response(request, product, context, item, advance=False, message=message)


@login_required
@require_GET
def feedback_link_targets(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """The options of the triage panel's "another idea or feature" combobox for `q`: a short,
    server-rendered list fetched as the PM types (the panel itself never embeds the backlog)."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    q = " ".join(request.GET.get("q", "").split())[:100]
    context = {"product": product, "q": q, "targets": selectors.link_targets(product=product, q=q)}
    return render_fragment(request, "feedback/item.html", "link-targets", context)


@login_required
@require_POST
def insight_unlink(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "inbox")
    insight = get_object_or_404(
        Insight.objects.select_related("feedback_item", "feature", "idea"),
        feedback_item__product=product,
        pk=pk,
    )
    item = insight.feedback_item
    target = insight.target
    insight_delete(insight=insight, actor=request.user)
    message = f"Unlinked from “{target}”."
    if not is_partial(request):
        messages.success(request, message)
        return redirect("feedback_detail", key=product.key, pk=item.pk)
    return _triage_response(request, product, context, item, advance=False, message=message)


# --- capture and edit ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def feedback_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "new")
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_resolve(
                workspace=product.workspace,
                name=form.cleaned_data["customer_name"],
                details=form.customer_details(),
                actor=request.user,
            )
            item = feedback_create(
                product=product,
                content=form.cleaned_data["content"],
                source=form.cleaned_data["source"],
                sentiment=form.cleaned_data["sentiment"],
                received_at=form.received_at,
                customer=customer,
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Feedback #{item.pk} added to the inbox.")
            if "another" in request.POST:
                return redirect("feedback_new", key=product.key)
            return redirect("feedback_inbox", key=product.key)
    context.update(form=form, customer_names=_customer_names(product), item=None)
    return render_page(request, "feedback/feedback_form.html", context)


def _feedback_initial(item) -> dict:
    return {
        "version": item.version,
        "content": item.content,
        "source": item.source,
        "sentiment": item.sentiment,
        "received_on": item.received_at.date(),
        "customer_name": item.customer.name if item.customer else "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def feedback_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "inbox")
    item = get_object_or_404(product.feedback_items.select_related("customer"), pk=pk)

    def save(form, *, expected_version, actor, **_) -> FeedbackItem:
        customer = customer_resolve(
            workspace=product.workspace,
            name=form.cleaned_data["customer_name"],
            details=form.customer_details(),
            actor=actor,
        )
        data = {
            "content": form.cleaned_data["content"],
            "source": form.cleaned_data["source"],
            "sentiment": form.cleaned_data["sentiment"],
            "customer": customer,
        }
        if form.cleaned_data["received_on"] != item.received_at.date():
            data["received_at"] = form.received_at
        return feedback_update(
            item=item, data=data, expected_version=expected_version or item.version, actor=actor
        )

    edit = versioned_edit(request, FeedbackForm, item, save, initial=_feedback_initial)
    if edit.saved:
        message = f"Feedback #{item.pk} saved."
        return saved_redirect(request, message, "feedback_detail", key=product.key, pk=item.pk)
    context.update(form=edit.form, customer_names=_customer_names(product), item=item)
    return render_page(request, "feedback/feedback_form.html", context)


# --- CSV import ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def feedback_import(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "import")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > csvimport.MAX_BYTES:
            form.add_error("file", "The file is larger than 10 MB; split it into parts.")
        else:
            try:
                batch = feedback_import_upload(
                    product=product,
                    raw=upload.read(),
                    filename=upload.name,
                    encoding=form.cleaned_data["encoding"],
                    actor=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("feedback_import_preview", key=product.key, pk=batch.pk)
    context.update(form=form, imports=selectors.recent_imports(product))
    return render_page(request, "feedback/import.html", context)


def _preview_context(batch: FeedbackImport) -> dict:
    result = csvimport.parse(batch.content)
    existing = {
        name.lower()
        for name in Customer.objects.filter(workspace_id=batch.product.workspace_id).values_list(
            "name", flat=True
        )
    }
    new_customers = [n for k, n in result.customer_names.items() if k not in existing]
    return {
        "batch": batch,
        "result": result,
        "errors": result.errors[:200],
        "more_errors": max(0, len(result.errors) - 200),
        "sample": result.rows[:10],
        "new_customers": len(new_customers),
        "earlier": None if batch.imported_at else feedback_import_earlier(batch),
        "progress": progress_get("feedback", batch.pk),
        "run_form": ImportRunForm(),
    }


@login_required
@require_GET
def feedback_import_preview(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "import")
    batch = get_object_or_404(
        FeedbackImport.objects.select_related("product"), product=product, pk=pk
    )
    context.update(_preview_context(batch))
    return render_page(request, "feedback/import_preview.html", context)


@login_required
@require_GET
def feedback_import_progress(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """The progress bar of a running import (polled by htmx), then its outcome."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    batch = get_object_or_404(
        FeedbackImport.objects.defer("content").select_related("product"), product=product, pk=pk
    )
    return background_progress(
        request,
        batch,
        kind="feedback",
        template="feedback/import_preview.html",
        context=_context(request, product, "import"),
    )


def _imported(batch: FeedbackImport) -> tuple[str, str]:
    n, skipped = batch.imported_count, batch.skipped_count
    note = (
        f" {skipped} invalid row{' was' if skipped == 1 else 's were'} skipped." if skipped else ""
    )
    message = f"Imported {n} feedback item{'' if n == 1 else 's'}.{note}"
    return message, reverse("feedback_inbox", args=[batch.product.key])


@login_required
@require_POST
def feedback_import_run(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    batch = get_object_or_404(
        FeedbackImport.objects.select_related("product"), product=product, pk=pk
    )
    form = ImportRunForm(request.POST)
    form.is_valid()
    return background_started(
        request,
        batch,
        lambda: feedback_import_start(
            batch=batch,
            skip_invalid=form.cleaned_data.get("skip_invalid", False),
            again=form.cleaned_data.get("again", False),
            actor=request.user,
        ),
        template="feedback/import_preview.html",
        context=_context(request, product, "import"),
        preview=_preview_context,
        done=_imported,
        preview_url=reverse("feedback_import_preview", args=[product.key, batch.pk]),
    )


@login_required
@require_GET
def feedback_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The inbox as filtered on the page, with each item's customer (for the team: the
    policy blanks it for everyone else) and what it is linked to, as CSV, JSON or XLSX."""

    def rows(product: Product):
        viewer = viewer_of(product)
        team = viewer is not None and viewer.is_team
        items = _inbox_items(product, _inbox_filters(request), with_customers=team)
        return visibility.apply(items, viewer, product)

    return list_export(
        request,
        key,
        section=Section.FEEDBACK,
        rows=rows,
        serializer_class=FeedbackOut,
        name="feedback",
        extra={
            "customer_name": lambda item: item.customer.name if item.customer_id else "",
            "customer_arr": lambda item: item.customer.arr if item.customer_id else "",
            "linked_to": lambda item: [
                (i.feature or i.idea).title for i in item.insights.all() if i.feature or i.idea
            ],
        },
    )


# --- customers ----------------------------------------------------------------------------


def _customer_query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:100]


@login_required
@require_GET
def customer_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    q = _customer_query(request)
    context = _context(request, product, "customers")
    page = Paginator(
        selectors.customers_for_workspace(product.workspace, q), CUSTOMER_PAGE
    ).get_page(request.GET.get("page"))
    context.update(page=page, q=q, filter_query=urlencode({"q": q}) if q else "")
    return render_page(request, "feedback/customers.html", context, partial="customer-table")


@login_required
@require_GET
def customer_export(request: AuthedHttpRequest, key: str) -> HttpResponseBase:
    """The customers as searched on the page, with their feedback count, as CSV, JSON or
    XLSX (engineers and above, as the page: names, contacts and ARR are the team's)."""
    return list_export(
        request,
        key,
        need=Role.ENGINEER,
        rows=lambda product: visibility.apply(
            selectors.customers_for_workspace(product.workspace, _customer_query(request)),
            viewer_of(product),
            product,
        ),
        serializer_class=CustomerOut,
        name="customers",
        extra={
            "feedback_count": lambda c: c.feedback_count,
            "last_feedback_at": lambda c: c.last_feedback_at,
        },
    )


def _customer_segments(product) -> list[str]:
    return list(
        Customer.objects.filter(workspace_id=product.workspace_id)
        .exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()[:50]
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "customers")
    form = CustomerForm(request.POST or None, workspace=product.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(
                workspace=product.workspace, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Customer “{customer.name}” added.")
            return redirect("customer_detail", key=product.key, pk=customer.pk)
    context.update(form=form, customer=None, segments=_customer_segments(product))
    return render_page(request, "feedback/customer_form.html", context)


@login_required
@require_GET
def customer_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    context = _context(request, product, "customers")
    customer = get_object_or_404(Customer, workspace=product.workspace, pk=pk)
    page = Paginator(selectors.customer_feedback(customer), INBOX_PAGE).get_page(
        request.GET.get("page")
    )
    context.update(
        customer=customer,
        page=page,
        requests=selectors.customer_requests(customer),
        studies=customer.studies.filter(product__workspace=product.workspace).only(
            "id", "title", "product_id"
        ),
    )
    return render_page(request, "feedback/customer.html", context, partial="customer-feedback")


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "customers")
    customer = get_object_or_404(Customer, workspace=product.workspace, pk=pk)
    edit = versioned_edit(
        request,
        CustomerForm,
        customer,
        lambda form, **kw: customer_update(customer=customer, **kw),
        workspace=product.workspace,
    )
    if edit.saved:
        message = f"Customer “{edit.saved.name}” saved."
        return saved_redirect(request, message, "customer_detail", key=product.key, pk=customer.pk)
    context.update(form=edit.form, customer=customer, segments=_customer_segments(product))
    return render_page(request, "feedback/customer_form.html", context)


# --- demand on a feature ------------------------------------------------------------------


@login_required
@require_GET
def feature_feedback(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """All feedback linked to one feature, with its demand by importance."""
    product = get_product_for_user(request.user, key)
    context = _context(request, product, "inbox")
    try:  # the backlog's selector: a feature the reader may not see is 404 here too
        feature = feature_get(product=product, user=request.user, pk=pk)
    except Feature.DoesNotExist:
        raise Http404("No such feature.") from None
    page = Paginator(
        selectors.feature_insights(feature, with_customers=context["sees_internal"]), 50
    ).get_page(request.GET.get("page"))
    # Stakeholders read the quotes on features they see; the feedback items themselves only
    # when the workspace shares the feedback section with them (the visibility policy).
    viewer = viewer_for_user(request.user, product)
    context.update(
        feature=feature,
        demand=selectors.feature_demand(feature),
        page=page,
        sees_items=viewer is not None and viewer.browses(Section.FEEDBACK),
    )
    return render_page(request, "feedback/feature_feedback.html", context)


# --- research studies ---------------------------------------------------------------------


@login_required
@require_GET
def study_list(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.FEEDBACK)
    context = _context(request, product, "research")
    context["studies"] = selectors.studies_for_product(product, request.user)
    return render_page(request, "feedback/studies.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def study_new(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "research")
    form = StudyForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            study = study_create(
                product=product,
                data=form.model_data(),
                participants=form.cleaned_data.get("participants"),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Study “{study.title}” created. Add its findings.")
            return redirect("study_detail", key=product.key, pk=study.pk)
    context.update(form=form, study=None)
    return render_page(request, "feedback/study_form.html", context)


def _study_context(context: dict, study: ResearchStudy, finding_form=None) -> dict:
    context.update(
        study=study,
        findings=selectors.study_findings(study, with_customers=context["sees_internal"]),
        participants=study.participants.all() if context["sees_internal"] else [],
        finding_form=finding_form or FindingForm(),
    )
    return context


@login_required
@require_GET
def study_detail(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, section=Section.FEEDBACK)
    context = _context(request, product, "research")
    study = get_object_or_404(selectors.studies_for_product(product, request.user), pk=pk)
    context = _study_context(context, study)
    if context["can_edit"]:
        context["customer_names"] = _customer_names(product)
    return render_page(request, "feedback/study.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def study_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "research")
    study = get_object_or_404(ResearchStudy, product=product, pk=pk)
    edit = versioned_edit(
        request,
        StudyForm,
        study,
        lambda form, **kw: study_update(
            study=study, participants=form.cleaned_data.get("participants"), **kw
        ),
        product=product,
    )
    if edit.saved:
        message = f"Study “{edit.saved.title}” saved."
        return saved_redirect(request, message, "study_detail", key=product.key, pk=study.pk)
    context.update(form=edit.form, study=study)
    return render_page(request, "feedback/study_form.html", context)


@login_required
@require_POST
def study_finding_new(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "research")
    study = get_object_or_404(ResearchStudy, product=product, pk=pk)
    form = FindingForm(request.POST)
    message = ""
    if form.is_valid():
        try:
            customer = customer_resolve(
                workspace=product.workspace,
                name=form.cleaned_data["customer_name"],
                actor=request.user,
            )
            study_add_finding(
                study=study,
                content=form.cleaned_data["content"],
                sentiment=form.cleaned_data["sentiment"],
                customer=customer,
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            message = "Finding added; it is in the triage inbox to link to features."
    if not is_partial(request):
        if message:
            messages.success(request, message)
        return redirect("study_detail", key=product.key, pk=study.pk)
    # Once added, a fresh form for the next finding.
    context = _study_context(context, study, finding_form=None if message else form)
    context["customer_names"] = _customer_names(product)
    response = render_fragment(request, "feedback/study.html", "findings", context)
    return toast(response, message) if message else response


# --- ideas portal (team side) -------------------------------------------------------------


def _portal_context(context: dict, product, settings_form=None) -> dict:
    settings = portal_settings_get(product)
    context.update(
        portal=settings,
        settings_form=settings_form or PortalSettingsForm(instance=settings),
        pending=selectors.pending_posts(product),
        published=[
            (post, selectors.public_status(post)) for post in selectors.published_posts(product)
        ],
        publish_form=PublishForm(ideas=selectors.ideas_not_on_portal(product)),
        portal_url=reverse("portal_home", args=[product.key]),
    )
    return context


@login_required
@require_http_methods(["GET", "POST"])
def portal_admin(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = _context(request, product, "portal")
    settings = portal_settings_get(product)
    edit = versioned_edit(
        request,
        PortalSettingsForm,
        settings,
        lambda form, **kw: portal_settings_update(product=product, **kw),
    )
    if edit.saved:
        return saved_redirect(request, "Portal settings saved.", "portal_admin", key=product.key)
    form = edit.form if request.method == "POST" else None
    return render_page(
        request, "feedback/portal_admin.html", _portal_context(context, product, form)
    )


@login_required
@require_POST
def portal_moderate(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    post = get_object_or_404(PortalPost, product=product, pk=pk)
    form = ModerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
        return redirect("portal_admin", key=product.key)
    try:
        post = portal_post_moderate(
            post=post,
            approve=form.cleaned_data["decision"] == "approve",
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if post.status == PostStatus.PUBLISHED:
            messages.success(request, f"“{post.title}” is public and in the Ideas list.")
        else:
            messages.success(request, f"“{post.title}” was rejected.")
    return redirect("portal_admin", key=product.key)


@login_required
@require_POST
def portal_publish(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = PublishForm(request.POST, ideas=selectors.ideas_not_on_portal(product))
    if form.is_valid():
        post = portal_post_publish(
            idea=form.cleaned_data["idea"],
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            actor=request.user,
        )
        messages.success(request, f"“{post.title}” is on the portal.")
    else:
        messages.error(request, "Choose an idea to publish.")
    return redirect("portal_admin", key=product.key)


@login_required
@require_POST
def portal_unpublish(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    post = get_object_or_404(PortalPost.objects.select_related("idea"), product=product, pk=pk)
    portal_post_unpublish(post=post, actor=request.user)
    messages.success(request, f"“{post.title}” was removed from the portal.")
    return redirect("portal_admin", key=product.key)
