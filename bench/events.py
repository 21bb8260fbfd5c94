"""Product-analytics events on PostgreSQL, in a throwaway database of its own.

Prints:
- ingestion of 1,000,000 events through `POST /api/v1/events/` in calls of 10,000 (validation,
  JSON, the one INSERT … ON CONFLICT DO NOTHING into the monthly partitions): rows/s per call,
  median and slowest, and a retried call (everything a duplicate);
- a 4-step funnel over those events for 30 days, with a breakdown and the weekly trend (one
  query), median of several runs, against the 500 ms goal;
- an experiment readout (exposures per variant and conversions after exposure, one query, plus
  the statistics), against the 200 ms goal.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything python bench/events.py
       [--events 1000000] [--keep]
Only the server part of DATABASE_URL is used: the bench creates and drops its own database.
"""

import argparse
import json
import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

os.environ.pop("REDIS_URL", None)
os.environ.pop("CELERY_BROKER_URL", None)
os.environ["LOG_LEVEL"] = "WARNING"

import _common  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--events", type=int, default=1_000_000)
parser.add_argument("--batch", type=int, default=10_000)
parser.add_argument("--repeat", type=int, default=7, help="runs of each read")
parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
args = parser.parse_args()

START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 30
STEPS = ("page_viewed", "signed_up", "project_created", "upgraded")


def batches(total: int, size: int, people: int):
    """Events over 30 days: most people view pages, fewer go on (in order, mostly)."""
    rng = random.Random(1)
    made = 0
    while made < total:
        batch: list[dict[str, Any]] = []
        while len(batch) < size and made < total:
            person = rng.randrange(people)
            moment = START + timedelta(seconds=rng.randrange(DAYS * 86400))
            depth = min(int(rng.expovariate(1.2)), 3)
            platform = rng.choice(["web", "web", "ios", "android", "mac", "windows", "linux"])
            for step in range(depth + 1):
                if len(batch) >= size or made >= total:
                    break
                batch.append(
                    {
                        "id": f"e{made}",
                        "event": STEPS[step] if rng.random() > 0.1 else "noise",
                        "user_id": f"u{person}",
                        "timestamp": (moment + timedelta(hours=step * 5)).isoformat(),
                        "properties": {
                            "platform": platform,
                            "plan": rng.choice(["free", "pro"]),
                            "variant": "ABC"[person % 3],
                        },
                    }
                )
                made += 1
        yield batch


def main() -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    from metrics import experiments_events, funnels
    from metrics.models import Event
    from pm.choices import Role
    from pm.models import Membership, Product, Workspace

    workspace = Workspace.objects.create(name="Bench", slug="bench", time_zone="UTC")
    product = Product.objects.create(workspace=workspace, name="Bench", key="BEN")
    user = User.objects.create_user("bench-pm")
    Membership.objects.create(workspace=workspace, user=user, role=Role.PM)
    client = Client()
    client.force_login(user)

    people = max(args.events // 10, 100)
    rates, first_body = [], None
    for batch in batches(args.events, args.batch, people):
        body = json.dumps({"product": "BEN", "events": batch})
        first_body = first_body or body
        started = time.perf_counter()
        response = client.post("/api/v1/events/", body, content_type="application/json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.content[:500]
        rates.append(len(batch) / elapsed)
    stored = Event.objects.count()
    print(f"ingested {stored:,} events in {len(rates)} calls of {args.batch:,}")
    print(
        f"  rows/s per call: median {statistics.median(rates):,.0f}, "
        f"slowest {min(rates):,.0f}, fastest {max(rates):,.0f}"
    )
    started = time.perf_counter()
    again = client.post("/api/v1/events/", first_body, content_type="application/json")
    elapsed = time.perf_counter() - started
    print(
        f"  the first call retried: {again.json()['duplicates']:,} duplicates, nothing stored, "
        f"{elapsed * 1000:.0f} ms"
    )
    _common.analyze()

    steps = [funnels.Step(name, name) for name in STEPS]

    def funnel():
        return funnels.compute(
            product_id=product.pk,
            steps=steps,
            period_start=date(2026, 9, 1),
            period_end=date(2026, 9, 30),
            window_days=7,
            breakdown="platform",
            tz=ZoneInfo("UTC"),
        )

    result = funnel()
    ms = _common.median_ms(funnel, args.repeat, warmup=1)
    counts = " → ".join(f"{r.count:,}" for r in result.rows)
    print(f"4-step funnel over 30 days (breakdown by platform, weekly trend): {counts}")
    print(f"  median {ms:.0f} ms (goal ≤ 500 ms): {'ok' if ms <= 500 else 'OVER'}")

    def readout():
        return experiments_events.readout(
            product_id=product.pk,
            exposure_event="page_viewed",
            variant_property="variant",
            conversion_event="upgraded",
            start=START,
            end=START + timedelta(days=DAYS),
            control="A",
            minimum_detectable_effect=10,
            running=True,
        )

    report = readout()
    ms = _common.median_ms(readout, args.repeat, warmup=1)
    arms = ", ".join(f"{v.name} {v.conversions:,}/{v.exposures:,}" for v in report.variants)
    print(f"experiment readout (3 variants, Holm-corrected): {arms}")
    print(f"  median {ms:.0f} ms (goal ≤ 200 ms): {'ok' if ms <= 200 else 'OVER'}")


if __name__ == "__main__":
    with _common.throwaway_database(keep=args.keep):
        main()
