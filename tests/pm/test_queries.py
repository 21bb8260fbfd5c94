"""The Strategy and Overview pages run a constant number of SQL queries, whatever the number of
themes, objectives (with key results), personas and competitors."""

import pytest
from django.urls import reverse

from pm.models import Competitor, KeyResult, Objective, Persona, StrategicTheme


def _fill(product, n: int) -> None:
    themes = StrategicTheme.objects.bulk_create(
        StrategicTheme(product=product, name=f"Theme {i}", description="Why it matters")
        for i in range(n)
    )
    objectives = Objective.objects.bulk_create(
        Objective(product=product, title=f"Objective {i}", period="2027 Q1", theme=themes[i])
        for i in range(n)
    )
    KeyResult.objects.bulk_create(
        KeyResult(
            workspace_id=product.workspace_id,
            objective=o,
            description=f"KR {j} of {o.title}",
            target_value=100,
            current_value=10 * j,
        )
        for o in objectives
        for j in range(2)
    )
    Persona.objects.bulk_create(
        Persona(product=product, name=f"Persona {i}", goals="Goals", pains="Pains", quote="Hi")
        for i in range(n)
    )
    Competitor.objects.bulk_create(
        Competitor(
            product=product,
            name=f"Competitor {i}",
            url="https://example.com",
            strengths="Strong",
            weaknesses="Weak",
        )
        for i in range(n)
    )


# Strategy page, for a PM (measured: 12 at both sizes):
#    1 session                      2 user
#    3 product + workspace (get_product_for_user)
#    4 the user's memberships (role check)
#    5 navigation: memberships with their workspaces
#    6 navigation: unread notifications count (user menu)
#    7 navigation: the current workspace's products
#    8 themes with objective counts (annotate)
#    9 objectives with their themes (select_related)
#   10 their key results (one prefetch)
#   11 personas                    12 competitors
# The session is not written: the current workspace is unchanged.
STRATEGY_MAX = 12

# Overview page, for a PM (measured: 9 at both sizes without other apps' panels):
#    1–7 as above, 8 themes with objective counts, 9 the 8 most recent activity entries with
#   their actors; plus a constant number per overview panel that the other apps register (each
# promises a constant count of its own and tests it at two sizes of its own data). Objectives
# and their key results are the roadmap's OKR health panel.
OVERVIEW_CORE_MAX = 9
PER_PANEL_MAX = 6


@pytest.mark.parametrize("n", [5, 200])
def test_strategy_page_queries_do_not_grow_with_the_strategy(
    cast, pm_client, django_assert_max_num_queries, n
):
    _fill(cast.product, n)
    url = reverse("strategy", args=[cast.product.key])
    pm_client.get(url)  # warm the session
    with django_assert_max_num_queries(STRATEGY_MAX):
        response = pm_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    # Everything is on the page: the bound is not met by leaving rows out.
    for name in (
        f"Theme {n - 1}",
        f"Objective {n - 1}",
        f"KR 1 of Objective {n - 1}",
        f"Persona {n - 1}",
        f"Competitor {n - 1}",
    ):
        assert name in html


@pytest.mark.parametrize("n", [5, 200])
def test_overview_page_queries_do_not_grow_with_the_strategy(
    cast, pm_client, django_assert_max_num_queries, n
):
    from pm.registry import registry

    _fill(cast.product, n)
    url = reverse("product_overview", args=[cast.product.key])
    pm_client.get(url)
    bound = OVERVIEW_CORE_MAX + PER_PANEL_MAX * len(registry.overview_panels)
    with django_assert_max_num_queries(bound):
        response = pm_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Theme {n - 1}" in html and f"Objective {n - 1}" in html


@pytest.mark.parametrize("role", ["stakeholder", "admin"])
def test_strategy_page_query_count_is_the_same_for_every_role(cast, role, n=50):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _fill(cast.product, n)
    url = reverse("strategy", args=[cast.product.key])
    counts = []
    for who in ("pm", role):
        client = cast.client(who)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
