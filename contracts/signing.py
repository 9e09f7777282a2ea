"""RFC 9421 HTTP Message Signatures with Ed25519, shared by the terminal (signs) and the server (verifies).

This module fixes the profile of docs/contracts.md: label ``sig1``, covered components
``"@method" "@path" "@query" "content-digest"`` (RFC 9530 sha-256, also for empty bodies) and the parameters
``created``, ``nonce``, ``keyid`` (the device id) and ``alg="ed25519"``.
No Django import here: the terminal uses it too. Replay detection (the nonce cache) is the server's job.

Two paths build the signature base (bench/auth.py, docs/security.md "Cost of the signature"):
- a strict one for exactly this profile, in canonical Structured Field form (what ``sign_request`` writes): a few
  regular expressions and string joins. Signing 0.24 → 0.03 ms, verifying 0.30 → 0.10 ms (0.08 ms of it Ed25519):
  the generic parser and serializer (http-sfv) were the largest CPU cost of a signed call after the database read;
- the generic `http-message-signatures` package for anything else (several signatures, other parameter order
  or spelling, other digest algorithms). It stays the reference: the strict path only accepts headers whose
  canonical serialization is their own text, so both paths build the same base and reach the same verdict, and
  tests/server/test_signing.py checks that they agree (signed by one, verified by the other, and on tampering).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
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
from http_message_signatures._url import parse_url  # the package's own strict URL split: same @path/@query
from http_message_signatures.structures import CaseInsensitiveDict
from nacl.bindings import (
    crypto_core_ed25519_is_valid_point,
    crypto_sign,
    crypto_sign_open,
    crypto_sign_seed_keypair,
)
from nacl.exceptions import BadSignatureError

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
    # A point of small order (or off the curve) verifies no signature with libsodium, or forged ones elsewhere:
    # refused at registration rather than left to fail every later call.
    if not crypto_core_ed25519_is_valid_point(raw):
        raise ValueError("not a valid Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_to_bytes(key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte seed, for storing the device key in the OS keyring."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def new_nonce() -> str:
    """16 random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")


# The strict path: only the canonical serialization of our one profile (RFC 8941 §4.1: a string with no character
# that needs escaping, a positive integer without leading zeros, a byte sequence in padded standard base64).
# Anything else is left to the generic package, so a header the strict path declines is never refused for that.
_COVERED_TEXT = '("@method" "@path" "@query" "content-digest")'
_SF_PARAM = r';[a-z]+=(?:"[\x20\x21\x23-\x5b\x5d-\x7e]*"|[1-9][0-9]{0,9})'
_STRICT_SIGNATURE_INPUT = re.compile(
    rf'{SIGNATURE_LABEL}=(\("@method" "@path" "@query" "content-digest"\)(?:{_SF_PARAM})+)'
)
_STRICT_PARAM = re.compile(r';([a-z]+)=(?:"([^"]*)"|([0-9]+))')
_STRICT_SIGNATURE = re.compile(rf"{SIGNATURE_LABEL}=:([A-Za-z0-9+/]{{86}}==):")
_STRICT_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")
_STRICT_METHOD = re.compile(r"[A-Z]{1,16}")
_STRICT_STRING = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}")
_STRICT_PARAM_KINDS = {"created": int, "keyid": str, "nonce": str, "alg": str}
_REQUIRED_PARAMS = frozenset({"created", "keyid", "nonce"})
# The generic verifier refuses a `created` further in the future than its own clock skew (see _LenientClockVerifier).
_FAR_FUTURE = datetime.timedelta(days=365 * 100)


@dataclass(frozen=True)
class _StrictSignature:
    params: dict[str, Any]
    signature_params: str  # the text after "sig1=", which is its own canonical serialization
    signature: bytes


def _strict_parse(signature_input: str, signature: str) -> _StrictSignature | None:
    """Our profile's ``sig1`` in canonical form, or ``None`` to let the generic package decide."""
    params_match = _STRICT_SIGNATURE_INPUT.fullmatch(signature_input)
    signature_match = _STRICT_SIGNATURE.fullmatch(signature)
    if params_match is None or signature_match is None:
        return None
    params: dict[str, Any] = {}
    for name, text, number in _STRICT_PARAM.findall(params_match[1][len(_COVERED_TEXT) :]):
        value = text if not number else int(number)
        # A repeated name would be collapsed by a parser (then the text is not canonical): generic path.
        if name in params or _STRICT_PARAM_KINDS.get(name) is not type(value):
            return None
        params[name] = value
    if not params.keys() >= _REQUIRED_PARAMS:
        return None
    return _StrictSignature(params, params_match[1], base64.b64decode(signature_match[1]))


def _signature_base(method: str, path: str, query: str, content_digest: str, signature_params: str) -> bytes:
    """RFC 9421 §2.5 signature base of the profile's four components (values already checked to be printable)."""
    return (
        f'"@method": {method}\n"@path": {path}\n"@query": {query}\n"content-digest": {content_digest}\n'
        f'"@signature-params": {signature_params}'
    ).encode("ascii")


def _path_and_query(url: str) -> tuple[str, str] | None:
    try:
        parts = parse_url(url)
    except HTTPMessageSignaturesException:
        return None
    return parts.path or "/", "?" + (parts.query or "")


def content_digest(body: bytes) -> str:
    """RFC 9530 Content-Digest with sha-256, as the generic package writes it."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


# libsodium signs in 20 µs against OpenSSL's 32; its secret key is derived from the seed once per key (bounded).
_SODIUM_SECRET_KEYS: dict[bytes, bytes] = {}


def _ed25519_sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    seed = key.private_bytes_raw()
    secret = _SODIUM_SECRET_KEYS.get(seed)
    if secret is None:
        if len(_SODIUM_SECRET_KEYS) >= 16:
            _SODIUM_SECRET_KEYS.clear()
        secret = _SODIUM_SECRET_KEYS[seed] = crypto_sign_seed_keypair(seed)[1]
    return crypto_sign(message, secret)[:64]  # Ed25519 is deterministic: the same signature as OpenSSL's


def _sign_strict(
    method: str, url: str, body: bytes, key: Ed25519PrivateKey, key_id: str, created: int, nonce: str
) -> dict[str, str] | None:
    target = _path_and_query(url)
    if target is None or not _STRICT_METHOD.fullmatch(method):
        return None
    if not (_STRICT_STRING.fullmatch(key_id) and _STRICT_STRING.fullmatch(nonce)) or not 0 < created < 10**10:
        return None
    digest = content_digest(body)
    # Same parameter order as the generic signer: created, keyid, alg, nonce.
    signature_params = f'{_COVERED_TEXT};created={created};keyid="{key_id}";alg="{ALGORITHM}";nonce="{nonce}"'
    signature = _ed25519_sign(key, _signature_base(method, *target, digest, signature_params))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{SIGNATURE_LABEL}={signature_params}",
        "Signature": f"{SIGNATURE_LABEL}=:{base64.b64encode(signature).decode('ascii')}:",
    }


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
    created = created or datetime.datetime.now(datetime.UTC)
    nonce = nonce or new_nonce()
    strict = _sign_strict(method.upper(), url, body or b"", key, key_id, int(created.timestamp()), nonce)
    if strict is not None:
        return strict
    return _sign_generic(method, url, body, key, key_id, created=created, nonce=nonce)


def _sign_generic(
    method: str,
    url: str,
    body: bytes | None,
    key: Ed25519PrivateKey,
    key_id: str,
    *,
    created: datetime.datetime,
    nonce: str,
) -> dict[str, str]:
    """The reference signer (the package): used when the strict one declines, and by the tests to compare."""
    message = _Message(method, url, {})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created,
        nonce=nonce,
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
    return _checked_params(dict(parsed[SIGNATURE_LABEL].params))


def _checked_params(params: dict[str, Any]) -> dict[str, Any]:
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
    before_signature_check: Callable[[str, str], None] | None = None,
) -> VerifiedSignature:
    """Check a signed request; return its key id and nonce or raise ``SignatureError``.

    ``resolve_public_key(key_id)`` returns the device's key or ``None`` when the key id is unknown.
    Checks, in order: headers present, key known, signature valid and covering the profile's components,
    ``created`` within ±``skew`` seconds of ``now``, Content-Digest matching ``body``.
    ``before_signature_check(key_id, nonce)``, if given, is called once the key is known, just before the
    signature is verified: the server starts its nonce claim there so that the round trip overlaps the check.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    body = body or b""
    header_map = CaseInsensitiveDict(headers)
    if "Signature-Input" not in header_map or "Signature" not in header_map:
        raise SignatureError(SIGNATURE_REQUIRED, "Signature and Signature-Input headers are required")
    strict = _strict_parse(header_map["Signature-Input"], header_map["Signature"])
    params = _checked_params(strict.params) if strict is not None else _signature_params(header_map)
    key_id = params["keyid"]
    public_key = resolve_public_key(key_id)
    if public_key is None:
        raise SignatureError(UNKNOWN_DEVICE, "unknown key id")
    if "Content-Digest" not in header_map:
        raise SignatureError(BAD_CONTENT_DIGEST, "Content-Digest header is required")

    if strict is not None:
        target = _path_and_query(url)
        digest_match = _STRICT_DIGEST.fullmatch(header_map["Content-Digest"])
        if target is not None and digest_match is not None and _STRICT_METHOD.fullmatch(method.upper()):
            if before_signature_check is not None:
                before_signature_check(key_id, params["nonce"])
            return _verify_strict(method.upper(), target, header_map["Content-Digest"], digest_match[1], body,
                                  strict, public_key, now=now, skew=skew)  # fmt: skip

    verifier = _LenientClockVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={key_id: public_key}, private_keys={}),
    )
    message = _Message(method, url, header_map)
    if before_signature_check is not None:
        before_signature_check(key_id, params["nonce"])
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


def _verify_strict(
    method: str,
    target: tuple[str, str],
    digest_header: str,
    digest_b64: str,
    body: bytes,
    strict: _StrictSignature,
    public_key: Ed25519PublicKey,
    *,
    now: datetime.datetime,
    skew: int,
) -> VerifiedSignature:
    """verify_request's checks after the key lookup, in the same order and with the same codes as the generic path."""
    base = _signature_base(method, *target, digest_header, strict.signature_params)
    try:
        # libsodium (PyNaCl) verifies in half the time of OpenSSL (bench/auth.py); it accepts no signature that
        # OpenSSL refuses (it also refuses small-order keys and points), so both paths still agree.
        crypto_sign_open(strict.signature + base, public_key.public_bytes_raw())
    except BadSignatureError:
        raise SignatureError(BAD_SIGNATURE, "signature does not verify") from None
    created = datetime.datetime.fromtimestamp(strict.params["created"], tz=datetime.UTC)
    if created > datetime.datetime.now(datetime.UTC) + _FAR_FUTURE:
        raise SignatureError(BAD_SIGNATURE, "created is set to a time in the future")
    if abs((now - created).total_seconds()) > skew:
        raise SignatureError(CLOCK_SKEW, f"created {created.isoformat()} is outside ±{skew} s of {now.isoformat()}")
    if not hmac.compare_digest(base64.b64decode(digest_b64), hashlib.sha256(body).digest()):
        raise SignatureError(BAD_CONTENT_DIGEST, "Content-Digest does not match the message body")
    return VerifiedSignature(key_id=strict.params["keyid"], nonce=strict.params["nonce"], created=created)


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
