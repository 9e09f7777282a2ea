"""The append-only audit trail (S09): who did or saw what, when and from where."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    pass


class AuditEvent(models.Model):
    ACTOR_CHOICES = [
        ("system", "system"),
        ("device", "device"),
        ("account", "app account"),
        ("staff", "console user"),
        ("cli", "command line"),
    ]

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ACTOR_CHOICES, default="system")
    actor_id = models.CharField(max_length=150, blank=True)
    # Plain ids rather than foreign keys with cascades: the trail must outlive what it talks about.
    institution = models.ForeignKey(
        "institutions.Institution",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    object_ids = models.JSONField("objects", default=list, blank=True, help_text="ids of the objects concerned")
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.UUIDField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["institution", "-occurred_at"], name="audit_institution_time")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_type}:{self.actor_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("audit events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are never deleted")
