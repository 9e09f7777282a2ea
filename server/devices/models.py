"""Terminals (devices) and the single-use activation codes that let them register."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from server.institutions.models import Institution


class Device(models.Model):
    STATUS_ACTIVE = "active"
    STATUS_RETIRED = "retired"
    STATUS_DEREGISTERED = "deregistered"
    STATUS_CHOICES = [(STATUS_ACTIVE, "利用中"), (STATUS_RETIRED, "廃止"), (STATUS_DEREGISTERED, "登録解除")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="devices")
    name = models.CharField("端末名", max_length=100)
    public_key = models.TextField(help_text="raw Ed25519 public key, base64")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=STATUS_ACTIVE, db_index=True)
    registered_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Set by the devices.mark_offline beat task after DEVICE_OFFLINE_AFTER_MINUTES of silence, cleared by the next
    # signed call. Kept apart from ``status`` (active/retired/deregistered), which says whether the key is valid.
    offline_since = models.DateTimeField(null=True, blank=True, db_index=True)
    app_version = models.CharField(max_length=40, blank=True)
    os = models.CharField(max_length=100, blank=True)
    reader_name = models.CharField(max_length=200, blank=True)
    registered_by_account = models.CharField(max_length=64, blank=True)
    deregistered_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.CharField(max_length=150, blank=True, help_text="username of who retired it")
    retired_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["institution", "name", "registered_at"]
        constraints = [
            # A02: devices can be told apart; retired ones keep their name (rename one to reuse it).
            models.UniqueConstraint(fields=["institution", "name"], name="device_name_unique_per_institution")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    HEALTH_OK = "ok"
    HEALTH_SILENT = "silent"
    HEALTH_RETIRED = "retired"
    HEALTH_LABELS = {HEALTH_OK: "正常", HEALTH_SILENT: "応答なし", HEALTH_RETIRED: "廃止"}

    def health(self, now: datetime.datetime | None = None) -> str:
        """A02/A07: 正常, 応答なし (an active device silent for DEVICE_OFFLINE_AFTER_MINUTES), 廃止 (retired or
        deregistered: its key is refused)."""
        if self.status != self.STATUS_ACTIVE:
            return self.HEALTH_RETIRED
        silent_after = datetime.timedelta(minutes=settings.DEVICE_OFFLINE_AFTER_MINUTES)
        if self.last_seen_at is None or (now or timezone.now()) - self.last_seen_at > silent_after:
            return self.HEALTH_SILENT
        return self.HEALTH_OK

    def health_label(self) -> str:
        return self.HEALTH_LABELS[self.health()]

    @property
    def is_active(self) -> bool:
        return self.status == self.STATUS_ACTIVE

    @property
    def is_online(self) -> bool:
        """An active device that has been heard from and not yet marked offline."""
        return self.is_active and self.last_seen_at is not None and self.offline_since is None


class ActivationCode(models.Model):
    """A 12-digit single-use code; only its keyed hash (HMAC-SHA256 with ACTIVATION_CODE_PEPPER) is stored."""

    code_hash = models.CharField(max_length=64, unique=True)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="activation_codes")
    device_name = models.CharField(max_length=100, blank=True, help_text="name preset for the device, optional")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by_device = models.OneToOneField(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="activation_code"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"activation code #{self.pk} of {self.institution.code}"

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "valid"
