"""Terminal-facing device endpoints (S02–S04). Views only translate HTTP; the work is in server.devices.actions."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from server.common.actor import ACCOUNT, Actor
from server.common.api import DeviceAPIView, UnsignedAPIView
from server.common.schema import (
    BODY_400_CODES,
    JSON_BODY_ERRORS,
    SIGNED_BODY_ERRORS,
    SIGNED_ERRORS,
    error_response,
    with_server_time,
)
from server.devices.actions import Registration, do_deregister_device, do_record_heartbeat, do_register_device
from server.devices.api.serializers import (
    DeviceMeResponseSerializer,
    DeviceMeSerializer,
    HeartbeatResponseSerializer,
    HeartbeatSerializer,
    PingSerializer,
    RegisterDeviceSerializer,
    RegisteredDeviceSerializer,
)


class RegisterDeviceView(UnsignedAPIView):
    @extend_schema(
        operation_id="devices_register",
        summary="Register a terminal (unsigned)",
        request=RegisterDeviceSerializer,
        responses={
            201: RegisteredDeviceSerializer,
            400: error_response(*BODY_400_CODES, "activation_code_invalid"),
            401: error_response("invalid_credentials"),
            409: error_response("activation_code_used"),
            410: error_response("activation_code_expired", "activation_code_revoked"),
            423: error_response("account_locked"),
            413: error_response("payload_too_large"),
            429: error_response("rate_limited"),
            **JSON_BODY_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        registration = Registration(**self.validated(RegisterDeviceSerializer))
        actor = Actor.of_request(request, ACCOUNT, registration.account_id)
        device = do_register_device(registration, actor=actor)
        body = {
            "device_id": str(device.pk),
            "institution_code": device.institution.code,
            "institution_name": device.institution.name,
        }
        return Response(with_server_time(body), status=status.HTTP_201_CREATED)


class DeviceMeView(DeviceAPIView):
    @extend_schema(
        operation_id="devices_me",
        summary="The calling terminal",
        responses={200: DeviceMeResponseSerializer, **SIGNED_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(with_server_time(DeviceMeSerializer(self.device).data))


class DeregisterDeviceView(DeviceAPIView):
    @extend_schema(
        operation_id="devices_me_deregister",
        summary="Deregister the calling terminal (T12)",
        request=None,
        responses={
            200: OpenApiResponse(DeviceMeResponseSerializer, description="now deregistered"),
            **SIGNED_ERRORS,
            **SIGNED_BODY_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        device = do_deregister_device(self.device, actor=self.actor)
        return Response(with_server_time(DeviceMeSerializer(device).data))


class HeartbeatView(DeviceAPIView):
    @extend_schema(
        operation_id="devices_me_heartbeat",
        summary="The terminal is alive: refresh last seen, app version and reader name (S04)",
        request=HeartbeatSerializer,
        responses={
            200: HeartbeatResponseSerializer,
            400: error_response(*BODY_400_CODES),
            **SIGNED_ERRORS,
            **SIGNED_BODY_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        device = do_record_heartbeat(self.device, **self.validated(HeartbeatSerializer), actor=self.actor)
        body = {
            "device_id": str(device.pk),
            "status": device.status,
            "last_seen_at": device.last_seen_at.isoformat(),
            "heartbeat_interval_seconds": settings.DEVICE_HEARTBEAT_INTERVAL_SECONDS,
        }
        return Response(with_server_time(body))


class PingView(UnsignedAPIView):
    """Unauthenticated and trivial: a reachability check, and the baseline of bench/auth.py."""

    @extend_schema(operation_id="ping", summary="Reachability check (unsigned)", responses={200: PingSerializer})
    def get(self, request: Request) -> Response:
        return Response(with_server_time({"ok": True}))
