"""PostgreSQL only: a stored full-text vector of each feedback item's text, kept by the database
itself (a generated column) with a GIN index, so "similar feedback" ranks thousands of items
without re-parsing their text on every look. The ORM never writes it and the model does not
declare it (SQLite, the trial mode, has no tsvector); feedback.selectors reads it on PostgreSQL.
"""

from django.db import migrations

COLUMN = "search_vector"
TABLE = "feedback_feedbackitem"


def add_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {TABLE} ADD COLUMN {COLUMN} tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(content, ''))) STORED"
    )
    schema_editor.execute(
        f"CREATE INDEX feedback_item_search ON {TABLE} USING gin ({COLUMN})"
    )


def drop_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {COLUMN}")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(add_vector, drop_vector, elidable=False)]
