"""Shared API permissions."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from config.models import APIKey


class IsStaffOrServiceKey(BasePermission):
    """Staff users, or service clients authenticated with an `X-API-Key`."""

    message = "Staff or a service API key is required."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, APIKey):
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
