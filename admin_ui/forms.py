"""Forms of the console: sign-in, the result search and the device retirement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils import timezone

from admin_ui.access import membership_of

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


VALIDITY_CHOICES = [("", "すべて"), ("valid", "資格有効"), ("invalid", "資格無効")]
DEFAULT_PERIOD_DAYS = 30  # the manual's initial search covers the last 30 days


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
        return {"date_from": (today - dt.timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat(), "date_to": today.isoformat()}

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
