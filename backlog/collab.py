"""What the backlog gives global search and comments (pm.search, pm.collab): features, stories
and ideas. Registered from BacklogConfig.ready()."""

from django.urls import reverse

from pm.registry import Commentable, SearchHit, SearchKind, registry
from pm.search import STORY_KEY, Scope, model_kind
from pm.visibility import visible


def _feature_url(feature, scope=None) -> str:
    return reverse("feature_detail", args=[feature.product.key, feature.pk])


def _story_url(story, scope=None) -> str:
    return reverse("story_detail", args=[story.product.key, story.number])


def _idea_url(idea, scope=None) -> str:
    return reverse("idea_detail", args=[idea.product.key, idea.pk])


def _story_jump(scope: Scope) -> SearchHit | None:
    """LOD-42: that story, if the reader sees it (one query)."""
    from backlog.models import UserStory

    match = STORY_KEY.match(scope.text or "")
    if not match:
        return None
    stories = UserStory.objects.filter(
        product__workspace_id=scope.workspace.pk,
        product__key=match[1].upper(),
        number=int(match[2]),
    )
    story = (
        visible(stories, scope.viewer)
        .select_related("product")
        .only("id", "number", "title", "status", "product__key")
        .first()
    )
    if story is None:
        return None
    return SearchHit(
        kind="story",
        title=f"{story.key} {story.title}",
        url=_story_url(story),
        detail=f"User story · {story.get_status_display()}",
        rank=1.0,
    )


def _assignee(story) -> list[int]:
    return [story.assignee_id] if story.assignee_id else []


def _owner(feature) -> list[int]:
    return [feature.owner_id] if feature.owner_id else []


def register() -> None:
    registry.add_commentable(
        Commentable("feature", "backlog.Feature", "feature", _feature_url, str, _owner)
    )
    registry.add_commentable(
        Commentable("story", "backlog.UserStory", "story", _story_url, str, _assignee)
    )
    registry.add_commentable(
        Commentable("idea", "backlog.Idea", "idea", _idea_url, lambda idea: idea.title)
    )
    registry.add_search_kind(
        model_kind(
            key="feature",
            label="Features",
            order=10,
            model="backlog.Feature",
            fields=("title", "description"),
            stored=True,
            title=lambda f: f.title,
            url=_feature_url,
            detail=lambda f: f"{f.product.key} · {f.get_status_display()}",
            only=("id", "title", "status", "product__key"),
        )
    )
    stories = model_kind(
        key="story",
        label="User stories",
        order=20,
        model="backlog.UserStory",
        fields=("title",),
        stored=True,
        title=lambda s: f"{s.key} {s.title}",
        url=_story_url,
        detail=lambda s: f"User story · {s.get_status_display()}",
        only=("id", "number", "title", "status", "product__key"),
    )
    registry.add_search_kind(
        SearchKind(
            key=stories.key,
            label=stories.label,
            order=stories.order,
            search=stories.search,
            jump=_story_jump,
        )
    )
    registry.add_search_kind(
        model_kind(
            key="idea",
            label="Ideas",
            order=30,
            model="backlog.Idea",
            fields=("title", "description"),
            stored=True,
            title=lambda i: i.title,
            url=_idea_url,
            detail=lambda i: f"Idea · {i.get_status_display()} · {i.votes} votes",
            only=("id", "title", "status", "votes", "product__key"),
        )
    )
