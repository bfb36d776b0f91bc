"""Create the `demo` user on first run with a random password kept in var/, and print
the credentials so a newcomer can sign in at once."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

CREDENTIALS_FILE = settings.VAR_DIR / "demo-credentials.txt"


class Command(BaseCommand):
    help = "Create the demo user if missing and print its login."

    def handle(self, *args, **options):
        User = get_user_model()
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        user = User.objects.filter(username="demo").first()
        password = None
        if user is not None and CREDENTIALS_FILE.exists():
            password = CREDENTIALS_FILE.read_text().strip().partition(":")[2]
            if not user.check_password(password):
                password = None  # someone changed it; do not print a wrong one
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_user(
                username="demo", password=password, is_staff=True, is_superuser=True
            )
            CREDENTIALS_FILE.write_text(f"demo:{password}\n")
            CREDENTIALS_FILE.chmod(0o600)
        if password:
            self.stdout.write(f"Sign in as  demo / {password}   (kept in {CREDENTIALS_FILE})")
        else:
            self.stdout.write(
                "Sign in as demo with the password you set (var/demo-credentials.txt is out of date)."
            )
