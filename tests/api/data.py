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


def fill(product, actor, n: int) -> None:
    """`n` each of products (in the product's workspace), features, stories (all in the
    current sprint, assigned to `actor`), sprints and ideas, mostly in bulk — for query counts
    and benchmarks, where making each through its service would take too long."""
    from backlog.ranking import keys_between
    from backlog.services import backlog_settings_get
    from pm.models import Product

    Product.objects.bulk_create(
        Product(workspace=product.workspace, name=f"Product {i}", key=f"PX{i:05d}")
        for i in range(n - 1)
    )
    current = sprint(product, actor)
    Sprint.objects.bulk_create(
        Sprint(
            product=product,
            name=f"Old {i}",
            start=current.start - timedelta(days=14 * (i + 1)),
            end=current.start - timedelta(days=14 * i + 1),
            capacity=10,
        )
        for i in range(n - 1)
    )
    parent = feature(product, actor, title="Bulk parent")
    Feature.objects.bulk_create(
        Feature(product=product, title=f"Feature {i}", rank=key, score=i)
        for i, key in enumerate(keys_between(parent.rank, None, n - 1))
    )
    settings = backlog_settings_get(product)
    start = settings.last_story_number
    last = UserStory.objects.filter(product=product).order_by("-rank").first()
    UserStory.objects.bulk_create(
        UserStory(
            product=product,
            feature=parent,
            number=start + i + 1,
            title=f"Story {i}",
            as_a="user",
            i_want="something",
            so_that="it helps",
            acceptance_criteria=[{"text": "Given, when, then", "done": i % 2 == 0}],
            points=3,
            status="ready",
            assignee=actor,
            sprint=current,
            rank=key,
        )
        for i, key in enumerate(keys_between(last.rank if last else None, None, n))
    )
    settings.last_story_number = start + n
    settings.save(update_fields=["last_story_number"])
    Idea.objects.bulk_create(Idea(product=product, title=f"Idea {i}") for i in range(n))
