"""Backlog data for the API tests, made through backlog.services like a user would."""

from datetime import timedelta

from django.utils import timezone

from backlog import services
from backlog.models import Feature, Idea, Sprint, UserStory


def feature(product, actor, **data) -> Feature:
    data.setdefault("title", "Saved searches")
    return services.feature_create(product=product, data=data, actor=actor)


def sprint(product, actor, *, offset_days: int = 0, **data) -> Sprint:
    """A two-week sprint starting `offset_days` from today (0 = running now)."""
    start = timezone.localdate() + timedelta(days=offset_days)
    data = {"name": f"Sprint {start:%d %b}", "start": start, "end": start + timedelta(days=13)}
    data.setdefault("capacity", 20)
    return services.sprint_create(product=product, data=data, actor=actor)


def story(feature_, actor, **data) -> UserStory:
    data.setdefault("title", "Save a search")
    data.setdefault("as_a", "product manager")
    data.setdefault("i_want", "to save a search")
    data.setdefault("so_that", "I can run it again")
    data.setdefault(
        "acceptance_criteria",
        [
            {"text": "Given a search, when I save it, then it is listed", "done": False},
            {"text": "Given a saved search, when I open it, then it runs", "done": False},
        ],
    )
    return services.story_create(feature=feature_, data=data, actor=actor)


def idea(product, actor, **data) -> Idea:
    data.setdefault("title", "Dark mode")
    return services.idea_create(product=product, data=data, actor=actor)
