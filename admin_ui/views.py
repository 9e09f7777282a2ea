"""Console pages (A01–A03). Views stay thin: access in ``access``, wording in templates, writes in server actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from admin_ui.access import ROLE_IT, StaffRequiredMixin, membership_of
from admin_ui.filters import filter_results
from admin_ui.forms import ConsoleLoginForm, ResultSearchForm, RetireDeviceForm
from admin_ui.presenters import result_sections
from server.audit.actions import record_event
from server.devices.actions import do_retire_device
from server.devices.models import Device
from server.results.models import CheckResult

RESULTS_PER_PAGE = 20


def _audit(view: StaffRequiredMixin, action: str, *, objects: list[str], detail: dict[str, Any]) -> None:
    """Which results were shown to which staff user (append-only audit trail)."""
    record_event(
        action,
        request=view.request,
        institution=view.institution,
        actor_type="staff",
        actor_id=view.request.user.get_username(),
        objects=objects,
        detail=detail,
    )


class ConsoleLoginView(auth_views.LoginView):
    template_name = "admin_ui/login.html"
    authentication_form = ConsoleLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("console:dashboard")

    def form_valid(self, form: ConsoleLoginForm) -> HttpResponse:
        response = super().form_valid(form)
        membership = membership_of(form.get_user())
        record_event(
            "console_login",
            request=self.request,
            institution=membership.institution,
            actor_type="staff",
            actor_id=form.get_user().get_username(),
        )
        return response

    def form_invalid(self, form: ConsoleLoginForm) -> HttpResponse:
        username = (form.data.get("username") or "").strip()
        if username:  # the ID that was tried, never the password
            codes = sorted({e.code for e in form.non_field_errors().as_data() if e.code})
            record_event(
                "console_login_failed",
                request=self.request,
                actor_type="staff",
                actor_id=username,
                detail={"reasons": codes},
            )
        return super().form_invalid(form)


class ConsoleLogoutView(auth_views.LogoutView):
    """POST only (Django 5), so a link or an image cannot sign a user out."""

    def get_success_url(self) -> str:
        return reverse("console:login")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "ログアウトしました。")
        return response


class DashboardView(StaffRequiredMixin, TemplateView):
    template_name = "admin_ui/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
        counts = CheckResult.objects.filter(institution=self.institution, checked_at__gte=start).aggregate(
            total=Count("id"), valid=Count("id", filter=Q(is_valid=True)), invalid=Count("id", filter=Q(is_valid=False))
        )
        devices = Device.objects.filter(institution=self.institution)
        context.update(
            today=today,
            today_counts=counts,
            active_devices=devices.filter(status=Device.STATUS_ACTIVE).count(),
            all_devices=devices.count(),
        )
        return context


class DeviceListView(StaffRequiredMixin, TemplateView):
    """A02 basics: every device of the institution, retired and deregistered ones included (they are kept)."""

    template_name = "admin_ui/devices.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        devices = Device.objects.filter(institution=self.institution).order_by("name", "registered_at")
        context["devices"] = devices
        return context


class DeviceRetireView(StaffRequiredMixin, FormView):
    """Confirmation page (GET) and retirement (POST) of one device; IT staff only."""

    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/device_retire.html"
    form_class = RetireDeviceForm

    def get_device(self):
        return get_object_or_404(Device, pk=self.kwargs["device_id"], institution=self.institution)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["device"] = self.get_device()
        return context

    def form_valid(self, form: RetireDeviceForm) -> HttpResponse:
        device = self.get_device()
        if device.status != Device.STATUS_ACTIVE:
            messages.error(self.request, f"端末「{device.name}」はすでに利用中ではありません。")
            return HttpResponseRedirect(reverse("console:devices"))
        do_retire_device(device, by=self.request.user, reason=form.cleaned_data["reason"], request=self.request)
        messages.success(self.request, f"端末「{device.name}」を廃止しました。")
        return HttpResponseRedirect(reverse("console:devices"))


class ResultListView(StaffRequiredMixin, TemplateView):
    """A03 basics: every terminal's results of the institution, newest first, filtered and paged."""

    template_name = "admin_ui/results.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        devices = Device.objects.filter(institution=self.institution).order_by("name")
        # A period left out of the query means the default one; an emptied date field means no bound.
        form = ResultSearchForm({**ResultSearchForm.default_data(), **self.request.GET.dict()}, devices=devices)
        results = filter_results(self._base(), form.cleaned_data) if form.is_valid() else self._base().none()
        page = Paginator(results, RESULTS_PER_PAGE).get_page(self.request.GET.get("page"))
        querystring = self.request.GET.copy()
        querystring.pop("page", None)
        context.update(
            form=form,
            page=page,
            results=page.object_list,
            querystring=querystring.urlencode(),  # the filters, for the pager links
            back=self.request.GET.urlencode(),  # filters and page, so the detail page can return here
        )
        self._record(form, page)
        return context

    def _base(self) -> QuerySet:
        return CheckResult.objects.filter(institution=self.institution).select_related("device")

    def _record(self, form: ResultSearchForm, page: Page) -> None:
        data = form.cleaned_data if form.is_valid() else {}
        detail = {
            "page": page.number,
            "total": page.paginator.count,
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
            "device": data.get("device") or None,
            "validity": data.get("validity") or None,
            # Whether a name was searched, not the name itself: patient data stays out of the trail.
            "name_searched": bool(data.get("q")),
        }
        _audit(self, "console_results_listed", objects=[str(r.pk) for r in page.object_list], detail=detail)


class ResultDetailView(StaffRequiredMixin, TemplateView):
    template_name = "admin_ui/result_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        result = get_object_or_404(
            CheckResult.objects.select_related("device"), pk=self.kwargs["result_id"], institution=self.institution
        )
        context.update(result=result, sections=result_sections(result.document or {}))
        context["back_query"] = self.request.GET.get("back", "")
        _audit(self, "console_result_viewed", objects=[str(result.pk)], detail={"device": str(result.device_id)})
        return context
