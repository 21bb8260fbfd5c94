"""In-app notifications: mentions and assignments. Other apps call these services."""

import re

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from pm.choices import NotificationKind
from pm.models import Notification, Product, Workspace

MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def notification_create(
    *,
    user: User,
    kind: str,
    message: str,
    url: str = "",
    product: Product | None = None,
    workspace: Workspace | None = None,
    actor: User | None = None,
) -> Notification | None:
    """Notify `user`, unless they did it themselves. The notification belongs to the product's
    workspace, or to `workspace` when it is about no product."""
    if actor is not None and actor.pk == user.pk:
        return None
    if product is not None:
        workspace_id = product.workspace_id
    elif workspace is not None:
        workspace_id = workspace.pk
    else:
        raise ValueError("A notification needs its product or its workspace.")
    return Notification.objects.create(
        workspace_id=workspace_id,
        user=user,
        kind=kind,
        message=message[:300],
        url=url,
        product=product,
        actor=actor,
    )


def mentioned_usernames(text: str) -> set[str]:
    return {m.rstrip(".") for m in MENTION.findall(text or "")}


@transaction.atomic
def notify_mentions(
    *, product: Product, before: str, after: str, what: str, url: str, actor: User
) -> list[Notification]:
    """Notify members of the product's workspace newly @mentioned in `after` (not in `before`)."""
    new = mentioned_usernames(after) - mentioned_usernames(before)
    if not new:
        return []
    members = User.objects.filter(
        username__in=new,
        memberships__workspace_id=product.workspace_id,
        is_active=True,
    )
    who = actor.get_full_name() or actor.username
    return [
        n
        for user in members
        if (
            n := notification_create(
                user=user,
                kind=NotificationKind.MENTION,
                message=f"{who} mentioned you in {what}",
                url=url,
                product=product,
                actor=actor,
            )
        )
    ]


def notifications_for(
    user: User, *, unread: bool = False, kind: str | None = None
) -> QuerySet[Notification]:
    """The user's notifications, newest first; only unread ones, or of one kind, if asked."""
    qs = Notification.objects.filter(user=user).select_related("actor", "product")
    if unread:
        qs = qs.filter(read_at=None)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at=None).count()


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
