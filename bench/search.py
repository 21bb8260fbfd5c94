"""Global search at a big customer's volume: median time of one search (every kind, as the
quick-jump dialog asks for it) and its query count, for a PM and for a stakeholder, with the
workspace filled by bench/scale.py's builder. Goal (issue 18): ≤ 100 ms at the full volume.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/search.py
    … bench/search.py --size full    # 10,000 features, 50,000 stories, 100,000 feedback items,
                                     # 20,000 customers

Both the search function (pm.search.run) and the whole quick-jump request (Django test client,
session and template included) are timed, interleaved.
"""

import argparse
import time

import _common
import scale
from django.db import connection
from django.test.utils import CaptureQueriesContext

QUERIES = {
    "one common word": "export",
    "a short prefix": "da",
    "two words": "sso okta",
    "a rare word": "burndown invoice",
    "nothing matches": "zebra",
    "a customer name": "customer 1234",
}


def main() -> None:
    from django.test import Client
    from django.urls import reverse

    from pm import search
    from pm.models import Membership
    from pm.visibility import viewer_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=scale.SIZES, default="small")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    size = scale.SIZES[args.size]

    started = time.perf_counter()
    with _common.throwaway_database():
        product, pm = scale.fill(size)
        print(
            f"filled in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{n:,} {what}" for what, n in size.items())
        )
        from django.contrib.auth.models import User

        stakeholder = User.objects.create_user("stakeholder")
        Membership.objects.create(workspace=product.workspace, user=stakeholder, role="stakeholder")
        workspace = product.workspace
        readers = {"pm": pm, "stakeholder": stakeholder}
        viewers = {
            name: viewer_for(Membership.objects.get(user=user), workspace)
            for name, user in readers.items()
        }
        clients = {}
        for name, user in readers.items():
            clients[name] = Client()
            clients[name].force_login(user)
        queries = {**QUERIES, "a story key (jump)": f"{product.key}-{size['stories'] // 2}"}
        print(
            f"{'query':24} {'reader':12} {'hits':>5} {'queries':>8} "
            f"{'search ms':>10} {'request ms':>11}"
        )
        worst = 0.0
        for label, text in queries.items():
            for name, viewer in viewers.items():

                def run(viewer=viewer, text=text):
                    return search.run(workspace=workspace, viewer=viewer, text=text, limit=5)

                def request(name=name, text=text):
                    response = clients[name].get(
                        reverse("search_quick"), {"q": text}, headers={"HX-Request": "true"}
                    )
                    assert response.status_code == 200
                    return response

                with CaptureQueriesContext(connection) as captured:
                    results = run()
                times = _common.interleaved({"run": run, "request": request}, args.runs)
                worst = max(worst, times["request"])
                hits = results.count + (1 if results.jump else 0)
                print(
                    f"{label:24} {name:12} {hits:5d} {len(captured.captured_queries):8d} "
                    f"{times['run']:10.1f} {times['request']:11.1f}"
                )
        print(f"slowest quick-jump request: {worst:.1f} ms (goal ≤ 100 ms)")


if __name__ == "__main__":
    main()
