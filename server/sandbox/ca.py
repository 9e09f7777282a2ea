"""A test JPKI certification authority for the sandbox (N02).

It stands in for J-LIS: a self-signed root and, under it, a user-authentication issuer whose subject mirrors the real
``C=JP, O=JPKI, OU=JPKI for user authentication, OU=Japan Agency for Local Authority Information Systems`` with an
extra OU that marks it as a test CA (reference/jpki-card.md §4). End-entity certificates are RSA-2048,
sha256WithRSAEncryption, subject ``C=JP, CN=<opaque 20-character id>``, like a card's 利用者証明用電子証明書.

Everything lives in ``settings.SANDBOX_CA_DIR`` as PEM/DER files, created on first use:

    root.key.pem, root.cert.pem        the root
    auth.key.pem, auth.cert.pem        the user-authentication issuer
    crl.der, revoked.json              the issuer's CRL and the list it is built from
    cards/<serial>.key.pem             private keys of the virtual cards the CA "manufactured"

The sandbox keeps card keys because it also plays the card factory: the demo and the tests load them into virtual
cards. A real CA never sees a card's private key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import os
import secrets
import string
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

try:
    import fcntl
except ImportError:  # Windows: the embedded demo runs one process, the thread lock is enough
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from server.sandbox.models import InsuredPerson

JST = ZoneInfo("Asia/Tokyo")
KEY_SIZE = 2048
CN_ALPHABET = string.ascii_uppercase + string.digits
CN_LENGTH = 20
EXPIRING_MONTHS = 3  # 有効期限が残り3カ月を切った → notice
GRACE_MONTHS = 3  # usable until the end of the 3rd month after the expiry month (onshi-data-model.md §5)
CRL_NEXT_UPDATE = dt.timedelta(days=7)
CHAIN_CACHE_SIZE = 100_000  # certificates whose issuer signature was verified, per process (32-byte keys)

ROOT_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI TEST ROOT"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "SANDBOX - NOT FOR PRODUCTION"),
    ]
)
ISSUER_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for user authentication"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Japan Agency for Local Authority Information Systems"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "SANDBOX - NOT FOR PRODUCTION"),
    ]
)


class CertificateState(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # ≤ 3 months left
    GRACE_PERIOD = "grace_period"  # expired, but before the end of the 3rd month after the expiry month
    EXPIRED = "expired"  # beyond the grace period
    REVOKED = "revoked"
    UNTRUSTED = "untrusted"  # not issued by this CA, or not yet valid


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day (1/31 + 1 → 2/28)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def grace_period_end(not_after: dt.datetime) -> dt.datetime:
    """End of the 3rd month after the (JST) month of expiry: expiry in February → usable through the end of May."""
    expiry_month = not_after.astimezone(JST).date().replace(day=1)
    first_day_after = add_months(expiry_month, GRACE_MONTHS + 1)
    return dt.datetime.combine(first_day_after, dt.time.min, tzinfo=JST)


def state_at(not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime) -> CertificateState:
    """The time-dependent part of a certificate's state."""
    if now < not_before:
        return CertificateState.UNTRUSTED
    if now <= not_after:
        three_months_on = dt.datetime.combine(
            add_months(now.astimezone(JST).date(), EXPIRING_MONTHS), now.astimezone(JST).timetz()
        )
        return CertificateState.EXPIRING if not_after <= three_months_on else CertificateState.VALID
    if now < grace_period_end(not_after):
        return CertificateState.GRACE_PERIOD
    return CertificateState.EXPIRED


def random_subject_cn() -> str:
    """An opaque, pseudonymous CN like a real user-auth certificate's (it carries no name)."""
    return "".join(secrets.choice(CN_ALPHABET) for _ in range(CN_LENGTH))


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise CA writes across processes (several gunicorn workers may create the CA or revoke at once)."""
    with _LOCK, (directory / ".lock").open("a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    """Write a key file readable by its owner only, atomically (another worker may read it at the same time)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    # Only keys this CA generated and wrote itself (0600): OpenSSL's RSA consistency check costs ~40 ms a key.
    key = serialization.load_pem_private_key(path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@dataclass
class TestJpkiCa:
    """The CA's keys and certificates, loaded from (or created in) one directory."""

    __test__ = False  # not a pytest test class, despite the name

    directory: Path
    root_key: rsa.RSAPrivateKey
    root_cert: x509.Certificate
    issuer_key: rsa.RSAPrivateKey
    issuer_cert: x509.Certificate

    # -- creation ------------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path) -> TestJpkiCa:
        """Load the CA in ``directory``, creating it the first time."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cards").mkdir(exist_ok=True)
        with _directory_lock(directory):
            if not (directory / "auth.cert.pem").exists():
                cls._create(directory)
        return cls(
            directory=directory,
            root_key=_load_key(directory / "root.key.pem"),
            root_cert=x509.load_pem_x509_certificate((directory / "root.cert.pem").read_bytes()),
            issuer_key=_load_key(directory / "auth.key.pem"),
            issuer_cert=x509.load_pem_x509_certificate((directory / "auth.cert.pem").read_bytes()),
        )

    @staticmethod
    def _create(directory: Path) -> None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        ca_usage = x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        )  # fmt: skip
        root_cert = (
            x509.CertificateBuilder()
            .subject_name(ROOT_SUBJECT)
            .issuer_name(ROOT_SUBJECT)
            .public_key(root_key.public_key())
            .serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * 20))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(ca_usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        issuer_cert = (
            x509.CertificateBuilder()
            .subject_name(ISSUER_SUBJECT)
            .issuer_name(ROOT_SUBJECT)
            .public_key(issuer_key.public_key())
            .serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * 10))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(ca_usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuer_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        _write_private(directory / "root.key.pem", _key_pem(root_key))
        _write_public(directory / "root.cert.pem", root_cert.public_bytes(serialization.Encoding.PEM))
        _write_private(directory / "auth.key.pem", _key_pem(issuer_key))
        _write_public(directory / "revoked.json", b"{}")
        # The issuer certificate is written last: its presence marks the CA as complete.
        _write_public(directory / "auth.cert.pem", issuer_cert.public_bytes(serialization.Encoding.PEM))
        ca = TestJpkiCa(directory, root_key, root_cert, issuer_key, issuer_cert)
        ca._write_crl({})

    # -- issuing -------------------------------------------------------------------------------------------------

    def issue_card_certificate(
        self, not_before: dt.datetime, not_after: dt.datetime
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """A new card key pair and its user-authentication certificate. The key is also kept in ``cards/``."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, random_subject_cn()),
                    ]
                )
            )
            .issuer_name(self.issuer_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),  # fmt: skip
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuer_key.public_key()), critical=False
            )
            .sign(self.issuer_key, hashes.SHA256())
        )
        _write_private(self.card_key_path(cert.serial_number), _key_pem(key))
        return key, cert

    def keep_card_key(self, serial: int, key: rsa.RSAPrivateKey) -> None:
        """Keep the key of a card made earlier (e.g. demo card files that outlived a database reset)."""
        path = self.card_key_path(serial)
        if not path.exists():
            _write_private(path, _key_pem(key))

    def card_key_path(self, serial: int) -> Path:
        return self.directory / "cards" / f"{serial}.key.pem"

    def load_card_key(self, serial: int) -> rsa.RSAPrivateKey:
        return _load_key(self.card_key_path(serial))

    # -- revocation ----------------------------------------------------------------------------------------------

    def revoked_serials(self) -> dict[int, dt.datetime]:
        raw = json.loads((self.directory / "revoked.json").read_text(encoding="utf-8"))
        return {int(serial): dt.datetime.fromisoformat(when) for serial, when in raw.items()}

    def revoke(self, serial: int, when: dt.datetime | None = None) -> None:
        """Put ``serial`` on the CRL (idempotent: the first revocation date is kept)."""
        with _directory_lock(self.directory):
            revoked = self.revoked_serials()
            revoked.setdefault(serial, (when or dt.datetime.now(dt.UTC)).replace(microsecond=0))
            _write_public(
                self.directory / "revoked.json",
                json.dumps({str(s): w.isoformat() for s, w in revoked.items()}).encode(),
            )
            self._write_crl(revoked)

    def _write_crl(self, revoked: dict[int, dt.datetime]) -> None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuer_cert.subject)
            .last_update(now)
            .next_update(now + CRL_NEXT_UPDATE)
        )
        for serial, when in revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        crl = builder.sign(self.issuer_key, hashes.SHA256())
        _write_public(self.directory / "crl.der", crl.public_bytes(serialization.Encoding.DER))

    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl((self.directory / "crl.der").read_bytes())

    def _verified_crl(self) -> x509.CertificateRevocationList:
        """The CRL, parsed and its signature checked once per version of the file (another process may revoke)."""
        path = self.directory / "crl.der"
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = self.__dict__.get("_crl_cache")
        if cached is not None and cached[0] == version:
            return cached[1]
        crl = x509.load_der_x509_crl(path.read_bytes())
        if not crl.is_signature_valid(self.issuer_key.public_key()):
            raise RuntimeError("sandbox CRL signature is invalid; the CA directory is damaged")
        self.__dict__["_crl_cache"] = (version, crl)
        return crl

    # -- verification --------------------------------------------------------------------------------------------

    def is_issued_here(self, cert: x509.Certificate) -> bool:
        """True when ``cert`` chains to this CA: issuer name and signature of the issuer, issuer signed by root."""
        try:
            if not self.__dict__.get("_issuer_verified"):  # the issuer does not change: check its root signature once
                self.issuer_cert.verify_directly_issued_by(self.root_cert)
                self.__dict__["_issuer_verified"] = True
            # The issuer's RSA signature over these exact DER bytes gives the same answer every time: checked once per
            # certificate (SHA-256 of the DER) and CA. Revocation and dates are still checked on every call.
            digest = cert.fingerprint(hashes.SHA256())
            verified = self.__dict__.setdefault("_chain_verified", {})
            if digest not in verified:
                cert.verify_directly_issued_by(self.issuer_cert)
                if len(verified) >= CHAIN_CACHE_SIZE:  # bounded: start afresh rather than grow without end
                    verified.clear()
                verified[digest] = True
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            return False
        return True

    def verify_card_certificate(self, cert: x509.Certificate, now: dt.datetime | None = None) -> CertificateState:
        """State of a card's certificate: chain, revocation (the CRL, itself verified), then validity dates."""
        if not self.is_issued_here(cert):
            return CertificateState.UNTRUSTED
        crl = self._verified_crl()
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            return CertificateState.REVOKED
        return state_at(cert.not_valid_before_utc, cert.not_valid_after_utc, now or dt.datetime.now(dt.UTC))


_LOCK = threading.Lock()
_OPEN: dict[Path, TestJpkiCa] = {}


def get_ca() -> TestJpkiCa:
    """The CA of ``settings.SANDBOX_CA_DIR`` (cached per directory, so tests may point the setting elsewhere)."""
    directory = Path(settings.SANDBOX_CA_DIR)
    ca = _OPEN.get(directory)
    if ca is None or not (directory / "auth.cert.pem").exists():
        ca = _OPEN[directory] = TestJpkiCa.open(directory)
    return ca


def issue_card_certificate(
    not_before: dt.datetime, not_after: dt.datetime
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Issue a card key and certificate from the sandbox CA."""
    return get_ca().issue_card_certificate(not_before, not_after)


def verify_card_certificate(cert: x509.Certificate, now: dt.datetime | None = None) -> CertificateState:
    """valid / expiring / grace_period / expired / revoked / untrusted, checked against the sandbox CA."""
    return get_ca().verify_card_certificate(cert, now)


def verify_challenge_signature(cert: x509.Certificate, challenge: bytes, signature: bytes) -> bool:
    """The card's RSA PKCS#1 v1.5 SHA-256 signature over the raw challenge (the card signs its DigestInfo)."""
    try:
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        public_key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        return False
    return True


def write_card_files(person: InsuredPerson, directory: Path, holder_kind: str = "card") -> tuple[Path, Path]:
    """Write ``key.pem``, ``cert.der`` (and the issuer's ``ca.der``) of the person's newest ``holder_kind`` certificate.

    These are what the virtual card loads (``VirtualCard(cert_der=..., key=...)``). Returns (key path, cert path).
    """
    certificate = person.card_certificates.filter(holder_kind=holder_kind).order_by("-id").first()  # newest issued
    if certificate is None:
        raise LookupError(f"person {person.pk} has no {holder_kind} certificate")
    key = get_ca().load_card_key(int(certificate.serial))
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "key.pem", directory / "cert.der"
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, bytes(certificate.der))
    # The card's EF 000B: the issuer's certificate, for a virtual card that wants the real chain.
    _write_public(directory / "ca.der", get_ca().issuer_cert.public_bytes(serialization.Encoding.DER))
    return key_path, cert_path
