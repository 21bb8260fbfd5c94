"""Every tenant table carries its workspace (tests/test_tenant_columns.py), so that sharding by
workspace later (Citus, docs/scaling.md) is a matter of distributing tables, not of rewriting
them. This module holds the migration steps that add the column to an existing table."""

from django.db import migrations, models


def immediate_constraints(apps, schema_editor) -> None:
    # The backfill touches rows with deferred foreign keys; PostgreSQL refuses to ALTER a table
    # with pending trigger events in the same transaction unless they fire now.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def add_workspace_column(model_name: str, table: str, workspace_of_row: str) -> list:
    """Operations that add a required, indexed `workspace` foreign key to `model_name`, filled
    for the existing rows by `workspace_of_row`: a scalar SQL subquery on the row (the table is
    `t`), e.g. "SELECT p.workspace_id FROM pm_product p WHERE p.id = t.product_id". Portable
    (PostgreSQL and SQLite)."""

    def field(null: bool) -> models.ForeignKey:
        return models.ForeignKey(
            null=null,
            on_delete=models.deletion.CASCADE,
            related_name="+",
            to="pm.workspace",
        )

    return [
        migrations.AddField(model_name=model_name, name="workspace", field=field(True)),
        migrations.RunPython(immediate_constraints, migrations.RunPython.noop),
        migrations.RunSQL(
            f"UPDATE {table} AS t SET workspace_id = ({workspace_of_row})",  # noqa: S608
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(model_name=model_name, name="workspace", field=field(False)),
    ]
