"""`python manage.py create_token USERNAME [--scope read|read-write] [--name NAME]
[--expires-in-days N]`: prints a new personal access token (for scripts and CI)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pm.api.tokens import api_token_create
from pm.models import ApiToken


class Command(BaseCommand):
    help = "Create a personal access token for USERNAME and print its key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", default="Command line")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Default: never expires."
        )

    def handle(self, *args, username, scope, name, expires_in_days, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user called {username!r}.") from None
        expires_at = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            expires_at = timezone.now() + timedelta(days=expires_in_days)
        try:
            token, key = api_token_create(
                user=user, name=name, scope=scope, expires_at=expires_at, actor=user
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"Created {token.get_scope_display().lower()} token “{token.name}” for {username}. "
            "Keep the key below; it is not stored and cannot be shown again."
        )
        self.stdout.write(key)
