"""A big customer's workspace: how fast are the pages? Fills a throwaway database with one
product's features, ideas, stories, customers and feedback (ORM bulk_create for the backlog,
bulk SQL for the feedback), then prints for each page the median server time (in-process,
Django test client, as a signed-in PM), its query count and its HTML size.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/scale.py
    … bench/scale.py --size full    # 10,000 features, 50,000 stories, 100,000 feedback items,
                                    # 20,000 customers (issue 15's volume; takes a while)

The default (a tenth of that) runs in a few minutes on a busy 2-core machine. Goals (issue 15):
every page ≤ 150 ms and ≤ 150 KiB; a triage action ≤ 100 ms.
"""

import argparse
import statistics
import time

import _common
from django.db import connection

SIZES = {
    "small": {"features": 1_000, "ideas": 500, "stories": 5_000, "customers": 2_000,
              "feedback": 10_000, "kpi points": 200_000, "initiatives": 200, "sprints": 30},
    "full": {"features": 10_000, "ideas": 2_000, "stories": 50_000, "customers": 20_000,
             "feedback": 100_000, "kpi points": 2_000_000, "initiatives": 200, "sprints": 100},
}  # fmt: skip
KPIS = 20  # the KPI points spread over this many KPIs, a year of them each
WORDS = [
    "export", "jira", "sync", "slow", "dashboard", "sso", "okta", "saml", "dark", "mode",
    "mobile", "offline", "api", "webhook", "search", "filter", "report", "csv", "excel",
    "roadmap", "sprint", "burndown", "permissions", "audit", "log", "billing", "invoice",
]  # fmt: skip


def fill(size: dict):
    from django.contrib.auth.models import User

    from backlog.models import BacklogSettings, Feature, Idea, UserStory
    from backlog.ranking import keys_between
    from pm.models import Membership, Product, Workspace

    workspace = Workspace.objects.create(name="Big customer", slug="big")
    product = Product.objects.create(workspace=workspace, name="Big", key="BIG")
    pm = User.objects.create_user("pm", password="x")  # noqa: S106
    Membership.objects.create(workspace=workspace, user=pm, role="pm")

    def words(i: int, n: int = 3) -> str:
        return " ".join(WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(n))

    Feature.objects.bulk_create(
        (
            Feature(product=product, title=f"Feature {i}: {words(i)}", rank=rank, owner=pm,
                    status=("candidate", "planned", "in_progress", "shipped")[i % 4])
            for i, rank in enumerate(keys_between(None, None, size["features"]))
        ),
        batch_size=2000,
    )  # fmt: skip
    Idea.objects.bulk_create(
        (Idea(product=product, title=f"Idea {i}: {words(i, 4)}") for i in range(size["ideas"])),
        batch_size=2000,
    )
    feature_ids = list(Feature.objects.filter(product=product).values_list("id", flat=True))
    UserStory.objects.bulk_create(
        (
            UserStory(product=product, feature_id=feature_ids[i % len(feature_ids)], number=i + 1,
                      rank=rank,
                      title=f"Story {i + 1} {words(i)}", as_a="PM", i_want=words(i, 6),
                      so_that=words(i + 1, 6), acceptance_criteria=[])
            for i, rank in enumerate(keys_between(None, None, size["stories"]))
        ),
        batch_size=2000,
    )  # fmt: skip
    BacklogSettings.objects.update_or_create(
        product=product, defaults={"last_story_number": size["stories"]}
    )
    fill_delivery(product, pm, size)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO feedback_customer
                   (workspace_id, name, segment, plan, arr, contact, version, created_at,
                    updated_at)
               SELECT %s, 'Customer ' || g, (ARRAY['SMB','Mid-market','Enterprise'])[g %% 3 + 1],
                      'Pro', (g %% 500) * 1000, '', 1, now(), now()
               FROM generate_series(1, %s) g""",
            [workspace.pk, size["customers"]],
        )
        cursor.execute(
            """INSERT INTO feedback_feedbackitem
                   (product_id, customer_id, source, content, sentiment, received_at, status,
                    version, created_at, updated_at)
               SELECT %s, c.ids[g %% array_length(c.ids, 1) + 1],
                      (ARRAY['email','call','survey','support'])[g %% 4 + 1],
                      'Feedback ' || g || ': we need ' || w.words[g %% 20 + 1] || ' and '
                        || w.words[g %% 7 + 1] || ', please; it costs us hours every week.',
                      (ARRAY['positive','neutral','negative'])[g %% 3 + 1],
                      now() - (g || ' minutes')::interval,
                      (ARRAY['new','new','triaged','linked','archived'])[g %% 5 + 1],
                      1, now(), now()
               FROM generate_series(1, %s) g,
                    (SELECT array_agg(id) ids FROM feedback_customer WHERE workspace_id = %s) c,
                    (SELECT %s::text[] words) w""",
            [product.pk, size["feedback"], workspace.pk, WORDS],
        )
    fill_kpis(product, pm, size)
    _common.analyze()
    return product, pm


def fill_delivery(product, pm, size: dict) -> None:
    """Sprints (two-week, the latest running today) with a share of the stories each, themes,
    objectives, initiatives on the roadmap and releases, through the services."""
    from datetime import timedelta

    from django.utils import timezone

    from backlog import services as backlog_services
    from backlog.models import Sprint, UserStory
    from pm.models import Objective, StrategicTheme
    from roadmap import services as roadmap_services
    from roadmap.choices import Horizon, InitiativeStatus, Visibility

    today = timezone.localdate()
    sprints = []
    for n in range(size["sprints"]):
        start = today - timedelta(days=14 * (size["sprints"] - 1 - n) + 3)
        sprints.append(
            backlog_services.sprint_create(
                product=product,
                data={"name": f"Sprint {n + 1}", "start": start,
                      "end": start + timedelta(days=13), "capacity": 40},
                actor=pm,
            )
        )  # fmt: skip
    # Ten stories per sprint, the rest in the backlog: what a team plans, not all 50,000.
    story_ids = list(
        UserStory.objects.filter(product=product).order_by("rank").values_list("id", flat=True)
    )
    for n, sprint in enumerate(sprints):
        UserStory.objects.filter(pk__in=story_ids[n * 10 : n * 10 + 10]).update(sprint=sprint)
    assert Sprint.objects.filter(product=product).count() == size["sprints"]
    themes = [StrategicTheme.objects.create(product=product, name=f"Theme {i}") for i in range(6)]
    objectives = [
        Objective.objects.create(product=product, title=f"Objective {i}", period="2027")
        for i in range(8)
    ]
    horizons, statuses = list(Horizon), list(InitiativeStatus)
    month = today.replace(day=1)
    for i in range(size["initiatives"]):
        start = (month + timedelta(days=31 * (i % 18) - 90)).replace(day=1)
        roadmap_services.initiative_create(
            product=product,
            data={"title": f"Initiative {i}: {' '.join(WORDS[i % 20: i % 20 + 3])}",
                  "description": "Why it matters, in **markdown**.", "theme": themes[i % 6],
                  "horizon": horizons[i % 3], "status": statuses[i % 4],
                  "visibility": Visibility.INTERNAL if i % 4 == 0 else Visibility.PUBLIC,
                  "start": start, "end": start + timedelta(days=80 + 30 * (i % 5))},
            objectives=[objectives[i % 8]],
            actor=pm,
        )  # fmt: skip
    for j in range(24):
        roadmap_services.release_create(
            product=product,
            data={"name": f"Release {j}", "target_date": today + timedelta(days=14 * j - 140),
                  "notes": "What ships.", "visibility": Visibility.PUBLIC},
            actor=pm,
        )  # fmt: skip


def fill_kpis(product, pm, size: dict) -> None:
    """KPIS KPIs sharing the points over the past year (bulk SQL into their monthly
    partitions), each rolled up in full as the nightly run does."""
    from datetime import UTC, datetime, timedelta

    from metrics import partitions
    from metrics.models import KPI
    from metrics.services import kpi_recalculate

    kpis = [
        KPI.objects.create(product=product, name=f"KPI {i}",
                           aggregation=("sum", "average", "count", "last")[i % 4])
        for i in range(KPIS)
    ]  # fmt: skip
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = end - timedelta(days=365)
    partitions.create_months(first, end)
    per_kpi = size["kpi points"] // KPIS
    with connection.cursor() as cursor:
        for kpi in kpis:
            cursor.execute(
                """INSERT INTO metrics_datapoint
                       (workspace_id, kpi_id, timestamp, value, dimensions)
                   SELECT %s, %s, %s + (i * (365 * 86400.0 / %s)) * interval '1 second',
                          round((random() * 100)::numeric, 2), '{}'::jsonb
                   FROM generate_series(0, %s - 1) AS i""",
                [product.workspace_id, kpi.pk, first, per_kpi, per_kpi],
            )
    for kpi in kpis:
        kpi_recalculate(kpi_id=kpi.pk, full=True)


def main() -> None:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from feedback.models import FeedbackItem

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--runs", type=int, default=11, help="timed requests per page")
    parser.add_argument("--slow-queries", action="store_true", help="print each page's slowest")
    args = parser.parse_args()
    size = SIZES[args.size]

    started = time.perf_counter()
    with _common.throwaway_database():
        product, pm = fill(size)
        print(
            f"filled in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{n:,} {what}" for what, n in size.items())
        )
        client = Client()
        client.force_login(pm)
        hx = {"HX-Request": "true"}
        key = product.key
        new_items = iter(
            FeedbackItem.objects.filter(product=product, status="new")
            .order_by("-received_at", "-id")
            .values_list("pk", flat=True)[: args.runs + 10]
        )
        some_item = FeedbackItem.objects.filter(product=product).order_by("?")[0].pk
        some_feature = product.features.order_by("rank")[size["features"] // 2].pk
        some_kpi = product.kpis.order_by("pk").first().pk
        current_sprint = product.sprints.order_by("-start").first().pk
        pages = {
            "Overview": lambda: client.get(reverse("product_overview", args=[key])),
            "Backlog": lambda: client.get(reverse("backlog", args=[key])),
            "Feedback inbox": lambda: client.get(reverse("feedback_inbox", args=[key])),
            "Inbox, archived tab": lambda: client.get(
                reverse("feedback_inbox", args=[key]), {"status": "archived"}, headers=hx
            ),
            "Triage panel of an item": lambda: client.get(
                reverse("feedback_detail", args=[key, some_item]), {"in_inbox": "1"}, headers=hx
            ),
            "Triage action (mark triaged)": lambda: client.post(
                reverse("feedback_status", args=[key, next(new_items)]),
                {"status": "triaged", "in_inbox": "1"},
                headers=hx,
            ),
            "Picker search 'sync'": lambda: client.get(
                reverse("feedback_link_targets", args=[key]), {"q": "sync"}, headers=hx
            ),
            "Customers": lambda: client.get(reverse("customer_list", args=[key])),
            "Ideas": lambda: client.get(reverse("ideas", args=[key])),
            "Feature detail": lambda: client.get(
                reverse("feature_detail", args=[key, some_feature])
            ),
            "Story detail": lambda: client.get(
                reverse("story_detail", args=[key, size["stories"] // 2])
            ),
            "Sprints": lambda: client.get(reverse("sprints", args=[key])),
            "Sprint board (current)": lambda: client.get(
                reverse("sprint_board", args=[key, current_sprint])
            ),
            "Roadmap (timeline)": lambda: client.get(reverse("roadmap", args=[key])),
            "Roadmap board": lambda: client.get(reverse("roadmap_board", args=[key])),
            "Releases": lambda: client.get(reverse("releases", args=[key])),
            "Strategy": lambda: client.get(reverse("strategy", args=[key])),
            "KPIs": lambda: client.get(reverse("kpi_list", args=[key])),
            "KPI detail": lambda: client.get(reverse("kpi_detail", args=[key, some_kpi])),
            "History": lambda: client.get(reverse("product_history", args=[key])),
        }
        print(f"{'page':32} {'median ms':>10} {'queries':>8} {'KiB':>8}  (goal ≤ 150 ms, 150 KiB)")
        for name, call in pages.items():

            def body(call=call, name=name):
                response = call()
                assert response.status_code == 200, (name, response.status_code)
                return response.content

            body()  # warm up
            runs = [_common.measure(body) for _ in range(args.runs)]
            ms = statistics.median(r[0] for r in runs)
            queries = max(r[1] for r in runs)
            kib = max(r[2] for r in runs) / 1024
            goal = 100 if name.startswith("Triage action") else 150
            over = "  OVER" if ms > goal or kib > 150 else ""
            print(f"{name:32} {ms:10.1f} {queries:8d} {kib:8.1f}{over}")
            if args.slow_queries:
                with CaptureQueriesContext(connection) as captured:
                    body()
                for q in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]:
                    print(f"    {float(q['time']) * 1000:7.1f} ms  {q['sql'][:150]}")
        explain(product)


def explain(product) -> None:
    """The plans of the feedback queries that must not scan: suggestions (GIN on the stored
    vectors), similar feedback, the inbox's first page and its status counts (b-trees)."""
    from django.test.utils import CaptureQueriesContext

    from feedback import selectors

    text = "We need jira sync and a csv export, please; it costs us hours every week."
    item = product.feedback_items.order_by("-received_at").first()
    cases = {
        "suggestions (features)": lambda: selectors.suggest_targets(product=product, text=text),
        "similar feedback": lambda: selectors.likely_duplicates(item=item),
        "inbox, first page": lambda: list(selectors.inbox_items(product=product)[:25]),
        "inbox status counts": lambda: selectors.status_counts(product),
    }
    for name, call in cases.items():
        ms = _common.median_ms(call, runs=11)
        goal = "  (goal ≤ 50 ms)" if name.startswith("suggestions") else ""
        print(f"{name}: median {ms:.1f} ms{goal}")
    for name, call in cases.items():
        with CaptureQueriesContext(connection) as captured:
            call()
        sql = captured.captured_queries[0]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        print(f"\nEXPLAIN {name}:\n    " + "\n    ".join(plan))


if __name__ == "__main__":
    main()
