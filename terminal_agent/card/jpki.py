"""JPKI protocol client (公的個人認証AP) over any `transmit(apdu) -> (data, sw1, sw2)` connection.

APDUs as in /work/shared/reference/jpki-card.md §1. Only APDU headers and status words are logged; the PIN exists
as bytes only while the VERIFY command is built and sent, and is overwritten right after.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import errors

log = logging.getLogger("terminal_agent.card.jpki")

JPKI_AID = bytes.fromhex("D392F000260100000001")
EF_AUTH_CERT = 0x000A
EF_AUTH_KEY = 0x0017
EF_AUTH_PIN = 0x0018
EF_TOKEN_INFO = 0x0006
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300D060960864801650304020105000420")
AUTH_PIN_MAX_TRIES = 3
MAX_EF_SIZE = 0x8000  # READ BINARY offsets are 15 bits

TokenKind = Literal["card", "android", "iphone"]
TOKEN_KINDS: dict[str, TokenKind] = {
    "JPKIAPICCTOKEN2": "card",
    "JPKIAPGPSETOKEN": "android",
    "JPKIAPIOSTOKEN": "iphone",
}


class Connection(Protocol):
    def transmit(self, apdu: list[int]) -> tuple[Sequence[int], int, int]: ...


def _is_removal(exc: BaseException) -> bool:
    """pyscard / virtual-card exceptions that mean the card went away mid-command."""
    name = type(exc).__name__
    return name in {"CardConnectionException", "NoCardException", "VirtualCardRemoved", "CardRequestTimeoutException"}


class JpkiCard:
    """One card session. Methods raise only `errors.CardError` subclasses."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.apdu_count = 0
        self._token: TokenKind | None = None

    def __repr__(self) -> str:
        return f"JpkiCard(token={self._token!r}, apdus={self.apdu_count})"

    # -- transport ------------------------------------------------------------------------------------------
    def _transmit_once(self, apdu: list[int]) -> tuple[bytes, int]:
        self.apdu_count += 1
        try:
            result: Any = self.connection.transmit(apdu)
        except errors.CardError:
            raise
        except Exception as exc:
            if _is_removal(exc):
                raise errors.CardRemoved() from None
            # Never chain: the original exception may hold the APDU (and so a PIN).
            raise errors.CardDataError() from None
        try:
            data, sw1, sw2 = result
            if not (isinstance(sw1, int) and isinstance(sw2, int) and 0 <= sw1 <= 0xFF and 0 <= sw2 <= 0xFF):
                raise ValueError
            payload = bytes(data)  # rejects values outside 0..255 and non-integers
        except (TypeError, ValueError):
            raise errors.CardDataError() from None
        sw = (sw1 << 8) | sw2
        log.debug("APDU %02X %02X %02X %02X -> %04X (%d bytes)", apdu[0], apdu[1], apdu[2], apdu[3], sw, len(payload))
        return payload, sw

    def _send(self, apdu: list[int]) -> tuple[bytes, int]:
        """Send one command, following ISO 7816 `61 xx` (GET RESPONSE) and `6C xx` (wrong Le) answers."""
        data, sw = self._transmit_once(apdu)
        if sw >> 8 == 0x6C and len(apdu) in (5,) and not data:
            data, sw = self._transmit_once(apdu[:4] + [sw & 0xFF])
        collected = bytearray(data)
        rounds = 0
        while sw >> 8 == 0x61:
            rounds += 1
            if rounds > 64:  # a card that keeps saying "more" must not hang us
                raise errors.CardDataError()
            more, sw = self._transmit_once([0x00, 0xC0, 0x00, 0x00, sw & 0xFF])
            collected += more
        return bytes(collected), sw

    def _select_ef(self, fid: int) -> int:
        _, sw = self._send([0x00, 0xA4, 0x02, 0x0C, 0x02, fid >> 8, fid & 0xFF])
        return sw

    def _require_select_ef(self, fid: int) -> None:
        sw = self._select_ef(fid)
        if sw == 0x6A82:
            raise errors.NotMyNumberCard()
        if sw != 0x9000:
            raise errors.UnexpectedStatus(sw)

    def _read_binary(self, offset: int, length: int) -> tuple[bytes, int]:
        return self._send([0x00, 0xB0, (offset >> 8) & 0x7F, offset & 0xFF, length & 0xFF])

    # -- public API -----------------------------------------------------------------------------------------
    def select_ap(self) -> None:
        """SELECT the JPKI AP (P2=0C, no FCI). Also drops any PIN state on the card."""
        data, sw = self._send([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID), *JPKI_AID])
        if sw in (0x6A82, 0x6A86, 0x6D00, 0x6E00, 0x6999):
            raise errors.NotMyNumberCard()
        if sw != 0x9000:
            raise errors.UnexpectedStatus(sw)

    logout = select_ap

    def token_kind(self) -> TokenKind:
        """Card, Android or iPhone, from the token info in EF 0006."""
        sw = self._select_ef(EF_TOKEN_INFO)
        if sw == 0x6A82:  # no token info: older plastic cards are described without it
            self._token = "card"
            return "card"
        if sw != 0x9000:
            raise errors.UnexpectedStatus(sw)
        data, sw = self._read_binary(0, 0x20)
        if sw != 0x9000:
            raise errors.UnexpectedStatus(sw)
        token = data.rstrip(b" \x00").decode("ascii", errors="replace")
        if token not in TOKEN_KINDS:
            raise errors.NotMyNumberCard()  # e.g. JPKIAPICCTOKEN = 住基カード
        self._token = TOKEN_KINDS[token]
        return self._token

    def read_auth_certificate(self) -> bytes:
        """The 利用者証明用電子証明書 (DER). Size from the DER header; 256-byte reads, the first one included."""
        self._require_select_ef(EF_AUTH_CERT)
        first, sw = self._read_binary(0, 0)  # Le=00: 256 bytes, which also holds the header
        self._check_read_status(sw)
        total = _der_total_length(first)
        if total > MAX_EF_SIZE:
            raise errors.CardDataError()
        cert = bytearray(first[:total])
        reads_left = 2 * (total // 256 + 1)  # a card dribbling out a few bytes per APDU must not keep us here
        while len(cert) < total:
            reads_left -= 1
            if reads_left < 0:
                raise errors.CardDataError()
            want = min(256, total - len(cert))
            chunk, sw = self._read_binary(len(cert), want)
            self._check_read_status(sw)
            if not chunk or len(chunk) > want:
                raise errors.CardDataError()
            cert += chunk
        der = bytes(cert)
        try:
            x509.load_der_x509_certificate(der)
        except ValueError:
            raise errors.CardDataError() from None
        return der

    def _check_read_status(self, sw: int) -> None:
        if sw in (0x9000, 0x6282):  # 62 82: end of file reached before Le bytes; data is still good
            return
        if sw == 0x6982:
            raise errors.BiometricRequired() if self._token == "iphone" else errors.PinRequired()
        raise errors.UnexpectedStatus(sw)

    def pin_tries_left(self) -> int:
        """Remaining tries of the 利用者証明用 PIN (`00 20 00 80` → `63 Cx`)."""
        self._require_select_ef(EF_AUTH_PIN)
        _, sw = self._send([0x00, 0x20, 0x00, 0x80])
        if sw & 0xFFF0 == 0x63C0:
            return sw & 0x0F
        if sw == 0x9000:  # some cards say 90 00 when already verified
            return AUTH_PIN_MAX_TRIES
        if sw in (0x6983, 0x6984):
            return 0
        raise errors.UnexpectedStatus(sw)

    def verify_pin(self, pin: str) -> None:
        """VERIFY the 4-digit 利用者証明用 PIN. Raises WrongPin(tries_left) / PinLocked."""
        if not isinstance(pin, str) or len(pin) != 4 or not pin.isascii() or not pin.isdigit():
            raise errors.InvalidPinFormat()
        self._require_select_ef(EF_AUTH_PIN)
        apdu = [0x00, 0x20, 0x00, 0x80, 0x04, *pin.encode("ascii")]
        try:
            _, sw = self._send(apdu)
        finally:
            apdu[:] = [0] * len(apdu)  # keep the PIN out of any later traceback frame
        if sw == 0x9000:
            return
        if sw & 0xFFF0 == 0x63C0:
            tries = sw & 0x0F
            if tries == 0:
                raise errors.PinLocked()
            raise errors.WrongPin(tries)
        if sw in (0x6983, 0x6984):
            raise errors.PinLocked()
        if sw == 0x6985 and self._token == "iphone":
            raise errors.BiometricRequired()
        raise errors.UnexpectedStatus(sw)

    def sign_digest_info(self, sha256_digest: bytes) -> bytes:
        """Sign SHA-256 DigestInfo(sha256_digest) with the user-auth key; the card adds PKCS#1 v1.5 padding."""
        if len(sha256_digest) != 32:
            raise ValueError("sha256_digest must be 32 bytes")
        self._require_select_ef(EF_AUTH_KEY)
        digest_info = SHA256_DIGEST_INFO_PREFIX + sha256_digest
        signature, sw = self._send([0x80, 0x2A, 0x00, 0x80, len(digest_info), *digest_info, 0x00])
        if sw == 0x6982:
            raise errors.BiometricRequired() if self._token == "iphone" else errors.PinRequired()
        if sw in (0x6983, 0x6984):
            raise errors.PinLocked()
        if sw != 0x9000:
            raise errors.UnexpectedStatus(sw)
        if len(signature) not in (128, 256, 384, 512):
            raise errors.CardDataError()
        return signature

    def prove(self, challenge: bytes, pin: str | None = None) -> tuple[bytes, bytes]:
        """(certificate DER, signature over SHA-256 DigestInfo(challenge)), checked against the certificate.

        Plastic card and Android need the PIN (Android before the certificate can be read); the iPhone needs none
        at the terminal but a Face ID / Touch ID approval on the phone.
        """
        self.select_ap()
        kind = self.token_kind()
        if kind != "iphone":
            if pin is None:
                raise errors.PinRequired()
            self.verify_pin(pin)
        try:
            cert = self.read_auth_certificate()
            signature = self.sign_digest_info(hashlib.sha256(challenge).digest())
        finally:
            if kind != "iphone":
                self._logout_quietly()
        _check_signature(cert, challenge, signature)
        return cert, signature

    def _logout_quietly(self) -> None:
        with contextlib.suppress(errors.CardError):  # the card may be gone; its session state went with it
            self.select_ap()


def _der_total_length(header: bytes) -> int:
    """Total size of a DER SEQUENCE from its first bytes (tag 30, definite length)."""
    if len(header) < 2 or header[0] != 0x30:
        raise errors.CardDataError()
    first = header[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 3 or len(header) < 2 + count:  # 0 = indefinite form, not DER
        raise errors.CardDataError()
    length = int.from_bytes(header[2 : 2 + count], "big")
    return 2 + count + length


def _check_signature(cert_der: bytes, challenge: bytes, signature: bytes) -> None:
    public_key = x509.load_der_x509_certificate(cert_der).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise errors.CardDataError()
    try:
        public_key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise errors.CardDataError() from None
