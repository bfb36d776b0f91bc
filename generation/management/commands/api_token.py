"""python manage.py api_token <username> [--name NAME]: print a new API token (shown once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from generation.services.tokens import api_token_create


class Command(BaseCommand):
    help = "Create a new API token for a user and print it (it is stored hashed, shown once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label shown in the token list")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        _, raw = api_token_create(user=user, name=name or "manage.py api_token")
        self.stdout.write(raw)
