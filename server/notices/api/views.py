"""Terminal-facing reads of S08: お知らせ with read state (T04), documents (T06), the latest app release (T14)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from server.common.api import DeviceAPIView
from server.common.errors import ApiError
from server.common.schema import SIGNED_ERRORS, error_response, with_server_time
from server.devices.permissions import IsActiveDevice
from server.notices.actions import do_mark_notice_read
from server.notices.api.serializers import (
    AppReleaseCheckSerializer,
    DocumentResponseSerializer,
    DocumentSerializer,
    NoticeDetailSerializer,
    NoticeListSerializer,
    NoticeReadSerializer,
    NoticeSerializer,
    release_fields,
)
from server.notices.filtersets import (
    FLAG_VALUES,
    MAX_NOTICES,
    check_app_release,
    notice_for_device,
    notices_for_device,
    parse_flag,
    validation_error,
)
from server.notices.models import Document, parse_version


class NoticeListView(DeviceAPIView):
    @extend_schema(
        operation_id="notices_list",
        summary="Notices of the device's institution and global ones inside their window, newest first",
        parameters=[
            OpenApiParameter("unread", str, enum=FLAG_VALUES, description="1 (or true, yes, on): only unread ones")
        ],
        responses={200: NoticeListSerializer, 400: error_response("validation_error"), **SIGNED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        unread_only = parse_flag(request.query_params.get("unread"), "unread")
        notices = notices_for_device(self.device, unread_only=unread_only)[:MAX_NOTICES]
        unread_count = notices_for_device(self.device, unread_only=True).count()
        body = {"notices": NoticeSerializer(notices, many=True).data, "unread_count": unread_count}
        return Response(with_server_time(body))


class NoticeDetailView(DeviceAPIView):
    @extend_schema(
        operation_id="notices_detail",
        summary="One notice visible to the device (does not mark it read)",
        responses={200: NoticeDetailSerializer, 404: error_response("not_found"), **SIGNED_ERRORS},
    )
    def get(self, request: Request, notice_id: int) -> Response:
        notice = notice_for_device(self.device, notice_id)
        return Response(with_server_time(NoticeSerializer(notice).data))


class NoticeReadView(DeviceAPIView):
    @extend_schema(
        operation_id="notices_read",
        summary="Mark a notice read on this device (idempotent; the first read time is kept)",
        request=None,
        responses={200: NoticeReadSerializer, 404: error_response("not_found"), **SIGNED_ERRORS},
    )
    def post(self, request: Request, notice_id: int) -> Response:
        notice = notice_for_device(self.device, notice_id)
        read = do_mark_notice_read(notice, self.device)
        body = {"id": notice.pk, "read": True, "read_at": serializers.DateTimeField().to_representation(read.read_at)}
        return Response(with_server_time(body))


class SignedIfPresent(IsActiveDevice):
    """Unsigned calls are allowed (the terminal shows 利用規約 before it is registered, manual P.5);
    a signed call is still verified, and must come from an active device."""

    def has_permission(self, request, view) -> bool:
        return True if request.auth is None else super().has_permission(request, view)


class DocumentView(DeviceAPIView):
    permission_classes = [SignedIfPresent]

    @extend_schema(
        operation_id="documents_current",
        summary="Current version of 利用規約 (terms), 個人情報の取り扱い (privacy) or ライセンス (licenses)",
        description="Readable without a signature so that an unregistered terminal can show 利用規約 (T01).",
        auth=[{"deviceSignature": []}, {}],
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(Document.KINDS))],
        responses={
            200: DocumentResponseSerializer,
            404: error_response("unknown_document_kind", "document_not_published"),
            **SIGNED_ERRORS,
        },
    )
    def get(self, request: Request, kind: str) -> Response:
        if kind not in Document.KINDS:
            raise ApiError(
                "unknown_document_kind", "指定された文書はありません。terms、privacy、licenses のいずれかです。", 404
            )
        document = Document.objects.current(kind)
        if document is None:
            raise ApiError("document_not_published", "この文書はまだ公開されていません。", 404)
        return Response(with_server_time(DocumentSerializer(document).data))


class AppReleaseLatestView(DeviceAPIView):
    @extend_schema(
        operation_id="app_release_latest",
        summary="Latest published app version and whether this terminal should (or must) update",
        parameters=[OpenApiParameter("current", str, required=True, description="the terminal's version, e.g. 1.2.3")],
        responses={200: AppReleaseCheckSerializer, 400: error_response("validation_error"), **SIGNED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        current = (request.query_params.get("current") or "").strip()
        if not current:
            raise validation_error("current", "current に端末のアプリのバージョンを指定してください。")
        if parse_version(current) is None:
            raise validation_error("current", "バージョンは 1.2.3 のような形式で指定してください。")
        result = check_app_release(current)
        body = {
            **release_fields(result.latest),
            "update_available": result.update_available,
            "update_required": result.update_required,
        }
        return Response(with_server_time(body))
