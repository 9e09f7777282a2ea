"""Institutions (医療機関), their app accounts (used by terminals to register) and console staff memberships."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from contracts.checkdigits import is_valid_institution_code

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = datetime.timedelta(minutes=30)


def validate_institution_code(value: str) -> None:
    if not is_valid_institution_code(value):
        raise ValidationError(
            "機関コードは検証番号付きの10桁の数字で入力してください。", code="invalid_institution_code"
        )


class Institution(models.Model):
    code = models.CharField("機関コード", max_length=10, unique=True, validators=[validate_institution_code])
    name = models.CharField("医療機関名", max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AppAccount(models.Model):
    """The institution's account for the terminal app (ID + password, rule of FEATURES T09; lockout S05)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="app_accounts")
    account_id = models.CharField("ID", max_length=64)
    password = models.CharField(max_length=128)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["institution", "account_id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "account_id"], name="app_account_unique_per_institution")
        ]

    def __str__(self) -> str:
        return f"{self.institution.code}/{self.account_id}"

    def set_password(self, raw_password: str) -> None:
        self.password = make_password(raw_password)
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password: str) -> bool:
        def upgrade(raw: str) -> None:
            self.set_password(raw)
            self.save(update_fields=["password", "password_changed_at"])

        return check_password(raw_password, self.password, setter=upgrade)

    def is_locked(self, now: datetime.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


class StaffMembership(models.Model):
    """Ties a console user (django.contrib.auth) to one institution with one or more roles (A01).

    管理者 (manager): result history, dashboard, audit trail. IT担当 (it): devices, activation codes, app accounts,
    publishing; no patient data unless the user is a manager too. 利用者管理 (admin): the institution's console users.
    """

    ROLE_MANAGER = "manager"
    ROLE_IT = "it"
    ROLE_ADMIN = "admin"
    ROLE_CHOICES = [(ROLE_MANAGER, "管理者"), (ROLE_IT, "IT担当"), (ROLE_ADMIN, "利用者管理")]
    ROLES = (ROLE_MANAGER, ROLE_IT, ROLE_ADMIN)
    _ROLE_FIELDS = {ROLE_MANAGER: "is_manager", ROLE_IT: "is_it", ROLE_ADMIN: "is_admin"}

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_membership")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="staff_memberships")
    is_manager = models.BooleanField("管理者", default=False)
    is_it = models.BooleanField("IT担当", default=False)
    is_admin = models.BooleanField("利用者管理", default=False)

    def __str__(self) -> str:
        return f"{self.user} ({','.join(self.roles)}) @ {self.institution.code}"

    @classmethod
    def role_fields(cls, roles: Iterable[str]) -> dict[str, bool]:
        """``{"is_manager": True, "is_it": False, "is_admin": False}`` for the given role codes."""
        wanted = set(roles)
        unknown = wanted - set(cls.ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        return {field: role in wanted for role, field in cls._ROLE_FIELDS.items()}

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(role for role, field in self._ROLE_FIELDS.items() if getattr(self, field))

    def has_role(self, *roles: str) -> bool:
        """Holds at least one of ``roles``."""
        return any(getattr(self, self._ROLE_FIELDS[role]) for role in roles)

    @property
    def role_labels(self) -> list[str]:
        labels = dict(self.ROLE_CHOICES)
        return [labels[role] for role in self.roles]
