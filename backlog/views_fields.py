"""Custom fields: the settings page where PMs define them, and the inline edit of their values on
the feature, idea, story and feedback pages (the feedback app's view calls `values_edit`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from backlog import custom_fields, selectors
from backlog.choices import CustomFieldKind, CustomFieldTarget
from backlog.forms import CustomFieldForm, CustomValuesForm, custom_values_initial
from backlog.models import CustomField
from pm.choices import Role
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest
from pm.models import Product
from pm.permissions import get_product_for_user
from pm.views_support import add_service_errors, product_page, saved_redirect, versioned_edit
from pm.visibility import viewer_of

SETTINGS = "backlog/custom_fields.html"
VALUES = "backlog/custom_values.html"


# --- the settings page ----------------------------------------------------------------------


def _settings_context(request, product: Product, **extra: Any) -> dict[str, Any]:
    fields = custom_fields.fields_for(product, archived=True)
    groups = [
        (value, label, [f for f in fields if f.applies_to == value])
        for value, label in CustomFieldTarget.choices
    ]
    return product_page(
        request, product, tab="backlog", groups=groups, field_count=len(fields), **extra
    )


def _field_or_404(product: Product, pk: int) -> CustomField:
    field = CustomField.objects.filter(product=product, pk=pk).first()
    if field is None:
        raise Http404("No such field.")
    return field


@login_required
@require_http_methods(["GET", "POST"])
def custom_fields_page(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """The product's custom fields, grouped by what they are on, with the form to add one."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = custom_fields.custom_field_create(
                product=product,
                applies_to=form.cleaned_data["applies_to"],
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                options=form.cleaned_data["options"],
                public=form.cleaned_data["public"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            message = f"Added the field “{field.name}” to {field.get_applies_to_display().lower()}."
            return saved_redirect(request, message, "custom_fields", key=product.key)
    context = _settings_context(request, product, form=form)
    if request.method == "POST" and is_partial(request):
        return render_fragment(request, SETTINGS, "field-form", context)
    return render_page(request, SETTINGS, context)


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Rename a field, change its options, make it public or internal."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    field = _field_or_404(product, pk)
    form = CustomFieldForm(request.POST or None, field=field)
    if request.method == "POST" and form.is_valid():
        try:
            field = custom_fields.custom_field_update(
                field=field,
                name=form.cleaned_data["name"],
                options=form.cleaned_data["options"],
                public=form.cleaned_data["public"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return saved_redirect(
                request, f"Saved the field “{field.name}”.", "custom_fields", key=product.key
            )
    context = _settings_context(request, product, form=form, editing=field)
    if is_partial(request):
        return render_fragment(request, SETTINGS, "field-form", context)
    return render_page(request, SETTINGS, context)


@login_required
@require_POST
def custom_field_move(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Move a field up or down among the fields on the same kind of item."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    field = _field_or_404(product, pk)
    up = request.POST.get("direction") != "down"
    custom_fields.custom_field_move(field=field, up=up, actor=request.user)
    message = f"Moved “{field.name}” {'up' if up else 'down'}."
    return saved_redirect(request, message, "custom_fields", key=product.key)


@login_required
@require_POST
def custom_field_archive(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """Archive a field (hidden everywhere, values kept) or bring it back."""
    product = get_product_for_user(request.user, key, need=Role.PM)
    field = _field_or_404(product, pk)
    archived = request.POST.get("archived", "1") != "0"
    field = custom_fields.custom_field_archive(field=field, archived=archived, actor=request.user)
    message = (
        f"Archived “{field.name}”: hidden everywhere; its values are kept."
        if archived
        else f"Restored “{field.name}”."
    )
    return saved_redirect(request, message, "custom_fields", key=product.key)


# --- values on the item pages ---------------------------------------------------------------


def values_context(
    request, product: Product, instance: Any, target: str, edit_url: str, can_edit: bool
) -> dict[str, Any]:
    """What the "Fields" card of an item page needs (`{% include "backlog/custom_values.html"
    %}` reads `custom`): the fields the reader may see and the row's values of them. One query
    for the fields, one more only when a member field is among them."""
    fields = custom_fields.fields_for(product, target, viewer_of(product))
    people = custom_fields.people_of(product, fields)
    return {
        "custom": {
            "fields": fields,
            "values": custom_fields.shown_values(instance, fields, people),
            "edit_url": edit_url,
            "can_edit": can_edit,
            "settings_url": reverse("custom_fields", args=[product.key])
            if product.membership.allows(Role.PM)
            else "",
        }
    }


def _members(product: Product, fields: list[CustomField]) -> list[tuple[int, str]]:
    if not any(f.kind == CustomFieldKind.USER for f in fields):
        return []
    return [(u.pk, u.get_full_name() or u.username) for u in selectors.assignable_users(product)]


def values_edit(
    request: AuthedHttpRequest,
    product: Product,
    instance: Any,
    target: str,
    *,
    detail_url: str,
    edit_url: str,
    title: str,
) -> HttpResponse:
    """The inline edit of one row's custom field values (the caller has checked the role):
    the form (GET), or the save (POST) through the versioned edit — a stale version gives the
    three-way merge, bad values their errors next to the fields."""
    fields = custom_fields.fields_for(product, target)
    members = _members(product, fields)

    def save(form, *, data, expected_version, actor):
        try:
            return custom_fields.custom_values_update(
                instance=instance,
                fields=fields,
                values=data,
                expected_version=expected_version,
                actor=actor,
            )
        except ValidationError as exc:
            # The service names fields by key; the form's fields are cf_<id>.
            errors = getattr(exc, "error_dict", None)
            if errors is None:
                raise
            raise ValidationError({f"cf_{k}": v for k, v in exc.message_dict.items()}) from None

    edit = versioned_edit(
        request,
        CustomValuesForm,
        instance,
        save,
        initial=lambda record: custom_values_initial(record, fields),
        custom=fields,
        members=members,
    )
    if edit.saved is not None and request.method == "POST" and edit.form.is_valid():
        if not is_partial(request):
            return saved_redirect(request, f"Saved the fields of {title}.", detail_url)
        context = product_page(
            request,
            product,
            **values_context(request, product, edit.saved, target, edit_url, True),
        )
        response = render_fragment(request, VALUES, "values-card", context)
        return toast(replace(response, "#custom-values"), f"Saved the fields of {title}.")
    context = product_page(
        request,
        product,
        form=edit.form,
        edit_url=edit_url,
        detail_url=detail_url,
        title=title,
        fields=fields,
    )
    if is_partial(request):
        return render_fragment(request, VALUES, "values-form", context)
    return render_page(request, VALUES, context)


@dataclass(frozen=True)
class _Valued:
    """A kind of row whose custom fields are edited inline: who may edit them (engineers edit
    stories, PRODUCT.md's roles; PMs the rest), how the row is found (404 when the reader may
    not see it), its page and its edit URL, and how the toast names it."""

    need: str
    find: Callable[[Product, AuthedHttpRequest, int], Any]
    detail: str
    edit: str
    title: Callable[[Any], str]


def _idea(product: Product, request: AuthedHttpRequest, pk: int) -> Any:
    from backlog.models import Idea

    return get_object_or_404(Idea.objects.select_related("product"), product=product, pk=pk)


VALUED = {
    CustomFieldTarget.FEATURE: _Valued(
        Role.PM,
        lambda product, request, pk: _found(
            selectors.feature_get, product=product, user=request.user, pk=pk
        ),
        "feature_detail",
        "feature_values",
        lambda feature: f"“{feature.title}”",
    ),
    CustomFieldTarget.IDEA: _Valued(
        Role.PM, _idea, "idea_detail", "idea_values", lambda idea: f"“{idea.title}”"
    ),
    CustomFieldTarget.STORY: _Valued(
        Role.ENGINEER,
        lambda product, request, number: _found(
            selectors.story_get, product=product, user=request.user, number=number
        ),
        "story_detail",
        "story_values",
        lambda story: story.key,
    ),
    CustomFieldTarget.FEEDBACK: _Valued(
        Role.PM,
        lambda product, request, pk: get_object_or_404(
            product.feedback_items.select_related("product"), pk=pk
        ),
        "feedback_detail",
        "feedback_values",
        lambda item: f"feedback #{item.pk}",
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def item_values(
    request: AuthedHttpRequest,
    key: str,
    target: str,
    pk: int | None = None,
    number: int | None = None,
) -> HttpResponse:
    """The inline edit of a feature's, idea's, story's or feedback item's custom fields (the
    URLconf names the kind; the row is found by its id, a story by its number)."""
    ref = pk if pk is not None else number
    assert ref is not None  # the URL pattern has one or the other
    valued = VALUED[CustomFieldTarget(target)]
    product = get_product_for_user(request.user, key, need=valued.need)
    instance = valued.find(product, request, ref)
    return values_edit(
        request,
        product,
        instance,
        target,
        detail_url=reverse(valued.detail, args=[product.key, ref]),
        edit_url=reverse(valued.edit, args=[product.key, ref]),
        title=valued.title(instance),
    )


def _found(getter, **kwargs):
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found.") from None
