"""Qualification results synced by the terminals (S06), searched by terminals (S07) and the console.

Patient data is sealed at rest (issue 15 point 1; server/results/sealing.py, docs/security.md "What is stored how"):
the full document and a small summary (氏名, カナ, 保険者番号) are AES-GCM under the row's key; the name search goes
through a keyed blind index. In clear only what is no patient's: times, terminal, validity, the identity-verification
method, the key id and a hash of the content.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from server.devices.models import Device
from server.institutions.models import Institution
from server.results import crypto, sealing
from server.results.fields import TokenArrayField


class CheckResult(models.Model):
    # The terminal makes the id, so a retried sync hits the primary key instead of storing the result twice.
    id = models.UUIDField(primary_key=True, editable=False)
    # No single-column index on institution: the search indexes below start with it (one index less per insert).
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="check_results", db_index=False
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="check_results")
    checked_at = models.DateTimeField("資格確認日時")
    received_at = models.DateTimeField(default=timezone.now)
    is_valid = models.BooleanField("資格有効")
    qualification_validity = models.CharField(max_length=1)
    identity_verification = models.CharField(max_length=16, blank=True)
    # AES-GCM of the full result document (nonce + ciphertext + tag), under the key named by key_id.
    document_encrypted = models.BinaryField()
    # AES-GCM of {氏名, カナ, 保険者番号} (what lists show), under the same key; the row id is bound in.
    summary_encrypted = models.BinaryField()
    # HMAC-SHA256 tokens (first 8 bytes) of every part of the normalised 氏名 and カナ, under a key derived from key_id.
    name_index = TokenArrayField(default=list)
    key_id = models.CharField(max_length=32)
    content_hash = models.CharField(max_length=64, help_text="sha-256 of the canonical JSON of the item")

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            # Keyset search of S07: institution scope and device scope, newest first.
            models.Index(fields=["institution", "-checked_at", "-id"], name="result_institution_time"),
            models.Index(fields=["institution", "device", "-checked_at", "-id"], name="result_inst_device_time"),
            # The retention purge (S10) goes institution by institution on result_institution_time.
        ]

    def __str__(self) -> str:
        return str(self.id)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.__dict__.get("_document_dirty"):
            self.seal()
        super().save(*args, **kwargs)

    @property
    def document(self) -> Any:
        """The full result document, decrypted on first access."""
        plain = self.__dict__.get("_document_plain")
        if plain is None:
            plain = crypto.decrypt_document(self.document_encrypted, self.id, self.key_id)
            self.__dict__["_document_plain"] = plain
        return plain

    @document.setter
    def document(self, value: Any) -> None:
        self.__dict__["_document_plain"] = value
        self.__dict__["_document_dirty"] = True

    def seal(self, key_id: str | None = None) -> None:
        """Encrypt the document set on this instance, with its summary and blind index, under ``key_id`` (default:
        the current key). Needs the id: it is bound into every ciphertext."""
        if self.id is None:
            raise ValueError("a result needs its id before its document can be encrypted")
        document = self.document
        self.key_id, self.document_encrypted = crypto.encrypt_document(document, self.id, key_id)
        summary = sealing.summary_of(document)
        self.summary_encrypted = sealing.seal_summary(summary, self.id, self.key_id)
        self.name_index = sealing.name_tokens(summary["name"], summary["name_kana"], self.key_id)
        self.__dict__["_summary_plain"] = summary
        self.__dict__["_document_dirty"] = False

    @property
    def summary(self) -> dict[str, str]:
        """氏名, カナ and 保険者番号, decrypted on first access (a list needs nothing else)."""
        plain = self.__dict__.get("_summary_plain")
        if plain is None:
            plain = sealing.open_summary(self.summary_encrypted, self.id, self.key_id)
            self.__dict__["_summary_plain"] = plain
        return plain

    @property
    def name(self) -> str:
        return self.summary["name"]

    @property
    def name_kana(self) -> str:
        return self.summary["name_kana"]

    @property
    def insurer_number(self) -> str:
        return self.summary["insurer_number"]


class ResultExport(models.Model):
    """A CSV export of a result search, built in the background (S10) and downloadable for a limited time."""

    PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
    STATUS_CHOICES = [(PENDING, "待機中"), (RUNNING, "作成中"), (DONE, "完了"), (FAILED, "失敗")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="result_exports")
    # The terminal that asked (also the scope of a device-scope export), or null for a console user.
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    requested_by_type = models.CharField(max_length=16, default="device")
    requested_by_id = models.CharField(max_length=150, blank=True)
    scope = models.CharField(max_length=16, default="device")
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=PENDING)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error_message = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life of the export's work: queued, claimed by a build, or a chunk of rows written. Work without
    # one for RESULT_EXPORT_STUCK_SECONDS is queued again by results.recover_stuck_exports.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery task id of the build working on it: its own retries may take it over, another delivery may not.
    claimed_by = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The CSV holds patient data: encrypted like the documents, the export id being the associated data.
    content_encrypted = models.BinaryField(null=True, blank=True)
    key_id = models.CharField(max_length=32, blank=True)
    result_ids = models.JSONField(default=list, blank=True, help_text="ids of the exported results, for the audit")
    # A03: the console's filters beyond the period ({"device": id, "validity": "valid"|"invalid"}), the file's
    # encoding (utf-8 with BOM, or cp932) and what cp932 could not hold (written as 〓, listed here).
    filters = models.JSONField(default=dict, blank=True)
    encoding = models.CharField(max_length=8, default="utf-8")
    unencodable = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["expires_at"], name="result_export_expiry"),
            # The recovery's scan: the few unfinished exports.
            models.Index(
                fields=["heartbeat_at"], name="result_export_unfinished", condition=models.Q(status__in=["pending", "running"])
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"

    @property
    def progress(self) -> int:
        """Percent done, 0–100."""
        if self.status == self.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    def is_expired(self, now: Any = None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at
