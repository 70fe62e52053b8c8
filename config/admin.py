from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.models import APIKey
from config.services import APIKeyScopeError, api_key_create, api_key_revoke, api_key_scopes_normalize


class APIKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=APIKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=["read", "write"],
        help_text="The staff scope counts only while the owner is staff.",
    )

    class Meta:
        model = APIKey
        fields = ["name", "user", "scopes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.instance.is_active:
            # A revoked key is read-only (APIKeyAdmin.get_readonly_fields); the declared field would
            # otherwise still be required.
            self.fields.pop("scopes", None)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        owner = cleaned.get("user") or getattr(self.instance, "user", None)
        if owner is not None and cleaned.get("scopes"):
            try:
                cleaned["scopes"] = api_key_scopes_normalize(scopes=cleaned["scopes"], user=owner)
            except APIKeyScopeError as exc:
                self.add_error("scopes", str(exc))
        return cleaned


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """Keys are created here or by `create_api_key` (the raw key is shown once); revoking is an action and
    is final: "revoked at" is never editable, so no edit can revive a key."""

    form = APIKeyForm
    list_display = ["name", "prefix", "user", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: APIKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "user", "scopes")
        return ("name", "user", "scopes", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: APIKey | None = None) -> list[str]:
        if obj is None:
            return []
        readonly = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
        # A revoked key stays as it was when revoked.
        return readonly + (["name", "scopes"] if not obj.is_active else [])

    def save_model(self, request: HttpRequest, obj: APIKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw_key = api_key_create(name=obj.name, user=obj.user, scopes=form.cleaned_data["scopes"])
        obj.pk, obj.prefix, obj.key_hash, obj.created_at, obj.scopes = (
            created.pk,
            created.prefix,
            created.key_hash,
            created.created_at,
            created.scopes,
        )
        messages.warning(request, f"Copy this key now; it will not be shown again: {raw_key}")

    @admin.action(description="Revoke selected keys (final)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} key(s).")
