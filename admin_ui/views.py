"""Console pages (A01–A07). Views stay thin: access in ``access``, wording in templates, writes in server actions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView, View

from admin_ui.access import ROLE_ADMIN, ROLE_IT, ROLE_MANAGER, StaffRequiredMixin, home_url
from admin_ui.dashboard import dashboard_context, parse_period
from admin_ui.forms import (
    AuditSearchForm,
    ConsoleLoginForm,
    CreateAppAccountForm,
    IssueActivationCodeForm,
    RenameDeviceForm,
    ResetAccountPasswordForm,
    ResultSearchForm,
    RetireDeviceForm,
)
from admin_ui.sorting import parse_sort
from admin_ui.templatetags.console import jst_datetime
from contracts.result_view import build_result_view
from server.audit.actions import record_event
from server.audit.labels import actor_type_label, audit_action_label, describe
from server.audit.models import AuditEvent
from server.audit.queries import (
    AUDIT_CSV_HEADER,
    AuditQuery,
    audit_csv_rows,
    audit_events,
    bounded,
    console_query,
    device_names,
)
from server.common.actor import STAFF, Actor
from server.common.csvfile import csv_streaming_response
from server.devices.actions import (
    do_issue_activation_code,
    do_rename_device,
    do_retire_device,
    do_revoke_activation_code,
)
from server.devices.models import ActivationCode, Device
from server.institutions.actions import do_create_app_account, do_set_app_account_password, do_unlock_app_account
from server.institutions.models import AppAccount
from server.institutions.queries import membership_of
from server.results.models import CheckResult
from server.results.queries import ResultFilters, filter_results, result_ordering

RESULTS_PER_PAGE = 20
CODES_PER_PAGE = 20
AUDIT_PER_PAGE = 50


def _audit(view: StaffRequiredMixin, action: str, *, objects: list[str], detail: dict[str, Any]) -> None:
    """Which results were shown to which staff user (append-only audit trail)."""
    record_event(action, view.actor, institution=view.institution, objects=objects, detail=detail)


class ConsoleLoginView(auth_views.LoginView):
    template_name = "admin_ui/login.html"
    authentication_form = ConsoleLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return home_url(membership_of(self.request.user))

    def form_valid(self, form: ConsoleLoginForm) -> HttpResponse:
        response = super().form_valid(form)
        membership = membership_of(form.get_user())
        record_event("console_login", Actor.staff(self.request), institution=membership.institution)
        return response

    def form_invalid(self, form: ConsoleLoginForm) -> HttpResponse:
        username = (form.data.get("username") or "").strip()
        if username:  # the ID that was tried, never the password
            codes = sorted({e.code for e in form.non_field_errors().as_data() if e.code})
            record_event("console_login_failed", Actor.of_request(self.request, STAFF, username), detail={"reasons": codes})
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
    nav_section = "dashboard"
    allowed_roles = (ROLE_MANAGER, ROLE_IT, ROLE_ADMIN)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.membership.has_role(ROLE_MANAGER, ROLE_IT):  # a 利用者管理 only: their page is the user list
            return HttpResponseRedirect(home_url(self.membership))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        days = parse_period(self.request.GET.get("days"))
        context.update(dashboard_context(self.institution, days, links=self.membership.has_role(ROLE_MANAGER)))
        return context


DEVICES_PER_PAGE = 50
DEVICE_SORTS = {
    "name": "端末名",
    "status": "状態",
    "registered_at": "登録日時",
    "last_seen_at": "最終接続日時",
    "app_version": "アプリバージョン",
}


class DeviceListView(StaffRequiredMixin, TemplateView):
    """A02: every device of the institution (retired and deregistered ones are kept), sortable and paged, with its
    health; IT can retire several at once."""

    template_name = "admin_ui/devices.html"
    nav_section = "devices"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        sort = parse_sort(self.request.GET, DEVICE_SORTS, "name")
        field = F(sort.key)
        order = field.desc(nulls_last=True) if sort.descending else field.asc(nulls_first=True)
        devices = Device.objects.filter(institution=self.institution).order_by(order, "name", "pk")
        page = Paginator(devices, DEVICES_PER_PAGE).get_page(self.request.GET.get("page"))
        querystring = self.request.GET.copy()
        querystring.pop("page", None)
        now = timezone.now()
        rows = [
            {"device": d, "health": d.health(now), "health_label": Device.HEALTH_LABELS[d.health(now)]}
            for d in page.object_list
        ]
        context.update(
            devices=page.object_list,
            rows=rows,
            page=page,
            sort=sort,
            querystring=querystring.urlencode(),
            offline_minutes=settings.DEVICE_OFFLINE_AFTER_MINUTES,
        )
        return context


class DeviceRetireView(StaffRequiredMixin, FormView):
    """Confirmation page (GET) and retirement (POST) of one device; IT staff only."""

    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/device_retire.html"
    nav_section = "devices"
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
        do_retire_device(device, form.cleaned_data["reason"], actor=self.actor)
        messages.success(self.request, f"端末「{device.name}」を廃止しました。")
        return HttpResponseRedirect(reverse("console:devices"))


RESULT_SORTS = {"checked_at": "資格確認日時", "device": "端末", "validity": "資格確認結果"}


class ResultListView(StaffRequiredMixin, TemplateView):
    """A03 basics: every terminal's results of the institution, newest first, filtered and paged."""

    allowed_roles = (ROLE_MANAGER,)
    template_name = "admin_ui/results.html"
    nav_section = "results"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        devices = Device.objects.filter(institution=self.institution).order_by("name")
        # A period left out of the query means the default one; an emptied date field means no bound.
        form = ResultSearchForm({**ResultSearchForm.default_data(), **self.request.GET.dict()}, devices=devices)
        sort = parse_sort(self.request.GET, RESULT_SORTS, "-checked_at")
        results = (
            filter_results(self._base(), ResultFilters.of(form.cleaned_data)).order_by(*result_ordering(sort.value))
            if form.is_valid()
            else self._base().none()
        )
        page = Paginator(results, RESULTS_PER_PAGE).get_page(self.request.GET.get("page"))
        querystring = self.request.GET.copy()
        querystring.pop("page", None)
        context.update(
            form=form,
            sort=sort,
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
    allowed_roles = (ROLE_MANAGER,)
    template_name = "admin_ui/result_detail.html"
    nav_section = "results"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        result = get_object_or_404(
            CheckResult.objects.select_related("device"), pk=self.kwargs["result_id"], institution=self.institution
        )
        context.update(result=result, view=build_result_view(result.document or {}))
        context["back_query"] = self.request.GET.get("back", "")
        _audit(self, "console_result_viewed", objects=[str(result.pk)], detail={"device": str(result.device_id)})
        context["viewers"] = result_viewers(self.institution, result)
        return context


class ResultPrintView(StaffRequiredMixin, TemplateView):
    """A03: the result on paper (A4), the same sections and wording as the detail page, without the console around it.
    Printing is viewing: audited like the detail page, with ``print``."""

    allowed_roles = (ROLE_MANAGER,)
    template_name = "admin_ui/result_print.html"
    nav_section = "results"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        result = get_object_or_404(
            CheckResult.objects.select_related("device"), pk=self.kwargs["result_id"], institution=self.institution
        )
        context.update(result=result, view=build_result_view(result.document or {}), printed_at=timezone.now())
        detail = {"device": str(result.device_id), "print": True}
        _audit(self, "console_result_viewed", objects=[str(result.pk)], detail=detail)
        return context


VIEWER_ACTIONS = {
    "console_result_viewed": "詳細を表示",
    "console_results_listed": "一覧に表示",
    "console_results_exported": "CSVに出力",
    "result_viewed": "端末で詳細を表示",
    "results_searched": "端末の検索結果に表示",
    "results_exported": "CSVに出力（バックグラウンド）",
}
VIEWERS_SHOWN = 50


def result_viewers(institution: Any, result: CheckResult) -> dict[str, Any]:
    """A06 「この結果を見た人」: every audit event naming this result (GIN-indexed object ids), newest first."""
    events = audit_events(institution.pk, AuditQuery(about=str(result.pk))).filter(action__in=list(VIEWER_ACTIONS))
    rows = list(events[:VIEWERS_SHOWN])
    names = device_names(institution.pk)
    return {
        "rows": [
            {
                "event": event,
                "what": "印刷用に表示" if (event.detail or {}).get("print") else VIEWER_ACTIONS[event.action],
                "who": names.get(str(event.device_id), "端末") if event.actor_type == "device" else event.actor_id,
                "kind": actor_type_label(event.actor_type),
            }
            for event in rows
        ],
        "total": events.count() if len(rows) == VIEWERS_SHOWN else len(rows),
        "audit_query": f"object_type=result&object_id={result.pk}&date_from=&date_to=",
    }


# --- A02: activation codes and device names (IT) ---


def format_activation_code(code: str) -> str:
    """``1234 5678 9012``: groups of four, easy to read aloud over the phone and to type."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


class DeviceRenameView(StaffRequiredMixin, FormView):
    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/device_rename.html"
    form_class = RenameDeviceForm
    nav_section = "devices"

    def get_device(self) -> Device:
        return get_object_or_404(Device, pk=self.kwargs["device_id"], institution=self.institution)

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.get_device().name}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["device"] = self.get_device()
        return context

    def form_valid(self, form: RenameDeviceForm) -> HttpResponse:
        device = self.get_device()
        old, new = device.name, form.cleaned_data["name"].strip()
        if new != old:
            try:
                do_rename_device(device, new, actor=self.actor)
            except ValidationError as error:
                form.add_error("name", error.message_dict["name"])
                return self.form_invalid(form)
            messages.success(self.request, f"端末名を「{old}」から「{new}」に変更しました。")
        else:
            messages.info(self.request, "端末名は変更されていません。")
        return HttpResponseRedirect(reverse("console:device-detail", args=[device.pk]))


class ActivationCodeListView(StaffRequiredMixin, TemplateView):
    """Every code of the institution with its state; the code itself is never shown again (only its hash is kept)."""

    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/activation_codes.html"
    nav_section = "devices"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        codes = (
            ActivationCode.objects.filter(institution=self.institution)
            .select_related("used_by_device")
            .order_by("-created_at", "-pk")
        )
        page = Paginator(codes, CODES_PER_PAGE).get_page(self.request.GET.get("page"))
        context.update(page=page, codes=page.object_list, querystring="")
        return context


class ActivationCodeIssueView(StaffRequiredMixin, FormView):
    """GET: the form; POST: issue and show the code once, in this response only (it is never stored in clear)."""

    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/activation_code_issue.html"
    form_class = IssueActivationCodeForm
    nav_section = "devices"

    def form_valid(self, form: IssueActivationCodeForm) -> HttpResponse:
        try:
            code, issued = do_issue_activation_code(
                self.institution,
                device_name=form.cleaned_data["device_name"].strip() or None,
                actor=self.actor,
            )
        except ValidationError as error:
            form.add_error("device_name", error.message_dict["device_name"])
            return self.form_invalid(form)
        context = self.get_context_data(form=form, issued=issued, code=format_activation_code(code))
        return render(self.request, "admin_ui/activation_code_issued.html", context)


class ActivationCodeRevokeView(StaffRequiredMixin, View):
    allowed_roles = (ROLE_IT,)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            # Locked like a registration locks it: a code being used right now is not also revoked.
            code = get_object_or_404(
                ActivationCode.objects.select_for_update(), pk=kwargs["code_id"], institution=self.institution
            )
            revocable = code.state == "valid"
            if revocable:
                do_revoke_activation_code(code, actor=self.actor)
        if revocable:
            issued = jst_datetime(code.created_at)
            messages.success(request, f"{issued}に発行したアクティベーションコードを無効化しました。")
        else:
            messages.error(request, "このアクティベーションコードは有効ではないため、無効化できません。")
        return HttpResponseRedirect(reverse("console:activation-codes"))


# --- A04: app accounts (IT) ---


class AccountListView(StaffRequiredMixin, TemplateView):
    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/accounts.html"
    nav_section = "accounts"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        accounts = AppAccount.objects.filter(institution=self.institution).order_by("account_id")
        context["accounts"] = [(account, account.is_locked(now)) for account in accounts]
        return context


class AccountCreateView(StaffRequiredMixin, FormView):
    allowed_roles = (ROLE_IT,)
    template_name = "admin_ui/account_form.html"
    form_class = CreateAppAccountForm
    nav_section = "accounts"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "institution": self.institution}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(heading="アプリアカウントの作成", submit_label="作成する", **kwargs)

    def form_valid(self, form: CreateAppAccountForm) -> HttpResponse:
        account_id = form.cleaned_data["account_id"]
        try:
            with transaction.atomic():
                do_create_app_account(
                    self.institution,
                    account_id,
                    form.cleaned_data["password"],
                    actor=self.actor,
                )
        except IntegrityError:  # created by someone else between the check and the insert
            form.add_error("account_id", "このIDは既に使われています。")
            return self.form_invalid(form)
        except ValidationError as error:  # the action's own checks, should the form's ever drift from them
            codes = {item.code for item in error.error_list}
            form.add_error("password" if "password_rule" in codes else "account_id", error)
            return self.form_invalid(form)
        messages.success(self.request, f"アプリアカウント「{account_id}」を作成しました。")
        return HttpResponseRedirect(reverse("console:accounts"))


class AccountMixin(StaffRequiredMixin):
    allowed_roles = (ROLE_IT,)
    nav_section = "accounts"

    def get_account(self) -> AppAccount:
        return get_object_or_404(AppAccount, pk=self.kwargs["account_pk"], institution=self.institution)


class AccountPasswordView(AccountMixin, FormView):
    template_name = "admin_ui/account_form.html"
    form_class = ResetAccountPasswordForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        account = self.get_account()
        return super().get_context_data(
            heading="パスワードの再設定", submit_label="再設定する", account=account, **kwargs
        )

    def form_valid(self, form: ResetAccountPasswordForm) -> HttpResponse:
        account = self.get_account()
        do_set_app_account_password(account, form.cleaned_data["password"], actor=self.actor)
        messages.success(
            self.request,
            f"アプリアカウント「{account.account_id}」のパスワードを再設定しました。新しいパスワードを利用者にお伝えください。",
        )
        return HttpResponseRedirect(reverse("console:accounts"))


class AccountUnlockView(AccountMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = self.get_account()
        if account.is_locked() or account.failed_attempts:
            do_unlock_app_account(account, actor=self.actor)
            messages.success(request, f"アプリアカウント「{account.account_id}」のロックを解除しました。")
        else:
            messages.info(request, f"アプリアカウント「{account.account_id}」はロックされていません。")
        return HttpResponseRedirect(reverse("console:accounts"))


# --- A06: the audit trail (read only, both roles) ---


class AuditSearchMixin(StaffRequiredMixin):
    allowed_roles = (ROLE_MANAGER,)
    nav_section = "audit"

    def audit_form(self) -> AuditSearchForm:
        devices = Device.objects.filter(institution=self.institution).order_by("name")
        data = {**AuditSearchForm.default_data(), **self.request.GET.dict()}
        return AuditSearchForm(data, devices=devices)

    def events(self, form: AuditSearchForm) -> QuerySet:
        if not form.is_valid():
            return AuditEvent.objects.none()
        return audit_events(self.institution.pk, console_query(form.cleaned_data))

    def device_names(self) -> dict[str, str]:
        return device_names(self.institution.pk)


class AuditListView(AuditSearchMixin, TemplateView):
    template_name = "admin_ui/audit.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = self.audit_form()
        page = Paginator(self.events(form), AUDIT_PER_PAGE).get_page(self.request.GET.get("page"))
        names = self.device_names()
        rows = [
            {
                "event": event,
                "action_label": audit_action_label(event.action),
                "actor_label": actor_type_label(event.actor_type),
                "device_name": names.get(str(event.device_id), "") if event.device_id else "",
                "details": describe(event.detail, names),
            }
            for event in page.object_list
        ]
        querystring = self.request.GET.copy()
        querystring.pop("page", None)
        context.update(form=form, page=page, rows=rows, querystring=querystring.urlencode())
        return context


class AuditExportView(AuditSearchMixin, View):
    """The current search as CSV, streamed; the export itself is audited (which filters, how many rows)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.audit_form()
        if not form.is_valid():
            messages.error(request, "検索条件に誤りがあるため、CSVを出力できません。")
            return HttpResponseRedirect(reverse("console:audit") + "?" + request.GET.urlencode())
        events = bounded(self.events(form))
        count = events.count()
        _audit(self, "console_audit_exported", objects=[], detail={**_filters_detail(form.cleaned_data), "rows": count})
        rows = audit_csv_rows(events, self.device_names())
        return csv_streaming_response(f"監査ログ_{timezone.localdate():%Y%m%d}.csv", AUDIT_CSV_HEADER, rows)


def _filters_detail(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value) or None
        for key, value in data.items()
        if key != "q"
    }
