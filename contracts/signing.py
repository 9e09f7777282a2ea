"""RFC 9421 HTTP Message Signatures with Ed25519, shared by the terminal (signs) and the server (verifies).

The `http-message-signatures` package builds the signature base; this module fixes the profile of docs/contracts.md:
label ``sig1``, covered components ``"@method" "@path" "@query" "content-digest"`` (RFC 9530 sha-256, also for empty
bodies) and the parameters ``created``, ``nonce``, ``keyid`` (the device id) and ``alg="ed25519"``.
No Django import here: the terminal uses it too. Replay detection (the nonce cache) is the server's job.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import secrets
import warnings
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures.structures import CaseInsensitiveDict

SIGNATURE_LABEL = "sig1"
COVERED_COMPONENTS = ("@method", "@path", "@query", "content-digest")
ALGORITHM = "ed25519"
DEFAULT_CLOCK_SKEW = 300

# Stable error codes of docs/contracts.md ("Device identity"); the server maps them to 401 responses.
SIGNATURE_REQUIRED = "signature_required"
UNKNOWN_DEVICE = "unknown_device"
BAD_SIGNATURE = "bad_signature"
CLOCK_SKEW = "clock_skew"
BAD_CONTENT_DIGEST = "bad_content_digest"
REPLAYED_REQUEST = "replayed_request"


class SignatureError(Exception):
    """A request whose signature cannot be accepted; ``code`` is one of the stable codes above."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class VerifiedSignature:
    key_id: str
    nonce: str
    created: datetime.datetime


class _Message:
    """The smallest request shape the package's component resolver reads: method, absolute url, headers."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str]):
        self.method = method.upper()
        self.url = url
        self.headers = CaseInsensitiveDict(headers)


def generate_device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key, standard padded base64 (what registration sends)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public_key(b64: str) -> Ed25519PublicKey:
    """Parse a registration public key; raises ``ValueError`` unless it is 32 raw bytes in base64."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("public key is not base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_to_bytes(key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte seed, for storing the device key in the OS keyring."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def new_nonce() -> str:
    """16 random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    key: Ed25519PrivateKey,
    key_id: str,
    *,
    created: datetime.datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request; return the headers to add: Content-Digest, Signature-Input and Signature.

    ``url`` must be absolute and already percent-encoded as it goes on the wire. ``headers`` is accepted for
    symmetry with ``verify_request``; only the digest computed here is covered.
    """
    del headers  # the profile covers no other header field
    message = _Message(method, url, {})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created or datetime.datetime.now(datetime.UTC),
        nonce=nonce or new_nonce(),
        label=SIGNATURE_LABEL,
        covered_component_ids=COVERED_COMPONENTS,
        body=body or b"",
    )
    return {
        "Content-Digest": message.headers["Content-Digest"],
        "Signature-Input": message.headers["Signature-Input"],
        "Signature": message.headers["Signature"],
    }


class _LenientClockVerifier(HTTPMessageVerifier):
    # The package compares `created` with its own clock; verify_request does that itself with an injected `now`.
    max_clock_skew = datetime.timedelta(days=365 * 100)


def _signature_params(headers: CaseInsensitiveDict) -> dict[str, Any]:
    """The parameters of the ``sig1`` member of Signature-Input, read before any key is resolved."""
    try:
        parsed = _parsed(headers["Signature-Input"])
        signatures = _parsed(headers["Signature"])
    except Exception as exc:  # noqa: BLE001 - any parse failure means a malformed header
        raise SignatureError(BAD_SIGNATURE, "malformed signature headers") from exc
    if SIGNATURE_LABEL not in parsed or SIGNATURE_LABEL not in signatures:
        raise SignatureError(SIGNATURE_REQUIRED, f"no {SIGNATURE_LABEL} signature")
    params = dict(parsed[SIGNATURE_LABEL].params)
    for name, kind in (("keyid", str), ("created", int), ("nonce", str)):
        value = params.get(name)
        if type(value) is not kind or (kind is str and not 0 < len(value) <= 128):
            raise SignatureError(BAD_SIGNATURE, f"parameter {name} missing or malformed")
    if params.get("alg", ALGORITHM) != ALGORITHM:
        raise SignatureError(BAD_SIGNATURE, "unexpected algorithm")
    return params


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    resolve_public_key: Callable[[str], Ed25519PublicKey | None],
    *,
    now: datetime.datetime | None = None,
    skew: int = DEFAULT_CLOCK_SKEW,
) -> VerifiedSignature:
    """Check a signed request; return its key id and nonce or raise ``SignatureError``.

    ``resolve_public_key(key_id)`` returns the device's key or ``None`` when the key id is unknown.
    Checks, in order: headers present, key known, signature valid and covering the profile's components,
    ``created`` within ±``skew`` seconds of ``now``, Content-Digest matching ``body``.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    body = body or b""
    header_map = CaseInsensitiveDict(headers)
    if "Signature-Input" not in header_map or "Signature" not in header_map:
        raise SignatureError(SIGNATURE_REQUIRED, "Signature and Signature-Input headers are required")
    params = _signature_params(header_map)
    key_id = params["keyid"]
    public_key = resolve_public_key(key_id)
    if public_key is None:
        raise SignatureError(UNKNOWN_DEVICE, "unknown key id")
    if "Content-Digest" not in header_map:
        raise SignatureError(BAD_CONTENT_DIGEST, "Content-Digest header is required")

    verifier = _LenientClockVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={key_id: public_key}, private_keys={}),
    )
    message = _Message(method, url, header_map)
    try:
        _verify_ours(verifier, message, several=len(_parsed(header_map["Signature-Input"])) > 1)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise SignatureError(BAD_SIGNATURE, str(exc)) from exc

    created = datetime.datetime.fromtimestamp(params["created"], tz=datetime.UTC)
    if abs((now - created).total_seconds()) > skew:
        raise SignatureError(CLOCK_SKEW, f"created {created.isoformat()} is outside ±{skew} s of {now.isoformat()}")
    try:
        ContentDigest.verify(header_map["Content-Digest"], body)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise SignatureError(BAD_CONTENT_DIGEST, str(exc)) from exc
    return VerifiedSignature(key_id=key_id, nonce=params["nonce"], created=created)


def _parsed(value: str) -> Any:
    return HTTPMessageVerifier._parse_signature_dictionary(value)


def _verify_ours(verifier: HTTPMessageVerifier, message: _Message, *, several: bool) -> None:
    if not several:
        verifier.verify(message, max_age=None, require_components=COVERED_COMPONENTS)
        return
    # Several signatures (e.g. a proxy added one): select ours by its label.
    verifier.allow_label_only_selection = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verifier.verify(message, max_age=None, expect_label=SIGNATURE_LABEL, require_components=COVERED_COMPONENTS)


class DeviceSignatureAuth(httpx.Auth):
    """``httpx.Client(auth=DeviceSignatureAuth(key, device_id))`` signs every request of the terminal."""

    requires_request_body = True

    def __init__(self, key: Ed25519PrivateKey, key_id: str):
        self.key = key
        self.key_id = key_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(
            sign_request(
                request.method, str(request.url), dict(request.headers), request.content, self.key, self.key_id
            )
        )
        yield request
