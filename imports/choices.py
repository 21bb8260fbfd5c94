from django.db import models


class Tool(models.TextChoices):
    """The export formats Lodestar reads, one per kind of file a tool produces."""

    JIRA = "jira", "Jira — issues CSV"
    TRELLO = "trello", "Trello — board JSON"
    PRODUCTBOARD_FEATURES = "pb_features", "Productboard — features CSV"
    PRODUCTBOARD_NOTES = "pb_notes", "Productboard — notes CSV"
    LINEAR = "linear", "Linear — issues CSV"


class Action(models.TextChoices):
    """What an import does with one record of the file."""

    CREATE = "create", "New"
    UPDATE = "update", "Update"
    UNCHANGED = "unchanged", "Unchanged, skipped"
    IGNORE = "ignore", "Not imported"
