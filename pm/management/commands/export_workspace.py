"""`manage.py export_workspace SLUG > acme.json`: the whole workspace as one JSON document."""

from django.core.management.base import BaseCommand, CommandError

from pm import workspace_io
from pm.models import Workspace


class Command(BaseCommand):
    help = (
        "Print the whole workspace (every record, its history, users by e-mail) as JSON, "
        "for import_workspace on this or another instance."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The workspace's address, as in /w/<slug>/.")
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")

    def handle(self, *args, slug: str, output: str | None = None, **options):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"No workspace “{slug}”.")
        text = workspace_io.dumps(workspace_io.export_workspace(workspace))
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
