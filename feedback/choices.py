from django.db import models


class Source(models.TextChoices):
    INTERVIEW = "interview", "Interview"
    SURVEY = "survey", "Survey"
    SUPPORT_TICKET = "support_ticket", "Support ticket"
    SALES_CALL = "sales_call", "Sales call"
    USABILITY_TEST = "usability_test", "Usability test"
    APP_REVIEW = "app_review", "App review"
    PORTAL = "portal", "Ideas portal"
    EMAIL = "email", "E-mail"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class FeedbackStatus(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"
    LINKED = "linked", "Linked"
    ARCHIVED = "archived", "Archived"


# The inbox shows new items first, then the rest by how much attention they still need.
STATUS_ORDER = {
    FeedbackStatus.NEW: 0,
    FeedbackStatus.TRIAGED: 1,
    FeedbackStatus.LINKED: 2,
    FeedbackStatus.ARCHIVED: 3,
}


def status_rank() -> models.Case:
    """The inbox order of a status as an SQL expression. The inbox sorts on it and an index is
    built on it (feedback_inbox_order): both must use this very expression."""
    return models.Case(
        *[models.When(status=s, then=models.Value(rank)) for s, rank in STATUS_ORDER.items()],
        output_field=models.IntegerField(),
    )


class Importance(models.TextChoices):
    NICE_TO_HAVE = "nice_to_have", "Nice to have"
    IMPORTANT = "important", "Important"
    CRITICAL = "critical", "Critical"


class StudyKind(models.TextChoices):
    INTERVIEW = "interview", "Interviews"
    SURVEY = "survey", "Survey"
    USABILITY_TEST = "usability_test", "Usability test"


# A study's findings are feedback items whose source is the study's kind.
STUDY_SOURCE: dict[str, str] = {
    StudyKind.INTERVIEW: Source.INTERVIEW,
    StudyKind.SURVEY: Source.SURVEY,
    StudyKind.USABILITY_TEST: Source.USABILITY_TEST,
}


class StudyStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"


class PostStatus(models.TextChoices):
    PENDING = "pending", "Awaiting moderation"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
