"""Migrations that rewrite existing rows, run on data: roll the apps back to before them, write
rows the old schema's way, migrate forward and look at what became of the rows."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_WORKSPACE_COLUMNS = [
    ("pm", "0008_workspace_stakeholder_sections"),
    ("feedback", "0006_status_counts_index"),
    ("metrics", "0006_points_upload"),
]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _insert(cursor, table: str, **values) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    cursor.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",  # noqa: S608
        list(values.values()),
    )
    return cursor.fetchone()[0]


def _old_rows() -> dict:
    """Two workspaces' rows as the schema before the workspace columns stored them."""
    now = datetime(2026, 11, 30, tzinfo=UTC)
    ids: dict = {}
    with connection.cursor() as c:
        user = _insert(
            c, "auth_user", username="old", password="x", is_superuser=False, first_name="",
            last_name="", email="", is_staff=False, is_active=True, date_joined=now,
        )  # fmt: skip
        for n in (1, 2):
            ws = _insert(
                c, "pm_workspace", name=f"W{n}", slug=f"w{n}", time_zone="UTC",
                stakeholder_sections="[]", created_at=now,
            )  # fmt: skip
            product = _insert(
                c, "pm_product", workspace_id=ws, name="P", key=f"PR{n}", vision="", mission="",
                target_customers="", value_proposition="", business_model="", created_at=now,
                updated_at=now, version=1,
            )  # fmt: skip
            objective = _insert(
                c, "pm_objective", product_id=product, title="O", description="", period="Q1",
                status="on_track", created_at=now, version=1,
            )  # fmt: skip
            kr = _insert(
                c, "pm_keyresult", objective_id=objective, description="KR", start_value=0,
                target_value=10, current_value=1, unit="", version=1,
            )  # fmt: skip
            kpi = _insert(
                c, "metrics_kpi", product_id=product, name="K", description="", unit="",
                direction="higher", aggregation="sum", granularity="day", ratio_multiplier=1,
                created_at=now, updated_at=now, version=1,
            )  # fmt: skip
            point = _insert(
                c, "metrics_datapoint", kpi_id=kpi, timestamp=now, value=n, dimensions="{}",
            )  # fmt: skip
            link = _insert(c, "metrics_keyresultkpi", key_result_id=kr, kpi_id=kpi, created_at=now)
            _insert(c, "pm_membership", workspace_id=ws, user_id=user, role="pm", created_at=now)
            note = _insert(
                c, "pm_notification", user_id=user, product_id=product if n == 2 else None,
                kind="mention", message="hi", url="", created_at=now,
            )  # fmt: skip
            ids[n] = {"ws": ws, "kr": kr, "point": point, "link": link, "note": note}
    return ids


def _workspace_of(table: str, pk: int) -> int:
    with connection.cursor() as c:
        c.execute(f"SELECT workspace_id FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return c.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_workspace_columns_are_filled_from_the_rows_parents():
    _migrate(BEFORE_WORKSPACE_COLUMNS)
    try:
        ids = _old_rows()
        _migrate([("pm", "0009_workspace_column"), ("metrics", "0007_workspace_column")])
        for n in (1, 2):
            row = ids[n]
            assert _workspace_of("pm_keyresult", row["kr"]) == row["ws"]
            assert _workspace_of("metrics_datapoint", row["point"]) == row["ws"]
            assert _workspace_of("metrics_keyresultkpi", row["link"]) == row["ws"]
        # About no product: the user's first workspace; about a product: the product's.
        assert _workspace_of("pm_notification", ids[1]["note"]) == ids[1]["ws"]
        assert _workspace_of("pm_notification", ids[2]["note"]) == ids[2]["ws"]
    finally:
        call_command("migrate", verbosity=0)
