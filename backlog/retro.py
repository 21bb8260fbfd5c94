"""Sprint review and retrospective: the reads the pages show and the writes they make.

A review is the done and not-done stories of a sprint (read from the sprint itself) plus the
notes around them; a retrospective is the team's board of cards (went well / to improve /
ideas) with votes, and the action items it agrees on. Open action items follow the team into
the next sprint's planning until someone marks them done.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from backlog.choices import StoryStatus
from backlog.models import ActionItem, RetroColumn, RetroItem, Sprint, SprintReview, UserStory
from pm.choices import ActivityAction
from pm.models import Membership
from pm.services import activity_record, record_create, record_delete, versioned_update
from pm.visibility import Viewer, visible

# --- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStories:
    done: list[UserStory]
    not_done: list[UserStory]
    done_points: int
    not_done_points: int

    @property
    def committed_points(self) -> int:
        return self.done_points + self.not_done_points

    @property
    def done_percent(self) -> int:
        total = self.committed_points
        return round(100 * self.done_points / total) if total else 0


def review_of(sprint: Sprint) -> SprintReview:
    """The sprint's review notes, or an unsaved empty one (version 1) before the first save."""
    review = SprintReview.objects.filter(sprint=sprint).first()
    return review or SprintReview(sprint=sprint, product_id=sprint.product_id)


def review_stories(sprint: Sprint, viewer: Viewer | None) -> ReviewStories:
    """The sprint's stories `viewer` sees (pm.visibility), split into done and not done, in
    rank order. One query."""
    stories = list(
        visible(
            UserStory.objects.filter(sprint=sprint).select_related(
                "product", "feature", "assignee"
            ),
            viewer,
        ).order_by("rank")
    )
    done = [s for s in stories if s.status == StoryStatus.DONE]
    not_done = [s for s in stories if s.status != StoryStatus.DONE]
    return ReviewStories(
        done,
        not_done,
        sum(s.points or 0 for s in done),
        sum(s.points or 0 for s in not_done),
    )


def retro_items(sprint: Sprint, user: User) -> dict[str, list[RetroItem]]:
    """The board's cards per column, most votes first, each with `votes` and whether `user`
    voted (`mine`). One query."""
    voted = RetroItem.voters.through.objects.filter(retroitem_id=OuterRef("pk"), user_id=user.pk)
    items = (
        RetroItem.objects.filter(sprint=sprint)
        .select_related("author")
        .annotate(votes=Count("voters", distinct=True), mine=Exists(voted))
        .order_by("-votes", "created_at", "id")
    )
    columns: dict[str, list[RetroItem]] = {c: [] for c in RetroColumn.values}
    for item in items:
        columns[item.column].append(item)
    return columns


def action_items(*, sprint: Sprint) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(sprint=sprint)
        .select_related("owner")
        .order_by("done_at", "created_at", "id")
    )


def open_action_items(*, product, before: Sprint | None = None) -> QuerySet[ActionItem]:
    """Action items not done yet from the product's retrospectives (of sprints that started
    before `before`, when given): what the next planning should not forget."""
    qs = ActionItem.objects.filter(product=product, done_at__isnull=True)
    if before is not None:
        qs = qs.filter(sprint__start__lt=before.start)
    return qs.select_related("owner", "sprint").order_by("created_at", "id")


# --- writes --------------------------------------------------------------------------------


@transaction.atomic
def review_save(
    *, sprint: Sprint, data: dict[str, str], expected_version: int, actor: User
) -> SprintReview:
    """Save the review's notes. The first save creates the row (as version 1, then applies the
    edit), so two people writing the first notes at once get the usual conflict, not a silent
    overwrite."""
    unknown = set(data) - {"demo_notes", "stakeholder_feedback"}
    if unknown:
        raise ValueError(f"Unknown review fields: {sorted(unknown)}")
    review, _ = SprintReview.objects.select_for_update().get_or_create(
        sprint=sprint, defaults={"product_id": sprint.product_id}
    )
    saved = versioned_update(
        instance=review, data=data, expected_version=expected_version, actor=actor
    )
    assert isinstance(saved, SprintReview)
    return saved


def _clean_text(text: str, field: str = "text") -> str:
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({field: "Write something first."})
    if len(text) > 500:
        raise ValidationError({field: "Keep it under 500 characters."})
    return text


def retro_add(*, sprint: Sprint, column: str, text: str, actor: User) -> RetroItem:
    """A card on the sprint's board. A card is its author's words in a column: the same card
    added again (a retried submit) is the card already there."""
    if column not in RetroColumn.values:
        raise ValidationError({"column": "Choose went well, to improve or ideas."})
    text = _clean_text(text)
    with transaction.atomic():
        Sprint.objects.select_for_update().filter(pk=sprint.pk).first()
        same = RetroItem.objects.filter(sprint=sprint, column=column, author=actor, text=text)
        existing = same.first()
        if existing is not None:
            return existing
        item = RetroItem(
            product_id=sprint.product_id, sprint=sprint, column=column, text=text, author=actor
        )
        record_create(instance=item, actor=actor)
        return item


def retro_vote(*, item: RetroItem, voter: User, voted: bool | None = None) -> bool:
    """Set `voter`'s vote on a card (one vote per person per card) to `voted`; True if now voted.
    The page sends the state it wants, so a retried click changes nothing; without it (None)
    the vote toggles."""
    through = RetroItem.voters.through
    mine = through.objects.filter(retroitem_id=item.pk, user_id=voter.pk)
    with transaction.atomic():
        if voted is None:
            voted = not mine.exists()
        if not voted:
            mine.delete()
            return False
        through.objects.get_or_create(retroitem_id=item.pk, user_id=voter.pk)
        return True


def retro_delete(*, item: RetroItem, actor: User, may_moderate: bool) -> None:
    """Authors delete their own cards; PMs and admins any card (`may_moderate`)."""
    if item.author_id != actor.pk and not may_moderate:
        raise PermissionError("Only the author or a product manager can delete this card.")
    record_delete(instance=item, actor=actor)


def action_add(*, sprint: Sprint, text: str, owner: User | None, actor: User) -> ActionItem:
    if (
        owner is not None
        and not Membership.objects.filter(
            workspace_id=sprint.product.workspace_id, user=owner
        ).exists()
    ):
        raise ValidationError({"owner": "The owner must be a member of this workspace."})
    text = _clean_text(text)
    with transaction.atomic():
        # An action is its words on the sprint: agreed twice (a retried submit) it is one
        # action; a new owner given with the same words replaces the old one.
        Sprint.objects.select_for_update().filter(pk=sprint.pk).first()
        existing = ActionItem.objects.filter(sprint=sprint, text__iexact=text).first()
        if existing is not None:
            if existing.owner_id != (owner.pk if owner else None):
                existing.owner = owner
                existing.save(update_fields=["owner"])
            return existing
        action = ActionItem(product_id=sprint.product_id, sprint=sprint, text=text, owner=owner)
        record_create(instance=action, actor=actor)
        return action


def action_set_done(*, action: ActionItem, done: bool, actor: User) -> ActionItem:
    """Mark an action item done (or open again); idempotent, so a double click changes nothing."""
    with transaction.atomic():
        current = ActionItem.objects.select_for_update().get(pk=action.pk)
        if current.is_done == done:
            return current
        current.done_at = timezone.now() if done else None
        current.save(update_fields=["done_at"])
        activity_record(
            instance=current,
            action=ActivityAction.UPDATED,
            actor=actor,
            changes={"done": ["no" if done else "yes", "yes" if done else "no"]},
        )
        return current
