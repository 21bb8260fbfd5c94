"""Embed the features, ideas, feedback items and quotes that have no vector yet (rows written
before the embedding model came, or by bulk paths that send no save signals)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from feedback import embeddings

CHUNK = 256


class Command(BaseCommand):
    help = "Embed every feature, idea, feedback item and quote that has no vector yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--product", type=int, help="Only this product (its id).")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Send the work to the embeddings queue instead of doing it here.",
        )

    def handle(
        self, *args: Any, product: int | None = None, queue: bool = False, **kw: Any
    ) -> None:
        from feedback.tasks import embed_rows

        todo = embeddings.missing(product)
        started = time.perf_counter()
        total = 0
        for kind in ("feature", "idea", "insight", "post", "feedback"):
            ids = todo[kind]
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                if queue:
                    embed_rows.delay(kind, chunk)
                else:
                    total += embeddings.refresh(kind, chunk)
            if ids:
                self.stdout.write(f"{kind}: {len(ids)} {'queued' if queue else 'embedded'}")
        if not queue:
            seconds = time.perf_counter() - started
            self.stdout.write(f"{total} vectors in {seconds:.1f} s")
