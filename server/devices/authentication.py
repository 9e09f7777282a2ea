"""DeviceSignatureAuthentication: RFC 9421 signed requests (contracts.signing) identify the calling device (S03)."""

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
from server.common.errors import ApiError
from server.devices.models import Device

NONCE_TTL_SECONDS = 600

SIGNATURE_MESSAGES = {
    signing.SIGNATURE_REQUIRED: "署名付きのリクエストが必要です。",
    signing.UNKNOWN_DEVICE: "この端末は登録されていません。デバイス登録を行ってください。",
    signing.BAD_SIGNATURE: "リクエストの署名を確認できませんでした。",
    signing.CLOCK_SKEW: "端末の時刻がずれています。端末の日付と時刻を確認してください。",
    signing.REPLAYED_REQUEST: "同じリクエストが再送されました。",
    signing.BAD_CONTENT_DIGEST: "リクエストの内容が署名と一致しません。",
}
SIGNATURE_HEADERS = ("Signature-Input", "Signature", "Content-Digest")


def payload_too_large() -> ApiError:
    return ApiError("payload_too_large", "送信データが大きすぎます。件数を減らして再度お試しください。", 413)


def signature_error(code: str) -> ApiError:
    return ApiError(code, SIGNATURE_MESSAGES[code], 401)


@dataclass(frozen=True)
class DeviceUser:
    """``request.user`` of a signed call: authenticated, and nothing else than its device."""

    device: Device
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self) -> uuid.UUID:
        return self.device.pk

    def __str__(self) -> str:
        return f"device:{self.device.pk}"


def _device_for(key_id: str) -> Device | None:
    try:
        device_id = uuid.UUID(key_id)
    except ValueError:
        return None
    try:  # get(), not first(): no ORDER BY (the model's ordering joins the institution and sorts)
        return Device.objects.select_related("institution").get(pk=device_id)
    except Device.DoesNotExist:
        return None


class DeviceSignatureAuthentication(BaseAuthentication):
    """Returns ``(DeviceUser, Device)`` for a valid signed request of any device status; IsActiveDevice decides.

    Unsigned requests pass through as unauthenticated (IsActiveDevice answers ``signature_required``).
    """

    def authenticate(self, request: Request) -> tuple[DeviceUser, Device] | None:
        headers = request._request.headers
        if "Signature-Input" not in headers and "Signature" not in headers:
            return None
        found: dict[str, Device] = {}

        def resolve(key_id: str) -> Ed25519PublicKey | None:
            device = _device_for(key_id)
            if device is None:
                return None
            found["device"] = device
            try:
                return signing.load_public_key(device.public_key)
            except ValueError:
                return None

        try:
            body = request._request.body
        except RequestDataTooBig:
            raise payload_too_large() from None
        try:
            verified = signing.verify_request(
                request.method,
                request._request.build_absolute_uri(),
                {name: headers[name] for name in SIGNATURE_HEADERS if name in headers},
                body,
                resolve,
                now=timezone.now(),
                skew=settings.DEVICE_SIGNATURE_CLOCK_SKEW,
            )
        except signing.SignatureError as exc:
            raise signature_error(exc.code) from None
        # cache.add is atomic (SET NX on Redis): of two requests with one nonce, exactly one gets through.
        if not cache.add(f"nonce:{verified.key_id}:{verified.nonce}", 1, timeout=NONCE_TTL_SECONDS):
            raise signature_error(signing.REPLAYED_REQUEST)
        device = found["device"]
        from server.devices.actions import note_device_seen  # here: actions imports the institutions app

        # The Django request, not DRF's: request.user of DRF's would run this authentication again.
        note_device_seen(device, request=request._request)
        return DeviceUser(device), device

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
