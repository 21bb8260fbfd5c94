"""Signal receivers: the backlog tells us about changes to what our rows point at."""

from feedback.services.portal import merge_portal_and_insights


def on_idea_merged(sender, *, source, target, actor=None, **kwargs) -> dict[str, int]:
    """An idea was merged into another: its insights and portal votes move along. Tells the
    backlog how many voters had voted on both, so it counts them once — and says so."""
    return {"duplicate_voters": merge_portal_and_insights(source=source, target=target)}


# --- embeddings: a saved row is embedded again once its transaction commits --------------------


def _kind_of(sender) -> str:
    from backlog.models import Feature, Idea
    from feedback.models import FeedbackItem, Insight, PortalPost

    kinds = {Feature: "feature", Idea: "idea", FeedbackItem: "feedback", Insight: "insight"}
    return {**kinds, PortalPost: "post"}[sender]


def on_row_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:  # fixtures
        return
    from feedback import embeddings

    embeddings.note(_kind_of(sender), instance.pk)


def on_row_deleted(sender, instance, **kwargs) -> None:
    from feedback import embeddings
    from feedback.models import Insight

    kind = _kind_of(sender)
    product_id = (
        instance.feedback_item.product_id if isinstance(instance, Insight) else instance.product_id
    )
    embeddings.forget(kind, instance.pk, product_id)
