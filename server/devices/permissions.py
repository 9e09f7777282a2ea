"""IsActiveDevice: a signed call from a device that is still in service (S03)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from contracts import signing
from server.common.errors import ApiError
from server.devices.authentication import signature_error
from server.devices.models import Device


class IsActiveDevice(BasePermission):
    def has_permission(self, request, view) -> bool:
        device = request.auth
        if not isinstance(device, Device):
            raise signature_error(signing.SIGNATURE_REQUIRED)
        if device.status == Device.STATUS_RETIRED:
            raise ApiError(
                "device_retired", "この端末は管理者により利用停止されています。デバイス登録を行ってください。", 403
            )
        if device.status == Device.STATUS_DEREGISTERED:
            raise ApiError("device_deregistered", "この端末は登録解除されています。デバイス登録を行ってください。", 403)
        return True
