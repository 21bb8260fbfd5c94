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


# Workspace columns added after the schemas these tests roll back to, with the values a new
# workspace gets; filled in only where the table has them at the state under test.
LATER_WORKSPACE_COLUMNS = {
    "require_two_factor": False,
    "sso_email_domains": "[]",
    "sso_default_role": "stakeholder",
}


def _workspace_and_product(cursor, n: int, now: datetime) -> tuple[int, int]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'pm_workspace'"
    )
    present = {row[0] for row in cursor.fetchall()}
    later = {k: v for k, v in LATER_WORKSPACE_COLUMNS.items() if k in present}
    ws = _insert(
        cursor, "pm_workspace", name=f"W{n}", slug=f"w{n}", time_zone="UTC",
        stakeholder_sections="[]", created_at=now, **later,
    )  # fmt: skip
    product = _insert(
        cursor, "pm_product", workspace_id=ws, name="P", key=f"PR{n}", vision="", mission="",
        target_customers="", value_proposition="", business_model="", created_at=now,
        updated_at=now, version=1,
    )  # fmt: skip
    return ws, product


def _kpi(cursor, product: int, now: datetime) -> int:
    return _insert(
        cursor, "metrics_kpi", product_id=product, name="K", description="", unit="",
        direction="higher", aggregation="sum", granularity="day", ratio_multiplier=1,
        created_at=now, updated_at=now, version=1,
    )  # fmt: skip


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
            ws, product = _workspace_and_product(c, n, now)
            objective = _insert(
                c, "pm_objective", product_id=product, title="O", description="", period="Q1",
                status="on_track", created_at=now, version=1,
            )  # fmt: skip
            kr = _insert(
                c, "pm_keyresult", objective_id=objective, description="KR", start_value=0,
                target_value=10, current_value=1, unit="", version=1,
            )  # fmt: skip
            kpi = _kpi(c, product, now)
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


def _points_by_table() -> list[tuple]:
    with connection.cursor() as c:
        c.execute(
            "SELECT tableoid::regclass::text, id, workspace_id, value FROM metrics_datapoint "
            "ORDER BY id"
        )
        return c.fetchall()


@pytest.mark.django_db(transaction=True)
def test_data_points_move_into_monthly_partitions_and_back():
    _migrate([("metrics", "0007_workspace_column")])
    try:
        now = datetime(2026, 11, 30, tzinfo=UTC)
        with connection.cursor() as c:
            ws, product = _workspace_and_product(c, 9, now)
            kpi = _kpi(c, product, now)
            for moment, value in [
                (datetime(2025, 1, 31, 23, 59, tzinfo=UTC), 1),
                (datetime(2025, 2, 1, tzinfo=UTC), 2),
                (datetime(2026, 3, 15, tzinfo=UTC), 3),
            ]:
                _insert(
                    c, "metrics_datapoint", workspace_id=ws, kpi_id=kpi, timestamp=moment,
                    value=value, dimensions="{}",
                )  # fmt: skip
        before = [row[1:] for row in _points_by_table()]
        _migrate([("metrics", "0008_datapoint_partitions")])
        after = _points_by_table()
        assert [row[1:] for row in after] == before  # same ids, workspaces and values
        assert [row[0] for row in after] == [
            "metrics_datapoint_p2025_01",
            "metrics_datapoint_p2025_02",
            "metrics_datapoint_p2026_03",
        ]
        from metrics.models import DataPoint

        # The sequence carried over; the upsert's unique key works on the partitioned table.
        new = DataPoint.objects.create(
            workspace_id=ws, kpi_id=kpi, timestamp=datetime(2026, 3, 16, tzinfo=UTC), value=4
        )
        assert new.pk > max(row[1] for row in after)
        with connection.cursor() as c:
            c.execute(
                "INSERT INTO metrics_datapoint (workspace_id, kpi_id, timestamp, value, dimensions)"
                " VALUES (%s, %s, %s, 9, '{}') ON CONFLICT (kpi_id, timestamp, dimensions)"
                " DO UPDATE SET value = excluded.value",
                [ws, kpi, datetime(2026, 3, 16, tzinfo=UTC)],
            )
            c.execute("SELECT count(*), max(value) FROM metrics_datapoint")
            assert c.fetchone() == (4, 9)  # replaced, not added
        _migrate([("metrics", "0007_workspace_column")])
        assert {row[0] for row in _points_by_table()} == {"metrics_datapoint"}
        assert len(_points_by_table()) == 4
    finally:
        call_command("migrate", verbosity=0)
