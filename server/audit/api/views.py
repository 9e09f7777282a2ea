"""The audit trail's query API for console users (S09): read only. There is no write method on any audit endpoint;
PUT/PATCH/DELETE/POST answer 405, and the model itself refuses changes and deletes."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from server.audit.actions import record_event
from server.audit.api.serializers import AuditEventSerializer, AuditPageSerializer
from server.audit.queries import (
    ACTOR_TYPES,
    AUDIT_CSV_HEADER,
    MAX_PAGE_SIZE,
    after_cursor,
    audit_csv_rows,
    audit_events,
    bounded,
    device_names,
    encode_cursor,
    parse_audit_query,
)
from server.common.api import StaffAPIView
from server.common.csvfile import csv_streaming_response
from server.common.jst import JST
from server.common.schema import error_response, with_server_time

FILTER_PARAMETERS = [
    OpenApiParameter("actor_type", str, enum=ACTOR_TYPES),
    OpenApiParameter("actor", str, description="actor id (account, user name or device id), exact, any case"),
    OpenApiParameter("device", OpenApiTypes.UUID, description="events of this terminal or about it"),
    OpenApiParameter("patient", str, description="氏名 or カナ (part of); events that touched such results"),
    OpenApiParameter("action", str),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="JST day, inclusive"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="JST day, inclusive"),
]
class AuditEventListView(StaffAPIView):
    allowed_roles = ("manager",)  # the audit trail is the managers' (A01, docs/console.md)

    @extend_schema(
        operation_id="audit_events_list",
        summary="Console: query the audit trail of the institution, newest first",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "page_size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, description="default 50"
            ),
            OpenApiParameter("cursor", str, description="opaque; `next` of the previous page"),
        ],
        responses={
            200: AuditPageSerializer,
            400: error_response("validation_error"),
            401: error_response("not_authenticated"),
            403: error_response("permission_denied"),
        },
    )
    def get(self, request: Request) -> Response:
        query = parse_audit_query(request.query_params)
        events = audit_events(self.institution.pk, query)
        if request.query_params.get("cursor"):
            events = after_cursor(events, request.query_params["cursor"])
        page = list(events[: query.page_size + 1])
        has_more = len(page) > query.page_size
        page = page[: query.page_size]
        record_event(
            "audit_searched",
            self.actor,
            institution=self.institution,
            detail={**query.as_detail(), "rows": len(page)},
        )
        body = {
            "events": AuditEventSerializer(
                page, many=True, context={"device_names": device_names(self.institution.pk)}
            ).data,
            "next": encode_cursor(page[-1]) if has_more else None,
        }
        return Response(with_server_time(body))


class AuditEventExportView(StaffAPIView):
    allowed_roles = ("manager",)  # the audit trail is the managers' (A01, docs/console.md)

    @extend_schema(
        operation_id="audit_events_export",
        summary="Console: the same query as CSV (UTF-8 with BOM), streamed; the export is itself audited",
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            400: error_response("validation_error"),
            401: error_response("not_authenticated"),
            403: error_response("permission_denied"),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = parse_audit_query(request.query_params)
        events = audit_events(self.institution.pk, query)
        events = bounded(events)
        record_event(
            "audit_exported",
            self.actor,
            institution=self.institution,
            detail={**query.as_detail(), "rows": events.count()},
        )
        rows = audit_csv_rows(events, device_names(self.institution.pk))
        filename = f"監査ログ_{timezone.localtime(timezone.now(), JST):%Y%m%d%H%M}.csv"
        return csv_streaming_response(filename, AUDIT_CSV_HEADER, rows)
