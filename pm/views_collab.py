"""Comments, following, @-autocomplete and notification settings (pm.collab does the work).

Comment threads are htmx fragments that the pages of commentable objects load for the team;
stakeholders never get one (403), outsiders get 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pm import collab
from pm.choices import Role
from pm.htmx import is_partial, render_fragment, render_page, toast
from pm.http import AuthedHttpRequest
from pm.models import Comment, NotificationSettings
from pm.permissions import get_product_for_user
from pm.visibility import viewer_of

THREAD = "pm/comments.html"


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=collab.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown. Mention a teammate with @ and their username.",
    )


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = ["email_mentions", "email_comments", "daily_unread_mentions"]


def _thread_context(request: AuthedHttpRequest, product, kind: str, target: Any, **extra) -> dict:
    thread = collab.thread_for(kind=kind, target=target, user=request.user)
    return {
        "product": product,
        "thread": thread,
        "form": extra.pop("form", None) or CommentForm(),
        **extra,
    }


def _target(request: AuthedHttpRequest, key: str, kind: str, object_id: int):
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    target = collab.comment_target(
        product=product, kind=kind, key=object_id, viewer=viewer_of(product)
    )
    return product, target


@login_required
@require_http_methods(["GET", "POST"])
def comment_thread(request: AuthedHttpRequest, key: str, kind: str, object_id: int) -> HttpResponse:
    """The comments on one object (GET), or a new one (POST); answers the thread fragment."""
    product, target = _target(request, key, kind, object_id)
    if request.method == "GET" and not is_partial(request):
        return redirect(collab.commentable(kind).url(target) + "#comments")
    if request.method == "POST":
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                collab.comment_create(
                    kind=kind, target=target, body=form.cleaned_data["body"], actor=request.user
                )
            except ValidationError as exc:
                form.add_error("body", exc.message_dict.get("body", exc.messages))
            else:
                response = render_fragment(
                    request, THREAD, "thread", _thread_context(request, product, kind, target)
                )
                return toast(response, "Comment added.")
        context = _thread_context(request, product, kind, target, form=form)
        return render_fragment(request, THREAD, "thread", context)
    return render_fragment(
        request, THREAD, "thread", _thread_context(request, product, kind, target)
    )


def _own_comment(request: AuthedHttpRequest, pk: int):
    """Your own comment (anyone else's is 404), in a product where you are still on the team."""
    comment = get_object_or_404(
        Comment.objects.select_related("content_type"), pk=pk, author=request.user
    )
    product = get_product_for_user(request.user, comment.product_id, need=Role.ENGINEER)
    kind, target = collab.target_of(comment)
    target.product = product
    return comment, product, kind, target


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    comment, product, kind, target = _own_comment(request, pk)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            collab.comment_update(
                comment=comment,
                kind=kind,
                target=target,
                body=form.cleaned_data["body"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("body", exc.message_dict.get("body", exc.messages))
        else:
            if not is_partial(request):
                return redirect(collab.commentable(kind).url(target) + f"#comment-{comment.pk}")
            context = _thread_context(request, product, kind, target)
            return toast(render_fragment(request, THREAD, "thread", context), "Comment saved.")
    context = {"product": product, "comment": comment, "edit_form": form, "kind": kind}
    if not is_partial(request):
        return render_page(request, THREAD, {**context, "standalone": True})
    return render_fragment(request, THREAD, "edit-form", context)


@login_required
@require_POST
def comment_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    comment, product, kind, target = _own_comment(request, pk)
    collab.comment_delete(comment=comment, actor=request.user)
    if not is_partial(request):
        return redirect(collab.commentable(kind).url(target) + "#comments")
    context = _thread_context(request, product, kind, target)
    return toast(render_fragment(request, THREAD, "thread", context), "Comment deleted.")


@login_required
@require_POST
def watch_toggle(request: AuthedHttpRequest, key: str, kind: str, object_id: int) -> HttpResponse:
    """Follow or unfollow in one click (`following` = 1 or 0); answers the follow button."""
    product, target = _target(request, key, kind, object_id)
    following = request.POST.get("following") == "1"
    collab.watch_set(user=request.user, kind=kind, target=target, following=following)
    if not is_partial(request):
        return redirect(collab.commentable(kind).url(target) + "#comments")
    context = _thread_context(request, product, kind, target)
    message = "You follow this now." if following else "You no longer follow this."
    return toast(render_fragment(request, THREAD, "follow", context), message)


@login_required
@require_GET
def mention_suggest(request: AuthedHttpRequest, key: str) -> HttpResponse:
    """Teammates matching the @name being typed at the end of the comment (`body`)."""
    product = get_product_for_user(request.user, key, need=Role.ENGINEER)
    partial = collab.trailing_mention(request.GET.get("body", "")[-2000:])
    people = (
        []
        if partial is None
        else collab.mention_suggestions(workspace_id=product.workspace_id, prefix=partial)
    )
    return render_fragment(
        request, THREAD, "mentions", {"people": people, "partial": partial, "product": product}
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: AuthedHttpRequest) -> HttpResponse:
    current = NotificationSettings.objects.filter(user=request.user).first()
    instance = current or NotificationSettings(user=request.user)
    form = NotificationSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        settings_row = form.save(commit=False)
        settings_row.user = request.user
        NotificationSettings.objects.update_or_create(
            user=request.user,
            defaults={name: getattr(settings_row, name) for name in form.Meta.fields},
        )
        response = render_page(
            request, "pm/notification_settings.html", {"form": form}, partial="settings-form"
        )
        return toast(response, "Notification settings saved.")
    return render_page(
        request, "pm/notification_settings.html", {"form": form}, partial="settings-form"
    )
