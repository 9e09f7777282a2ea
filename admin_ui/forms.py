"""Forms of the console: sign-in, the result search and the device retirement."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils import timezone

from contracts.periods import DEFAULT_DAYS  # the manual's initial search covers the last 30 days
from contracts.result_view import VALIDITY_FILTERS
from server.audit.labels import AUDIT_ACTION_LABELS, OBJECT_TYPE_LABELS
from server.institutions.actions import password_rule_errors
from server.institutions.models import AppAccount
from server.institutions.queries import membership_of

SIGN_IN_FAILED = "ログインIDまたはパスワードが正しくありません。"
TOO_MANY_ATTEMPTS = "ログインの試行回数が多すぎます。15分ほど待ってから再度お試しください。"
MAX_FAILED_SIGN_INS = 5
SIGN_IN_LOCK_SECONDS = 15 * 60


class ConsoleLoginForm(AuthenticationForm):
    """Django's sign-in with Japanese wording; only staff of an institution get in (A01).

    A user without a membership gets the same message as a wrong password, so the form does not tell which
    accounts exist.
    """

    username = forms.CharField(
        label="ログインID",
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="パスワード", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": SIGN_IN_FAILED,
        "inactive": SIGN_IN_FAILED,
        "no_membership": SIGN_IN_FAILED,
        "too_many_attempts": TOO_MANY_ATTEMPTS,
    }

    def _throttle_key(self) -> str:
        # Per login ID and client address: guessing is slowed, yet nobody elsewhere can lock a colleague out.
        username = (self.data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request is not None else ""
        return f"console:sign-in-failures:{address}:{username}"

    def clean(self) -> dict[str, Any]:
        key = self._throttle_key()
        if cache.get(key, 0) >= MAX_FAILED_SIGN_INS:
            raise forms.ValidationError(self.error_messages["too_many_attempts"], code="too_many_attempts")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if not cache.add(key, 1, SIGN_IN_LOCK_SECONDS):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, SIGN_IN_LOCK_SECONDS)
            raise
        cache.delete(key)
        return cleaned

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if membership_of(user) is None:
            raise forms.ValidationError(self.error_messages["no_membership"], code="no_membership")


VALIDITY_CHOICES = [("", "すべて"), *VALIDITY_FILTERS.items()]


class ResultSearchForm(forms.Form):
    """A03 filters: period, terminal, validity, name or kana. All optional; invalid input is reported, not ignored."""

    date_from = forms.DateField(
        label="開始日", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="終了日", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    device = forms.ChoiceField(label="端末", required=False)
    validity = forms.ChoiceField(label="資格確認結果", required=False, choices=VALIDITY_CHOICES)
    q = forms.CharField(label="氏名・カナ", required=False, max_length=100)

    def __init__(self, *args: Any, devices: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [("", "すべての端末")] + [(str(d.pk), d.name) for d in devices]

    @staticmethod
    def default_data() -> dict[str, str]:
        """The search a first visit runs: the last 30 days, every terminal."""
        today = timezone.localdate()
        return {"date_from": (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat(), "date_to": today.isoformat()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "終了日は開始日以降の日付を指定してください。")
        return cleaned


class RetireDeviceForm(forms.Form):
    reason = forms.CharField(
        label="廃止の理由",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "廃止の理由を入力してください。"},
    )
    confirm = forms.BooleanField(
        label="この端末を廃止すると、端末からの資格確認や結果の送信ができなくなることを確認しました。",
        error_messages={"required": "確認のチェックを入れてください。"},
    )


class IssueActivationCodeForm(forms.Form):
    """A02: the optional name preset for the terminal that will use the code."""

    device_name = forms.CharField(
        label="端末名（任意）",
        required=False,
        max_length=100,
        help_text="入力すると、このコードで登録した端末にこの名前が付きます。",
        error_messages={"max_length": "端末名は100文字以内で入力してください。"},
    )


class RenameDeviceForm(forms.Form):
    name = forms.CharField(
        label="端末名",
        max_length=100,
        error_messages={
            "required": "端末名を入力してください。",
            "max_length": "端末名は100文字以内で入力してください。",
        },
    )


ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9._@-]+$"
ACCOUNT_ID_MESSAGE = "IDは半角英数字と記号（. _ @ -）の1〜64文字で入力してください。"


class AccountPasswordFields(forms.Form):
    """The new password twice, checked against the T09 rule with the server's own rule function."""

    password = forms.CharField(
        label="パスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="英大文字・英小文字・数字・記号をすべて含む8〜20文字。使用できる記号: ` ~ ! @ # $ % ^ & * _ { } [ ] | : ; ' < > , . ? - ( ) /",
        error_messages={"required": "パスワードを入力してください。"},
    )
    password_confirm = forms.CharField(
        label="パスワード（確認）",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "確認のため、もう一度パスワードを入力してください。"},
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        errors = password_rule_errors(password)
        if errors:
            raise forms.ValidationError(errors, code="password_rule")
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password, confirm = cleaned.get("password"), cleaned.get("password_confirm")
        if password and confirm is not None and password != confirm:
            self.add_error("password_confirm", "パスワードが一致しません。")
        return cleaned


class CreateAppAccountForm(AccountPasswordFields):
    """A04: a new app account of the institution; the ID is unique within it."""

    field_order = ["account_id", "password", "password_confirm"]

    account_id = forms.RegexField(
        label="ID",
        regex=ACCOUNT_ID_PATTERN,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "IDを入力してください。",
            "invalid": ACCOUNT_ID_MESSAGE,
            "max_length": ACCOUNT_ID_MESSAGE,
        },
    )

    def __init__(self, *args: Any, institution: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.institution = institution

    def clean_account_id(self) -> str:
        account_id = self.cleaned_data["account_id"]
        if AppAccount.objects.filter(institution=self.institution, account_id=account_id).exists():
            raise forms.ValidationError("このIDは既に使われています。", code="duplicate_account_id")
        return account_id


class ResetAccountPasswordForm(AccountPasswordFields):
    """A04: IT sets a new password (the account's lock is lifted with it)."""


AUDIT_OBJECT_TYPES = [("", "指定なし"), *OBJECT_TYPE_LABELS.items()]
class AuditSearchForm(forms.Form):
    """A06 filters: period (JST days), actor ID, terminal, action. Invalid input is reported, not ignored."""

    date_from = forms.DateField(
        label="開始日", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="終了日", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    actor = forms.CharField(
        label="操作者ID（前方一致）",
        required=False,
        max_length=150,
        error_messages={"max_length": "操作者IDは150文字以内で入力してください。"},
    )
    device = forms.ChoiceField(label="端末", required=False)
    action = forms.ChoiceField(label="操作", required=False)
    object_type = forms.ChoiceField(label="対象の種類", required=False, choices=AUDIT_OBJECT_TYPES)
    object_id = forms.CharField(
        label="対象のID",
        required=False,
        max_length=150,
        help_text="資格確認結果ID・端末ID・アプリアカウントのID",
        error_messages={"max_length": "対象のIDは150文字以内で入力してください。"},
    )

    def __init__(self, *args: Any, devices: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [("", "すべての端末")] + [(str(d.pk), d.name) for d in devices]
        # The known actions in their topical order, not a DISTINCT over the trail: that table grows with every view.
        self.fields["action"].choices = [("", "すべての操作")] + list(AUDIT_ACTION_LABELS.items())
        for name in ("device", "action"):
            self.fields[name].error_messages["invalid_choice"] = "選択肢の中から選んでください。"

    @staticmethod
    def default_data() -> dict[str, str]:
        today = timezone.localdate()
        return {"date_from": (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat(), "date_to": today.isoformat()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "終了日は開始日以降の日付を指定してください。")
        kind, object_id = cleaned.get("object_type"), (cleaned.get("object_id") or "").strip()
        cleaned["object_id"] = object_id
        if object_id and not kind:
            self.add_error("object_type", "対象の種類を選んでください。")
        elif kind in ("result", "device") and object_id:
            try:
                cleaned["object_id"] = str(uuid.UUID(object_id))
            except ValueError:
                self.add_error("object_id", "IDの形式が正しくありません（例: 3f2b…-…）。")
        elif kind and not object_id:
            self.add_error("object_id", "対象のIDを入力してください。")
        return cleaned
