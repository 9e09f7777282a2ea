"""Terminal-facing result endpoints: batch sync (S06), search and detail (S07). Every read is audited (S09)."""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from server.audit.actions import record_event
from server.common.errors import ApiError
from server.common.schema import SIGNED_ERRORS, error_response, with_server_time
from server.devices.api.base import DeviceAPIView
from server.results.actions import do_store_results
from server.results.api.serializers import (
    BatchRequestDocSerializer,
    BatchRequestSerializer,
    BatchResponseSerializer,
    ResultDetailResponseSerializer,
    ResultDetailSerializer,
    ResultPageSerializer,
    ResultRowSerializer,
)
from server.results.filtersets import decode_cursor, paginate, parse_query, visible_results
from server.results.models import CheckResult


class ResultBatchView(DeviceAPIView):
    @extend_schema(
        operation_id="results_batch",
        summary="Push a batch of results (1–500); per-item outcome",
        request=BatchRequestDocSerializer,
        responses={200: BatchResponseSerializer, 400: error_response("validation_error"), **SIGNED_ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = BatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcomes = do_store_results(self.device, serializer.validated_data["results"], request=request)
        return Response(with_server_time({"items": [o.as_dict() for o in outcomes]}))


class ResultListView(DeviceAPIView):
    @extend_schema(
        operation_id="results_list",
        summary="Search results, newest first, keyset pagination",
        parameters=[
            OpenApiParameter("scope", str, enum=["device", "institution"], description="default device"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="≥ the 1st of the previous month (JST)"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="≤ today (JST); default period: last 30 days"),
            OpenApiParameter("page_size", int, description="default 8, max 100"),
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
            request=request,
            device=self.device,
            objects=[row["id"] for row in rows],
            detail={"scope": query.scope, "date_from": str(query.date_from), "date_to": str(query.date_to)},
        )
        body = {"results": rows, "first": page.first, "previous": page.previous, "next": page.next, "last": page.last}
        return Response(with_server_time(body))


class ResultDetailView(DeviceAPIView):
    @extend_schema(
        operation_id="results_detail",
        summary="One result of the institution, with its document",
        responses={200: ResultDetailResponseSerializer, 404: error_response("not_found"), **SIGNED_ERRORS},
    )
    def get(self, request: Request, result_id: uuid.UUID) -> Response:
        row = (
            CheckResult.objects.select_related("device")
            .filter(pk=result_id, institution_id=self.device.institution_id)
            .first()
        )
        if row is None:
            raise ApiError("not_found", "対象の資格確認結果が見つかりません。", 404)
        record_event("result_viewed", request=request, device=self.device, objects=[str(row.pk)])
        return Response(with_server_time(ResultDetailSerializer(row).data))
