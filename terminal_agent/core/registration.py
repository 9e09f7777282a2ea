"""初期登録 (T02): field checks with Japanese messages, then registration of this device with a fresh key."""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass
from typing import Any

from contracts.checkdigits import is_valid_institution_code


@functools.cache
def installed_version() -> str:
    """This app's version from its package metadata (pyproject.toml; the PyInstaller bundle carries it too)."""
    from importlib import metadata  # with the email parser ≈ 40 ms: read when first needed, after the first paint

    try:
        return metadata.version("myna-clinic")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def __getattr__(name: str) -> str:
    """``APP_VERSION``, read on first use (module ``__getattr__``), so that importing this module stays light."""
    if name == "APP_VERSION":
        return installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

FIELD_LABELS = {
    "institution_code": "機関コード",
    "account_id": "ID",
    "password": "パスワード",
    "activation_code": "アクティベーションコード",
}
MSG_REQUIRED = "{label}を入力してください。"
MSG_INSTITUTION_FORMAT = "機関コードは半角数字10桁で入力してください。"
MSG_INSTITUTION_CHECK = "機関コードが正しくありません。入力内容を確認してください。"
MSG_ACTIVATION_FORMAT = "アクティベーションコードは、「-(ハイフン)」なし、半角数字12桁で入力してください。"
MSG_TOO_LONG = "{label}が長すぎます。"


@dataclass
class RegistrationForm:
    institution_code: str = ""
    account_id: str = ""
    password: str = ""
    activation_code: str = ""

    def stripped(self) -> RegistrationForm:
        # Spaces around a pasted value are a typing slip; the password is taken exactly as typed.
        return RegistrationForm(
            self.institution_code.strip(), self.account_id.strip(), self.password, self.activation_code.strip()
        )


def _half_width_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def validate(form: RegistrationForm) -> dict[str, list[str]]:
    """Field name → Japanese errors; empty when the form can be sent."""
    form = form.stripped()
    errors: dict[str, list[str]] = {}
    for name, label in FIELD_LABELS.items():
        if not getattr(form, name):
            errors[name] = [MSG_REQUIRED.format(label=label)]
    if "institution_code" not in errors:
        if not _half_width_digits(form.institution_code, 10):
            errors["institution_code"] = [MSG_INSTITUTION_FORMAT]
        elif not is_valid_institution_code(form.institution_code):
            errors["institution_code"] = [MSG_INSTITUTION_CHECK]
    if "activation_code" not in errors and not _half_width_digits(form.activation_code, 12):
        errors["activation_code"] = [MSG_ACTIVATION_FORMAT]
    for name in ("account_id", "password"):
        if name not in errors and len(getattr(form, name)) > 150:
            errors[name] = [MSG_TOO_LONG.format(label=FIELD_LABELS[name])]
    return errors


def registration_payload(
    form: RegistrationForm, public_key: str, *, device_name: str = "", reader_name: str = "", app_version: str = ""
) -> dict[str, Any]:
    form = form.stripped()
    return {
        "institution_code": form.institution_code,
        "account_id": form.account_id,
        "password": form.password,
        "activation_code": form.activation_code,
        "public_key": public_key,
        "device_name": device_name or platform.node() or "端末",
        "os": f"{platform.system()} {platform.release()}".strip(),
        "app_version": app_version or installed_version(),
        "reader_name": reader_name,
    }
