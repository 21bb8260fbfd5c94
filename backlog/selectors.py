"""Reads for the backlog, each with its joins and the caller's visibility applied.

The rows and fields each reader sees come from the one policy (pm.visibility, with the rules
declared on the models): stakeholders get no internal fields (ROI inputs, customers' ARR, reach
when it is that ARR) and only the features their sections show (released ones, or the whole
backlog when the workspace shares it), never archived ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from backlog import custom_fields
from backlog.choices import (
    CustomFieldTarget,
    IdeaStatus,
    StoryStatus,
)
from backlog.filters import FeatureFilter, IdeaFilter, StoryFilter, filtered
from backlog.models import BacklogSettings, CustomField, Feature, Idea, Sprint, UserStory
from pm import visibility
from pm.choices import Role
from pm.models import Product
from pm.permissions import membership_for, viewer_for_user

# The fields the policy hides from readers outside the team (declared on the model).
INTERNAL_FEATURE_FIELDS = Feature.visibility_rules.internal

FEATURE_SORTS = {
    "rank": ("rank",),
    "score": (F("score").desc(nulls_last=True), "rank"),
    "demand": ("-demand_customers", "-demand_arr", "rank"),
    "title": ("title", "rank"),
}


def role_of(user: User, product: Product) -> str | None:
    membership = getattr(product, "membership", None) or membership_for(user, product.workspace_id)
    return membership.role if membership else None


def backlog_settings(product: Product) -> BacklogSettings:
    """The product's settings, unsaved defaults when it has none yet (a read never writes)."""
    try:
        return product.backlog_settings
    except BacklogSettings.DoesNotExist:
        return BacklogSettings(product=product)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def feature_list(
    *,
    product: Product,
    user: User,
    filters: dict[str, Any] | None = None,
    custom: list[CustomField] | None = None,
) -> QuerySet[Feature]:
    """The product's features in rank order (or `sort`), with theme and story counts.

    Filters: theme (id, or "none"), status, kind, moscow (value, or "none"), q (title search),
    sort (rank, score, demand, title, or a custom field: "cf12" / "-cf12"), and one per custom
    field ("cf12": custom_fields.filter_rows). Unknown filter values are ignored, never an
    error. `custom`: the feature fields the reader may see, when the caller has them loaded
    (otherwise they are read here, one query, only when a filter or the sort names one).
    """
    filters = filters or {}
    sort = str(filters.get("sort") or "rank")
    viewer = viewer_for_user(user, product)
    if custom is None and (
        sort.lstrip("-").startswith("cf") or any(k.startswith("cf") for k in filters)
    ):
        custom = custom_fields.fields_for(product, CustomFieldTarget.FEATURE, viewer)
    # Correlated subqueries rather than a JOIN + GROUP BY: with the page's LIMIT, PostgreSQL
    # then counts stories for the shown rows only, whatever the size of the backlog.
    stories = UserStory.objects.filter(feature=OuterRef("pk")).order_by().values("feature")
    qs = (
        Feature.objects.filter(product=product)
        .select_related("theme")
        .annotate(
            story_count=Coalesce(Subquery(stories.annotate(n=Count("pk")).values("n")), 0),
            story_points=Coalesce(Subquery(stories.annotate(p=Sum("points")).values("p")), 0),
        )
    )
    qs = visibility.apply(qs, viewer, product)
    qs = filtered(FeatureFilter, qs, filters)
    if custom:
        qs = custom_fields.filter_rows(qs, custom, filters)
        terms = custom_fields.sort_terms(custom, sort)
        if terms is not None:
            return qs.order_by(*terms)
    return qs.order_by(*FEATURE_SORTS.get(sort, ("rank",)))


def feature_get(*, product: Product, user: User, pk: int) -> Feature:
    """One feature of the product, visible to `user` (Feature.DoesNotExist otherwise)."""
    qs = Feature.objects.filter(product=product).select_related("theme", "product", "owner")
    return visibility.apply(qs, viewer_for_user(user, product), product).get(pk=pk)


def top_of_backlog(*, product: Product, user: User, limit: int = 5) -> list[Feature]:
    return list(feature_list(product=product, user=user, filters={"status": "open"})[:limit])


def _story_base(product: Product) -> QuerySet[UserStory]:
    return UserStory.objects.filter(product=product).select_related(
        "product", "feature", "assignee", "sprint", "persona"
    )


def story_list(
    *, product: Product, user: User, filters: dict[str, Any] | None = None
) -> QuerySet[UserStory]:
    """The product's stories in rank order. Filters: feature (id), sprint (id, "current" or
    "none"), status, assignee ("me", a user id or "none"), updated_since (ISO 8601)."""
    qs = visibility.apply(_story_base(product), viewer_for_user(user, product), product)
    qs = filtered(StoryFilter, qs, filters or {}, user=user)
    return qs.order_by("rank")


def story_get(*, product: Product, user: User, number: int) -> UserStory:
    viewer = viewer_for_user(user, product)
    return visibility.apply(_story_base(product), viewer, product).get(number=number)


def stories_for_feature(feature: Feature, user: User | None = None) -> QuerySet[UserStory]:
    qs = (
        UserStory.objects.filter(feature=feature)
        .select_related("product", "assignee", "sprint", "persona")
        .order_by("rank")
    )
    if user is None:
        return qs
    return visibility.apply(qs, viewer_for_user(user, feature.product), feature.product)


def idea_list(
    *, product: Product, user: User, filters: dict[str, Any] | None = None
) -> QuerySet[Idea]:
    """Ideas, newest first (or most voted). Filters: status ("open" = new or under review),
    source, q, sort (new, votes)."""
    filters = filters or {}
    qs = Idea.objects.filter(product=product).select_related("submitter", "feature", "merged_into")
    qs = visibility.apply(qs, viewer_for_user(user, product), product)
    qs = filtered(IdeaFilter, qs, filters)
    if filters.get("sort") == "votes":
        return qs.order_by("-votes", "-created_at")
    return qs.order_by("-created_at", "-id")


def idea_merge_targets(idea: Idea) -> QuerySet[Idea]:
    return (
        Idea.objects.filter(product_id=idea.product_id)
        .exclude(pk=idea.pk)
        .exclude(status=IdeaStatus.MERGED)
        .order_by("title")
    )


# --- sprints ------------------------------------------------------------------------------


class SprintPoints(TypedDict):
    """What sprint_list annotates each sprint with."""

    committed_points: int
    done_points: int
    story_count: int


def sprint_list(*, product: Product) -> QuerySet[WithAnnotations[Sprint, SprintPoints]]:
    """Sprints, latest first, with committed points, done points and story counts."""
    return Sprint.objects.filter(product=product).annotate(
        committed_points=Coalesce(Sum("stories__points"), 0),
        done_points=Coalesce(Sum("stories__points", filter=Q(stories__status=StoryStatus.DONE)), 0),
        story_count=Count("stories"),
    )


def sprint_get(*, product: Product, pk: int) -> WithAnnotations[Sprint, SprintPoints]:
    return sprint_list(product=product).get(pk=pk)


def current_sprint(product: Product, today: date | None = None) -> Sprint | None:
    """The sprint running today; else the next one to start; else the latest one."""
    today = today or timezone.localdate()
    sprints = sprint_list(product=product)
    return (
        sprints.filter(start__lte=today, end__gte=today).order_by("-start").first()
        or sprints.filter(start__gt=today).order_by("start").first()
        or sprints.order_by("-start").first()
    )


def current_sprint_ids(products: QuerySet[Product], today: date | None = None) -> list[int]:
    """Each product's current sprint in one query, as backlog.selectors.current_sprint has it:
    the sprint running today; else the next to start; else the latest."""
    today = today or timezone.localdate()
    ranked = (
        Sprint.objects.filter(product=OuterRef("pk"))
        .annotate(
            running=Case(
                When(start__lte=today, end__gte=today, then=0),
                When(start__gt=today, then=1),
                default=2,
                output_field=IntegerField(),
            ),
            upcoming=Case(When(start__gt=today, then=F("start")), default=None),
        )
        .order_by("running", F("upcoming").asc(nulls_last=True), "-start", "-id")
        .values("pk")[:1]
    )
    ids = products.annotate(current=Subquery(ranked)).values_list("current", flat=True)
    return [pk for pk in ids if pk is not None]


@dataclass(frozen=True)
class VelocityPoint:
    sprint: str
    committed: int
    done: int


def velocity(product: Product, limit: int = 8, today: date | None = None) -> list[VelocityPoint]:
    """Done and committed points of the latest finished sprints, oldest first."""
    today = today or timezone.localdate()
    sprints = list(sprint_list(product=product).filter(end__lt=today).order_by("-start")[:limit])
    return [VelocityPoint(s.name, s.committed_points, s.done_points) for s in reversed(sprints)]


def average_velocity(points: list[VelocityPoint]) -> float | None:
    recent = points[-3:]
    return sum(p.done for p in recent) / len(recent) if recent else None


def board_stories(sprint: Sprint, viewer: visibility.Viewer | None) -> dict[str, list[UserStory]]:
    """The sprint's stories `viewer` sees (pm.visibility: not those of archived features for
    stakeholders), grouped into board columns by status, each in rank order."""
    columns: dict[str, list[UserStory]] = {s: [] for s in StoryStatus.values}
    stories = visibility.visible(
        UserStory.objects.filter(sprint=sprint).select_related("product", "feature", "assignee"),
        viewer,
    ).order_by("rank")
    for story in stories:
        columns[story.status].append(story)
    return columns


def plannable_stories(product: Product) -> QuerySet[UserStory]:
    """Stories not done and not in any sprint: the candidates for sprint planning."""
    return (
        _story_base(product).filter(sprint=None).exclude(status=StoryStatus.DONE).order_by("rank")
    )


def assignable_users(product: Product) -> QuerySet[User]:
    """Members who can own a story (everyone but stakeholders)."""
    return User.objects.filter(
        memberships__workspace_id=product.workspace_id,
        memberships__role__in=[Role.ADMIN, Role.PM, Role.ENGINEER],
    ).order_by("username")


class OpenWork(TypedDict):
    """What features_with_open_stories annotates each feature with."""

    open_stories: int
    open_points: int
    total_points: int


def features_with_open_stories(
    features: QuerySet[Feature],
) -> list[WithAnnotations[Feature, OpenWork]]:
    """Those of `features` with stories not done, in backlog order, each annotated with
    `open_stories`, `open_points` and `total_points` and carrying `open_story_list` (the open
    stories by number). Three queries whatever the number of features."""
    open_q = ~Q(stories__status=StoryStatus.DONE)
    return list(
        features.annotate(
            open_stories=Count("stories", filter=open_q),
            open_points=Coalesce(Sum("stories__points", filter=open_q), 0),
            total_points=Coalesce(Sum("stories__points"), 0),
        )
        .filter(open_stories__gt=0)
        .select_related("product")
        .prefetch_related(
            Prefetch(
                "stories",
                queryset=UserStory.objects.exclude(status=StoryStatus.DONE)
                .select_related("product")
                .order_by("number"),
                to_attr="open_story_list",
            )
        )
        .order_by("rank")
    )
