"""Base views of the API: ``DeviceAPIView`` for signed terminal calls (S03) and ``StaffAPIView`` for console users by
their Django session, scoped to their institution (S09, S10).

Both answer JSON only, validate a request body through one helper (``validated``: a DRF serializer, its field errors
in the error envelope) and build the request's ``Actor`` once (``self.actor``) for the actions and audit events.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from server.common.actor import Actor
from server.common.errors import ApiError, payload_too_large
from server.common.negotiation import JsonOnlyNegotiation
from server.devices.authentication import DeviceSignatureAuthentication
from server.devices.models import Device
from server.devices.permissions import IsActiveDevice
from server.institutions.models import Institution
from server.institutions.queries import membership_of

STAFF_ROLES = ("manager", "it")  # the console's roles (A01, docs/console.md): results and the audit trail are "manager"


class BaseAPIView(APIView):
    content_negotiation_class = JsonOnlyNegotiation

    def validated(self, serializer_class: type[serializers.Serializer], data: Any = None) -> dict[str, Any]:
        """``data`` (by default the request's JSON body) checked by ``serializer_class``; its validated data.

        Refusals: 400 ``validation_error`` with the serializer's field messages, 400 ``malformed_request`` for a body
        that is not JSON, 415 for another content type, 413 ``payload_too_large`` above DATA_UPLOAD_MAX_MEMORY_SIZE.
        """
        if data is None:
            try:
                data = self.request.data
            except RequestDataTooBig:
                raise payload_too_large() from None
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @property
    def actor(self) -> Actor:
        raise NotImplementedError


class UnsignedAPIView(BaseAPIView):
    """A terminal call before it has a key (registration, ping): no authentication at all."""

    authentication_classes: list = []
    permission_classes: list = []


class DeviceAPIView(BaseAPIView):
    """A signed call of an active terminal: ``self.device``, and ``self.actor`` as built by the authentication."""

    authentication_classes = [DeviceSignatureAuthentication]
    permission_classes = [IsActiveDevice]

    @property
    def device(self) -> Device:
        return self.request.auth

    @property
    def actor(self) -> Actor:
        return self.request.user.actor


class IsStaffMember(BasePermission):
    """A signed-in console user with a membership of an allowed role; sets ``request.membership``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not getattr(request.user, "is_authenticated", False):
            raise ApiError("not_authenticated", "ログインが必要です。", 401)
        membership = membership_of(request.user)
        if membership is None or not membership.has_role(*getattr(view, "allowed_roles", STAFF_ROLES)):
            raise ApiError("permission_denied", "この操作は許可されていません。", 403)
        request.membership = membership
        return True


class StaffAPIView(BaseAPIView):
    """A console user's call; every query filters by ``self.institution``."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffMember]
    allowed_roles: tuple[str, ...] = STAFF_ROLES

    @property
    def institution(self) -> Institution:
        return self.request.membership.institution

    @cached_property
    def actor(self) -> Actor:
        return Actor.staff(self.request)
