from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.services import DEFAULT_SCOPES, APIKeyScopeError, api_key_create


class Command(BaseCommand):
    help = (
        "Create an X-API-Key for a service client; the key is printed once and only its hash is stored. "
        "It acts as --user with at most its scopes."
    )

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("name", help="What the key is for, e.g. 'storefront'.")
        parser.add_argument("--user", required=True, help="Username the key acts as.")
        parser.add_argument(
            "--scopes",
            default=",".join(DEFAULT_SCOPES),
            help="Comma-separated scopes: read (GET), write (POST, PUT, PATCH, DELETE), staff. Default: read,write.",
        )
        parser.add_argument(
            "--staff", action="store_true", help="Add the staff scope (staff endpoints; the user must be staff)."
        )

    def handle(self, *args: object, name: str, user: str, scopes: str, staff: bool, **options: object) -> None:
        try:
            owner = get_user_model().objects.get_by_natural_key(user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {user!r}.") from exc
        wanted = [scope for scope in scopes.split(",") if scope.strip()] + (["staff"] if staff else [])
        try:
            api_key, raw_key = api_key_create(name=name, user=owner, scopes=wanted)
        except APIKeyScopeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created API key {api_key} for {user} with scopes {', '.join(api_key.scopes)}. "
            "Send it as the X-API-Key header (shown once, never stored):"
        )
        self.stdout.write(raw_key)
