"""manage.py jira_import WORKSPACE PRODUCT FILE --user NAME: the Jira import of the Development
settings page, from the command line (a saved REST search response; no call to Jira)."""

from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hooks import jira
from pm.models import Product


class Command(BaseCommand):
    help = "Import Jira issues from a saved REST search response (JSON) into a product."

    def add_arguments(self, parser) -> None:
        parser.add_argument("workspace", help="The workspace's slug.")
        parser.add_argument("product", help="The product's key, e.g. LOD.")
        parser.add_argument("file", type=Path, help="The JSON of /rest/api/2/search.")
        parser.add_argument("--user", required=True, help="Who the history names as importer.")

    def handle(self, *args, **options) -> None:
        product = Product.objects.filter(
            workspace__slug=options["workspace"], key=options["product"].upper()
        ).first()
        if product is None:
            raise CommandError("No such product in that workspace.")
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError("No such user.")
        try:
            result = jira.import_search(
                product=product, data=options["file"].read_bytes(), actor=user
            )
        except (OSError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(jira.summary(result))
