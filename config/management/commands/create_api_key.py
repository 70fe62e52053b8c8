from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.services import api_key_create


class Command(BaseCommand):
    help = "Create an X-API-Key for a service client; the key is printed once and never stored."

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("name", help="What the key is for, e.g. 'storefront'.")
        parser.add_argument("--user", required=True, help="Username the key acts as.")

    def handle(self, *args: object, name: str, user: str, **options: object) -> None:
        try:
            owner = get_user_model().objects.get_by_natural_key(user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {user!r}.") from exc
        api_key, raw_key = api_key_create(name=name, user=owner)
        self.stdout.write(f"Created API key {api_key} for {user}. Send it as the X-API-Key header:")
        self.stdout.write(raw_key)
