"""Terminal-facing result endpoints: batch sync (S06), search and detail (S07). Every read is audited (S09)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from contracts.exports import to_fhir_coverage, to_onshi_xml
from server.audit.actions import record_event
from server.common import parsing
from server.common.actor import Actor
from server.common.api import DeviceAPIView, StaffAPIView
from server.common.csvfile import csv_bytes_response
from server.common.errors import ApiError
from server.common.schema import SIGNED_ERRORS, error_response, with_server_time
from server.common.serializers import StrictSerializer
from server.results.actions import do_store_results
from server.results.api.serializers import (
    BatchRequestDocSerializer,
    BatchRequestSerializer,
    BatchResponseSerializer,
    ExportRequestSerializer,
    ExportStatusSerializer,
    ResultDetailResponseSerializer,
    ResultDetailSerializer,
    ResultPageSerializer,
    ResultRowSerializer,
)
from server.results.exports import (
    do_record_download,
    do_request_export,
    download_token,
    export_content,
    export_filename,
    token_is_valid,
)
from server.results.models import CheckResult, ResultExport
from server.results.queries import (
    DEFAULT_PAGE_SIZE,
    ResultQuery,
    decode_cursor,
    paginate,
    parse_query,
    visible_results,
)


class ResultBatchView(DeviceAPIView):
    @extend_schema(
        operation_id="results_batch",
        summary="Push a batch of results (1–500); per-item outcome",
        request=BatchRequestDocSerializer,
        responses={200: BatchResponseSerializer, 400: error_response("validation_error"), **SIGNED_ERRORS},
    )
    def post(self, request: Request) -> Response:
        results = self.validated(BatchRequestSerializer)["results"]
        outcomes = do_store_results(self.device, results, actor=self.actor)
        return Response(with_server_time({"items": [o.as_dict() for o in outcomes]}))


class ResultListView(DeviceAPIView):
    @extend_schema(
        operation_id="results_list",
        summary="Search results, newest first, keyset pagination",
        parameters=[
            OpenApiParameter("scope", str, enum=["device", "institution"], description="default device"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="≥ the 1st of the previous month (JST)"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="≤ today (JST); default period: last 30 days"),
            OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": 100}, description="default 8"),
            OpenApiParameter("cursor", str, description="opaque; from first/previous/next/last of a previous page"),
        ],
        responses={
            200: ResultPageSerializer,
            400: error_response("validation_error", "period_out_of_range"),
            **SIGNED_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        cursor = decode_cursor(request.query_params["cursor"]) if request.query_params.get("cursor") else None
        query = parse_query(cursor.params if cursor else request.query_params)
        page = paginate(visible_results(self.device, query), query, cursor)
        rows = ResultRowSerializer(page.rows, many=True).data
        record_event(
            "results_searched",
            self.actor,
            device=self.device,
            objects=[row["id"] for row in rows],
            detail={"scope": query.scope, "date_from": str(query.date_from), "date_to": str(query.date_to)},
        )
        body = {"results": rows, "first": page.first, "previous": page.previous, "next": page.next, "last": page.last}
        return Response(with_server_time(body))


EXPORT_FORMATS = ("json", "xml", "fhir")


class ResultDetailView(DeviceAPIView):
    @extend_schema(
        operation_id="results_detail",
        summary="One result of the institution, with its document (or as onshi-style XML / FHIR R4 JP_Coverage)",
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(EXPORT_FORMATS),
                description="json (default); xml = onshi-style XmlMsg (application/xml); "
                "fhir = FHIR R4 JP_Coverage (application/fhir+json); contracts/exports.py",
            )
        ],
        responses={
            (200, "application/json"): ResultDetailResponseSerializer,
            (200, "application/xml"): OpenApiTypes.STR,
            (200, "application/fhir+json"): OpenApiTypes.OBJECT,
            400: error_response("validation_error"),
            404: error_response("not_found"),
            **SIGNED_ERRORS,
        },
    )
    def get(self, request: Request, result_id: uuid.UUID) -> Response | HttpResponse:
        export_format = request.query_params.get("format") or "json"
        if export_format not in EXPORT_FORMATS:
            raise ApiError(
                "validation_error",
                "入力内容に誤りがあります。",
                400,
                {"format": ["format は json / xml / fhir のいずれかです。"]},
            )
        row = (
            CheckResult.objects.select_related("device")
            .filter(pk=result_id, institution_id=self.device.institution_id)
            .first()
        )
        if row is None:
            raise ApiError("not_found", "対象の資格確認結果が見つかりません。", 404)
        detail = {"format": export_format} if export_format != "json" else None
        record_event("result_viewed", self.actor, device=self.device, objects=[str(row.pk)], detail=detail)
        if export_format == "xml":
            return HttpResponse(to_onshi_xml(row.document), content_type="application/xml; charset=utf-8")
        if export_format == "fhir":
            body = json.dumps(to_fhir_coverage(row.document), ensure_ascii=False).encode("utf-8")
            return HttpResponse(body, content_type="application/fhir+json; charset=utf-8")
        return Response(with_server_time(ResultDetailSerializer(row).data))


# --- background CSV exports (S10): create → poll → download ------------------------------------------------------


def _export_status(request: Request, export: ResultExport, download_name: str) -> dict:
    download_url = None
    if export.status == ResultExport.DONE and not export.is_expired():
        path = reverse(download_name, kwargs={"export_id": export.pk})
        download_url = f"{path}?{urlencode({'token': download_token(export)})}"
    body = {
        "export_id": str(export.pk),
        "status": export.status,
        "progress": export.progress,
        "rows_total": export.rows_total,
        "rows_done": export.rows_done,
        "scope": export.scope,
        "date_from": export.date_from.isoformat(),
        "date_to": export.date_to.isoformat(),
        "created_at": export.created_at.isoformat(),
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
        "expires_at": export.expires_at.isoformat() if export.expires_at else None,
        "download_url": download_url,
        "error_message": export.error_message,
    }
    return with_server_time(body)


def _export_of(institution_id: int, export_id: uuid.UUID) -> ResultExport:
    export = ResultExport.objects.filter(pk=export_id, institution_id=institution_id).first()
    if export is None:
        raise ApiError("not_found", "対象のCSV出力が見つかりません。", 404)
    return export


def _download(request: Request, export: ResultExport, actor: Actor) -> HttpResponse:
    token = request.query_params.get("token", "")
    if export.status != ResultExport.DONE:
        raise ApiError("export_not_ready", "CSVファイルはまだ作成中です。しばらくしてから再度お試しください。", 409)
    if export.is_expired():
        raise ApiError("export_expired", "ダウンロードの有効期限が切れています。もう一度CSV出力を行ってください。", 410)
    if not token_is_valid(export, token):
        raise ApiError("export_link_invalid", "ダウンロード用のリンクが正しくないか、有効期限が切れています。", 403)
    do_record_download(export, actor=actor)
    return csv_bytes_response(export_filename(export), export_content(export), export.encoding)


EXPORT_ERRORS = {
    404: error_response("not_found"),
    409: error_response("export_not_ready"),
    410: error_response("export_expired"),
}


class ResultExportCreateView(DeviceAPIView):
    @extend_schema(
        operation_id="results_export_create",
        summary="Start a CSV export of a search (same period rule and scope as the search); poll its status",
        request=ExportRequestSerializer,
        responses={
            202: ExportStatusSerializer,
            400: error_response("validation_error", "period_out_of_range"),
            **SIGNED_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(ExportRequestSerializer)
        # The search's own rules (period of T08, scope) decide; the serializer only checks the types.
        query = parse_query({k: str(data[k]) for k in ("scope", "date_from", "date_to") if data.get(k)})
        export = do_request_export(self.device.institution, query, device=self.device, actor=self.actor)
        return Response(_export_status(request, export, "api-results-export-download"), status=202)


class ResultExportStatusView(DeviceAPIView):
    @extend_schema(
        operation_id="results_export_status",
        summary="Progress of an export; download_url (signed, expiring) once done",
        responses={200: ExportStatusSerializer, 404: error_response("not_found"), **SIGNED_ERRORS},
    )
    def get(self, request: Request, export_id: uuid.UUID) -> Response:
        export = _export_of(self.device.institution_id, export_id)
        return Response(_export_status(request, export, "api-results-export-download"))


class ResultExportDownloadView(DeviceAPIView):
    @extend_schema(
        operation_id="results_export_download",
        summary="The CSV (UTF-8 with BOM); needs the token of download_url",
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            403: error_response("export_link_invalid", "device_retired", "device_deregistered"),
            401: SIGNED_ERRORS[401],
            **EXPORT_ERRORS,
        },
    )
    def get(self, request: Request, export_id: uuid.UUID) -> HttpResponse:
        return _download(request, _export_of(self.device.institution_id, export_id), self.actor)


class ConsoleExportRequestSerializer(StrictSerializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class ConsoleResultExportCreateView(StaffAPIView):
    """The console's export of the institution's results over any period still kept (no T08 rule for staff)."""

    allowed_roles = ("manager",)  # patient data: IT only when also a manager (A01)

    @extend_schema(
        operation_id="console_results_export_create",
        summary="Console: start a CSV export of the institution's results for a period",
        request=ConsoleExportRequestSerializer,
        responses={202: ExportStatusSerializer, 400: error_response("validation_error")},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(ConsoleExportRequestSerializer)
        date_from = parsing.clamp_date(data["date_from"])
        date_to = parsing.clamp_date(data["date_to"])
        if date_from > date_to:
            raise ApiError(
                "validation_error",
                "入力内容に誤りがあります。",
                400,
                {"date_from": ["開始日は終了日以前の日付を指定してください。"]},
            )
        query = ResultQuery(scope="institution", date_from=date_from, date_to=date_to, page_size=DEFAULT_PAGE_SIZE)
        export = do_request_export(self.institution, query, actor=self.actor)
        return Response(_export_status(request, export, "api-console-results-export-download"), status=202)


class ConsoleResultExportStatusView(StaffAPIView):
    allowed_roles = ("manager",)  # patient data: IT only when also a manager (A01)

    @extend_schema(
        operation_id="console_results_export_status",
        summary="Console: progress of an export",
        responses={200: ExportStatusSerializer, 404: error_response("not_found")},
    )
    def get(self, request: Request, export_id: uuid.UUID) -> Response:
        export = _export_of(self.institution.pk, export_id)
        return Response(_export_status(request, export, "api-console-results-export-download"))


class ConsoleResultExportDownloadView(StaffAPIView):
    allowed_roles = ("manager",)  # patient data: IT only when also a manager (A01)

    @extend_schema(
        operation_id="console_results_export_download",
        summary="Console: the CSV; needs the token of download_url",
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, 403: error_response("export_link_invalid"), **EXPORT_ERRORS},
    )
    def get(self, request: Request, export_id: uuid.UUID) -> HttpResponse:
        return _download(request, _export_of(self.institution.pk, export_id), self.actor)
