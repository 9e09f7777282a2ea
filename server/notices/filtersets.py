"""Reads of the notices app: what a device sees (S08, S11), the app-release check (T14), the console's filters (A05)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from server.common.errors import ApiError
from server.devices.models import Device
from server.notices.models import AppRelease, Notice, NoticeRead, parse_version

# A terminal shows a short list; a cap keeps an old, never-ended notice pile from growing the response without bound.
MAX_NOTICES = 100
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
FLAG_VALUES = ["1", "0", "true", "false", "yes", "no", "on", "off"]


def validation_error(field: str, message: str) -> ApiError:
    return ApiError("validation_error", "入力内容に誤りがあります。", 400, {field: [message]})


def parse_flag(value: str | None, field: str) -> bool:
    """One of FLAG_VALUES exactly (the schema's enum), or nothing."""
    if value in _TRUE:
        return True
    if value is None or value in _FALSE:
        return False
    raise validation_error(field, f"{field} には 1 または 0 を指定してください。")


def notices_for_device(
    device: Device, *, unread_only: bool = False, now: datetime.datetime | None = None
) -> QuerySet[Notice]:
    """The device's institution's notices and the global ones inside their window, newest first, with ``read_at``.

    Not sliced: the view shows the first MAX_NOTICES and counts the unread over all of them.
    """
    reads = NoticeRead.objects.filter(notice=OuterRef("pk"), device=device).values("read_at")[:1]
    notices = Notice.objects.visible_to(device, now).annotate(read_at=Subquery(reads))
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-publish_from", "-id")


def notice_for_device(device: Device, notice_id: int, now: datetime.datetime | None = None) -> Notice:
    """One notice the device may see, with ``read_at``; anything else (unknown, another institution's, outside its
    window) is 404."""
    notice = notices_for_device(device, now=now).filter(pk=notice_id).first()
    if notice is None:
        raise ApiError("not_found", "対象のお知らせが見つかりません。", 404)
    return notice


@dataclass(frozen=True)
class ReleaseCheck:
    latest: AppRelease | None
    update_available: bool
    update_required: bool


def check_app_release(current: str, now: datetime.datetime | None = None) -> ReleaseCheck:
    """Compare a terminal's version with the published releases, by version order (not by date).

    Update is required when ``current`` is older than the newest published release marked ``minimum_supported``.
    Releases published in the future are not yet visible.
    """
    current_version = parse_version(current)
    if current_version is None:
        raise ValueError(f"not a version: {current!r}")
    now = now or timezone.now()
    releases = [r for r in AppRelease.objects.filter(published_at__lte=now) if parse_version(r.version) is not None]
    if not releases:
        return ReleaseCheck(None, False, False)
    latest = max(releases, key=lambda r: r.parsed_version)
    minimums = [r.parsed_version for r in releases if r.minimum_supported]
    required = bool(minimums) and current_version < max(minimums)
    return ReleaseCheck(latest, current_version < latest.parsed_version, required)


class NoticeFilterSet(django_filters.FilterSet):
    """Console list of notices (A05): by institution code ("all" for the global ones), state and title."""

    institution = django_filters.CharFilter(method="filter_institution", label="機関コード")
    state = django_filters.ChoiceFilter(choices=list(Notice.STATE_LABELS.items()), method="filter_state", label="状態")
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="タイトル")

    class Meta:
        model = Notice
        fields = ["institution", "state", "q"]

    def filter_institution(self, queryset: QuerySet[Notice], name: str, value: str) -> QuerySet[Notice]:
        if value == "all":
            return queryset.filter(institution__isnull=True)
        return queryset.filter(institution__code=value)

    def filter_state(self, queryset: QuerySet[Notice], name: str, value: str) -> QuerySet[Notice]:
        now = timezone.now()
        if value == Notice.STATE_SCHEDULED:
            return queryset.filter(publish_from__gt=now)
        if value == Notice.STATE_ENDED:
            return queryset.filter(publish_until__lte=now)
        return queryset.published(now)
