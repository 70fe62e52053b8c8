"""Shared API permissions."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaffOrServiceKey(BasePermission):
    """Staff only: a staff user (session or token), or an `X-API-Key` with the staff scope owned by staff.

    A key without the staff scope acts as a non-staff user (config.api.authentication), so it is refused
    here like its owner would be without staff rights.
    """

    message = "Staff only: a staff user, or an API key with the staff scope whose owner is staff."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


IsStaff = IsStaffOrServiceKey
