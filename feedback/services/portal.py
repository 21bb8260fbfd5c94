"""The public ideas portal: its settings, submitted and published posts, moderation and
votes (a signed-in user's, or an e-mail confirmed by link), and what an idea merge moves."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from backlog import services as backlog_services
from backlog.choices import IdeaSource
from backlog.models import Idea
from feedback.choices import PostStatus
from feedback.models import Insight, PortalPost, PortalSettings, PortalVote
from feedback.services.common import PORTAL_FIELDS, _reject_unknown
from pm.choices import ActivityAction
from pm.models import Product
from pm.services import activity_record, versioned_update


def portal_settings_get(product: Product) -> PortalSettings:
    settings, _ = PortalSettings.objects.get_or_create(product=product)
    return settings


@transaction.atomic
def portal_settings_update(
    *, product: Product, data: dict[str, Any], expected_version: int, actor: User
) -> PortalSettings:
    _reject_unknown(data, PORTAL_FIELDS)
    settings = portal_settings_get(product)
    if data.get("enabled") and not settings.enabled:
        # The public address is /portal/<key>/; another workspace may use the same key.
        taken = (
            PortalSettings.objects.filter(product__key=product.key, enabled=True)
            .exclude(product=product)
            .exists()
        )
        if taken:
            raise ValidationError(
                {
                    "enabled": f"The public address /portal/{product.key}/ is already used by "
                    "another ideas portal on this server, so this one cannot be switched on."
                }
            )
    return versioned_update(
        instance=settings, data=data, expected_version=expected_version, actor=actor
    )


@transaction.atomic
def portal_post_submit(
    *,
    product: Product,
    title: str,
    description: str,
    email: str = "",
    user: User | None = None,
) -> PortalPost:
    """A visitor's idea: waits for a PM's approval before anyone else sees it."""
    settings = PortalSettings.objects.filter(product=product).first()
    if settings is None or not settings.enabled or not settings.accept_submissions:
        raise ValidationError("This portal does not take submissions.")
    post = PortalPost(
        product=product,
        title=(title or "").strip(),
        description=(description or "").strip(),
        author_email=(email or "").strip().lower(),
        author_user=user if user is not None and user.is_authenticated else None,
        status=PostStatus.PENDING,
    )
    post.full_clean(exclude=["idea"])
    post.save()
    return post


@transaction.atomic
def portal_post_moderate(
    *, post: PortalPost, approve: bool, actor: User, title: str = "", description: str = ""
) -> PortalPost:
    """Approve (optionally with edited public copy: the idea lands in the backlog's Ideas list)
    or reject a pending submission."""
    current = PortalPost.objects.select_for_update().get(pk=post.pk)
    if current.status != PostStatus.PENDING:
        raise ValidationError("This submission was already moderated.")
    if title.strip():
        current.title = title.strip()
    if description.strip():
        current.description = description.strip()
    current.moderated_at = timezone.now()
    current.moderated_by = actor
    if approve:
        current.idea = backlog_services.idea_create(
            product=current.product,
            data={
                "title": current.title,
                "description": current.description,
                "source": IdeaSource.PORTAL,
                "submitter_name": "Ideas portal visitor",
            },
            actor=actor,
        )
        current.status = PostStatus.PUBLISHED
    else:
        current.status = PostStatus.REJECTED
    current.full_clean()
    current.save()
    activity_record(
        instance=current.idea or current.product,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"ideas portal": [None, f"{current.get_status_display()}: {current.title}"]},
    )
    return current


@transaction.atomic
def portal_post_publish(*, idea: Idea, title: str, description: str, actor: User) -> PortalPost:
    """Show an existing backlog idea on the portal, with public copy written for it (the idea's
    internal description is not published by itself)."""
    post = PortalPost.objects.select_for_update().filter(idea=idea).first()
    if post is None:
        post = PortalPost(product=idea.product, idea=idea, submitted_at=timezone.now())
    post.title = (title or idea.title).strip()
    post.description = (description or "").strip()
    post.status = PostStatus.PUBLISHED
    post.moderated_at = timezone.now()
    post.moderated_by = actor
    post.full_clean()
    post.save()
    activity_record(
        instance=idea,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"ideas portal": [None, f"Published as “{post.title}”"]},
    )
    return post


@transaction.atomic
def portal_post_unpublish(*, post: PortalPost, actor: User) -> PortalPost:
    PortalPost.objects.filter(pk=post.pk).update(status=PostStatus.REJECTED)
    post.status = PostStatus.REJECTED
    activity_record(
        instance=post.idea or post.product,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"ideas portal": ["Published", "Removed from the portal"]},
    )
    return post


def _count_vote(post: PortalPost, delta: int) -> None:
    """Move the post's confirmed-vote count and its idea's votes by `delta`, in step."""
    PortalPost.objects.filter(pk=post.pk).update(votes=F("votes") + delta)
    if post.idea_id and post.idea is not None:
        backlog_services.idea_add_votes(idea=post.idea, delta=delta)


def _votable(post: PortalPost) -> None:
    settings = PortalSettings.objects.filter(product_id=post.product_id).first()
    if post.status != PostStatus.PUBLISHED or settings is None or not settings.enabled:
        raise ValidationError("Voting is closed for this idea.")


@transaction.atomic
def portal_vote_by_user(*, post: PortalPost, user: User) -> tuple[PortalVote, bool]:
    """A signed-in user's vote counts at once; a second vote by them changes nothing.
    Returns the vote and whether it is new."""
    _votable(post)
    vote, created = PortalVote.objects.get_or_create(
        post=post,
        user=user,
        defaults={"confirmed_at": timezone.now(), "workspace_id": post.product.workspace_id},
    )
    if created:
        _count_vote(post, +1)
    return vote, created


@transaction.atomic
def portal_vote_request(*, post: PortalPost, email: str) -> tuple[PortalVote, bool]:
    """An e-mail vote: recorded unconfirmed, and a signed confirmation link is e-mailed (on
    commit). Returns the vote and whether a confirmation e-mail was sent; an address that
    already confirmed its vote on this idea gets no second e-mail and no second vote."""
    _votable(post)
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Enter your e-mail address."})
    vote, created = PortalVote.objects.get_or_create(
        post=post, email=email, defaults={"workspace_id": post.product.workspace_id}
    )
    if vote.confirmed_at is not None:
        return vote, False
    from feedback.tasks import send_vote_confirmation

    transaction.on_commit(lambda: send_vote_confirmation.delay(vote.pk))
    return vote, True


@transaction.atomic
def portal_vote_confirm(*, vote: PortalVote) -> bool:
    """Count an e-mail vote once its owner followed the link. Claimed with a conditional
    update, so following the link twice (or two clicks at once) counts one vote."""
    claimed = PortalVote.objects.filter(pk=vote.pk, confirmed_at=None).update(
        confirmed_at=timezone.now()
    )
    if claimed:
        post = PortalPost.objects.select_related("idea").get(pk=vote.post_id)
        _count_vote(post, +1)
    return bool(claimed)


def merge_portal_and_insights(*, source: Idea, target: Idea) -> int:
    """Receiver work for backlog's ``idea_merged``: move insights and portal votes from the
    merged idea to the one it went into, without counting any voter twice. Returns how many
    confirmed voters had voted on both (the backlog counts them once in the idea's votes)."""
    # Insights: re-point, dropping those whose feedback is already linked to the target.
    already = Insight.objects.filter(idea=target).values_list("feedback_item_id", flat=True)
    Insight.objects.filter(idea=source, feedback_item_id__in=list(already)).delete()
    Insight.objects.filter(idea=source).update(idea=target)

    source_post = PortalPost.objects.select_for_update().filter(idea=source).first()
    if source_post is None:
        return 0
    target_post = PortalPost.objects.select_for_update().filter(idea=target).first()
    if target_post is None:
        # The target takes over the public post (the backlog moves the vote count).
        PortalPost.objects.filter(pk=source_post.pk).update(idea=target)
        return 0
    # Both are on the portal: move the source's voters, dropping the ones who voted on both.
    target_votes = PortalVote.objects.filter(post=target_post)
    duplicates = Q(email__in=target_votes.exclude(email="").values("email")) | Q(
        user__in=target_votes.filter(user__isnull=False).values("user")
    )
    dropped = (
        PortalVote.objects.filter(post=source_post, confirmed_at__isnull=False)
        .filter(duplicates)
        .count()
    )
    PortalVote.objects.filter(post=source_post).filter(duplicates).delete()
    moved = PortalVote.objects.filter(post=source_post, confirmed_at__isnull=False).count()
    PortalVote.objects.filter(post=source_post).update(post=target_post)
    PortalPost.objects.filter(pk=target_post.pk).update(votes=F("votes") + moved)
    PortalPost.objects.filter(pk=source_post.pk).update(
        votes=0, status=PostStatus.REJECTED, idea=None
    )
    return dropped
