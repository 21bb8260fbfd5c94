"""Sprint review and retrospective pages.

The review (who browses sprints may read it; PMs write the notes) lists what the sprint did and
did not finish. The retrospective board is the team's own (engineers and up): anyone in the team
adds cards and votes, authors delete their cards, and the action items it agrees on carry into
the next sprint's planning until done.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backlog import retro
from backlog.models import ActionItem, RetroColumn, RetroItem, Sprint, SprintReview
from backlog.views.common import _context, _sprint_or_404
from pm.choices import Role
from pm.forms import MemberChoiceField, VersionedForm, model_choice
from pm.htmx import is_partial, render_fragment, render_page
from pm.http import AuthedHttpRequest
from pm.permissions import get_product_for_user
from pm.selectors import activity_for_object
from pm.views_support import saved_redirect, versioned_edit
from pm.visibility import Section, viewer_of


class ReviewForm(VersionedForm):
    class Meta:
        model = SprintReview
        fields = ["demo_notes", "stakeholder_feedback"]
        widgets = {
            "demo_notes": forms.Textarea(attrs={"rows": 6}),
            "stakeholder_feedback": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {
            "demo_notes": "What was shown, and by whom. Markdown.",
            "stakeholder_feedback": "What stakeholders said at the review. Markdown.",
        }


class RetroItemForm(forms.Form):
    column = forms.ChoiceField(choices=RetroColumn.choices)
    text = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"maxlength": 500}))


class ActionItemForm(forms.Form):
    text = forms.CharField(
        label="Action",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "What will we do differently?"}),
    )
    owner = MemberChoiceField(label="Owner", queryset=User.objects.none(), required=False)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice(self, "owner").queryset = User.objects.filter(
            memberships__workspace=workspace
        ).order_by("first_name", "username")


# --- review --------------------------------------------------------------------------------


def _review_page(
    request: AuthedHttpRequest, product, sprint: Sprint, form: ReviewForm | None = None
) -> HttpResponse:
    review = retro.review_of(sprint)
    if form is None:
        form = ReviewForm(instance=review)
    context = _context(
        request,
        product,
        "sprints",
        sprint=sprint,
        review=review,
        stories=retro.review_stories(sprint, viewer_of(product)),
        form=form,
        sees_retro=product.membership.allows(Role.ENGINEER),
    )
    if product.membership.allows(Role.ENGINEER) and review.pk:
        context["history"] = activity_for_object(review, viewer_of(product), limit=10)
    return render_page(request, "backlog/sprint_review.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sprint_review(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """The sprint's review: done and not done, demo notes and stakeholder feedback."""
    product = get_product_for_user(request.user, key, section=Section.SPRINTS)
    sprint = _sprint_or_404(product, pk)
    if request.method == "GET":
        return _review_page(request, product, sprint)
    if not product.membership.allows(Role.PM):
        raise PermissionDenied("Only product managers edit the review notes.")
    edit = versioned_edit(
        request,
        ReviewForm,
        retro.review_of(sprint),
        # Before the first save there is no row: the form carries no version, the row is new.
        lambda form, *, data, expected_version, actor: retro.review_save(
            sprint=sprint, data=data, expected_version=expected_version or 1, actor=actor
        ),
    )
    if edit.saved is not None:
        return saved_redirect(
            request, "Review notes saved.", "sprint_review", product.key, sprint.pk
        )
    return _review_page(request, product, sprint, edit.form)


# --- retrospective -------------------------------------------------------------------------


def _retro_context(request: AuthedHttpRequest, product, sprint: Sprint, **extra) -> dict:
    columns = retro.retro_items(sprint, request.user)
    return _context(
        request,
        product,
        "sprints",
        sprint=sprint,
        columns=[(RetroColumn(c), columns[c]) for c in RetroColumn.values],
        actions=list(retro.action_items(sprint=sprint)),
        carried=list(retro.open_action_items(product=product, before=sprint)),
        item_form=extra.pop("item_form", None) or RetroItemForm(),
        action_form=extra.pop("action_form", None) or ActionItemForm(workspace=product.workspace),
        may_moderate=product.membership.allows(Role.PM),
        **extra,
    )


def _retro_response(request: AuthedHttpRequest, product, sprint: Sprint, **extra) -> HttpResponse:
    context = _retro_context(request, product, sprint, **extra)
    if is_partial(request):
        return render_fragment(request, "backlog/sprint_retro.html", "retro", context)
    if not extra:
        return redirect("sprint_retro", key=product.key, pk=sprint.pk)
    return render_page(request, "backlog/sprint_retro.html", context)


def _team_sprint(request: AuthedHttpRequest, key: str, pk: int):
    product = get_product_for_user(request.user, key, need=Role.ENGINEER, section=Section.SPRINTS)
    return product, _sprint_or_404(product, pk)


@login_required
@require_GET
def sprint_retro(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    """The team's retrospective board for a sprint."""
    product, sprint = _team_sprint(request, key, pk)
    return render_page(
        request,
        "backlog/sprint_retro.html",
        _retro_context(request, product, sprint),
        partial="retro",
    )


@login_required
@require_POST
def retro_item_add(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product, sprint = _team_sprint(request, key, pk)
    form = RetroItemForm(request.POST)
    if form.is_valid():
        try:
            retro.retro_add(
                sprint=sprint,
                column=form.cleaned_data["column"],
                text=form.cleaned_data["text"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _retro_response(request, product, sprint)
    return _retro_response(request, product, sprint, item_form=form)


def _item(sprint: Sprint, item_pk: int) -> RetroItem:
    return get_object_or_404(RetroItem, sprint=sprint, pk=item_pk)


@login_required
@require_POST
def retro_item_vote(request: AuthedHttpRequest, key: str, pk: int, item: int) -> HttpResponse:
    product, sprint = _team_sprint(request, key, pk)
    wanted = {"1": True, "0": False}.get(request.POST.get("voted", ""))
    retro.retro_vote(item=_item(sprint, item), voter=request.user, voted=wanted)
    return _retro_response(request, product, sprint)


@login_required
@require_POST
def retro_item_delete(request: AuthedHttpRequest, key: str, pk: int, item: int) -> HttpResponse:
    product, sprint = _team_sprint(request, key, pk)
    try:
        retro.retro_delete(
            item=_item(sprint, item),
            actor=request.user,
            may_moderate=product.membership.allows(Role.PM),
        )
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from None
    return _retro_response(request, product, sprint)


@login_required
@require_POST
def action_add(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product, sprint = _team_sprint(request, key, pk)
    form = ActionItemForm(request.POST, workspace=product.workspace)
    if form.is_valid():
        try:
            retro.action_add(
                sprint=sprint,
                text=form.cleaned_data["text"],
                owner=form.cleaned_data["owner"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _retro_response(request, product, sprint)
    return _retro_response(request, product, sprint, action_form=form)


@login_required
@require_POST
def action_done(request: AuthedHttpRequest, key: str, pk: int, action: int) -> HttpResponse:
    """Mark an action item done or open. From the board of any sprint (the action may be
    carried from an earlier one) and from the planning page (`next` says where to go back)."""
    product, sprint = _team_sprint(request, key, pk)
    item = ActionItem.objects.filter(product=product, pk=action).first()
    if item is None:
        raise Http404("No such action item.")
    retro.action_set_done(action=item, done=request.POST.get("done") == "1", actor=request.user)
    if request.POST.get("next") == "plan" and product.membership.allows(Role.PM):
        return redirect("sprint_plan", key=product.key, pk=sprint.pk)
    return _retro_response(request, product, sprint)
