"""What the roadmap gives global search and comments (pm.search, pm.collab): initiatives and
releases. Registered from RoadmapConfig.ready()."""

from django.urls import reverse

from pm.registry import Commentable, registry
from pm.search import model_kind


def _initiative_url(initiative, scope=None) -> str:
    return reverse("initiative_detail", args=[initiative.product.key, initiative.pk])


def _release_url(release, scope=None) -> str:
    return reverse("releases", args=[release.product.key]) + f"#release-{release.pk}"


def register() -> None:
    registry.add_commentable(
        Commentable(
            "initiative", "roadmap.Initiative", "initiative", _initiative_url, lambda i: i.title
        )
    )
    registry.add_search_kind(
        model_kind(
            key="initiative",
            label="Initiatives",
            order=60,
            model="roadmap.Initiative",
            fields=("title", "description"),
            title=lambda i: i.title,
            url=_initiative_url,
            detail=lambda i: f"Initiative · {i.get_horizon_display()} · {i.get_status_display()}",
            only=("id", "title", "horizon", "status", "product__key"),
        )
    )
    registry.add_search_kind(
        model_kind(
            key="release",
            label="Releases",
            order=70,
            model="roadmap.Release",
            fields=("name", "notes"),
            title=lambda r: r.name,
            url=_release_url,
            detail=lambda r: f"Release · {r.target_date:%d %b %Y}",
            only=("id", "name", "target_date", "product__key"),
        )
    )
