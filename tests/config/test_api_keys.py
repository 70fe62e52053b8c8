"""API keys act as their owner with at most their scopes; revoking is final; keys are shown once and
stored hashed (DESIGN.md §5.11)."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from config.models import APIKey
from config.services import APIKeyScopeError, api_key_create, api_key_revoke
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

STAFF_ONLY = "/api/v1/llm/metrics"
STAFF_WRITE = "/api/v1/llm/metrics/reset"
ALL_SCOPES = ["read", "write", "staff"]


def key_for(user, scopes) -> str:
    return api_key_create(name="test", user=user, scopes=scopes)[1]


def test_a_new_key_reads_and_writes_by_default(user):
    api_key, _ = api_key_create(name="storefront", user=user)

    assert api_key.scopes == ["read", "write"]


def test_a_staff_owned_key_with_the_staff_scope_reaches_staff_endpoints(api_client, staff_user):
    raw_key = key_for(staff_user, ALL_SCOPES)

    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=raw_key).status_code == 200
    assert api_client.post(STAFF_WRITE, HTTP_X_API_KEY=raw_key).status_code == 200


def test_a_key_of_a_non_staff_owner_is_refused_at_staff_endpoints(api_client, user):
    # Before scopes any key acted as staff: a person's own key must not.
    raw_key = key_for(user, ["read", "write"])

    response = api_client.get(STAFF_ONLY, HTTP_X_API_KEY=raw_key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_staff_scope_needs_a_staff_owner(user):
    with pytest.raises(APIKeyScopeError, match="staff owner"):
        api_key_create(name="sneaky", user=user, scopes=ALL_SCOPES)


def test_a_staff_scoped_key_loses_staff_powers_with_its_owner(api_client, staff_user):
    raw_key = key_for(staff_user, ALL_SCOPES)
    staff_user.is_staff = False
    staff_user.save(update_fields=["is_staff"])

    assert api_client.get(STAFF_ONLY, HTTP_X_API_KEY=raw_key).status_code == 403


def test_a_staff_owners_key_without_the_staff_scope_acts_as_a_non_staff_user(api_client, staff_user, user):
    raw_key = key_for(staff_user, ["read", "write"])
    ProfileFactory(owner=user, user_id="alice")

    me = api_client.get("/api/v1/me", HTTP_X_API_KEY=raw_key)
    staff_list = api_client.get("/api/v1/profiles/users", HTTP_X_API_KEY=raw_key)
    someone_else = api_client.get("/api/v1/profiles/profile/alice", HTTP_X_API_KEY=raw_key)

    assert me.json() == {"username": "staff", "is_staff": False, "auth": "api_key"}
    assert staff_list.status_code == 403
    assert someone_else.status_code == 404  # staff could see anyone's profile; this key can't
    staff_user.refresh_from_db()
    assert staff_user.is_staff  # acting unprivileged never touches the stored user


@pytest.mark.parametrize(
    ("scopes", "method", "allowed"),
    [
        (["read"], "get", True),
        (["read"], "post", False),
        (["write"], "get", False),
        (["write"], "post", True),
        (["read", "write"], "post", True),
    ],
)
def test_read_allows_safe_methods_and_write_the_others(api_client, user, scopes, method, allowed):
    ProfileFactory(owner=user, user_id="alice")
    raw_key = key_for(user, scopes)
    path = "/api/v1/profiles/profile/alice" if method == "get" else "/api/v1/profiles/score-jobs/alice"

    response = getattr(api_client, method)(path, HTTP_X_API_KEY=raw_key)

    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "insufficient_scope"


def test_keys_are_stored_hashed_and_shown_once(capsys, staff_user):
    call_command("create_api_key", "ops", "--user", "staff", "--staff")

    out = capsys.readouterr().out
    raw_key = out.strip().splitlines()[-1]
    api_key = APIKey.objects.get()
    assert raw_key.startswith(api_key.prefix)
    assert raw_key not in {api_key.key_hash, api_key.name, api_key.prefix}
    assert api_key.scopes == ALL_SCOPES
    assert "read, write, staff" in out


def test_create_api_key_takes_scopes(capsys, user):
    call_command("create_api_key", "reporting", "--user", "alice", "--scopes", "read")

    assert APIKey.objects.get().scopes == ["read"]


@pytest.mark.parametrize("args", [["--scopes", "read,admin"], ["--staff"], ["--scopes", ","]])
def test_create_api_key_refuses_unknown_scopes_and_staff_for_a_person(user, args):
    with pytest.raises(CommandError):
        call_command("create_api_key", "x", "--user", "alice", *args)
    assert not APIKey.objects.exists()


# --- revocation is final ---------------------------------------------------------------------------


def test_a_save_never_revives_a_revoked_key(api_client, user):
    api_key, raw_key = api_key_create(name="storefront", user=user)
    api_key_revoke(api_key=api_key)
    revoked_at = api_key.revoked_at

    stale = APIKey.objects.get(pk=api_key.pk)
    stale.revoked_at = None
    stale.save()
    moved = APIKey.objects.get(pk=api_key.pk)
    moved.revoked_at = timezone.now() + timezone.timedelta(days=1)
    moved.save()

    assert APIKey.objects.get(pk=api_key.pk).revoked_at == revoked_at
    assert api_client.get("/api/v1/me", HTTP_X_API_KEY=raw_key).status_code == 401


def test_revoking_twice_keeps_the_first_time(user):
    api_key, _ = api_key_create(name="storefront", user=user)
    api_key_revoke(api_key=api_key)
    first = api_key.revoked_at

    api_key_revoke(api_key=api_key)

    assert api_key.revoked_at == first is not None


def test_editing_a_revoked_key_in_the_admin_does_not_revive_it(client, api_client, user, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    api_key, raw_key = api_key_create(name="storefront", user=user)
    api_key_revoke(api_key=api_key)
    url = reverse("admin:config_apikey_change", args=[api_key.pk])

    page = client.get(url)
    response = client.post(url, {"name": "renamed", "scopes": ["read"], "revoked_at": "", "user": user.pk})

    assert page.status_code == 200
    assert b'name="revoked_at"' not in page.content  # shown, never an input
    assert response.status_code in (200, 302)
    stored = APIKey.objects.get(pk=api_key.pk)
    assert (stored.revoked_at, stored.name, stored.scopes) == (api_key.revoked_at, "storefront", ["read", "write"])
    assert api_client.get("/api/v1/me", HTTP_X_API_KEY=raw_key).status_code == 401


def test_the_admin_creates_a_scoped_key_and_shows_it_once(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    response = client.post(
        reverse("admin:config_apikey_add"),
        {"name": "ops", "user": staff_user.pk, "scopes": ["read", "staff"]},
        follow=True,
    )

    api_key = APIKey.objects.get()
    assert api_key.scopes == ["read", "staff"]
    shown = [str(m) for m in response.context["messages"]]
    assert any(api_key.prefix in message and "will not be shown again" in message for message in shown)


def test_the_admin_refuses_the_staff_scope_for_a_person(client, staff_user, user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    response = client.post(reverse("admin:config_apikey_add"), {"name": "x", "user": user.pk, "scopes": ["staff"]})

    assert response.status_code == 200
    assert b"staff owner" in response.content
    assert not APIKey.objects.exists()


def test_the_admin_revoke_action_is_final(client, staff_user, user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    api_key, _ = api_key_create(name="storefront", user=user)

    client.post(
        reverse("admin:config_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )

    assert APIKey.objects.get(pk=api_key.pk).revoked_at is not None
