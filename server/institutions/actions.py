"""Writes of the institutions app: institutions, app accounts (rule of FEATURES T09, lockout S05), console staff."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts.account_password import password_rule_errors  # the T09 rule, shared with the terminal
from contracts.checkdigits import is_valid_institution_code
from server.audit.actions import record_event
from server.common.actor import Actor
from server.common.errors import ApiError
from server.common.jst import format_jst
from server.institutions.models import LOCKOUT, MAX_FAILED_ATTEMPTS, AppAccount, Institution, StaffMembership


def validate_account_password(password: str) -> None:
    errors = password_rule_errors(password)
    if errors:
        raise ValidationError(errors, code="password_rule")


def do_create_institution(code: str, name: str, *, actor: Actor) -> Institution:
    if not is_valid_institution_code(code):
        raise ValidationError(
            "機関コードは検証番号付きの10桁の数字で入力してください。", code="invalid_institution_code"
        )
    if not name.strip():
        raise ValidationError("医療機関名を入力してください。", code="required")
    institution = Institution.objects.create(code=code, name=name.strip())
    record_event("institution_created", actor, institution=institution, objects=[institution.code])
    return institution


def do_create_app_account(
    institution: Institution, account_id: str, password: str, *, actor: Actor
) -> AppAccount:
    """Create an app account (command line, or the console's A04)."""
    validate_account_password(password)
    if not account_id or len(account_id) > 64:
        raise ValidationError("IDは1〜64文字で入力してください。", code="invalid_account_id")
    if AppAccount.objects.filter(institution=institution, account_id=account_id).exists():
        raise ValidationError("このIDは既に使われています。", code="duplicate_account_id")
    account = AppAccount(institution=institution, account_id=account_id)
    account.set_password(password)
    account.save()
    record_event("app_account_created", actor, institution=institution, objects=[account_id])
    return account


@transaction.atomic
def do_set_app_account_password(account: AppAccount, password: str, *, actor: Actor) -> AppAccount:
    """Set a new password (console reset, A04, or T09 change); also lifts a lockout."""
    validate_account_password(password)
    account.set_password(password)
    account.failed_attempts = 0
    account.locked_until = None
    account.save(update_fields=["password", "password_changed_at", "failed_attempts", "locked_until"])
    record_event("app_account_password_set", actor, institution=account.institution, objects=[account.account_id])
    return account


def do_unlock_app_account(account: AppAccount, *, actor: Actor) -> AppAccount:
    """IT lifts a lockout (console A04, or the unlock_app_account command)."""
    was_locked_until = account.locked_until
    account.failed_attempts = 0
    account.locked_until = None
    account.save(update_fields=["failed_attempts", "locked_until"])
    record_event(
        "app_account_unlocked",
        actor,
        institution=account.institution,
        detail={"locked_until": was_locked_until.isoformat() if was_locked_until else None},
        objects=[account.account_id],
    )
    return account


def _role_list(roles: str | Iterable[str]) -> list[str]:
    roles = [roles] if isinstance(roles, str) else list(roles)
    unknown = sorted(set(roles) - set(StaffMembership.ROLES))
    if unknown:
        raise ValidationError(f"role must be among {list(StaffMembership.ROLES)}", code="invalid_role")
    if not roles:
        raise ValidationError("役割を1つ以上選んでください。", code="no_role")
    return [role for role in StaffMembership.ROLES if role in roles]


def do_create_staff_user(
    institution: Institution,
    username: str,
    password: str,
    roles: str | Iterable[str],
    *,
    actor: Actor,
):
    """A console user bound to one institution with one or more roles (A01); Django's password validators apply.

    From the command line or by the institution's 利用者管理 in the console (A01).
    """
    role_list = _role_list(roles)
    user_model = get_user_model()
    user = user_model(username=username)
    errors: dict[str, list[ValidationError]] = {}
    if user_model.objects.filter(username__iexact=username).exists():
        errors["username"] = [ValidationError("このログインIDは既に使われています。", code="duplicate_username")]
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = error.error_list
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        StaffMembership.objects.create(user=user, institution=institution, **StaffMembership.role_fields(role_list))
        record_event("staff_user_created", actor, institution=institution, objects=[username], detail={"roles": role_list})
    return user


def do_set_staff_roles(membership: StaffMembership, roles: Iterable[str], *, actor: Actor):
    """Change a console user's roles (A01); audited with the roles before and after."""
    role_list = _role_list(roles)
    before = list(membership.roles)
    if before == role_list:
        return membership
    with transaction.atomic():
        for field, value in StaffMembership.role_fields(role_list).items():
            setattr(membership, field, value)
        membership.save(update_fields=list(StaffMembership.role_fields(role_list)))
        record_event(
            "staff_user_roles_changed",
            actor,
            institution=membership.institution,
            objects=[membership.user.get_username()],
            detail={"from": before, "to": role_list},
        )
    return membership


def do_set_staff_active(membership: StaffMembership, active: bool, *, actor: Actor):
    """Deactivate (or reactivate) a console user. A deactivated user's sessions end at their next request."""
    user = membership.user
    if user.is_active == active:
        return membership
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_event(
            "staff_user_activated" if active else "staff_user_deactivated",
            actor,
            institution=membership.institution,
            objects=[user.get_username()],
        )
    return membership


def do_reset_staff_password(membership: StaffMembership, password: str, *, actor: Actor):
    """Set a new password for a console user; their other sessions end (Django's session hash changes)."""
    user = membership.user
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(
            "staff_user_password_reset",
            actor,
            institution=membership.institution,
            objects=[user.get_username()],
        )
    return membership


def do_enable_staff_totp(membership: StaffMembership, device: TOTPDevice, *, actor: Actor) -> TOTPDevice:
    """A console user's TOTP device, checked with one code from the app, is now required at sign-in; audited."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record_event(
            "staff_totp_enabled", actor, institution=membership.institution, objects=[membership.user.get_username()]
        )
    return device


def do_remove_staff_totp(membership: StaffMembership, *, actor: Actor):
    """Remove a console user's TOTP devices (lost phone, or turned off where optional); audited when one existed."""
    with transaction.atomic():
        deleted, _ = TOTPDevice.objects.filter(user=membership.user).delete()
        if deleted:
            record_event(
                "staff_totp_removed",
                actor,
                institution=membership.institution,
                objects=[membership.user.get_username()],
            )
    return membership


def lockout_message(locked_until) -> str:
    return (
        "パスワードの誤りが続いたため、アカウントがロックされています。"
        f"{format_jst(locked_until)}（日本時間）以降に再度お試しください。"
    )


def invalid_credentials() -> ApiError:
    # One code and message for unknown institution, unknown account and wrong password: no enumeration.
    return ApiError("invalid_credentials", "機関コード、ID、またはパスワードが正しくありません。", 401)


def check_account_credentials(
    account: AppAccount | None, raw_password: str, *, actor: Actor, now: datetime.datetime | None = None
) -> ApiError | None:
    """Check an app account's password with the S05 lockout: 5 failures lock it for 30 minutes.

    Call inside a transaction with the account row locked (select_for_update) and do not roll it back on failure:
    the failed-attempt counter and its audit event must stay written. Returns the error to raise, or None.
    ``actor``: the request acting as the account that was tried (``Actor.as_account``).
    """
    now = now or timezone.now()
    if account is None:
        make_password(raw_password)  # same work as a real check, so timing does not tell which part was wrong
        return invalid_credentials()
    if account.is_locked(now):
        return ApiError("account_locked", lockout_message(account.locked_until), 423)
    if account.check_password(raw_password):
        if account.failed_attempts or account.locked_until:
            account.failed_attempts, account.locked_until = 0, None
            account.save(update_fields=["failed_attempts", "locked_until"])
        return None
    if account.locked_until is not None:  # an expired lock: start counting afresh
        account.failed_attempts, account.locked_until = 0, None
    account.failed_attempts += 1
    locked = account.failed_attempts >= MAX_FAILED_ATTEMPTS
    if locked:
        account.locked_until = now + LOCKOUT
    account.save(update_fields=["failed_attempts", "locked_until"])
    record_event(
        "app_account_locked" if locked else "app_account_login_failed",
        actor,
        institution=account.institution,
        objects=[account.account_id],
        detail={"failed_attempts": account.failed_attempts},
    )
    if locked:
        return ApiError("account_locked", lockout_message(account.locked_until), 423)
    return invalid_credentials()


def do_change_app_account_password(
    institution: Institution, account_id: str, current_password: str, new_password: str, *, actor: Actor
) -> AppAccount:
    """T09 アカウントパスワード設定 from a terminal: the current password (with lockout), then the T09 rule."""
    with transaction.atomic():
        account = AppAccount.objects.select_for_update().filter(institution=institution, account_id=account_id).first()
        error = check_account_credentials(account, current_password, actor=actor)
        if error is None:
            rule_errors = password_rule_errors(new_password)
            if rule_errors:
                error = ApiError("validation_error", "入力内容に誤りがあります。", 400, {"new_password": rule_errors})
            elif new_password == current_password:
                error = ApiError(
                    "validation_error",
                    "入力内容に誤りがあります。",
                    400,
                    {"new_password": ["現在のパスワードと異なるパスワードを入力してください。"]},
                )
        if error is None:
            account.set_password(new_password)
            account.save(update_fields=["password", "password_changed_at"])
            record_event("app_account_password_changed", actor, institution=institution, objects=[account.account_id])
            return account
    raise error


def do_login_app_account(institution: Institution, account_id: str, password: str, *, actor: Actor) -> AppAccount:
    """T13 システムログイン on a registered terminal: the institution's account ID + password, under the lockout."""
    with transaction.atomic():
        account = AppAccount.objects.select_for_update().filter(institution=institution, account_id=account_id).first()
        error = check_account_credentials(account, password, actor=actor)
        if error is None:
            record_event("app_account_login", actor, institution=institution, objects=[account.account_id])
            return account
    raise error
