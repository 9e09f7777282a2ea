"""Who may see what in the console: a staff user belongs to exactly one institution and holds one or more roles (A01).

Every console view resolves the membership first and filters every query by its institution, so a user of one
institution never reads another's data (S11). The roles and what each may do are the permission matrix of
docs/console.md; tests/admin_ui/test_permissions.py tries every console URL with every role.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_otp.plugins.otp_totp.models import TOTPDevice

from server.common.actor import Actor
from server.institutions.models import StaffMembership
from server.institutions.queries import membership_of

ROLE_MANAGER = StaffMembership.ROLE_MANAGER  # result history, results, dashboard, audit trail
ROLE_IT = StaffMembership.ROLE_IT  # devices, activation codes, app accounts, publishing
ROLE_ADMIN = StaffMembership.ROLE_ADMIN  # the institution's console users
ROLE_LABELS = dict(StaffMembership.ROLE_CHOICES)
FORBIDDEN = ("権限がありません", "この画面を表示または操作する権限がありません。必要な場合は医療機関の管理者にお問い合わせください。")
SESSION_EXPIRED = "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"


def home_url(membership: StaffMembership | None) -> str:
    """Where a user lands after signing in: the dashboard, or the user list for a 利用者管理 without other roles."""
    if membership is not None and not membership.has_role(ROLE_MANAGER, ROLE_IT) and membership.has_role(ROLE_ADMIN):
        return reverse("console:staff")
    return reverse("console:dashboard")


def totp_device(user: Any) -> Any:
    """The user's confirmed TOTP device (django-otp), or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_needed(request: HttpRequest) -> str | None:
    """``verify`` when the signed-in user must still enter a one-time code, ``setup`` when they must first enrol a
    TOTP device (settings.CONSOLE_REQUIRE_TOTP), None when the session may go on."""
    user = request.user
    if getattr(user, "is_verified", lambda: False)():
        return None
    if totp_device(user) is not None:
        return "verify"
    return "setup" if settings.CONSOLE_REQUIRE_TOTP else None


def console_context(membership: StaffMembership | None) -> dict[str, Any]:
    """What the layout needs: the institution, the user's roles and which menu entries they may see."""
    has = membership.has_role if membership is not None else (lambda *roles: False)
    return {
        "membership": membership,
        "institution": getattr(membership, "institution", None),
        "role_label": "・".join(membership.role_labels) if membership is not None else "",
        "can_view_results": has(ROLE_MANAGER),
        "can_view_dashboard": has(ROLE_MANAGER, ROLE_IT),
        "can_view_devices": has(ROLE_MANAGER, ROLE_IT),
        "can_manage_devices": has(ROLE_IT),
        "can_manage_accounts": has(ROLE_IT),
        "can_publish": has(ROLE_IT),
        "can_view_audit": has(ROLE_MANAGER),
        "can_manage_staff": has(ROLE_ADMIN),
    }


class StaffRequiredMixin(AccessMixin):
    """Signed-in staff only; sets ``self.membership`` and ``self.institution``. ``allowed_roles``: any one of them.

    Anonymous users go to the sign-in page (with a message when their session ran out); users who still owe their
    one-time code go to that step; signed-in users without a membership or an allowed role get 403.
    """

    allowed_roles: tuple[str, ...] = (ROLE_MANAGER, ROLE_IT)
    nav_section = ""  # which main-menu entry is current on this page
    second_factor_page = False  # the one-time-code pages themselves are reachable before the code is given

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if settings.SESSION_COOKIE_NAME in request.COOKIES and request.session.session_key is None:
                messages.info(request, SESSION_EXPIRED)  # the cookie named a session that has expired
            return self.handle_no_permission()
        membership = membership_of(request.user)
        if membership is None:
            return forbidden(request, None)
        step = None if self.second_factor_page else second_factor_needed(request)
        if step is not None:
            return HttpResponseRedirect(reverse(f"console:otp-{step}"))
        if not membership.has_role(*self.allowed_roles):
            return forbidden(request, membership)
        self.membership = membership
        self.institution = membership.institution
        response = super().dispatch(request, *args, **kwargs)
        # Pages show patient data: a shared reception PC must not keep them in its cache or back/forward history.
        add_never_cache_headers(response)
        return response

    @cached_property
    def actor(self) -> Actor:
        """The signed-in console user, for every action and audit event of this request."""
        return Actor.staff(self.request)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(console_context(self.membership))
        context["nav_section"] = self.nav_section
        # Before the one-time code is given, no menu: its pages would only send the user back here.
        context["sign_in_pending"] = self.second_factor_page and second_factor_needed(self.request) is not None
        return context


def forbidden(request: HttpRequest, membership: Any = None) -> HttpResponse:
    """A Japanese 403 page inside the console layout (Django's default page is English)."""
    title, message = FORBIDDEN
    context = {**console_context(membership), "error_title": title, "error_message": message, "status": 403}
    return render(request, "admin_ui/error.html", context, status=403)
