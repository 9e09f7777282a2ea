"""RFC 9421 HTTP Message Signatures with Ed25519, shared by the terminal (signs) and the server (verifies).

One implementation of the one profile of docs/contracts.md ("Device identity"), for signing and for verifying: label
``sig1``, covered components ``"@method" "@path" "@query" "content-digest"`` (RFC 9530 sha-256, also for empty
bodies), parameters ``created``, ``keyid`` (the device id), ``alg="ed25519"`` and ``nonce``, every value in its
canonical Structured Field form (RFC 8941). The signature base is built from the header text itself, so a
parameter order other than ours verifies too; anything outside the profile (another label or component list, other
parameters, several signatures, another digest algorithm) is refused with a stable code. Ed25519 is the
``cryptography`` package's (OpenSSL). The generic ``http-message-signatures`` package is the tests' reference
(tests/unit/test_signing.py checks that both build the same signatures), not used here.

No Django here: the terminal uses it too. Replay detection (the nonce cache) is the server's job.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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


# --- keys --------------------------------------------------------------------------------------------------------


def generate_device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key, standard padded base64 (what registration sends)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


# Edwards25519 (RFC 8032 §5.1): enough arithmetic to decode a public key and tell whether it has small order.
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(raw: bytes) -> tuple[int, int, int, int] | None:
    """RFC 8032 §5.1.3: the point in extended coordinates, or None for a non-canonical encoding or none on the curve."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P != 0:
        x = x * _SQRT_M1 % _P
        if (v * x * x - u) % _P != 0:
            return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y, 1, x * y % _P


def _double(point: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """RFC 8032 §5.1.4 point doubling (a = -1)."""
    x1, y1, z1, _t1 = point
    a, b, c = x1 * x1 % _P, y1 * y1 % _P, 2 * z1 * z1 % _P
    h = (a + b) % _P
    e = (h - (x1 + y1) * (x1 + y1)) % _P
    g = (a - b) % _P
    f = (c + g) % _P
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _has_small_order(point: tuple[int, int, int, int]) -> bool:
    """[8]P is the neutral element (0, 1): the point lies in the torsion subgroup of order 1, 2, 4 or 8."""
    for _ in range(3):
        point = _double(point)
    x, y, z, _t = point
    return x % _P == 0 and (y - z) % _P == 0


def load_public_key(b64: str) -> Ed25519PublicKey:
    """Parse a registration public key; raises ``ValueError`` unless it is 32 raw bytes in base64 encoding a point of
    the curve outside its small-order subgroup (such a key would verify forged signatures)."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("public key is not base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    point = _decode_point(raw)
    if point is None or _has_small_order(point):
        raise ValueError("not a valid Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def stored_public_key(b64: str) -> Ed25519PublicKey | None:
    """A public key stored at registration (checked then by ``load_public_key``); None if it does not parse."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except (binascii.Error, ValueError):
        return None


def private_key_to_bytes(key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte seed, for storing the device key in the OS keyring."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def new_nonce() -> str:
    """16 random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")


# --- the profile ---------------------------------------------------------------------------------------------------

_COVERED = '("@method" "@path" "@query" "content-digest")'
# RFC 8941 canonical forms: a string of printable ASCII without `"` or `\` (nothing to escape), a positive integer
# without leading zeros. A value needing anything else is outside the profile.
_STRING = r'"[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}"'
_INTEGER = r"[1-9][0-9]{0,9}"
_SIGNATURE_INPUT = re.compile(rf"{SIGNATURE_LABEL}=({re.escape(_COVERED)}(?:;[a-z]+=(?:{_STRING}|{_INTEGER}))+)")
_PARAMETER = re.compile(r';([a-z]+)=(?:"([^"]*)"|([0-9]+))')
_SIGNATURE = re.compile(rf"{SIGNATURE_LABEL}=:([A-Za-z0-9+/]{{86}}==):")
_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")
_METHOD = re.compile(r"[A-Z]{1,16}")
_LABELLED = re.compile(rf"(?:^|,)\s*{SIGNATURE_LABEL}=")
_PARAMETER_KINDS = {"created": int, "keyid": str, "nonce": str, "alg": str}
_REQUIRED = ("created", "keyid", "nonce")


def content_digest(body: bytes) -> str:
    """RFC 9530 Content-Digest with sha-256."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _signature_base(method: str, url: str, digest: str, signature_params: str) -> bytes:
    """RFC 9421 §2.5: one line per covered component, then ``"@signature-params"``; ``ValueError`` for a method or
    URL outside the profile (the base is ASCII)."""
    if not _METHOD.fullmatch(method):
        raise ValueError("method")
    parts = urlsplit(url)
    base = (
        f'"@method": {method}\n"@path": {parts.path or "/"}\n"@query": ?{parts.query}\n'
        f'"content-digest": {digest}\n"@signature-params": {signature_params}'
    )
    return base.encode("ascii")  # UnicodeEncodeError is a ValueError


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
    created_at = int((created or datetime.datetime.now(datetime.UTC)).timestamp())
    nonce = nonce or new_nonce()
    if not re.fullmatch(_STRING, f'"{key_id}"') or not re.fullmatch(_STRING, f'"{nonce}"'):
        raise ValueError("key id and nonce must be printable ASCII without quotes or backslashes")
    digest = content_digest(body or b"")
    # Parameter order as RFC 9421's examples and the generic package write it: created, keyid, alg, nonce.
    signature_params = f'{_COVERED};created={created_at};keyid="{key_id}";alg="{ALGORITHM}";nonce="{nonce}"'
    signature = key.sign(_signature_base(method.upper(), url, digest, signature_params))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{SIGNATURE_LABEL}={signature_params}",
        "Signature": f"{SIGNATURE_LABEL}=:{base64.b64encode(signature).decode('ascii')}:",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _parameters(signature_input: str) -> tuple[str, dict[str, str | int]]:
    """The signature parameters' text (as it goes into the base) and their values; refuses what is not the profile."""
    match = _SIGNATURE_INPUT.fullmatch(signature_input.strip())
    if match is None:
        if not _LABELLED.search(signature_input):
            raise SignatureError(SIGNATURE_REQUIRED, f"no {SIGNATURE_LABEL} signature")
        raise SignatureError(BAD_SIGNATURE, "Signature-Input is not the profile of docs/contracts.md")
    values: dict[str, str | int] = {}
    for name, text, number in _PARAMETER.findall(match[1][len(_COVERED) :]):
        value: str | int = int(number) if number else text
        if name in values or _PARAMETER_KINDS.get(name) is not type(value):
            raise SignatureError(BAD_SIGNATURE, f"parameter {name} repeated, unknown or of the wrong type")
        values[name] = value
    missing = [name for name in _REQUIRED if name not in values]
    if missing:
        raise SignatureError(BAD_SIGNATURE, f"parameter {missing[0]} missing")
    if values.get("alg", ALGORITHM) != ALGORITHM:
        raise SignatureError(BAD_SIGNATURE, "unexpected algorithm")
    return match[1], values


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
    Checks, in order: headers present, key known, signature valid over the profile's components, ``created`` within
    ±``skew`` seconds of ``now``, Content-Digest matching ``body``.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    signature_input, signature = _header(headers, "Signature-Input"), _header(headers, "Signature")
    if signature_input is None or signature is None:
        raise SignatureError(SIGNATURE_REQUIRED, "Signature and Signature-Input headers are required")
    signature_params, values = _parameters(signature_input)
    signature_match = _SIGNATURE.fullmatch(signature.strip())
    if signature_match is None:
        code = BAD_SIGNATURE if _LABELLED.search(signature) else SIGNATURE_REQUIRED
        raise SignatureError(code, "Signature is not one Ed25519 signature labelled sig1")
    key_id, nonce = str(values["keyid"]), str(values["nonce"])
    public_key = resolve_public_key(key_id)
    if public_key is None:
        raise SignatureError(UNKNOWN_DEVICE, "unknown key id")
    digest = _header(headers, "Content-Digest")
    digest_match = _DIGEST.fullmatch(digest.strip()) if digest is not None else None
    if digest_match is None:
        raise SignatureError(BAD_CONTENT_DIGEST, "Content-Digest with sha-256 is required")
    try:
        base = _signature_base(method.upper(), url, digest.strip(), signature_params)
        public_key.verify(base64.b64decode(signature_match[1]), base)
    except (ValueError, InvalidSignature):
        raise SignatureError(BAD_SIGNATURE, "signature does not verify") from None
    created = datetime.datetime.fromtimestamp(int(values["created"]), tz=datetime.UTC)
    if abs((now - created).total_seconds()) > skew:
        raise SignatureError(CLOCK_SKEW, f"created {created.isoformat()} is outside ±{skew} s of {now.isoformat()}")
    if not hmac.compare_digest(base64.b64decode(digest_match[1]), hashlib.sha256(body or b"").digest()):
        raise SignatureError(BAD_CONTENT_DIGEST, "Content-Digest does not match the message body")
    return VerifiedSignature(key_id=key_id, nonce=nonce, created=created)


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
