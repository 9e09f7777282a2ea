"""DeviceSignatureAuthentication: RFC 9421 signed requests (contracts.signing) identify the calling device (S03)."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.db.models.base import ModelState
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from contracts import signing
from server.common.actor import Actor
from server.common.errors import ApiError, payload_too_large
from server.common.redis_scripts import KeptConnectionScript
from server.devices.models import Device

NONCE_TTL_SECONDS = 600
# In-process cache of device rows (docs/security.md, "Cost of the signature"). Whether a cached row may be used is
# decided on every call by a version token in Redis, read in the same round trip as the nonce is claimed; every
# write to a device (server.devices.actions) replaces the token with device_changed(), inside its transaction and
# again on commit. The age limit only bounds how stale the informative fields (names) can get; access never rests
# on it. Public keys never change for a device id, so their parsed objects are kept for the life of the process.
DEVICE_CACHE_MAX_AGE_SECONDS = 60.0
DEVICE_CACHE_MAX_ENTRIES = 10_000


SIGNATURE_MESSAGES = {
    signing.SIGNATURE_REQUIRED: "署名付きのリクエストが必要です。",
    signing.UNKNOWN_DEVICE: "この端末は登録されていません。デバイス登録を行ってください。",
    signing.BAD_SIGNATURE: "リクエストの署名を確認できませんでした。",
    signing.CLOCK_SKEW: "端末の時刻がずれています。端末の日付と時刻を確認してください。",
    signing.REPLAYED_REQUEST: "同じリクエストが再送されました。",
    signing.BAD_CONTENT_DIGEST: "リクエストの内容が署名と一致しません。",
}
SIGNATURE_HEADERS = ("Signature-Input", "Signature", "Content-Digest")
_SIGNATURE_HEADER_KEYS = tuple((name, "HTTP_" + name.upper().replace("-", "_")) for name in SIGNATURE_HEADERS)


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


def _load_device(device_id: uuid.UUID) -> Device | None:
    try:  # get(), not first(): no ORDER BY (the model's ordering joins the institution and sorts)
        return Device.objects.select_related("institution").get(pk=device_id)
    except Device.DoesNotExist:
        return None


@dataclass
class _CachedDevice:
    device: Device
    version: bytes  # the token read from Redis BEFORE the row was loaded: any later change replaces it
    loaded_at: float


_devices: dict[uuid.UUID, _CachedDevice] = {}
_public_keys: dict[uuid.UUID, Ed25519PublicKey] = {}


def _version_key(device_id: uuid.UUID) -> str:
    return f"device-version:{device_id}"


def _new_token() -> bytes:
    return secrets.token_hex(8).encode("ascii")


# One round trip for both (EVALSHA; Redis runs a script atomically): claim the nonce with SET NX EX — of two requests
# with one nonce exactly one wins — and read the device's version token, created if missing.
_CLAIM_NONCE_AND_READ_VERSION = """
local added = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
local version = redis.call('GET', KEYS[2])
if not version then
  version = ARGV[2]
  redis.call('SET', KEYS[2], version)
end
return {added and 1 or 0, version}
"""
_CLAIM = KeptConnectionScript(_CLAIM_NONCE_AND_READ_VERSION, "claim_nonce_and_read_version")


def _redis_client(backend: RedisCache) -> Any:
    return backend._cache.get_client(write=True)


def _bump_version(device_id: uuid.UUID) -> None:
    backend = caches["default"]
    key = _version_key(device_id)
    if isinstance(backend, RedisCache):
        _redis_client(backend).set(backend.make_key(key), _new_token())
    else:
        backend.set(key, _new_token(), timeout=None)


def device_changed(device_id: uuid.UUID | str) -> None:
    """Call after any write to a device row: every process reloads it on its next call.

    Inside a transaction the token is replaced at once (if Redis is down, the write fails and rolls back rather
    than leave cached rows valid) and again on commit (a process may have reloaded the old row in between).
    """
    device_id = uuid.UUID(str(device_id))
    _devices.pop(device_id, None)
    _bump_version(device_id)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump_version(device_id))


class _NonceClaim:
    """The nonce claim and version read of one signed call, sent before the signature is verified so that the Redis
    round trip overlaps the verification (the answer is usually there when it is read: no wait, no context switch)."""

    def __init__(self, device_id: uuid.UUID, nonce: str):
        self.backend = caches["default"]
        self.nonce_key, self.version_key = f"nonce:{device_id}:{nonce}", _version_key(device_id)
        self._pending = None
        self._answer: tuple[bool, bytes] | None = None
        if isinstance(self.backend, RedisCache):
            keys = [self.backend.make_key(self.nonce_key), self.backend.make_key(self.version_key)]
            self._pending = _CLAIM.send(self.backend, keys, [NONCE_TTL_SECONDS, _new_token()])
        else:  # embedded mode (local memory, one process)
            added = self.backend.add(self.nonce_key, 1, timeout=NONCE_TTL_SECONDS)
            self.backend.add(self.version_key, _new_token(), timeout=None)
            self._answer = added, self.backend.get(self.version_key)

    def result(self) -> tuple[bool, bytes]:
        """(False if the nonce was already used, the device's version token)."""
        if self._answer is None:
            added, version = self._pending.result()
            self._answer = bool(added), version
        return self._answer

    def give_back(self) -> None:
        """The request was refused after all: free the nonce if this call took it (an unverified request must not
        leave keys behind; only one with the same nonce can have taken it, and that one wins again)."""
        if self.result()[0]:
            self.backend.delete(self.nonce_key)


def _clone(instance: Any) -> Any:
    """A shallow copy of a loaded model instance with its own state (its field values are immutable scalars);
    copy.copy goes through pickling support and cost ten times as much."""
    duplicate = instance.__class__.__new__(instance.__class__)
    duplicate.__dict__.update(instance.__dict__)
    duplicate._state = ModelState()
    duplicate._state.db, duplicate._state.adding = instance._state.db, False
    return duplicate


def _private_copy(device: Device) -> Device:
    """A request may change its Device (and the institution joined to it); the cached one must not change."""
    duplicate = _clone(device)
    duplicate._state.fields_cache = {"institution": _clone(device.institution)}
    return duplicate


def _current_device(device_id: uuid.UUID, version: bytes) -> Device | None:
    entry = _devices.get(device_id)
    if (
        entry is not None
        and entry.version == version
        and time.monotonic() - entry.loaded_at < DEVICE_CACHE_MAX_AGE_SECONDS
    ):
        return _private_copy(entry.device)
    device = _load_device(device_id)  # read after the token: a change committed from now on replaces the token
    if device is None:
        _devices.pop(device_id, None)
        return None
    if len(_devices) >= DEVICE_CACHE_MAX_ENTRIES:
        _devices.clear()
    _devices[device_id] = _CachedDevice(device, version, time.monotonic())
    return _private_copy(device)


def _public_key(device_id: uuid.UUID) -> tuple[Ed25519PublicKey | None, Device | None]:
    """(the device's public key, the row if it had to be read for it)."""
    key = _public_keys.get(device_id)
    if key is not None:
        return key, None
    device = _load_device(device_id)
    if device is None:
        return None, None
    try:
        key = signing.load_public_key(device.public_key)
    except ValueError:
        return None, device
    if len(_public_keys) >= DEVICE_CACHE_MAX_ENTRIES:
        _public_keys.clear()
    _public_keys[device_id] = key
    return key, device


class DeviceSignatureAuthentication(BaseAuthentication):
    """Returns ``(DeviceUser, Device)`` for a valid signed request of any device status; IsActiveDevice decides.

    Unsigned requests pass through as unauthenticated (IsActiveDevice answers ``signature_required``).
    """

    def authenticate(self, request: Request) -> tuple[DeviceUser, Device] | None:
        meta = request._request.META  # not request.headers, which would first copy every header of the request
        headers = {name: meta[key] for name, key in _SIGNATURE_HEADER_KEYS if key in meta}
        if "Signature-Input" not in headers and "Signature" not in headers:
            return None
        read_for_key: dict[str, Any] = {}  # the device id parsed once, and the row if it had to be read for the key

        def resolve(key_id: str) -> Ed25519PublicKey | None:
            try:
                device_id = read_for_key["id"] = uuid.UUID(key_id)
            except ValueError:
                return None
            key, device = _public_key(device_id)
            if device is not None:
                read_for_key["device"] = device
            return key

        try:
            body = request._request.body
        except RequestDataTooBig:
            raise payload_too_large() from None
        claims: list[_NonceClaim] = []

        def start_claim(key_id: str, nonce: str) -> None:
            claims.append(_NonceClaim(read_for_key["id"], nonce))  # key_id is the one just resolved

        try:
            signing.verify_request(
                request.method,
                # Only @path and @query are covered: the origin is a placeholder (no Host validation needed here).
                "http://device" + request._request.get_full_path(),
                headers,
                body,
                resolve,
                now=timezone.now(),
                skew=settings.DEVICE_SIGNATURE_CLOCK_SKEW,
                before_signature_check=start_claim,
            )
        except signing.SignatureError as exc:
            for claim in claims:
                claim.give_back()
            raise signature_error(exc.code) from None
        device_id = read_for_key["id"]
        added, version = claims[0].result()
        if not added:
            raise signature_error(signing.REPLAYED_REQUEST)
        # A row read for the key in this very request is as fresh as it gets; otherwise the cache, if still valid.
        device = read_for_key.get("device") or _current_device(device_id, version)
        if device is None:
            raise signature_error(signing.UNKNOWN_DEVICE)
        from server.devices.actions import note_device_seen  # here: actions imports the institutions app

        # Only a device in service is "seen": a retired or deregistered one is refused by IsActiveDevice, and a
        # refused call must not move its 最終接続日時 (A02).
        actor = Actor.device(request, device.pk)
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
