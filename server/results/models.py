"""Qualification results synced by the terminals (S06), searched by terminals (S07) and the console."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from server.devices.models import Device
from server.institutions.models import Institution


class CheckResult(models.Model):
    # The terminal makes the id, so a retried sync hits the primary key instead of storing the result twice.
    id = models.UUIDField(primary_key=True, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="check_results")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="check_results")
    checked_at = models.DateTimeField("資格確認日時")
    received_at = models.DateTimeField(default=timezone.now)
    name = models.CharField("氏名", max_length=200, blank=True)
    name_kana = models.CharField("氏名（カナ）", max_length=200, blank=True)
    is_valid = models.BooleanField("資格有効")
    qualification_validity = models.CharField(max_length=1)
    insurer_number = models.CharField(max_length=8, blank=True)
    identity_verification = models.CharField(max_length=16, blank=True)
    document = models.JSONField()
    content_hash = models.CharField(max_length=64, help_text="sha-256 of the canonical JSON of the item")

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["institution", "-checked_at", "-id"], name="result_institution_time"),
            models.Index(fields=["device", "-checked_at", "-id"], name="result_device_time"),
        ]

    def __str__(self) -> str:
        return str(self.id)
