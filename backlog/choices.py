from django.db import models


class IdeaStatus(models.TextChoices):
    NEW = "new", "New"
    UNDER_REVIEW = "under_review", "Under review"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    MERGED = "merged", "Merged"


class IdeaSource(models.TextChoices):
    INTERNAL = "internal", "Internal"
    CUSTOMER = "customer", "Customer"
    SALES = "sales", "Sales"
    SUPPORT = "support", "Support"
    PORTAL = "portal", "Ideas portal"
    RESEARCH = "research", "Research"
    OTHER = "other", "Other"


class FeatureKind(models.TextChoices):
    FEATURE = "feature", "Feature"
    IMPROVEMENT = "improvement", "Improvement"
    BUG = "bug", "Bug"
    TECH_DEBT = "tech_debt", "Tech debt"


class FeatureStatus(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    REFINED = "refined", "Refined"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    ARCHIVED = "archived", "Archived"


class MoSCoW(models.TextChoices):
    MUST = "must", "Must have"
    SHOULD = "should", "Should have"
    COULD = "could", "Could have"
    WONT = "wont", "Won't have"


class Framework(models.TextChoices):
    RICE = "rice", "RICE"
    ICE = "ice", "ICE"
    WSJF = "wsjf", "WSJF"
    VALUE_EFFORT = "value_effort", "Value ÷ effort"
    ROI = "roi", "ROI"


class StoryStatus(models.TextChoices):
    TODO = "todo", "To do"
    READY = "ready", "Ready"
    IN_PROGRESS = "in_progress", "In progress"
    IN_REVIEW = "in_review", "In review"
    DONE = "done", "Done"


STORY_POINTS = [(n, str(n)) for n in (0, 1, 2, 3, 5, 8, 13, 21)]


class CustomFieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    SELECT = "select", "Single select"
    MULTI_SELECT = "multi_select", "Multi select"
    DATE = "date", "Date"
    USER = "user", "Member"
    URL = "url", "Link (URL)"


class CustomFieldTarget(models.TextChoices):
    """What a custom field is on. Feedback items live in the feedback app; their field
    definitions live here with the others so one settings page serves all four."""

    FEATURE = "feature", "Features"
    IDEA = "idea", "Ideas"
    STORY = "story", "User stories"
    FEEDBACK = "feedback", "Feedback items"
