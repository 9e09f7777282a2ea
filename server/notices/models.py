"""お知らせ (notices with a publication window and per-device read state), the versioned documents
利用規約 / 個人情報の取り扱い / ライセンス, and the published app releases (S08; read by the terminal in T04, T06, T14).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from packaging.version import InvalidVersion, Version

from server.devices.models import Device
from server.institutions.models import Institution


class NoticeQuerySet(models.QuerySet):
    def published(self, now: datetime.datetime | None = None) -> NoticeQuerySet:
        """Inside the publication window: started, and not yet ended (publish_until is exclusive)."""
        now = now or timezone.now()
        return self.filter(Q(publish_until__isnull=True) | Q(publish_until__gt=now), publish_from__lte=now)

    def for_institution(self, institution_id: int) -> NoticeQuerySet:
        """The institution's own notices and the global ones (institution NULL); never another's (S11)."""
        return self.filter(Q(institution_id=institution_id) | Q(institution__isnull=True))

    def visible_to(self, device: Device, now: datetime.datetime | None = None) -> NoticeQuerySet:
        return self.for_institution(device.institution_id).published(now)

    def with_read_count(self) -> NoticeQuerySet:
        return self.annotate(read_count=models.Count("reads"))


class Notice(models.Model):
    STATE_SCHEDULED = "scheduled"
    STATE_PUBLISHED = "published"
    STATE_ENDED = "ended"
    STATE_LABELS = {STATE_SCHEDULED: "公開前", STATE_PUBLISHED: "公開中", STATE_ENDED: "公開終了"}

    title = models.CharField("タイトル", max_length=200)
    body = models.TextField("本文", help_text="plain text or limited markdown (paragraphs, lists, links)")
    url = models.URLField("詳細URL", max_length=500, blank=True)
    publish_from = models.DateTimeField("公開開始", default=timezone.now)
    publish_until = models.DateTimeField("公開終了", null=True, blank=True, help_text="exclusive; empty = no end")
    institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
        help_text="empty = every institution",
    )
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_from", "-id"]
        indexes = [models.Index(fields=["institution", "-publish_from"], name="notice_inst_from_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(publish_until__isnull=True) | Q(publish_until__gt=models.F("publish_from")),
                name="notice_window_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def state(self, now: datetime.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.publish_from > now:
            return self.STATE_SCHEDULED
        if self.publish_until is not None and self.publish_until <= now:
            return self.STATE_ENDED
        return self.STATE_PUBLISHED


class NoticeRead(models.Model):
    """A device has opened a notice. One row per notice and device, whatever the retries."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="notice_reads")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "device"], name="notice_read_once_per_device")]

    def __str__(self) -> str:
        return f"{self.notice_id} read by {self.device_id}"


class DocumentQuerySet(models.QuerySet):
    def current(self, kind: str, now: datetime.datetime | None = None) -> Document | None:
        """The latest published version of a kind: newest published_at not in the future."""
        now = now or timezone.now()
        return self.filter(kind=kind, published_at__lte=now).order_by("-published_at", "-id").first()


class Document(models.Model):
    KIND_TERMS = "terms"
    KIND_PRIVACY = "privacy"
    KIND_LICENSES = "licenses"
    KIND_CHOICES = [(KIND_TERMS, "利用規約"), (KIND_PRIVACY, "個人情報の取り扱い"), (KIND_LICENSES, "ライセンス")]
    KINDS = (KIND_TERMS, KIND_PRIVACY, KIND_LICENSES)

    kind = models.CharField("種類", max_length=16, choices=KIND_CHOICES)
    version = models.CharField("版", max_length=40)
    title = models.CharField("タイトル", max_length=200)
    body = models.TextField("本文")
    published_at = models.DateTimeField("公開日時", default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-published_at", "-id"]
        indexes = [models.Index(fields=["kind", "-published_at"], name="document_kind_published_idx")]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="document_version_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"


def parse_version(value: str) -> Version | None:
    """PEP 440 (semver strings such as 1.2.3 or 1.0.0-beta.1 parse too); None when it is not a version."""
    try:
        return Version(value.strip())
    except (InvalidVersion, AttributeError, TypeError):
        return None


class AppRelease(models.Model):
    """A published version of the terminal app. ``minimum_supported``: terminals older than this one must update."""

    version = models.CharField("バージョン", max_length=40, unique=True)
    store_url = models.URLField("ストアページURL", max_length=500)
    notes = models.TextField("更新内容", blank=True)
    published_at = models.DateTimeField("公開日時", default=timezone.now)
    minimum_supported = models.BooleanField("これより古い版は更新必須", default=False)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"app {self.version}"

    @property
    def parsed_version(self) -> Version:
        parsed = parse_version(self.version)
        if parsed is None:  # do_publish_app_release refuses these; guard rows written by hand
            raise ValueError(f"not a version: {self.version!r}")
        return parsed
