"""Data points, rollups and the other KPI-owned rows record their workspace (pm.tenancy)."""

from django.db import migrations

from pm.tenancy import add_workspace_column


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0006_points_upload"),
        ("pm", "0009_workspace_column"),
    ]

    operations = [
        *add_workspace_column(
            "datapoint",
            "metrics_datapoint",
            "SELECT p.workspace_id FROM metrics_kpi x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.kpi_id",
        ),
        *add_workspace_column(
            "rollup",
            "metrics_rollup",
            "SELECT p.workspace_id FROM metrics_kpi x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.kpi_id",
        ),
        *add_workspace_column(
            "hourrollup",
            "metrics_hourrollup",
            "SELECT p.workspace_id FROM metrics_kpi x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.kpi_id",
        ),
        *add_workspace_column(
            "dirtyrange",
            "metrics_dirtyrange",
            "SELECT p.workspace_id FROM metrics_kpi x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.kpi_id",
        ),
        *add_workspace_column(
            "pointsupload",
            "metrics_pointsupload",
            "SELECT p.workspace_id FROM metrics_kpi x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.kpi_id",
        ),
        *add_workspace_column(
            "keyresultkpi",
            "metrics_keyresultkpi",
            "SELECT p.workspace_id FROM metrics_kpi x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.kpi_id",
        ),
        *add_workspace_column(
            "variant",
            "metrics_variant",
            "SELECT p.workspace_id FROM metrics_experiment x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.experiment_id",
        ),
        *add_workspace_column(
            "funnelstep",
            "metrics_funnelstep",
            "SELECT p.workspace_id FROM metrics_funnel x JOIN pm_product p ON p.id = x.product_id "
            "WHERE x.id = t.funnel_id",
        ),
    ]
