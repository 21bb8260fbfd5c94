"""Signal receivers: the backlog tells us about changes to what our rows point at."""

from feedback import services


def on_idea_merged(sender, *, source, target, actor=None, **kwargs) -> dict[str, int]:
    """An idea was merged into another: its insights and portal votes move along. Tells the
    backlog how many voters had voted on both, so it counts them once — and says so."""
    return {"duplicate_voters": services.merge_portal_and_insights(source=source, target=target)}
