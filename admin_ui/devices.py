"""A02 device pages: one device with its history and result count, and the bulk actions of IT (retire several
devices, revoke several activation codes) with one confirmation each."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View

from admin_ui.access import ROLE_IT, ROLE_MANAGER, StaffRequiredMixin, console_context
from admin_ui.forms import RetireDeviceForm
from server.audit.labels import audit_action_label, describe
from server.audit.queries import AuditQuery, audit_events
from server.devices.actions import do_retire_device, do_revoke_activation_code
from server.devices.models import ActivationCode, Device
from server.results.models import CheckResult

HISTORY_PER_PAGE = 20
# What happened to the device itself; its result syncs and searches are in the audit trail, not its history.
DEVICE_HISTORY_ACTIONS = (
    "device_registered",
    "device_updated",
    "device_renamed",
    "device_online",
    "device_offline",
    "device_retired",
    "device_deregistered",
)


class DeviceDetailView(StaffRequiredMixin, TemplateView):
    """Facts, health, result count (a number only: no patient data, so IT sees it too) and history."""

    allowed_roles = (ROLE_MANAGER, ROLE_IT)
    template_name = "admin_ui/device_detail.html"
    nav_section = "devices"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        device = get_object_or_404(Device, pk=self.kwargs["device_id"], institution=self.institution)
        since = timezone.now() - dt.timedelta(days=30)
        counts = CheckResult.objects.filter(institution=self.institution, device=device).aggregate(
            total=Count("id"), recent=Count("id", filter=Q(checked_at__gte=since))
        )
        history = audit_events(self.institution.pk, AuditQuery(device=str(device.pk))).filter(
            action__in=DEVICE_HISTORY_ACTIONS
        )
        page = Paginator(history, HISTORY_PER_PAGE).get_page(self.request.GET.get("page"))
        code = ActivationCode.objects.filter(used_by_device=device).first()
        context.update(
            device=device,
            health=device.health(),
            health_label=device.health_label(),
            counts=counts,
            code=code,
            page=page,
            querystring="",
            history=[
                {"event": e, "label": audit_action_label(e.action), "details": describe(e.detail)}
                for e in page.object_list
            ],
        )
        return context


def _selected_ids(request: HttpRequest, name: str, cast: type) -> list[Any]:
    ids = []
    for raw in request.POST.getlist(name):
        try:
            ids.append(cast(raw))
        except (TypeError, ValueError):
            continue  # a forged value selects nothing
    return ids


class DeviceBulkRetireView(StaffRequiredMixin, View):
    """POST the selected devices: a confirmation page with one reason for all; POST again with ``confirm``: retire."""

    allowed_roles = (ROLE_IT,)
    http_method_names = ["post"]
    nav_section = "devices"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ids = _selected_ids(request, "device", uuid.UUID)
        devices = list(
            Device.objects.filter(institution=self.institution, pk__in=ids, status=Device.STATUS_ACTIVE).order_by("name")
        )
        if not devices:
            messages.error(request, "廃止する利用中の端末を選んでください。")
            return HttpResponseRedirect(reverse("console:devices"))
        form = RetireDeviceForm(request.POST if request.POST.get("step") == "retire" else None)
        if form.is_bound and form.is_valid():
            with transaction.atomic():
                for device in devices:
                    do_retire_device(device, form.cleaned_data["reason"], actor=self.actor)
            names = "」「".join(d.name for d in devices)
            messages.success(request, f"{len(devices)}台の端末（「{names}」）を廃止しました。")
            return HttpResponseRedirect(reverse("console:devices"))
        context = {**self.get_context_data(), "devices": devices, "form": form}
        return render(request, "admin_ui/device_retire_bulk.html", context)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**console_context(self.membership), "nav_section": self.nav_section, **kwargs}


class ActivationCodeBulkRevokeView(StaffRequiredMixin, View):
    """Revoke every selected code that is still valid (the browser asks once before the POST)."""

    allowed_roles = (ROLE_IT,)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ids = _selected_ids(request, "code", int)
        revoked = 0
        with transaction.atomic():
            # Locked like a registration locks a code: one being used right now is not also revoked.
            codes = ActivationCode.objects.select_for_update().filter(institution=self.institution, pk__in=ids)
            for code in codes:
                if code.state == "valid":
                    do_revoke_activation_code(code, actor=self.actor)
                    revoked += 1
        if revoked:
            messages.success(request, f"{revoked}件のアクティベーションコードを無効化しました。")
        else:
            messages.error(request, "無効化できるアクティベーションコードが選ばれていません。")
        return HttpResponseRedirect(reverse("console:activation-codes"))

