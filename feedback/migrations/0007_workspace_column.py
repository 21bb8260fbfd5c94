"""Insights and portal votes record their workspace (pm.tenancy)."""

from django.db import migrations

from pm.tenancy import add_workspace_column


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0006_status_counts_index"),
        ("pm", "0009_workspace_column"),
    ]

    operations = [
        *add_workspace_column(
            "insight",
            "feedback_insight",
            "SELECT p.workspace_id FROM feedback_feedbackitem f "
            "JOIN pm_product p ON p.id = f.product_id WHERE f.id = t.feedback_item_id",
        ),
        *add_workspace_column(
            "portalvote",
            "feedback_portalvote",
            "SELECT p.workspace_id FROM feedback_portalpost f "
            "JOIN pm_product p ON p.id = f.product_id WHERE f.id = t.post_id",
        ),
    ]
