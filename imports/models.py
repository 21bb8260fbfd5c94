"""Files exported by other tools (Jira, Trello, Productboard, Linear) on their way into a
product, and the record of which of our rows came from which of their records."""

from django.conf import settings
from django.db import models

from backlog.models import Feature, Idea, UserStory
from feedback.models import FeedbackItem
from imports.choices import Tool
from pm.choices import ImportStatus
from pm.models import Product
from pm.visibility import Rules, team_only


class ToolImport(models.Model):
    """An uploaded export file with the mapping chosen for it. The decoded text is kept, so the
    preview and the import read exactly the same records."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tool_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tool = models.CharField(max_length=20, choices=Tool.choices)
    filename = models.CharField(max_length=200)
    encoding = models.CharField(max_length=20)
    content = models.TextField()
    content_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the text.")
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Their columns and statuses → ours (imports.formats)."
    )
    row_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.filename}"

    @property
    def stalled(self) -> bool:
        from pm.background import stalled

        return stalled(self.status, self.queued_at)


class ImportedRecord(models.Model):
    """One record of another tool (a Jira issue key, a Trello card id…) and the row it became
    here: how a second import of the same export updates or skips instead of duplicating. The
    fingerprint is of the record as the tool exported it, so an unchanged record is left alone
    (with whatever was edited here since) and a changed one is updated. Deleting our row deletes
    this link, and the next import creates the row again."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    tool = models.CharField(max_length=20, choices=Tool.choices)
    external_key = models.CharField(max_length=200)
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    story = models.ForeignKey(
        UserStory, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    feedback_item = models.ForeignKey(
        FeedbackItem, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    fingerprint = models.CharField(max_length=64)
    last_import = models.ForeignKey(
        ToolImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    visibility_rules = Rules(rows=team_only)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "tool", "external_key"], name="imported_record_unique"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(feature__isnull=False)
                    | models.Q(idea__isnull=False)
                    | models.Q(story__isnull=False)
                    | models.Q(feedback_item__isnull=False)
                ),
                name="imported_record_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_tool_display()} {self.external_key}"

    @property
    def target(self) -> models.Model | None:
        return self.feature or self.idea or self.story or self.feedback_item
