"""API access for console users (manager / IT) by their Django session, scoped to their institution (S09, S10).

``request.membership`` is set to the user's StaffMembership; every query of such a view filters by its institution.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from server.common.errors import ApiError

STAFF_ROLES = ("manager", "it")  # the console's roles (A01, docs/console.md): results and the audit trail are "manager"


def staff_membership(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    from server.institutions.models import StaffMembership

    return StaffMembership.objects.select_related("institution").filter(user=user).first()


class IsStaffMember(BasePermission):
    """A signed-in console user with a membership of an allowed role."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            raise ApiError("not_authenticated", "ログインが必要です。", 401)
        membership = staff_membership(request.user)
        if membership is None or not membership.has_role(*getattr(view, "allowed_roles", STAFF_ROLES)):
            raise ApiError("permission_denied", "この操作は許可されていません。", 403)
        request.membership = membership
        return True


class StaffAPIView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffMember]
    allowed_roles: tuple[str, ...] = STAFF_ROLES

    @property
    def institution(self) -> Any:
        return self.request.membership.institution
