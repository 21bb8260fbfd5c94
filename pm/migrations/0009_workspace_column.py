"""Key results and notifications record their workspace (pm.tenancy)."""

from django.db import migrations

from pm.tenancy import add_workspace_column


class Migration(migrations.Migration):
    dependencies = [("pm", "0008_workspace_stakeholder_sections")]

    operations = [
        *add_workspace_column(
            "keyresult",
            "pm_keyresult",
            "SELECT p.workspace_id FROM pm_objective o JOIN pm_product p ON p.id = o.product_id "
            "WHERE o.id = t.objective_id",
        ),
        # A notification about no product goes to its user's first workspace; one whose user
        # belongs to none could never be shown in a workspace and is dropped.
        migrations.RunSQL(
            "DELETE FROM pm_notification WHERE product_id IS NULL AND user_id NOT IN "
            "(SELECT user_id FROM pm_membership)",
            migrations.RunSQL.noop,
        ),
        *add_workspace_column(
            "notification",
            "pm_notification",
            "SELECT COALESCE((SELECT p.workspace_id FROM pm_product p WHERE p.id = t.product_id), "
            "(SELECT MIN(m.workspace_id) FROM pm_membership m WHERE m.user_id = t.user_id))",
        ),
    ]
