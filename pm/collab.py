"""Collaboration: comments on features, stories, ideas, initiatives and feedback items, @mentions,
watchers, and the e-mails about them (batched, as each user's settings ask).

Comments are internal (pm.visibility: `Comment.visibility_rules` is team-only): only admins, PMs
and engineers read, write, are mentioned in or follow them. The apps that own the commented
models register them (`pm.registry.Commentable`), so pm never imports a domain app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from pm.choices import DigestFrequency, NotificationKind, Role
from pm.models import (
    Comment,
    CommentRevision,
    DigestSubscription,
    Membership,
    MentionReminder,
    Notification,
    NotificationSettings,
    Product,
    Watch,
)
from pm.notifications import mentioned_usernames
from pm.registry import Commentable, registry
from pm.visibility import Viewer, visible

log = logging.getLogger(__name__)

MAX_COMMENT = 10_000
TEAM_ROLES = (Role.ADMIN, Role.PM, Role.ENGINEER)


# --- what can be commented on -----------------------------------------------------------------


def commentable(kind: str) -> Commentable:
    try:
        return registry.commentables[kind]
    except KeyError:
        raise Http404("Nothing of that kind takes comments.") from None


def content_type_of(item: Commentable) -> ContentType:
    return ContentType.objects.get_for_model(apps.get_model(item.model))  # cached by Django


def comment_target(*, product: Product, kind: str, key: int, viewer: Viewer | None) -> Any:
    """The object of `kind` in `product` that `viewer` may see, by its URL key, or 404."""
    item = commentable(kind)
    model = apps.get_model(item.model)
    obj = (
        visible(model._default_manager.filter(product=product), viewer)
        .filter(**{item.lookup: key})
        .first()
    )
    if obj is None:
        raise Http404("No such item.")
    obj.product = product  # the caller's product, with its membership (no query)
    return obj


@dataclass
class Thread:
    """A commented object and what its page shows about the conversation."""

    kind: str
    item: Commentable
    target: Any
    comments: list[Comment]
    following: bool
    watchers: int


def _ct_filter(item: Commentable, target: Any) -> Q:
    return Q(content_type=content_type_of(item), object_id=target.pk)


def thread_for(*, kind: str, target: Any, user: User) -> Thread:
    """The comments on `target`, oldest first, with their authors and earlier versions, and
    whether `user` follows it (four queries, whatever the number of comments)."""
    item = commentable(kind)
    comments = list(
        Comment.objects.filter(_ct_filter(item, target))
        .select_related("author")
        .prefetch_related(Prefetch("revisions", CommentRevision.objects.order_by("-replaced_at")))
        .order_by("created_at", "id")
    )
    follower_ids = watcher_ids(item=item, target=target)
    return Thread(
        kind=kind,
        item=item,
        target=target,
        comments=comments,
        following=user.pk in follower_ids,
        watchers=len(follower_ids),
    )


# --- watchers ---------------------------------------------------------------------------------


def watcher_ids(*, item: Commentable, target: Any) -> set[int]:
    """Who follows `target`: those who follow it explicitly, and its assignees unless they
    unfollowed — team members of its workspace only (one query)."""
    assigned = {pk for pk in item.assigned(target) if pk}
    rows = Watch.objects.filter(_ct_filter(item, target)).values_list("user_id", "following")
    chosen = dict(rows)
    candidates = {pk for pk, following in chosen.items() if following} | {
        pk for pk in assigned if chosen.get(pk, True)
    }
    if not candidates:
        return set()
    return set(
        Membership.objects.filter(
            workspace_id=target.product.workspace_id,
            user_id__in=candidates,
            role__in=TEAM_ROLES,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )


def watch_set(*, user: User, kind: str, target: Any, following: bool) -> Watch:
    """Follow or unfollow `target` (idempotent: one row per user and object)."""
    item = commentable(kind)
    watch, _ = Watch.objects.update_or_create(
        content_type=content_type_of(item),
        object_id=target.pk,
        user=user,
        defaults={"following": following, "product_id": target.product.pk},
    )
    return watch


def _follow_quietly(*, user_ids: set[int], item: Commentable, target: Any) -> None:
    """Make these users followers, unless they unfollowed before (their choice stands)."""
    if not user_ids:
        return
    Watch.objects.bulk_create(
        [
            Watch(
                user_id=pk,
                product_id=target.product.pk,
                content_type=content_type_of(item),
                object_id=target.pk,
            )
            for pk in user_ids
        ],
        ignore_conflicts=True,
    )


# --- mentions ---------------------------------------------------------------------------------


def team_members(*, workspace_id: int) -> QuerySet[User]:
    """Active users who may read comments in the workspace (admins, PMs, engineers)."""
    return User.objects.filter(
        is_active=True,
        memberships__workspace_id=workspace_id,
        memberships__role__in=TEAM_ROLES,
    )


def mention_suggestions(*, workspace_id: int, prefix: str, limit: int = 8) -> list[User]:
    """Team members whose username or name starts with `prefix`, for @-autocomplete."""
    prefix = prefix.strip()[:150]
    qs = team_members(workspace_id=workspace_id)
    if prefix:
        qs = qs.filter(
            Q(username__istartswith=prefix)
            | Q(first_name__istartswith=prefix)
            | Q(last_name__istartswith=prefix)
        )
    return list(qs.order_by("username").only("username", "first_name", "last_name")[:limit])


def trailing_mention(text: str) -> str | None:
    """The partial @name being typed at the end of `text` ("… ask @pri" → "pri"), or None."""
    if "@" not in text[-160:]:
        return None
    head, _, tail = text.rpartition("@")
    if head and not head[-1].isspace() and head[-1] not in "([":
        return None
    if any(c.isspace() for c in tail) or len(tail) > 150:
        return None
    return tail


# --- notifications and their e-mails ------------------------------------------------------------


def _preferences(user_ids: set[int]) -> dict[int, NotificationSettings]:
    found = {s.user_id: s for s in NotificationSettings.objects.filter(user_id__in=user_ids)}
    return {pk: found.get(pk) or NotificationSettings(user_id=pk) for pk in user_ids}


def _notify(
    *,
    user_ids: set[int],
    kind: str,
    message: str,
    url: str,
    product: Product,
    actor: User,
) -> list[Notification]:
    """In-app notifications for `user_ids` (never the actor); those whose settings want an
    e-mail get one, batched, a few minutes later (one task per user, on commit)."""
    user_ids = set(user_ids) - {actor.pk}
    if not user_ids:
        return []
    prefs = _preferences(user_ids)
    wants: dict[str, Callable[[NotificationSettings], bool]] = {
        NotificationKind.MENTION: lambda p: p.email_mentions,
        NotificationKind.COMMENT: lambda p: p.email_comments,
    }
    created = Notification.objects.bulk_create(
        [
            Notification(
                workspace_id=product.workspace_id,
                user_id=pk,
                kind=kind,
                message=message[:300],
                url=url[:300],
                product=product,
                actor=actor,
                email_due=wants[kind](prefs[pk]),
            )
            for pk in sorted(user_ids)
        ]
    )
    due = sorted({n.user_id for n in created if n.email_due})
    if due:
        transaction.on_commit(lambda: _enqueue_emails(due))
    return created


def _enqueue_emails(user_ids: list[int]) -> None:
    from pm.tasks import send_notification_emails

    for pk in user_ids:
        send_notification_emails.apply_async(
            args=(pk,), countdown=settings.NOTIFICATION_EMAIL_DELAY
        )


def _who(user: User) -> str:
    return user.get_full_name() or user.username


def _mentioned_team(*, text: str, before: str, workspace_id: int) -> set[int]:
    names = mentioned_usernames(text) - mentioned_usernames(before)
    if not names:
        return set()
    return set(
        team_members(workspace_id=workspace_id)
        .filter(username__in=names)
        .values_list("pk", flat=True)
    )


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > MAX_COMMENT:
        raise ValidationError(
            {"body": f"Keep it under {MAX_COMMENT:,} characters (this is {len(body):,})."}
        )
    if "\x00" in body:
        raise ValidationError({"body": "Remove the NUL character (\\0): it cannot be stored."})
    return body


def _require_team(product: Product, user: User) -> None:
    membership = getattr(product, "membership", None)
    if membership is None or membership.user_id != user.pk:
        membership = Membership.objects.filter(
            workspace_id=product.workspace_id, user_id=user.pk
        ).first()
    if membership is None or membership.role not in TEAM_ROLES:
        raise PermissionDenied("Comments are for the team.")


@transaction.atomic
def comment_create(*, kind: str, target: Any, body: str, actor: User) -> Comment:
    """Comment on `target`: the author and the people it mentions follow it from now on; those
    mentioned are notified of the mention, the other followers of a new comment."""
    product = target.product
    _require_team(product, actor)
    item = commentable(kind)
    body = _clean_body(body)
    comment = Comment.objects.create(
        workspace_id=product.workspace_id,
        product=product,
        content_type=content_type_of(item),
        object_id=target.pk,
        author=actor,
        body=body,
    )
    url = f"{item.url(target)}#comment-{comment.pk}"
    title = item.title(target)
    mentioned = _mentioned_team(text=body, before="", workspace_id=product.workspace_id)
    followers = watcher_ids(item=item, target=target)
    _follow_quietly(user_ids={actor.pk} | mentioned, item=item, target=target)
    _notify(
        user_ids=mentioned,
        kind=NotificationKind.MENTION,
        message=f"{_who(actor)} mentioned you on {item.label} “{title}”",
        url=url,
        product=product,
        actor=actor,
    )
    _notify(
        user_ids=followers - mentioned,
        kind=NotificationKind.COMMENT,
        message=f"{_who(actor)} commented on {item.label} “{title}”",
        url=url,
        product=product,
        actor=actor,
    )
    return comment


def _own(comment: Comment, actor: User) -> None:
    if comment.author_id != actor.pk:
        raise PermissionDenied("Only its author can change a comment.")


@transaction.atomic
def comment_update(*, comment: Comment, kind: str, target: Any, body: str, actor: User) -> Comment:
    """Edit your own comment: the earlier text is kept (shown as "edited", with its history);
    people newly mentioned are notified."""
    _own(comment, actor)
    _require_team(target.product, actor)
    body = _clean_body(body)
    locked = Comment.objects.select_for_update().get(pk=comment.pk)
    if locked.body == body:
        return locked
    CommentRevision.objects.create(
        workspace_id=locked.workspace_id, comment=locked, body=locked.body
    )
    before = locked.body
    locked.body = body
    locked.edited_at = timezone.now()
    locked.save(update_fields=["body", "edited_at"])
    item = commentable(kind)
    mentioned = _mentioned_team(text=body, before=before, workspace_id=target.product.workspace_id)
    _follow_quietly(user_ids=mentioned, item=item, target=target)
    _notify(
        user_ids=mentioned,
        kind=NotificationKind.MENTION,
        message=f"{_who(actor)} mentioned you on {item.label} “{item.title(target)}”",
        url=f"{item.url(target)}#comment-{locked.pk}",
        product=target.product,
        actor=actor,
    )
    return locked


@transaction.atomic
def comment_delete(*, comment: Comment, actor: User) -> None:
    """Delete your own comment, with its earlier versions."""
    _own(comment, actor)
    comment.delete()


def target_of(comment: Comment) -> tuple[str, Any]:
    """The (kind, object) a comment is about."""
    label = f"{comment.content_type.app_label}.{comment.content_type.model}"
    for kind, item in registry.commentables.items():
        if item.model.lower() == label:
            model = apps.get_model(item.model)
            target = model._default_manager.filter(pk=comment.object_id).first()
            if target is None:
                raise Http404("The commented item no longer exists.")
            return kind, target
    raise Http404("Nothing of that kind takes comments.")


# --- e-mails ----------------------------------------------------------------------------------


def send_notification_emails(*, user_id: int) -> int:
    """One e-mail with every notification of the user still due (not read in the meantime),
    claimed first so two runs never send the same one. Returns how many it listed."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        Notification.objects.filter(user_id=user_id, email_due=True, emailed_at=None).update(
            email_due=False
        )
        return 0
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(user_id=user_id, email_due=True, emailed_at=None, read_at=None)
            .order_by("created_at", "id")[:50]
        )
        if not due:
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in due]).update(emailed_at=now)
    try:
        _mail(
            user=user,
            subject=(due[0].message if len(due) == 1 else f"{len(due)} new notifications")[:200],
            template="pm/email/notifications",
            context={"items": due, "reason": "batched"},
        )
    except Exception:
        # Not sent: hand them back, so the task's retry (or the next mention's) takes them.
        Notification.objects.filter(pk__in=[n.pk for n in due]).update(emailed_at=None)
        raise
    return len(due)


def _mail(*, user: User, subject: str, template: str, context: dict) -> None:
    context = {**context, "user": user, "site_url": settings.SITE_URL}
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    email.send()


def unread_mentions(user_ids: list[int] | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(kind=NotificationKind.MENTION, read_at=None)
    return qs if user_ids is None else qs.filter(user_id__in=user_ids)


def mention_reminder_candidates(day: date) -> list[int]:
    """Users with unread mentions who get no digest, want the daily e-mail and have not had it
    today (one query)."""
    digests = DigestSubscription.objects.filter(user_id=OuterRef("user_id")).exclude(
        frequency=DigestFrequency.OFF
    )
    opted_out = NotificationSettings.objects.filter(
        user_id=OuterRef("user_id"), daily_unread_mentions=False
    )
    done = MentionReminder.objects.filter(user_id=OuterRef("user_id"), day=day)
    return list(
        unread_mentions()
        .filter(user__is_active=True)
        .exclude(user__email="")
        .filter(~Exists(digests), ~Exists(opted_out), ~Exists(done))
        .values_list("user_id", flat=True)
        .distinct()
    )


def send_mention_reminder(*, user_id: int, day: date) -> bool:
    """The daily e-mail of a user's unread mentions, at most once per day: the (user, day) row
    is created before sending and a second run finds it."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    items = list(unread_mentions([user_id]).select_related("actor", "product")[:30])
    if not items:
        return False
    try:
        with transaction.atomic():
            MentionReminder.objects.create(user=user, day=day, mentions=len(items))
    except IntegrityError:
        return False  # already sent (or being sent) today
    _mail(
        user=user,
        subject=f"{len(items)} mention{'s' if len(items) != 1 else ''} waiting for you on Lodestar",
        template="pm/email/notifications",
        context={"items": items, "reason": "daily"},
    )
    MentionReminder.objects.filter(user=user, day=day).update(sent_at=timezone.now())
    return True


def send_mention_reminders(*, now: Any = None) -> int:
    """Beat: every candidate's daily reminder (idempotent per user per day)."""
    day = timezone.localdate(now or timezone.now())
    sent = 0
    for user_id in mention_reminder_candidates(day):
        sent += send_mention_reminder(user_id=user_id, day=day)
    return sent
