"""A byte-faithful virtual My Number card (JPKI AP + 券面事項入力補助AP basics).

Facts follow /work/shared/reference/jpki-card.md: short APDUs only, SELECT with P2=0C, READ BINARY with a
15-bit offset, the PIN-tries query `00 20 00 80` answering `63 Cx` even after a successful VERIFY, `69 84` on
VERIFY once blocked, `69 82` for sign/read before the PIN, `6A 82` for unknown AIDs/FIDs and `6D 00` for unknown
INS (never `90 00`, or OpenSC's probing drivers would claim the card).

Profiles: `physical` (plastic card), `android` (スマホ用電子証明書 in the GP secure element: the auth cert needs the
PIN first), `iphone` (no PIN at the terminal: signing needs a fresh `approve_biometric()`, single use).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from . import testca

JPKI_AID = bytes.fromhex("D392F000260100000001")
KENHOJO_AID = bytes.fromhex("D3921000310001010408")

# EF identifiers inside the JPKI AP.
EF_AUTH_CERT = 0x000A
EF_AUTH_CA_CERT = 0x000B
EF_AUTH_KEY = 0x0017
EF_AUTH_PIN = 0x0018
EF_SIGN_CERT = 0x0001
EF_SIGN_CA_CERT = 0x0002
EF_SIGN_KEY = 0x001A
EF_SIGN_PIN = 0x001B
EF_TOKEN_INFO = 0x0006
EF_CERT_FLAGS = 0x0008

# EF identifiers inside the 券面事項入力補助AP.
EF_KENHOJO_PIN = 0x0011
EF_KENHOJO_PIN_A = 0x0014
EF_KENHOJO_PIN_B = 0x0015
EF_KENHOJO_MY_NUMBER = 0x0001
EF_KENHOJO_BASIC4 = 0x0002

TOKENS = {"physical": "JPKIAPICCTOKEN2", "android": "JPKIAPGPSETOKEN", "iphone": "JPKIAPIOSTOKEN"}
# Contact ATR from OpenSC's jpki table for the plastic card; phones answer through a contactless reader,
# which builds a Type A ATR without historical bytes.
ATRS = {
    "physical": bytes.fromhex("3BE000FF8131FE4514"),
    "android": bytes.fromhex("3B80800101"),
    "iphone": bytes.fromhex("3B80800101"),
}

SW_OK = (0x90, 0x00)
SW_WRONG_LENGTH = (0x67, 0x00)
SW_INCOMPATIBLE_FILE = (0x69, 0x81)
SW_SECURITY_NOT_SATISFIED = (0x69, 0x82)
SW_AUTH_BLOCKED = (0x69, 0x84)
SW_CONDITIONS_NOT_SATISFIED = (0x69, 0x85)
SW_NO_CURRENT_EF = (0x69, 0x86)
SW_WRONG_DATA = (0x6A, 0x80)
SW_FILE_NOT_FOUND = (0x6A, 0x82)
SW_WRONG_P1P2 = (0x6A, 0x86)
SW_OFFSET_OUTSIDE = (0x6B, 0x00)
SW_INS_NOT_SUPPORTED = (0x6D, 0x00)
SW_CLA_NOT_SUPPORTED = (0x6E, 0x00)

Response = tuple[list[int], int, int]

_DIGEST_INFO_PREFIXES: dict[bytes, hashes.HashAlgorithm] = {
    bytes.fromhex("3021300906052B0E03021A05000414"): hashes.SHA1(),
    bytes.fromhex("302D300D06096086480165030402040500041C"): hashes.SHA224(),
    bytes.fromhex("3031300D060960864801650304020105000420"): hashes.SHA256(),
    bytes.fromhex("3041300D060960864801650304020205000430"): hashes.SHA384(),
    bytes.fromhex("3051300D060960864801650304020305000440"): hashes.SHA512(),
}


class VirtualCardRemoved(Exception):
    """Raised by `transmit` once the card has left the reader (fault injection or `remove()`)."""


@dataclass
class Faults:
    """Fault injection: `remove_after` APDUs then the card is gone; `delay` seconds per APDU;
    `garble` maps a response to a broken one for the APDUs whose 1-based index is in `garble_at` (all when None)."""

    remove_after: int | None = None
    delay: float = 0.0
    garble: Callable[[bytes], bytes] | None = None
    garble_at: set[int] | None = None


@dataclass
class _Pin:
    value: bytes
    max_tries: int
    tries_left: int = field(init=False)

    def __post_init__(self) -> None:
        self.tries_left = self.max_tries

    def __repr__(self) -> str:  # never show the secret
        return f"_Pin(tries_left={self.tries_left}/{self.max_tries})"


def _my_number_check_digit(eleven_digits: str) -> str:
    total = 0
    for n, ch in enumerate(reversed(eleven_digits), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    r = total % 11
    return "0" if r <= 1 else str(11 - r)


def synthetic_my_number(seed: str = "") -> str:
    digest = hashlib.sha256(seed.encode() or os.urandom(8)).hexdigest()
    base = "".join(str(int(c, 16) % 10) for c in digest[:11])
    return base + _my_number_check_digit(base)


def _ber_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def build_basic4(name: str, address: str, birth: str, sex: str) -> bytes:
    """EF 0002 of the 券面事項入力補助AP: FF20 container, DF21 offset header, DF22..DF25 (UTF-8/ASCII)."""
    values = [name.encode(), address.encode(), birth.encode("ascii"), sex.encode("ascii")]
    tlvs = [bytes([0xDF, 0x22 + i]) + _ber_len(len(v)) + v for i, v in enumerate(values)]
    header_len = 5 + 3 + 8  # FF 20 82 LL LL, DF 21 08, 4 offsets
    offsets, pos = [], header_len
    for t in tlvs:
        offsets.append(pos)
        pos += len(t)
    inner = b"\xdf\x21\x08" + b"".join(o.to_bytes(2, "big") for o in offsets) + b"".join(tlvs)
    return b"\xff\x20\x82" + len(inner).to_bytes(2, "big") + inner


class VirtualCard:
    """Virtual JPKI card. `transmit(apdu)` → `(data, sw1, sw2)` like pyscard's CardConnection."""

    def __init__(
        self,
        profile: str = "physical",
        pin: str = "1234",
        key: rsa.RSAPrivateKey | None = None,
        cert_der: bytes | None = None,
        ca_cert_der: bytes | None = None,
        *,
        sign_password: str = "ABC123",
        my_number: str | None = None,
        name: str = "資格 太郎",
        address: str = "東京都千代田区霞が関1-2-2",
        birth: str = "19520101",
        sex: str = "1",
        faults: Faults | None = None,
    ) -> None:
        if profile not in TOKENS:
            raise ValueError(f"unknown profile {profile!r}")
        self.profile = profile
        self.atr: list[int] = list(ATRS[profile])
        if key is None:
            key = testca.new_rsa_key()
            cert_der = None  # a given cert cannot match a fresh key
        if cert_der is None:
            cert_der = testca.issue_end_entity(key.public_key())
        if ca_cert_der is None:
            ca_cert_der = testca.throwaway_ca("user authentication")[1]
        self._auth_key = key
        self.cert_der = cert_der
        self.ca_cert_der = ca_cert_der
        self._sign_key, sign_cert, sign_ca = testca.throwaway_sign_side()
        self._lock = threading.RLock()
        self.faults = faults or Faults()
        self.apdu_count = 0
        self.removed = False
        self.powered = False
        self._biometric_approved = False

        self._jpki_pins = {EF_AUTH_PIN: _Pin(pin.encode(), 3), EF_SIGN_PIN: _Pin(sign_password.upper().encode(), 5)}
        token = TOKENS[profile].encode().ljust(32, b" ")
        self._jpki_files: dict[int, bytes] = {
            EF_AUTH_CERT: cert_der,
            EF_AUTH_CA_CERT: ca_cert_der,
            EF_SIGN_CERT: sign_cert,
            EF_SIGN_CA_CERT: sign_ca,
            EF_TOKEN_INFO: token,
            EF_CERT_FLAGS: bytes([0x8F, 0x8F, 0x00]),
        }
        self._jpki_keys = {EF_AUTH_KEY: (self._auth_key, EF_AUTH_PIN), EF_SIGN_KEY: (self._sign_key, EF_SIGN_PIN)}
        # iPhone carries the カード代替電磁的記録 (card-surface data); Android carries only the JPKI certificates.
        self._has_kenhojo = profile != "android"
        number = my_number or synthetic_my_number(cert_der.hex())
        self._kenhojo_pins = {
            EF_KENHOJO_PIN: _Pin(pin.encode(), 3),
            EF_KENHOJO_PIN_A: _Pin(number.encode(), 10),
            EF_KENHOJO_PIN_B: _Pin((birth[2:8] + "2030" + "0000").encode(), 10),
        }
        self._kenhojo_files = {
            EF_KENHOJO_MY_NUMBER: b"\xdf\x10\x0c" + number.encode(),
            EF_KENHOJO_BASIC4: build_basic4(name, address, birth, sex),
        }
        self._reset_session()

    def __repr__(self) -> str:
        return f"VirtualCard(profile={self.profile!r}, removed={self.removed})"

    # -- physical state ---------------------------------------------------------------------------------------
    def _reset_session(self) -> None:
        self._ap: str | None = None
        self._ef: int | None = None
        self._verified: set[tuple[str, int]] = set()

    def power_on(self) -> None:
        with self._lock:
            if not self.powered:
                self.powered = True
                self._reset_session()

    def power_off(self) -> None:
        with self._lock:
            self.powered = False
            self._reset_session()

    def reset(self) -> None:
        with self._lock:
            self.powered = True
            self._reset_session()

    def remove(self) -> None:
        """The card leaves the field: session state is lost."""
        with self._lock:
            self.removed = True
            self.power_off()

    def reinsert(self) -> None:
        with self._lock:
            self.removed = False
            self.faults.remove_after = None
            self.power_on()

    def approve_biometric(self) -> None:
        """Simulated Face ID / Touch ID on the iPhone: allows exactly one signature."""
        with self._lock:
            self._biometric_approved = True

    @property
    def auth_public_key(self) -> rsa.RSAPublicKey:
        return self._auth_key.public_key()

    def pin_tries_left(self) -> int:
        return self._jpki_pins[EF_AUTH_PIN].tries_left

    # -- APDU entry point -------------------------------------------------------------------------------------
    def transmit(self, apdu: Sequence[int] | bytes) -> Response:
        raw = self.transmit_raw(bytes(apdu))
        if len(raw) < 2:  # only a garbling fault gets here; a PC/SC stack would refuse it too
            raise ValueError("R-APDU shorter than a status word")
        return list(raw[:-2]), raw[-2], raw[-1]

    def transmit_raw(self, apdu: bytes) -> bytes:
        """C-APDU bytes in, R-APDU bytes out (data + SW1 SW2), after the injected faults."""
        with self._lock:
            if self.removed:
                raise VirtualCardRemoved("card removed")
            self.apdu_count += 1
            limit = self.faults.remove_after
            if limit is not None and self.apdu_count > limit:
                self.remove()
                raise VirtualCardRemoved("card removed")
            if not self.powered:
                self.power_on()
            data, sw = self._process(apdu)
            response = bytes(data) + bytes(sw)
            index = self.apdu_count
        if self.faults.delay:
            time.sleep(self.faults.delay)
        if self.faults.garble is not None and (self.faults.garble_at is None or index in self.faults.garble_at):
            response = self.faults.garble(response)
        return response

    def _process(self, apdu: bytes) -> tuple[bytes, tuple[int, int]]:
        if len(apdu) < 4:
            return b"", SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
        body = apdu[4:]
        # Short APDU cases: 1 (no body), 2 (Le), 3 (Lc data), 4 (Lc data Le).
        lc_data: bytes | None = None
        le: int | None = None
        if len(body) == 1:
            le = body[0] or 256
        elif len(body) > 1:
            lc = body[0]
            if lc == 0 or len(body) not in (1 + lc, 2 + lc):
                return b"", SW_WRONG_LENGTH
            lc_data = body[1 : 1 + lc]
            if len(body) == 2 + lc:
                le = body[-1] or 256
        if cla not in (0x00, 0x80):
            return b"", SW_CLA_NOT_SUPPORTED
        if cla == 0x00 and ins == 0xA4:
            return self._select(p1, p2, lc_data)
        if cla == 0x00 and ins == 0xB0:
            return self._read_binary(p1, p2, lc_data, le)
        if cla == 0x00 and ins == 0x20:
            return self._verify(p1, p2, lc_data, le)
        if cla == 0x00 and ins == 0x24:
            return self._change_pin(p1, p2, lc_data)
        if cla == 0x80 and ins == 0x2A:
            return self._sign(p1, p2, lc_data)
        return b"", SW_INS_NOT_SUPPORTED

    # -- commands ---------------------------------------------------------------------------------------------
    def _select(self, p1: int, p2: int, data: bytes | None) -> tuple[bytes, tuple[int, int]]:
        if data is None:
            return b"", SW_WRONG_LENGTH
        if p1 == 0x04:
            if p2 not in (0x00, 0x0C):
                return b"", SW_WRONG_P1P2
            if data == JPKI_AID:
                ap = "jpki"
            elif data == KENHOJO_AID and self._has_kenhojo:
                ap = "kenhojo"
            else:
                return b"", SW_FILE_NOT_FOUND
            # OpenSC's logout re-selects the AP: selecting drops the PIN state.
            self._ap, self._ef, self._verified = ap, None, set()
            return b"", SW_OK
        if p1 == 0x02:
            if p2 not in (0x00, 0x0C):
                return b"", SW_WRONG_P1P2
            if len(data) != 2 or self._ap is None:
                return b"", SW_FILE_NOT_FOUND
            fid = int.from_bytes(data, "big")
            if fid not in self._files() and fid not in self._pins() and fid not in self._keys():
                return b"", SW_FILE_NOT_FOUND
            self._ef = fid
            return b"", SW_OK
        if p1 in (0x00, 0x01, 0x08, 0x09):
            return b"", SW_FILE_NOT_FOUND
        return b"", SW_WRONG_P1P2

    def _files(self) -> dict[int, bytes]:
        return self._jpki_files if self._ap == "jpki" else self._kenhojo_files if self._ap == "kenhojo" else {}

    def _pins(self) -> dict[int, _Pin]:
        return self._jpki_pins if self._ap == "jpki" else self._kenhojo_pins if self._ap == "kenhojo" else {}

    def _keys(self) -> dict[int, tuple[rsa.RSAPrivateKey, int]]:
        return self._jpki_keys if self._ap == "jpki" else {}

    def _read_allowed(self, fid: int) -> bool:
        if self._ap == "jpki":
            if fid == EF_SIGN_CERT:
                return ("jpki", EF_SIGN_PIN) in self._verified
            if fid == EF_AUTH_CERT and self.profile == "android":
                return ("jpki", EF_AUTH_PIN) in self._verified
            return True
        if self._ap == "kenhojo":
            return bool({("kenhojo", p) for p in self._kenhojo_pins} & self._verified)
        return False

    def _read_binary(
        self, p1: int, p2: int, data: bytes | None, le: int | None
    ) -> tuple[bytes, tuple[int, int]]:
        if data is not None or le is None:
            return b"", SW_WRONG_LENGTH
        if p1 & 0x80:  # short EF identifier form: not offered by this card
            return b"", SW_WRONG_P1P2
        if self._ef is None:
            return b"", SW_NO_CURRENT_EF
        files = self._files()
        if self._ef not in files:
            return b"", SW_INCOMPATIBLE_FILE
        if not self._read_allowed(self._ef):
            return b"", SW_SECURITY_NOT_SATISFIED
        content = files[self._ef]
        offset = (p1 << 8) | p2
        if offset >= len(content):
            return b"", SW_OFFSET_OUTSIDE
        # Past the end real cards hand back what is left with 90 00 (MNB relies on it).
        return content[offset : offset + le], SW_OK

    def _verify(self, p1: int, p2: int, data: bytes | None, le: int | None) -> tuple[bytes, tuple[int, int]]:
        if p1 != 0x00 or p2 != 0x80:
            return b"", SW_WRONG_P1P2
        if le is not None:
            return b"", SW_WRONG_LENGTH
        pin = self._pins().get(self._ef) if self._ef is not None else None
        if pin is None:
            return b"", SW_NO_CURRENT_EF
        if data is None:  # tries query; answers 63 Cx even when already verified
            return b"", (0x63, 0xC0 | pin.tries_left)
        if self.profile == "iphone" and self._ap == "jpki":
            return b"", SW_CONDITIONS_NOT_SATISFIED  # the PIN is unlocked by Face ID on the phone, not here
        if pin.tries_left == 0:
            return b"", SW_AUTH_BLOCKED
        if _constant_time_eq(data, pin.value):
            pin.tries_left = pin.max_tries
            self._verified.add((self._ap or "", self._ef or 0))
            return b"", SW_OK
        pin.tries_left -= 1
        self._verified.discard((self._ap or "", self._ef or 0))
        return b"", (0x63, 0xC0 | pin.tries_left)

    def _change_pin(self, p1: int, p2: int, data: bytes | None) -> tuple[bytes, tuple[int, int]]:
        """CHANGE REFERENCE DATA `00 24 01 80 <new PIN>`: only right after a VERIFY of the same PIN EF."""
        if p1 != 0x01 or p2 != 0x80:
            return b"", SW_WRONG_P1P2
        if data is None:
            return b"", SW_WRONG_LENGTH
        pin = self._pins().get(self._ef) if self._ef is not None else None
        if pin is None:
            return b"", SW_NO_CURRENT_EF
        if (self._ap or "", self._ef or 0) not in self._verified:
            return b"", SW_SECURITY_NOT_SATISFIED
        if len(data) != len(pin.value) and self._ef in (EF_AUTH_PIN, EF_KENHOJO_PIN):
            return b"", SW_WRONG_DATA  # 4-digit PINs stay 4 digits
        pin.value = bytes(data)
        return b"", SW_OK

    def _sign(self, p1: int, p2: int, data: bytes | None) -> tuple[bytes, tuple[int, int]]:
        if p1 != 0x00 or p2 != 0x80:
            return b"", SW_WRONG_P1P2
        if data is None:
            return b"", SW_WRONG_LENGTH
        entry = self._keys().get(self._ef) if self._ef is not None else None
        if entry is None:
            return b"", SW_NO_CURRENT_EF
        key, pin_fid = entry
        if self.profile == "iphone" and pin_fid == EF_AUTH_PIN:
            if not self._biometric_approved:
                return b"", SW_SECURITY_NOT_SATISFIED
            self._biometric_approved = False
        elif ("jpki", pin_fid) not in self._verified:
            return b"", SW_SECURITY_NOT_SATISFIED
        if len(data) > key.key_size // 8 - 11:
            return b"", SW_WRONG_DATA
        return _pkcs1_type1_sign(key, data), SW_OK


def _constant_time_eq(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def _pkcs1_type1_sign(key: rsa.RSAPrivateKey, digest_info: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 over a caller-made DigestInfo: 00 01 FF..FF 00 || DigestInfo, then the private op."""
    for prefix, algorithm in _DIGEST_INFO_PREFIXES.items():
        if digest_info.startswith(prefix) and len(digest_info) == len(prefix) + algorithm.digest_size:
            # Same bytes as the raw path below (PKCS#1 v1.5 is deterministic), done by OpenSSL.
            return key.sign(digest_info[len(prefix) :], padding.PKCS1v15(), utils.Prehashed(algorithm))
    k = key.key_size // 8
    block = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
    numbers = key.private_numbers()
    m = int.from_bytes(block, "big")
    # CRT private operation.
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return (s2 + h * numbers.q).to_bytes(k, "big")


def load_card_files(key_path: str | Path, cert_path: str | Path) -> tuple[rsa.RSAPrivateKey, bytes]:
    """Key (PEM) and certificate (DER; PEM accepted too) as the sandbox's test CA writes them."""
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the card key must be RSA")
    cert_bytes = Path(cert_path).read_bytes()
    if cert_bytes.lstrip().startswith(b"-----BEGIN"):
        cert_bytes = x509.load_pem_x509_certificate(cert_bytes).public_bytes(serialization.Encoding.DER)
    cert = x509.load_der_x509_certificate(cert_bytes)
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise ValueError("certificate and key do not match")
    return key, cert_bytes


def load_card_dir(directory: str | Path) -> tuple[rsa.RSAPrivateKey, bytes, bytes | None]:
    """`key.pem`, `cert.der` and (if present) the issuer's `ca.der`, as the sandbox's `write_card_files` lays them out."""
    directory = Path(directory)
    key, cert_der = load_card_files(directory / "key.pem", directory / "cert.der")
    ca_path = directory / "ca.der"
    return key, cert_der, ca_path.read_bytes() if ca_path.exists() else None
