"""A03: the result CSV of the console, of any size, through the background export (S10, server.results.exports):
choose the encoding (UTF-8 with BOM, or Shift_JIS), watch the progress, download once built.

The file has the whole qualification record in stable columns (docs/console.md). The search's period, terminal and
validity decide which results go in; a name searched on the list does not (it is never stored with the export).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import FormView, TemplateView, View

from admin_ui.access import ROLE_MANAGER, StaffRequiredMixin
from admin_ui.forms import ResultSearchForm
from contracts.result_view import VALIDITY_FILTERS
from server.common.csvfile import ENCODINGS, csv_bytes_response
from server.devices.models import Device
from server.results.exports import do_record_download, do_request_export, export_content, export_filename
from server.results.models import ResultExport
from server.results.queries import DEFAULT_PAGE_SIZE, EXPORT_HEADER, ResultQuery


class ExportForm(forms.Form):
    encoding = forms.ChoiceField(
        label="文字コード",
        choices=list(ENCODINGS.items()),
        initial="utf-8",
        widget=forms.RadioSelect,
        help_text="Excelで開く場合はどちらでも構いません。レセコンなどに取り込む場合は、その製品が読める文字コードを選んでください。",
    )


class ExportMixin(StaffRequiredMixin):
    allowed_roles = (ROLE_MANAGER,)
    nav_section = "results"

    def search_form(self) -> ResultSearchForm:
        devices = Device.objects.filter(institution=self.institution).order_by("name")
        data = {**ResultSearchForm.default_data(), **self.request.GET.dict()}
        return ResultSearchForm(data, devices=devices)

    def own_export(self) -> ResultExport:
        # The console's own exports of this institution; a terminal's export is not downloaded here.
        return get_object_or_404(
            ResultExport, pk=self.kwargs["export_id"], institution=self.institution, requested_by_type="staff"
        )


class ResultExportView(ExportMixin, FormView):
    """GET: the search's filters and the encoding choice; POST: start the background build."""

    template_name = "admin_ui/result_export.html"
    form_class = ExportForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        search = self.search_form()
        valid = search.is_valid()
        data = search.cleaned_data if valid else {}
        device_names = dict(search.fields["device"].choices)
        return super().get_context_data(
            search=search,
            search_valid=valid and bool(data.get("date_from")) and bool(data.get("date_to")),
            period=(data.get("date_from"), data.get("date_to")),
            device_name=device_names.get(data.get("device") or "", ""),
            validity_label=dict(search.fields["validity"].choices).get(data.get("validity") or "", ""),
            name_searched=bool(data.get("q")),
            querystring=self.request.GET.urlencode(),
            columns=EXPORT_HEADER,
            **kwargs,
        )

    def form_valid(self, form: ExportForm) -> HttpResponse:
        search = self.search_form()
        back = reverse("console:results") + "?" + self.request.GET.urlencode()
        if not search.is_valid() or not search.cleaned_data.get("date_from") or not search.cleaned_data.get("date_to"):
            messages.error(self.request, "CSV出力には、正しい開始日と終了日を指定してください。")
            return HttpResponseRedirect(back)
        data = search.cleaned_data
        query = ResultQuery(
            scope="institution", date_from=data["date_from"], date_to=data["date_to"], page_size=DEFAULT_PAGE_SIZE
        )
        export = do_request_export(
            self.institution,
            query,
            actor=self.actor,
            filters={"device": data.get("device") or "", "validity": data.get("validity") or ""},
            encoding=form.cleaned_data["encoding"],
        )
        return HttpResponseRedirect(reverse("console:results-export-status", args=[export.pk]))


class ResultExportStatusView(ExportMixin, TemplateView):
    """Progress of one export; the page reloads itself (meta refresh, no script) until the file is ready."""

    template_name = "admin_ui/result_export_status.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        export = self.own_export()
        device = None
        if (export.filters or {}).get("device"):
            device = Device.objects.filter(pk=export.filters["device"], institution=self.institution).first()
        return super().get_context_data(
            export=export,
            running=export.status in (ResultExport.PENDING, ResultExport.RUNNING),
            ready=export.status == ResultExport.DONE and not export.is_expired(),
            expired=export.status == ResultExport.DONE and export.is_expired(),
            device=device,
            validity_label=VALIDITY_FILTERS.get((export.filters or {}).get("validity"), ""),
            encoding_label=ENCODINGS.get(export.encoding, export.encoding),
            **kwargs,
        )


class ResultExportDownloadView(ExportMixin, View):
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        export = self.own_export()
        if export.status != ResultExport.DONE or export.is_expired():
            raise Http404("not ready")
        do_record_download(export, actor=self.actor)
        return csv_bytes_response(export_filename(export), export_content(export), export.encoding)

