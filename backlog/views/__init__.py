"""Backlog pages, one module per sub-domain: ideas, the backlog and features, stories,
sprints (with their review and retrospective)."""
