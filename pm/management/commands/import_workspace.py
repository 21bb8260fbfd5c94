"""`manage.py import_workspace acme.json [--slug NEW]`: a new workspace from an export."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from pm import workspace_io


class Command(BaseCommand):
    help = (
        "Create a workspace from a file written by export_workspace (all records or none). "
        "Users are matched by e-mail; missing ones are created without a password."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The export (- for stdin).")
        parser.add_argument(
            "--slug", help="The new workspace's address, when the exported one is taken here."
        )

    def handle(self, *args, file: str, slug: str | None = None, **options):
        try:
            if file == "-":
                document = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    document = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            workspace = workspace_io.import_workspace(document, slug=slug)
        except workspace_io.ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        total = sum(workspace_io.counts(document).values())
        self.stdout.write(
            f"Imported workspace “{workspace.name}” (/w/{workspace.slug}/): {total} records."
        )
