"""DeviceSignatureAuthentication: RFC 9421 signed requests (contracts.signing) identify the calling device (S03).

Each signed call reads its device by primary key (one indexed query, the institution joined): a retirement or a
deregistration is refused from the very next call in every process, with nothing to invalidate. The nonce is claimed
with ``cache.add`` (Redis SET NX with the cache's timeout), so of two requests with one nonce exactly one passes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from contracts import signing
from server.common.actor import Actor
from server.common.errors import ApiError, payload_too_large
from server.devices.actions import note_device_seen
from server.devices.models import Device

NONCE_TTL_SECONDS = 600  # twice the accepted clock difference: a replay within the window is always seen

SIGNATURE_MESSAGES = {
    signing.SIGNATURE_REQUIRED: "署名付きのリクエストが必要です。",
    signing.UNKNOWN_DEVICE: "この端末は登録されていません。デバイス登録を行ってください。",
    signing.BAD_SIGNATURE: "リクエストの署名を確認できませんでした。",
    signing.CLOCK_SKEW: "端末の時刻がずれています。端末の日付と時刻を確認してください。",
    signing.REPLAYED_REQUEST: "同じリクエストが再送されました。",
    signing.BAD_CONTENT_DIGEST: "リクエストの内容が署名と一致しません。",
}


def signature_error(code: str) -> ApiError:
    return ApiError(code, SIGNATURE_MESSAGES[code], 401)


@dataclass(frozen=True)
class DeviceUser:
    """``request.user`` of a signed call: authenticated, and nothing else than its device (``actor`` for audit)."""

    device: Device
    actor: Actor
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self) -> uuid.UUID:
        return self.device.pk

    def __str__(self) -> str:
        return f"device:{self.device.pk}"


def _device(key_id: str) -> Device | None:
    try:
        device_id = uuid.UUID(key_id)
    except ValueError:
        return None
    try:  # get(), not first(): no ORDER BY (the model's ordering joins the institution and sorts)
        return Device.objects.select_related("institution").get(pk=device_id)
    except Device.DoesNotExist:
        return None


def nonce_key(device_id: uuid.UUID | str, nonce: str) -> str:
    return f"nonce:{device_id}:{nonce}"


def claim_nonce(device_id: uuid.UUID, nonce: str) -> bool:
    """True for the first use of ``nonce`` by this device within NONCE_TTL_SECONDS; False for a replay."""
    return cache.add(nonce_key(device_id, nonce), 1, timeout=NONCE_TTL_SECONDS)


class DeviceSignatureAuthentication(BaseAuthentication):
    """Returns ``(DeviceUser, Device)`` for a valid signed request of any device status; IsActiveDevice decides.

    Unsigned requests pass through as unauthenticated (IsActiveDevice answers ``signature_required``).
    """

    def authenticate(self, request: Request) -> tuple[DeviceUser, Device] | None:
        headers = request.headers
        if "Signature-Input" not in headers and "Signature" not in headers:
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            raise payload_too_large() from None
        found: dict[str, Device] = {}

        def resolve(key_id: str) -> Ed25519PublicKey | None:
            device = _device(key_id)
            if device is None:
                return None
            found["device"] = device
            return signing.stored_public_key(device.public_key)

        try:
            verified = signing.verify_request(
                request.method,
                # Only @path and @query are covered: the origin is a placeholder (no Host validation needed here).
                "http://device" + request.get_full_path(),
                headers,
                body,
                resolve,
                now=timezone.now(),
                skew=settings.DEVICE_SIGNATURE_CLOCK_SKEW,
            )
        except signing.SignatureError as exc:
            raise signature_error(exc.code) from None
        device = found["device"]
        if not claim_nonce(device.pk, verified.nonce):
            raise signature_error(signing.REPLAYED_REQUEST)
        actor = Actor.device(request, device.pk)
        # Only a device in service is "seen": a retired or deregistered one is refused by IsActiveDevice, and a
        # refused call must not move its 最終接続日時 (A02).
        if device.status == Device.STATUS_ACTIVE:
            note_device_seen(device, actor=actor)
        return DeviceUser(device, actor), device

    def authenticate_header(self, request: Request) -> str:
        return 'Signature realm="myna-clinic"'


class DeviceSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "server.devices.authentication.DeviceSignatureAuthentication"
    name = "deviceSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Signature",
            "description": (
                "RFC 9421 HTTP Message Signature (Ed25519) with Signature-Input label sig1 covering "
                '"@method" "@path" "@query" "content-digest" and parameters created, nonce, keyid (device id), '
                'alg="ed25519"; Content-Digest (RFC 9530 sha-256) required. See contracts/signing.py.'
            ),
        }
