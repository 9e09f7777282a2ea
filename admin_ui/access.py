"""Who may see what in the console: a staff user belongs to exactly one institution and has one role (A01, S11).

Every console view resolves the membership first and filters every query by its institution, so a user of one
institution never reads another's data.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

ROLE_MANAGER = "manager"
ROLE_IT = "it"
ROLE_LABELS = {ROLE_MANAGER: "管理者", ROLE_IT: "IT担当"}


def membership_of(user: Any):
    """The user's StaffMembership, or None (anonymous users and users without one)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    from server.institutions.models import StaffMembership

    return StaffMembership.objects.select_related("institution").filter(user=user).first()


class StaffRequiredMixin(AccessMixin):
    """Signed-in staff only; sets ``self.membership`` and ``self.institution``. ``allowed_roles`` limits further.

    Anonymous users go to the sign-in page; signed-in users without a membership (or with the wrong role) get 403.
    """

    allowed_roles: tuple[str, ...] = (ROLE_MANAGER, ROLE_IT)
    nav_section = ""  # which main-menu entry is current on this page

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = membership_of(request.user)
        if membership is None or membership.role not in self.allowed_roles:
            return forbidden(request, membership)
        self.membership = membership
        self.institution = membership.institution
        response = super().dispatch(request, *args, **kwargs)
        # Pages show patient data: a shared reception PC must not keep them in its cache or back/forward history.
        add_never_cache_headers(response)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["membership"] = self.membership
        context["institution"] = self.institution
        context["role_label"] = ROLE_LABELS.get(self.membership.role, self.membership.role)
        context["can_manage_devices"] = self.membership.role == ROLE_IT
        context["can_manage_accounts"] = self.membership.role == ROLE_IT
        context["nav_section"] = self.nav_section
        return context


def forbidden(request: HttpRequest, membership: Any = None) -> HttpResponse:
    """A Japanese 403 page inside the console layout (Django's default page is English)."""
    role = getattr(membership, "role", None)
    context = {
        "membership": membership,
        "institution": getattr(membership, "institution", None),
        "role_label": ROLE_LABELS.get(role, role),
        "can_manage_accounts": role == ROLE_IT,
    }
    return render(request, "admin_ui/forbidden.html", context, status=403)
