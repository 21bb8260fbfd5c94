"""What every backlog page shares: the page context, the permission-scoped fetches that
404, score breakdowns and the history panel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404

from backlog import scoring, selectors
from backlog.choices import Framework
from backlog.models import BacklogSettings, Feature, Idea, Sprint, UserStory
from pm import visibility
from pm.http import AuthedHttpRequest
from pm.models import Product
from pm.selectors import activity_for_object
from pm.views_support import product_page
from pm.visibility import Section, viewer_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def _context(
    request: AuthedHttpRequest, product: Product, tab: str, **extra: Any
) -> dict[str, Any]:
    """pm's product page context plus the product's backlog settings (framework, reach)."""
    settings = selectors.backlog_settings(product)
    return product_page(
        request,
        product,
        tab=tab,
        browses_backlog=(viewer := viewer_of(product)) is not None
        and viewer.browses(Section.BACKLOG),
        settings=settings,
        framework=settings.framework,
        framework_label=Framework(settings.framework).label,
        reach_locked=settings.reach_source != BacklogSettings.ReachSource.MANUAL,
        **extra,
    )


def _feature_or_404(request, product: Product, pk: int) -> Feature:
    try:
        return selectors.feature_get(product=product, user=request.user, pk=pk)
    except Feature.DoesNotExist:
        raise Http404("No such feature.") from None


def _story_or_404(request, product: Product, number: int) -> UserStory:
    try:
        return selectors.story_get(product=product, user=request.user, number=number)
    except UserStory.DoesNotExist:
        raise Http404("No such story.") from None


def _sprint_or_404(product: Product, pk: int) -> WithAnnotations[Sprint, selectors.SprintPoints]:
    try:
        return selectors.sprint_get(product=product, pk=pk)
    except Sprint.DoesNotExist:
        raise Http404("No such sprint.") from None


def _idea_or_404(product: Product, pk: int) -> Idea:
    """The idea as the reader may see it (pm.visibility: rows and fields)."""
    qs = Idea.objects.select_related("product").filter(product=product)
    try:
        return visibility.apply(qs, viewer_of(product), product).get(pk=pk)
    except Idea.DoesNotExist:
        raise Http404("No such idea.") from None


def _score(feature, framework: str, current: str):
    """The feature's score with its breakdown — or, when an input is hidden from the reader
    (reach that is customers' ARR), the stored score alone (of the product's `current`
    framework): the score, never the inputs."""
    if any(visibility.is_redacted(feature, name) for name in scoring.INPUTS[Framework(framework)]):
        value = feature.score if framework == current else None
        return scoring.Score(
            framework,
            value,
            scoring.FORMULAS[Framework(framework)],
            reason="" if value is not None else "Computed from inputs only the team sees.",
        )
    return scoring.score_feature(feature, framework)


def _with_scores(features, framework: str, internal: bool):
    """Attach each feature's score breakdown (pure Python, no queries). Stakeholders get no
    ROI breakdown: it would spell out cost and expected revenue."""
    for feature in features:
        if framework == Framework.ROI and not internal:
            feature.score_info = None
        else:
            feature.score_info = _score(feature, framework, framework)
    return features


# Bookkeeping fields that would only clutter a history entry.
_HISTORY_HIDDEN = {"rank", "score", "demand_customers", "demand_arr", "version", "number"}


def _history(instance, viewer, limit: int = 30) -> list:
    """The object's activity entries as the reader may see them (pm.visibility: internal
    fields redacted), newest first, each with `shown`: its changes minus bookkeeping fields."""
    entries = activity_for_object(instance, viewer, limit=limit)
    for entry in entries:
        entry.shown = {
            k: [_readable(v) for v in pair]
            for k, pair in entry.changes.items()
            if k not in _HISTORY_HIDDEN
        }
    return entries


def _readable(value):
    """Acceptance criteria (a list of {text, done}) as "3 criteria, 1 done"."""
    if isinstance(value, list) and all(isinstance(c, dict) for c in value):
        done = sum(1 for c in value if c.get("done"))
        return f"{len(value)} criteri{'on' if len(value) == 1 else 'a'}, {done} done"
    return value


def _int_or_none(value) -> int | None:
    """An integer the database can hold (a 64-bit one), or None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -(2**63) <= number < 2**63 else None
