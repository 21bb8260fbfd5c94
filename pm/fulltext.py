"""Stored full-text vectors for migrations: a generated `search_vector` tsvector column with a
GIN index, PostgreSQL only (SQLite, the trial mode, has no tsvector; the models do not declare
the column, and readers use it through pm.search / feedback.selectors on PostgreSQL)."""

from django.db import migrations


def stored_vector(table: str, index: str, expression: str) -> migrations.RunPython:
    """A migration operation adding `table.search_vector` generated from `expression`."""

    def add(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        schema_editor.execute(f"CREATE INDEX {index} ON {table} USING gin (search_vector)")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")

    return migrations.RunPython(add, drop, elidable=False)
