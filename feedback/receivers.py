"""Signal receivers: the backlog tells us about changes to what our rows point at."""

from feedback import services


def on_idea_merged(sender, *, source, target, actor=None, **kwargs) -> None:
    """An idea was merged into another: its insights and portal votes move along."""
    services.merge_portal_and_insights(source=source, target=target)
