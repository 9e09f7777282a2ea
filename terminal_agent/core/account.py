"""The app account on this tablet: アカウントパスワード設定 (T09), ログアウト and システムログイン (T13).

The account id is the one of 初期登録 (kept then, and after each システムログイン). After ログアウト the terminal asks
for ID and password at once and at every start until one sign-in succeeds; the server counts wrong passwords and
locks the account for 30 minutes after five (S05), answering ``account_locked`` with the time it ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.account_password import ALLOWED_TEXT, RULE_TEXT, rule_problems
from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.store import LocalStore

MSG_REQUIRED = "{label}を入力してください。"
MSG_MISMATCH = "新しいパスワードが一致しません。もう一度入力してください。"
MSG_SAME = "現在のパスワードと異なるパスワードを入力してください。"
MSG_INPUT = "入力内容に誤りがあります。"
MSG_WRONG_CURRENT = "現在のパスワードが正しくありません。"
MSG_WRONG_LOGIN = "ID又はパスワードが正しくありません。"
MSG_PASSWORD_CHANGED = "アカウントパスワードの設定が完了しました。"
MSG_LOGOUT_CONFIRM = "システムからログアウトしますか？\nログアウトした場合は、次回アプリ起動時に、ID及びパスワードの入力が必要になります。"
MSG_LOCK_NOTE = (
    "パスワードを5回間違えると、アカウントがロックされ30分間ログインできなくなります。"
    "ロックされた場合はオンライン資格確認等コールセンターまでお問い合わせください。"
)
MSG_ID_PASSWORD_NOTE = (
    "ID及びパスワードは、マイナ資格確認アプリユーザ設定情報に記載されています。"
    "パスワードをアカウントパスワード設定で変更されている場合、変更後のパスワードを入力してください。"
)
PASSWORD_RULE = f"{RULE_TEXT}\n{ALLOWED_TEXT}"
LABELS = {
    "account_id": "ID",
    "password": "パスワード",
    "current_password": "現在のパスワード",
    "new_password": "新しいパスワード",
    "confirmation": "新しいパスワード(確認用)",
}


class AccountFailure(Exception):
    """A refused sign-in or password change: ``message`` for the dialog, ``fields`` for the inputs."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, code: str = "validation_error"):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.code = code

    @property
    def locked(self) -> bool:
        return self.code == "account_locked"


@dataclass(frozen=True)
class SignedIn:
    account_id: str
    institution_name: str


def password_change_errors(current: str, new: str, confirmation: str) -> dict[str, list[str]]:
    """T09, field by field, before anything is sent: required, the rule, the repeat, different from the current."""
    errors: dict[str, list[str]] = {}
    for name, value in (("current_password", current), ("new_password", new), ("confirmation", confirmation)):
        if not value:
            errors[name] = [MSG_REQUIRED.format(label=LABELS[name])]
    if "new_password" not in errors:
        problems = rule_problems(new)
        if problems:
            errors["new_password"] = problems
        elif new == current:
            errors["new_password"] = [MSG_SAME]
    if "confirmation" not in errors and "new_password" not in errors and confirmation != new:
        errors["confirmation"] = [MSG_MISMATCH]
    return errors


def login_errors(account_id: str, password: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in (("account_id", account_id.strip()), ("password", password)):
        if not value:
            errors[name] = [MSG_REQUIRED.format(label=LABELS[name])]
    return errors


def _failure(failure: ApiFailure, wrong_password: tuple[str, str]) -> AccountFailure:
    """The server's answer for the screen. Its ``invalid_credentials`` also names the 機関コード, which a registered
    terminal does not ask for: the screen names its own fields instead (``wrong_password`` = field, message)."""
    if failure.code == "invalid_credentials":
        field, message = wrong_password
        return AccountFailure(message, {field: [message]}, failure.code)
    return AccountFailure(failure.message, dict(failure.fields), failure.code)


class Account:
    def __init__(self, api: ApiClient, store: LocalStore):
        self.api = api
        self.store = store

    @property
    def account_id(self) -> str:
        return self.store.get_setting("account.id", "")

    def remember(self, account_id: str) -> None:
        self.store.set_setting("account.id", account_id)

    # --- T09 ---------------------------------------------------------------------------------------------------------
    def change_password(self, current: str, new: str, confirmation: str, account_id: str = "") -> None:
        account_id = (account_id or self.account_id).strip()
        errors = password_change_errors(current, new, confirmation)
        if not account_id:
            errors["account_id"] = [MSG_REQUIRED.format(label=LABELS["account_id"])]
        if errors:
            raise AccountFailure(MSG_INPUT, errors)
        try:
            self.api.change_account_password(account_id, current, new)
        except ApiFailure as failure:
            raise _failure(failure, ("current_password", MSG_WRONG_CURRENT)) from failure
        self.remember(account_id)

    # --- T13 ---------------------------------------------------------------------------------------------------------
    @property
    def logged_out(self) -> bool:
        return bool(self.store.get_setting("session.logged_out", False))

    def logout(self) -> None:
        self.store.set_setting("session.logged_out", True)

    def login(self, account_id: str, password: str) -> SignedIn:
        errors = login_errors(account_id, password)
        if errors:
            raise AccountFailure(MSG_INPUT, errors)
        try:
            body = self.api.account_login(account_id.strip(), password)
        except ApiFailure as failure:
            raise _failure(failure, ("password", MSG_WRONG_LOGIN)) from failure
        self.remember(str(body.get("account_id") or account_id.strip()))
        self.store.set_setting("session.logged_out", False)
        return SignedIn(self.account_id, str(body.get("institution_name") or ""))
