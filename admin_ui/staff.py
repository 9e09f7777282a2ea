"""A01: the institution's console users, managed by its 利用者管理 (create, roles, deactivate, reset password, reset
two-factor), and each user's own two-factor sign-in (django-otp TOTP): enrolment, the code step after the password.
"""

from __future__ import annotations

import base64
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.generic import FormView, TemplateView, View
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from admin_ui.access import ROLE_ADMIN, ROLE_LABELS, StaffRequiredMixin, home_url, totp_device
from server.audit.actions import record_event
from server.institutions.actions import (
    do_create_staff_user,
    do_enable_staff_totp,
    do_remove_staff_totp,
    do_reset_staff_password,
    do_set_staff_active,
    do_set_staff_roles,
)
from server.institutions.models import StaffMembership

ROLE_HELP = {
    StaffMembership.ROLE_MANAGER: "資格確認結果・ダッシュボード・監査ログを見られます。",
    StaffMembership.ROLE_IT: "端末・アクティベーションコード・アプリアカウント・お知らせの公開を管理します。管理者を兼ねない限り、患者の情報は見られません。",
    StaffMembership.ROLE_ADMIN: "この画面で、コンソール利用者の作成・役割の変更・無効化・パスワード再設定を行います。",
}
TOTP_WRONG = "確認コードが正しくありません。アプリに表示されている最新のコードを入力してください。"
TOTP_WAIT = "確認コードの誤りが続いたため、しばらく待ってから入力してください。"
USERNAME_MESSAGE = "ログインIDは半角英数字と記号（. _ @ -）の1〜150文字で入力してください。"


def _role_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="役割",
        choices=StaffMembership.ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "役割を1つ以上選んでください。"},
    )


class StaffPasswordFields(forms.Form):
    password = forms.CharField(
        label="パスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="8文字以上。よく使われるパスワードは使えません。",
        error_messages={"required": "パスワードを入力してください。"},
    )
    password_confirm = forms.CharField(
        label="パスワード（確認）",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "確認のため、もう一度パスワードを入力してください。"},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password, confirm = cleaned.get("password"), cleaned.get("password_confirm")
        if password and confirm is not None and password != confirm:
            self.add_error("password_confirm", "パスワードが一致しません。")
        return cleaned


class StaffCreateForm(StaffPasswordFields):
    field_order = ["username", "roles", "password", "password_confirm"]
    username = forms.RegexField(
        label="ログインID",
        regex=r"^[A-Za-z0-9._@-]+$",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "ログインIDを入力してください。", "invalid": USERNAME_MESSAGE, "max_length": USERNAME_MESSAGE},
    )
    roles = _role_field()


class StaffRolesForm(forms.Form):
    roles = _role_field()


class TotpTokenForm(forms.Form):
    token = forms.RegexField(
        label="確認コード",
        regex=r"^\d{6}$",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        error_messages={"required": "確認コードを入力してください。", "invalid": "確認コードは6桁の数字で入力してください。"},
    )


def _password_errors(form: forms.Form, error: ValidationError) -> None:
    """Django's password validators speak English: say it in Japanese, one message per failed rule."""
    wording = {
        "password_too_short": "パスワードが短すぎます。8文字以上にしてください。",
        "password_too_common": "よく使われるパスワードのため使えません。",
        "password_entirely_numeric": "数字だけのパスワードは使えません。",
        "password_too_similar": "ログインIDに似たパスワードは使えません。",
    }
    for item in error.error_list:
        form.add_error("password", wording.get(item.code, item.messages[0]))


# --- the institution's console users (利用者管理) ---


class StaffAdminMixin(StaffRequiredMixin):
    allowed_roles = (ROLE_ADMIN,)
    nav_section = "staff"

    def get_target(self) -> StaffMembership:
        return get_object_or_404(
            StaffMembership.objects.select_related("user", "institution"),
            pk=self.kwargs["membership_id"],
            institution=self.institution,
        )

    def is_self(self, target: StaffMembership) -> bool:
        return target.pk == self.membership.pk


class StaffListView(StaffAdminMixin, TemplateView):
    template_name = "admin_ui/staff.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        memberships = list(
            StaffMembership.objects.filter(institution=self.institution)
            .select_related("user")
            .order_by("-user__is_active", "user__username")
        )
        enrolled = set(
            TOTPDevice.objects.filter(user__in=[m.user for m in memberships], confirmed=True).values_list(
                "user_id", flat=True
            )
        )
        context["rows"] = [
            {"membership": m, "roles": m.role_labels, "totp": m.user_id in enrolled, "is_self": self.is_self(m)}
            for m in memberships
        ]
        context["require_totp"] = settings.CONSOLE_REQUIRE_TOTP
        return context


class StaffCreateView(StaffAdminMixin, FormView):
    template_name = "admin_ui/staff_form.html"
    form_class = StaffCreateForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(heading="コンソール利用者の作成", role_help=ROLE_HELP, **kwargs)

    def form_valid(self, form: StaffCreateForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            do_create_staff_user(
                self.institution,
                data["username"],
                data["password"],
                data["roles"],
                actor=self.actor,
            )
        except ValidationError as error:
            if "username" in error.error_dict:
                form.add_error("username", error.error_dict["username"])
            if "password" in error.error_dict:
                _password_errors(form, ValidationError(error.error_dict["password"]))
            return self.form_invalid(form)
        messages.success(self.request, f"コンソール利用者「{data['username']}」を作成しました。")
        return HttpResponseRedirect(reverse("console:staff"))


class StaffEditView(StaffAdminMixin, FormView):
    """One user's page: roles (a form), and the buttons to deactivate, reset the password or two-factor."""

    template_name = "admin_ui/staff_edit.html"
    form_class = StaffRolesForm

    def get_initial(self) -> dict[str, Any]:
        return {"roles": list(self.get_target().roles)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        target = self.get_target()
        return super().get_context_data(
            target=target,
            is_self=self.is_self(target),
            totp=totp_device(target.user) is not None,
            role_help=ROLE_HELP,
            **kwargs,
        )

    def form_valid(self, form: StaffRolesForm) -> HttpResponse:
        target = self.get_target()
        roles = form.cleaned_data["roles"]
        if self.is_self(target) and ROLE_ADMIN not in roles:
            form.add_error("roles", "自分自身の「利用者管理」の役割は外せません。")
            return self.form_invalid(form)
        do_set_staff_roles(target, roles, actor=self.actor)
        labels = "・".join(ROLE_LABELS[role] for role in StaffMembership.ROLES if role in roles)
        messages.success(self.request, f"「{target.user.get_username()}」の役割を「{labels}」にしました。")
        return HttpResponseRedirect(reverse("console:staff"))


class StaffActiveView(StaffAdminMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self.get_target()
        active = request.POST.get("active") == "1"
        name = target.user.get_username()
        if self.is_self(target):
            messages.error(request, "自分自身を無効にすることはできません。")
        else:
            do_set_staff_active(target, active, actor=self.actor)
            messages.success(request, f"「{name}」を{'有効' if active else '無効'}にしました。")
        return HttpResponseRedirect(reverse("console:staff"))


class StaffPasswordView(StaffAdminMixin, FormView):
    template_name = "admin_ui/staff_form.html"
    form_class = StaffPasswordFields

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(heading="パスワードの再設定", target=self.get_target(), **kwargs)

    def form_valid(self, form: StaffPasswordFields) -> HttpResponse:
        target = self.get_target()
        try:
            do_reset_staff_password(
                target, form.cleaned_data["password"], actor=self.actor
            )
        except ValidationError as error:
            _password_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, f"「{target.user.get_username()}」のパスワードを再設定しました。新しいパスワードを本人にお伝えください。"
        )
        return HttpResponseRedirect(reverse("console:staff"))


class StaffTotpResetView(StaffAdminMixin, View):
    """For a user who lost their phone: their TOTP device goes; they enrol again at the next sign-in if required."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self.get_target()
        do_remove_staff_totp(target, actor=self.actor)
        messages.success(request, f"「{target.user.get_username()}」の2段階認証をリセットしました。")
        return HttpResponseRedirect(reverse("console:staff"))


# --- a user's own two-factor sign-in ---


class SecondFactorMixin(StaffRequiredMixin):
    """Pages of the code step itself: any role, and reachable before the code is given."""

    allowed_roles = StaffMembership.ROLES
    second_factor_page = True


def _qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no script, no external service)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#1f2933", light="#ffffff")


def _next_url(request: HttpRequest, membership: StaffMembership) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return home_url(membership)


class TotpVerifyView(SecondFactorMixin, FormView):
    """After the password: the 6-digit code of the enrolled authenticator app."""

    template_name = "admin_ui/otp_verify.html"
    form_class = TotpTokenForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if totp_device(request.user) is None:  # nothing to verify
            return HttpResponseRedirect(home_url(self.membership))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if totp_device(request.user) is None:
            return HttpResponseRedirect(home_url(self.membership))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: TotpTokenForm) -> HttpResponse:
        device = totp_device(self.request.user)
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(self.request, device)
            record_event("console_otp_verified", self.actor, institution=self.institution)
            return HttpResponseRedirect(_next_url(self.request, self.membership))
        record_event("console_otp_failed", self.actor, institution=self.institution)
        form.add_error("token", "確認コードが正しくありません。" if allowed else TOTP_WAIT)
        return self.form_invalid(form)


class TotpSetupView(SecondFactorMixin, FormView):
    """Enrolment: a QR code for the authenticator app, then one code from it confirms the device."""

    template_name = "admin_ui/otp_setup.html"
    form_class = TotpTokenForm

    def _pending(self) -> TOTPDevice:
        """The user's unconfirmed device, made once and kept until confirmed (so a reload shows the same QR)."""
        device = TOTPDevice.objects.filter(user=self.request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=self.request.user, name="console", confirmed=False)
        return device

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if totp_device(request.user) is not None:  # already enrolled
            return HttpResponseRedirect(reverse("console:account-security"))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if totp_device(request.user) is not None:
            return HttpResponseRedirect(reverse("console:account-security"))
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        device = self._pending()
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        return super().get_context_data(
            qr=mark_safe(_qr_svg(device.config_url)),  # segno's SVG: made here from our own URI
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            required=settings.CONSOLE_REQUIRE_TOTP,
            **kwargs,
        )

    def form_valid(self, form: TotpTokenForm) -> HttpResponse:
        device = self._pending()
        allowed, _ = device.verify_is_allowed()
        if not (allowed and device.verify_token(form.cleaned_data["token"])):
            # django-otp slows guessing down: right after a wrong code even the right one is refused for a while.
            form.add_error("token", TOTP_WRONG if allowed else TOTP_WAIT)
            return self.form_invalid(form)
        do_enable_staff_totp(self.membership, device, actor=self.actor)
        otp_login(self.request, device)
        messages.success(self.request, "2段階認証を設定しました。次回のログインから確認コードの入力が必要です。")
        return HttpResponseRedirect(home_url(self.membership))


class AccountSecurityView(StaffRequiredMixin, TemplateView):
    """The signed-in user's own page: whether two-factor sign-in is on, to turn it on (or off where optional)."""

    allowed_roles = StaffMembership.ROLES
    template_name = "admin_ui/account_security.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            totp=totp_device(self.request.user) is not None, required=settings.CONSOLE_REQUIRE_TOTP, **kwargs
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.CONSOLE_REQUIRE_TOTP:
            messages.error(request, "この医療機関では2段階認証が必須のため、解除できません。")
        else:
            do_remove_staff_totp(self.membership, actor=self.actor)
            messages.success(request, "2段階認証を解除しました。")
        return HttpResponseRedirect(reverse("console:account-security"))

