"""Writes for the backlog: ideas, features (ranking, scoring, shipping), user stories, sprints.

Each service is keyword-only, atomic, validates, writes, and records the activity log through
pm.services. Edits of versioned rows go through ``versioned_update``, which refuses a stale
version with ``EditConflict`` (nothing is overwritten). Other apps change backlog data only
through these functions (``feature_ship`` for releases, ``feature_set_demand`` for feedback).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone

from backlog import ranking, scoring
from backlog.choices import STORY_POINTS, FeatureStatus, IdeaStatus
from backlog.models import BacklogSettings, Feature, Idea, Sprint, UserStory
from backlog.signals import idea_merged
from pm.choices import ActivityAction, NotificationKind, Role
from pm.models import ActivityLog, Membership, Product
from pm.notifications import notification_create, notify_mentions
from pm.permissions import membership_for
from pm.services import (
    EditConflict,
    activity_record,
    field_display,
    record_create,
    versioned_update,
)
from pm.signals import activity_bulk_recorded

__all__ = [
    "EditConflict",
    "backlog_settings_get",
    "backlog_settings_update",
    "feature_create",
    "feature_update",
    "feature_move",
    "feature_ship",
    "feature_set_demand",
    "features_set_status",
    "features_sort_by_score",
    "idea_create",
    "idea_update",
    "idea_add_votes",
    "idea_vote",
    "idea_start_review",
    "idea_accept",
    "idea_decline",
    "idea_merge",
    "story_create",
    "story_update",
    "story_set_criterion",
    "story_move",
    "sprint_create",
    "sprint_update",
]

# What a feature edit may change; rank, score and demand have their own services.
FEATURE_EDITABLE = {
    "owner",
    "title",
    "description",
    "kind",
    "theme",
    "status",
    "moscow",
    "shipped_at",
    *scoring.SCORE_INPUTS,
    *scoring.ROI_INPUTS,
    "jira_url",
}
# Engineers may change these on a story, nothing else; acceptance criteria only their done flags.
ENGINEER_STORY_FIELDS = {"status", "points", "assignee", "acceptance_criteria"}
STORY_EDITABLE = {
    "feature",
    "title",
    "persona",
    "as_a",
    "i_want",
    "so_that",
    "acceptance_criteria",
    "points",
    "status",
    "assignee",
    "sprint",
    "jira_url",
}
IDEA_EDITABLE = {"title", "description", "source", "submitter_name", "status", "votes"}


# --- settings -----------------------------------------------------------------------------


def backlog_settings_get(product: Product) -> BacklogSettings:
    """The product's backlog settings, created with the defaults on first use."""
    settings, _ = BacklogSettings.objects.get_or_create(product=product)
    return settings


def _lock_settings(product: Product) -> BacklogSettings:
    """Lock the product's settings row: serialises rank allocation and re-ranking per product."""
    try:
        return BacklogSettings.objects.select_for_update().get(product=product)
    except BacklogSettings.DoesNotExist:
        backlog_settings_get(product)
        return BacklogSettings.objects.select_for_update().get(product=product)


def _reach_from_demand(settings: BacklogSettings, feature: Feature) -> Decimal | None:
    if settings.reach_source == BacklogSettings.ReachSource.CUSTOMERS:
        return Decimal(feature.demand_customers)
    if settings.reach_source == BacklogSettings.ReachSource.ARR:
        return Decimal(feature.demand_arr)
    return feature.reach


def _rescore_all(product: Product, settings: BacklogSettings) -> int:
    features = list(Feature.objects.filter(product=product))
    for feature in features:
        feature.reach = _reach_from_demand(settings, feature)
        feature.score = scoring.score_feature(feature, settings.framework).value
    Feature.objects.bulk_update(features, ["reach", "score"], batch_size=500)
    return len(features)


@transaction.atomic
def backlog_settings_update(
    *,
    product: Product,
    actor: User,
    framework: str | None = None,
    reach_source: str | None = None,
) -> BacklogSettings:
    """Switch the prioritisation framework or the source of reach; rescores every feature."""
    settings = _lock_settings(product)
    changes: dict[str, list[Any]] = {}
    for name, value in (("framework", framework), ("reach_source", reach_source)):
        if value is None:
            continue
        field = BacklogSettings._meta.get_field(name)
        assert isinstance(field, models.Field)
        if value not in dict(field.flatchoices):
            raise ValidationError({name: f"Choose a valid {field.verbose_name}."})
        before = field_display(settings, name)
        setattr(settings, name, value)
        if before != field_display(settings, name):
            changes[name] = [before, field_display(settings, name)]
    if not changes:
        return settings
    settings.save(update_fields=["framework", "reach_source"])
    _rescore_all(product, settings)
    activity_record(instance=product, action=ActivityAction.UPDATED, actor=actor, changes=changes)
    return settings


# --- features -----------------------------------------------------------------------------


def _check_same_product(product: Product, **related: Any) -> None:
    errors = {}
    for name, obj in related.items():
        if obj is not None and obj.product_id != product.pk:
            errors[name] = f"Choose a {name.replace('_', ' ')} of this product."
    if errors:
        raise ValidationError(errors)


def _check_owner(product: Product, owner: User | None) -> None:
    if (
        owner is not None
        and not Membership.objects.filter(user=owner, workspace_id=product.workspace_id)
        .exclude(role=Role.STAKEHOLDER)
        .exists()
    ):
        raise ValidationError({"owner": "Choose a member of this workspace's team."})


def _reject_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"These fields cannot be set here: {sorted(unknown)}")


def _apply_shipped_at(data: dict[str, Any], current_status: str | None) -> dict[str, Any]:
    """Shipping stamps the date (unless given); leaving "shipped" clears it."""
    data = dict(data)
    status = data.get("status")
    if status == FeatureStatus.SHIPPED and current_status != FeatureStatus.SHIPPED:
        data.setdefault("shipped_at", None)
        data["shipped_at"] = data["shipped_at"] or timezone.now()
    elif status is not None and status != FeatureStatus.SHIPPED:
        data["shipped_at"] = None
    return data


@transaction.atomic
def feature_create(*, product: Product, data: dict[str, Any], actor: User) -> Feature:
    """Add a feature at the bottom of the product's backlog, scored with its framework."""
    _reject_unknown(data, FEATURE_EDITABLE)
    settings = _lock_settings(product)
    data = _apply_shipped_at(data, None)
    data = {"owner": actor, **data}
    feature = Feature(product=product, **data)
    _check_same_product(product, theme=feature.theme)
    _check_owner(product, feature.owner)
    if settings.reach_source != BacklogSettings.ReachSource.MANUAL:
        feature.reach = _reach_from_demand(settings, feature)
    feature.rank = ranking.next_key_at_end(Feature.objects.filter(product=product))
    feature.score = scoring.score_feature(feature, settings.framework).value
    feature = record_create(instance=feature, actor=actor)
    _notify_feature_mentions(feature, "", actor)
    return feature


def _notify_feature_mentions(feature: Feature, before: str, actor: User) -> None:
    notify_mentions(
        product=feature.product,
        before=before,
        after=feature.description,
        what=f"the feature “{feature.title}”",
        url=reverse("feature_detail", args=[feature.product.key, feature.pk]),
        actor=actor,
    )


@transaction.atomic
def feature_update(
    *, feature: Feature, data: dict[str, Any], expected_version: int, actor: User
) -> Feature:
    """Edit a feature unless someone saved it since `expected_version`; recomputes the score.

    When the product's reach comes from linked feedback, a typed reach is ignored.
    """
    _reject_unknown(data, FEATURE_EDITABLE)
    settings = backlog_settings_get(feature.product)
    data = dict(data)
    if settings.reach_source != BacklogSettings.ReachSource.MANUAL:
        data.pop("reach", None)
    if "theme" in data:
        _check_same_product(feature.product, theme=data["theme"])
    if data.get("owner") is not None:
        _check_owner(feature.product, data["owner"])
    if "status" in data:
        current_status = Feature.objects.filter(pk=feature.pk).values_list("status", flat=True)
        data = _apply_shipped_at(data, current_status.first())
    # Read what is stored, not `feature.description`: a ModelForm's is_valid() has already
    # copied the submitted values onto the instance the view passes in.
    before_description = (
        Feature.objects.select_for_update().values_list("description", flat=True).get(pk=feature.pk)
    )
    current = versioned_update(
        instance=feature, data=data, expected_version=expected_version, actor=actor
    )
    _notify_feature_mentions(current, before_description, actor)
    score = scoring.score_feature(current, settings.framework).value
    if score != current.score:
        current.score = score
        Feature.objects.filter(pk=current.pk).update(score=score)
    return current


@transaction.atomic
def feature_move(
    *, feature: Feature, above: Feature | None, below: Feature | None, actor: User
) -> Feature:
    """Re-rank `feature` to sit just below `above` (None: the top), or, when `above` is None,
    just above `below`. Writes one feature row (plus an occasional
    bounded rebalance of at most 2 × ranking.WINDOW + 1 rows) and one activity entry."""
    product = feature.product
    for other in (above, below):
        if other is not None and (other.product_id != product.pk or other.pk == feature.pk):
            raise ValidationError("Move the feature next to another feature of this product.")
    _lock_settings(product)
    written = ranking.move(
        Feature.objects.filter(product=product), feature, above=above, below=below
    )
    if written:
        where = f"below “{above}”" if above else (f"above “{below}”" if below else "to the end")
        activity_record(
            instance=feature,
            action=ActivityAction.UPDATED,
            actor=actor,
            changes={"position": [None, f"moved {where}"]},
        )
    return feature


@transaction.atomic
def feature_ship(*, feature: Feature, shipped_at: datetime | None, actor: User) -> Feature:
    """Mark the feature shipped at `shipped_at` (now if None). Bumps the version, so an editor
    holding the feature open is told rather than silently reverting the status."""
    version = Feature.objects.select_for_update().values_list("version", flat=True)
    return feature_update(
        feature=feature,
        data={"status": FeatureStatus.SHIPPED, "shipped_at": shipped_at or timezone.now()},
        expected_version=version.get(pk=feature.pk),
        actor=actor,
    )


@transaction.atomic
def feature_set_demand(*, feature: Feature, customers: int, arr: Decimal | int) -> Feature:
    """Store the demand from linked feedback (distinct customers and their summed ARR).

    Derived data, maintained by the feedback app: it writes no activity entry and keeps the
    version, so it never makes an editor's save conflict. When the product takes reach from
    feedback, reach follows and the score is recomputed (reach is then not editable by hand).
    """
    if customers < 0 or Decimal(arr) < 0:
        raise ValidationError("Demand cannot be negative.")
    settings = backlog_settings_get(feature.product)
    current = Feature.objects.select_for_update().get(pk=feature.pk)
    current.demand_customers = customers
    current.demand_arr = Decimal(arr)
    fields = ["demand_customers", "demand_arr"]
    if settings.reach_source != BacklogSettings.ReachSource.MANUAL:
        current.reach = _reach_from_demand(settings, current)
        current.score = scoring.score_feature(current, settings.framework).value
        fields += ["reach", "score"]
    Feature.objects.filter(pk=current.pk).update(**{f: getattr(current, f) for f in fields})
    for name in fields:
        setattr(feature, name, getattr(current, name))
    return feature


@transaction.atomic
def features_set_status(
    *, product: Product, feature_ids: Iterable[int], status: str, actor: User
) -> int:
    """Bulk status change for selected features; returns how many changed. Each changed feature
    gets a new version and an activity entry, in a constant number of queries."""
    if status not in FeatureStatus.values:
        raise ValidationError({"status": "Choose a valid status."})
    features = list(
        Feature.objects.select_for_update()
        .filter(product=product, pk__in=list(feature_ids))
        .exclude(status=status)
        .select_related("product__workspace")
    )
    label = FeatureStatus(status).label
    now = timezone.now()
    entries = []
    for feature in features:
        before = feature.get_status_display()
        feature.status = status
        if status == FeatureStatus.SHIPPED:
            feature.shipped_at = feature.shipped_at or now
        else:
            feature.shipped_at = None
        feature.version += 1
        feature.updated_at = now  # bulk_update skips auto_now
        entries.append(
            ActivityLog(
                workspace=product.workspace,
                product=product,
                actor=actor,
                action=ActivityAction.UPDATED,
                object_type=Feature._meta.label_lower,
                object_id=feature.pk,
                object_repr=str(feature)[:200],
                changes={"status": [before, label]},
                object_version=feature.version,
            )
        )
    Feature.objects.bulk_update(features, ["status", "shipped_at", "version", "updated_at"])
    ActivityLog.objects.bulk_create(entries)
    activity_bulk_recorded.send(sender=ActivityLog, entries=entries)
    return len(features)


@transaction.atomic
def features_sort_by_score(*, product: Product, actor: User) -> int:
    """One-off re-rank of the whole backlog by score, highest first (unscored features keep
    their relative order, after the scored ones). Returns rows written."""
    _lock_settings(product)
    rows = list(Feature.objects.filter(product=product).values_list("pk", "score", "rank"))
    rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0), r[2]))
    written = ranking.respace_all(Feature.objects.filter(product=product), [r[0] for r in rows])
    activity_record(
        instance=product,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"backlog order": [None, "sorted by score"]},
    )
    return written


# --- ideas --------------------------------------------------------------------------------


def idea_create(*, product: Product, data: dict[str, Any], actor: User | None) -> Idea:
    """Capture an idea. The submitter defaults to the actor unless a name is given."""
    _reject_unknown(data, IDEA_EDITABLE | {"submitter"})
    data = dict(data)
    if "submitter" not in data and not data.get("submitter_name"):
        data["submitter"] = actor
    return record_create(instance=Idea(product=product, **data), actor=actor)


def idea_update(*, idea: Idea, data: dict[str, Any], expected_version: int, actor: User) -> Idea:
    _reject_unknown(data, IDEA_EDITABLE)
    return versioned_update(
        instance=idea, data=data, expected_version=expected_version, actor=actor
    )


@transaction.atomic
def idea_add_votes(*, idea: Idea, delta: int) -> Idea:
    """Add `delta` votes (negative to take some back; never below zero). A counter kept by
    the ideas portal: one atomic UPDATE, no version bump (a vote never conflicts with an
    edit) and no activity entry (the portal logs its own)."""
    Idea.objects.filter(pk=idea.pk).update(votes=Greatest(F("votes") + delta, Value(0)))
    idea.votes = Idea.objects.values_list("votes", flat=True).get(pk=idea.pk)
    return idea


@transaction.atomic
def idea_vote(*, idea: Idea, user: User, voted: bool) -> Idea:
    """A member's own vote on an idea, from its page: `voted` is the state wanted, so a retried
    click counts once. Each internal voter counts once in `votes`, beside the portal's."""
    idea = Idea.objects.select_for_update().get(pk=idea.pk)
    if idea.status == IdeaStatus.MERGED:
        raise ValidationError("This idea was merged: vote on the idea it went to.")
    has = idea.voters.filter(pk=user.pk).exists()
    if voted and not has:
        idea.voters.add(user)
        return idea_add_votes(idea=idea, delta=1)
    if not voted and has:
        idea.voters.remove(user)
        return idea_add_votes(idea=idea, delta=-1)
    return idea


@transaction.atomic
def idea_start_review(*, idea: Idea, actor: User, expected_version: int | None = None) -> Idea:
    """Triage has begun: a new idea becomes “under review”."""
    idea = Idea.objects.select_for_update().select_related("product").get(pk=idea.pk)
    if idea.status != IdeaStatus.NEW:
        raise ValidationError("Only a new idea can be put under review.")
    return _idea_set(idea, expected_version, actor, status=IdeaStatus.UNDER_REVIEW)


def _idea_set(idea: Idea, expected_version: int | None, actor: User, **data: Any) -> Idea:
    if expected_version is None:
        expected_version = Idea.objects.values_list("version", flat=True).get(pk=idea.pk)
    return versioned_update(
        instance=idea, data=data, expected_version=expected_version, actor=actor
    )


def _check_open(idea: Idea) -> None:
    if idea.status in (IdeaStatus.ACCEPTED, IdeaStatus.MERGED, IdeaStatus.DECLINED):
        raise ValidationError(f"This idea was already triaged ({idea.get_status_display()}).")


@transaction.atomic
def idea_accept(
    *,
    idea: Idea,
    actor: User,
    feature_data: dict[str, Any] | None = None,
    feature: Feature | None = None,
    expected_version: int | None = None,
) -> Feature:
    """Accept the idea: create a feature from it (title and description unless given in
    `feature_data`), or link it to an existing `feature`. Returns the feature."""
    idea = Idea.objects.select_for_update().select_related("product").get(pk=idea.pk)
    _check_open(idea)
    if feature is not None:
        _check_same_product(idea.product, feature=feature)
    else:
        data = {"title": idea.title, "description": idea.description, **(feature_data or {})}
        feature = feature_create(product=idea.product, data=data, actor=actor)
    _idea_set(idea, expected_version, actor, status=IdeaStatus.ACCEPTED, feature=feature)
    # Ideas merged into this one earlier point at the same feature.
    Idea.objects.filter(merged_into=idea, feature=None).update(feature=feature)
    return feature


@transaction.atomic
def idea_decline(
    *, idea: Idea, reason: str, actor: User, expected_version: int | None = None
) -> Idea:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"decline_reason": "Say why the idea is declined."})
    idea = Idea.objects.select_for_update().select_related("product").get(pk=idea.pk)
    _check_open(idea)
    return _idea_set(
        idea, expected_version, actor, status=IdeaStatus.DECLINED, decline_reason=reason
    )


@transaction.atomic
def idea_merge(*, idea: Idea, into: Idea, actor: User) -> Idea:
    """Merge a duplicate `idea` into `into`: its votes move over, its feature link moves over
    (if `into` has none), ideas merged into it earlier now point at `into`, and other apps move
    what they link to it (the ``idea_merged`` signal). Returns the updated target."""
    if idea.pk == into.pk:
        raise ValidationError({"into": "An idea cannot be merged into itself."})
    if idea.product_id != into.product_id:
        raise ValidationError({"into": "Choose an idea of the same product."})
    # Lock both in id order so two opposite merges cannot deadlock.
    locked = {
        i.pk: i
        for i in Idea.objects.select_for_update()
        .select_related("product")
        .filter(pk__in=[idea.pk, into.pk])
        .order_by("pk")
    }
    source, target = locked[idea.pk], locked[into.pk]
    _check_open(source)
    if target.status == IdeaStatus.MERGED:
        raise ValidationError({"into": "That idea was itself merged; choose the one it went to."})
    source_votes, source_feature = source.votes, source.feature
    Idea.objects.filter(merged_into=source).update(merged_into=target)
    _idea_set(
        source, None, actor, status=IdeaStatus.MERGED, merged_into=target, votes=0, feature=None
    )
    # Receivers move what they own and say how many voters had voted on both ideas (those
    # are counted once), so the target's count and its history agree.
    responses = idea_merged.send(sender=Idea, source=source, target=target, actor=actor)
    replies: list[Any] = [reply for _, reply in responses]
    duplicates = sum(
        int(reply.get("duplicate_voters", 0)) for reply in replies if isinstance(reply, dict)
    )
    # Members who voted from the page: theirs move over, and one who voted on both counts once.
    source_voters = set(source.voters.values_list("pk", flat=True))
    both = source_voters & set(target.voters.values_list("pk", flat=True))
    target.voters.add(*(source_voters - both))
    source.voters.clear()
    duplicates += len(both)
    target_data: dict[str, Any] = {"votes": max(target.votes + source_votes - duplicates, 0)}
    if target.feature_id is None and source_feature is not None:
        target_data["feature"] = source_feature
    note = {"merged": [None, f"“{source.title}” ({source_votes} votes)"]}
    if duplicates:
        voters = "1 voter had" if duplicates == 1 else f"{duplicates} voters had"
        note["voters counted once"] = [None, f"{voters} voted on both"]
    target = versioned_update(
        instance=target,
        data=target_data,
        expected_version=target.version,
        actor=actor,
        extra_changes=note,
    )
    target.merge_summary = _merge_summary(target.votes, source_votes, duplicates)
    return target


def _merge_summary(total: int, moved: int, duplicates: int) -> str:
    """“20 votes now: 8 moved over, 6 voters had voted on both and count once.”"""
    text = f"{total} vote{'' if total == 1 else 's'} now: {moved} moved over"
    if duplicates:
        voters = "1 voter had" if duplicates == 1 else f"{duplicates} voters had"
        text += f", {voters} voted on both and count once"
    return text + "."


# --- stories ------------------------------------------------------------------------------


def _next_story_number(product: Product) -> int:
    """Claim the product's next story number. The UPDATE … RETURNING takes the settings row's
    lock until commit, so two stories created at once always get different numbers."""
    backlog_settings_get(product)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {BacklogSettings._meta.db_table} "  # noqa: S608 - table name, not input
            "SET last_story_number = last_story_number + 1 "
            "WHERE product_id = %s RETURNING last_story_number",
            [product.pk],
        )
        row = cursor.fetchone()
        assert row is not None, "every product has its backlog settings row"
        return int(row[0])


def _clean_criteria(value: Any) -> list[dict[str, Any]]:
    """Acceptance criteria as a list of {"text", "done"}; strings become open items."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({"acceptance_criteria": "Give the criteria as a list."})
    items = []
    for item in value:
        if isinstance(item, str):
            item = {"text": item, "done": False}
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValidationError(
                {"acceptance_criteria": "Each criterion needs a text and a done flag."}
            )
        text = item["text"].strip()
        if not text:
            continue
        if len(text) > 1000:
            raise ValidationError(
                {"acceptance_criteria": "Keep each criterion under 1000 characters."}
            )
        items.append({"text": text, "done": bool(item.get("done", False))})
    return items


def _check_story_refs(product: Product, data: dict[str, Any]) -> None:
    _check_same_product(
        product,
        feature=data.get("feature"),
        sprint=data.get("sprint"),
        persona=data.get("persona"),
    )
    assignee = data.get("assignee")
    if (
        assignee is not None
        and not Membership.objects.filter(workspace_id=product.workspace_id, user=assignee)
        .exclude(role=Role.STAKEHOLDER)
        .exists()
    ):
        raise ValidationError({"assignee": "Assign the story to an engineer or PM of this team."})
    points = data.get("points")
    if points is not None and points not in dict(STORY_POINTS):
        raise ValidationError({"points": "Use a Fibonacci number: 0, 1, 2, 3, 5, 8, 13 or 21."})


@transaction.atomic
def story_create(*, feature: Feature, data: dict[str, Any], actor: User) -> UserStory:
    """Add a story under `feature` with the product's next key (LOD-42), at the bottom."""
    _reject_unknown(data, STORY_EDITABLE - {"feature"})
    product = feature.product
    data = {**data, "acceptance_criteria": _clean_criteria(data.get("acceptance_criteria"))}
    _check_story_refs(product, data)
    story = UserStory(product=product, feature=feature, **data)
    story.number = _next_story_number(product)
    # The settings row is locked by the numbering UPDATE, so the end key is ours alone.
    story.rank = ranking.next_key_at_end(UserStory.objects.filter(product=product))
    story = record_create(instance=story, actor=actor)
    if story.assignee_id:
        _notify_assignment(story, actor)
    _notify_story_mentions(story, "", actor)
    return story


def _story_text(story: UserStory) -> str:
    criteria = " ".join(c.get("text", "") for c in story.acceptance_criteria or [])
    return " ".join([story.title, story.as_a, story.i_want, story.so_that, criteria])


def _story_url(story: UserStory) -> str:
    return reverse("story_detail", args=[story.product.key, story.number])


def _notify_assignment(story: UserStory, actor: User) -> None:
    """Tell the story's assignee (callers check there is one) who assigned it."""
    assert story.assignee is not None
    who = actor.get_full_name() or actor.username
    notification_create(
        user=story.assignee,
        kind=NotificationKind.ASSIGNMENT,
        message=f"{who} assigned you {story.key}: {story.title}",
        url=_story_url(story),
        product=story.product,
        actor=actor,
    )


def _notify_story_mentions(story: UserStory, before_text: str, actor: User) -> None:
    notify_mentions(
        product=story.product,
        before=before_text,
        after=_story_text(story),
        what=f"{story.key}: {story.title}",
        url=_story_url(story),
        actor=actor,
    )


def _role(actor: User, product: Product) -> str | None:
    membership = membership_for(actor, product.workspace_id)
    return membership.role if membership else None


def _check_engineer_edit(story: UserStory, data: dict[str, Any]) -> None:
    """Engineers change status, points, assignee and criteria check-offs — nothing else."""
    forbidden = set(data) - ENGINEER_STORY_FIELDS
    if forbidden:
        raise PermissionDenied(
            f"Engineers may not change {', '.join(sorted(forbidden))} of a story."
        )
    if "acceptance_criteria" in data:
        old = [c.get("text") for c in story.acceptance_criteria]
        new = [c.get("text") for c in data["acceptance_criteria"]]
        if old != new:
            raise PermissionDenied("Engineers may check criteria off but not reword them.")


@transaction.atomic
def story_update(
    *, story: UserStory, data: dict[str, Any], expected_version: int, actor: User
) -> UserStory:
    """Edit a story unless it changed since `expected_version`. Members below PM may only
    change status, points, assignee and criteria done flags; stakeholders nothing."""
    _reject_unknown(data, STORY_EDITABLE)
    product = story.product
    role = _role(actor, product)
    if role is None or role == Role.STAKEHOLDER:
        raise PermissionDenied("Your role does not allow editing stories.")
    data = dict(data)
    if "acceptance_criteria" in data:
        data["acceptance_criteria"] = _clean_criteria(data["acceptance_criteria"])
    if role == Role.ENGINEER:
        fresh = UserStory.objects.only("acceptance_criteria").get(pk=story.pk)
        _check_engineer_edit(fresh, data)
    _check_story_refs(product, data)
    # The stored row, not `story`: a ModelForm's is_valid() already changed that instance.
    stored = UserStory.objects.select_for_update().get(pk=story.pk)
    before_assignee = stored.assignee_id
    before_text = _story_text(stored)
    current = versioned_update(
        instance=story, data=data, expected_version=expected_version, actor=actor
    )
    if current.assignee_id and current.assignee_id != before_assignee:
        _notify_assignment(current, actor)
    _notify_story_mentions(current, before_text, actor)
    return current


@transaction.atomic
def story_set_criterion(
    *, story: UserStory, index: int, text: str, done: bool, actor: User
) -> UserStory:
    """Check a criterion off (or on again). Targets the item by position *and* text, so a
    check-off made on a stale page cannot tick a criterion someone reworded or moved."""
    current = UserStory.objects.select_for_update().select_related("product").get(pk=story.pk)
    criteria = [dict(c) for c in current.acceptance_criteria]
    if not (0 <= index < len(criteria)) or criteria[index]["text"] != text:
        raise EditConflict(
            current=current,
            entries=list(
                ActivityLog.objects.filter(
                    object_type=UserStory._meta.label_lower, object_id=current.pk
                )
                .select_related("actor")
                .order_by("-created_at", "-id")[:1]
            ),
        )
    if criteria[index]["done"] == done:
        return current
    criteria[index]["done"] = done
    return story_update(
        story=current,
        data={"acceptance_criteria": criteria},
        expected_version=current.version,
        actor=actor,
    )


@transaction.atomic
def story_move(
    *, story: UserStory, above: UserStory | None, below: UserStory | None, actor: User
) -> UserStory:
    """Re-rank a story (same semantics as feature_move)."""
    for other in (above, below):
        if other is not None and (other.product_id != story.product_id or other.pk == story.pk):
            raise ValidationError("Move the story next to another story of this product.")
    _lock_settings(story.product)
    ranking.move(
        UserStory.objects.filter(product_id=story.product_id), story, above=above, below=below
    )
    return story


# --- sprints ------------------------------------------------------------------------------


def _check_dates(data: dict[str, Any]) -> None:
    start, end = data.get("start"), data.get("end")
    if start and end and end < start:
        raise ValidationError({"end": "The sprint must end on or after its start."})


def sprint_create(*, product: Product, data: dict[str, Any], actor: User) -> Sprint:
    _reject_unknown(data, {"name", "goal", "start", "end", "capacity"})
    _check_dates(data)
    return record_create(instance=Sprint(product=product, **data), actor=actor)


def sprint_update(
    *, sprint: Sprint, data: dict[str, Any], expected_version: int, actor: User
) -> Sprint:
    _reject_unknown(data, {"name", "goal", "start", "end", "capacity"})
    _check_dates(data)
    return versioned_update(
        instance=sprint, data=data, expected_version=expected_version, actor=actor
    )
