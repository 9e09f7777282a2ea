"""The sandbox's qualification query (N03) as plain functions; the API views only parse and call these.

Order of the checks, and why:
1. the challenge is spent first, so that a failed attempt cannot be retried with the same challenge;
2. the certificate must parse and chain to the test CA;
3. for pin/android/iphone the signature over the challenge proves the card's key is present; nothing about the
   person is revealed before that (目視 has no key proof: staff attest they compared the face photo);
4. revocation and expiry, the holder (card or phone), the 保険証利用登録 state, then the qualification itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from django.core.cache import cache
from django.utils import timezone

from server.sandbox.actions import do_request_registration
from server.sandbox.ca import CertificateState, fingerprint, verify_card_certificate, verify_challenge_signature
from server.sandbox.error_codes import NOTICES, fail
from server.sandbox.lookup import CertificateRow, find_certificate
from server.sandbox.models import CardCertificate, InsuredPerson, RegistrationRequest
from server.sandbox.results import build_result_document

CHALLENGE_BYTES = 32
CHALLENGE_TTL_SECONDS = 60
# Challenges stay in the cache a little longer than they are valid, so that a late answer reads as "expired" and not
# as "unknown"; spent challenges are remembered as long, so that a replay reads as "used".
CHALLENGE_KEEP_SECONDS = 300

IDENTITY_VERIFICATIONS = ("visual", "pin", "iphone", "android")
HOLDER_FOR_METHOD = {
    "visual": CardCertificate.HolderKind.CARD,
    "pin": CardCertificate.HolderKind.CARD,
    "android": CardCertificate.HolderKind.ANDROID,
    "iphone": CardCertificate.HolderKind.IPHONE,
}
REGISTRATION_ERRORS = {
    InsuredPerson.Registration.NOT_REGISTERED: "not_registered",
    InsuredPerson.Registration.PROCESSING: "registration_processing",
    InsuredPerson.Registration.FAILED: "registration_failed",
}


@dataclass(frozen=True)
class Challenge:
    challenge: str  # base64 of CHALLENGE_BYTES random bytes
    expires_at: dt.datetime

    def as_dict(self) -> dict[str, str]:
        return {"challenge": self.challenge, "expires_at": self.expires_at.isoformat()}


@dataclass(frozen=True)
class QualificationQuery:
    challenge: bytes
    identity_verification: str
    certificate: bytes  # DER
    signature: bytes | None = None
    visual_attested: bool = False
    consent_specific_diseases: bool = False


def _challenge_key(raw: bytes) -> str:
    return "sandbox:challenge:" + hashlib.sha256(raw).hexdigest()


def _spent_key(raw: bytes) -> str:
    return "sandbox:challenge-spent:" + hashlib.sha256(raw).hexdigest()


def issue_challenge(device_id: str | None = None, now: dt.datetime | None = None) -> Challenge:
    """A fresh single-use challenge, valid 60 s, bound to the calling device (when known)."""
    now = now or timezone.now()
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    expires_at = now + dt.timedelta(seconds=CHALLENGE_TTL_SECONDS)
    entry = {"expires_at": expires_at.timestamp(), "device": str(device_id) if device_id else None}
    cache.add(_challenge_key(raw), entry, timeout=CHALLENGE_KEEP_SECONDS)
    return Challenge(base64.b64encode(raw).decode("ascii"), expires_at)


def consume_challenge(raw: bytes, device_id: str | None = None, now: dt.datetime | None = None) -> None:
    """Spend a challenge or raise the coded error: unknown, already used, expired, or issued to another device.

    ``cache.add`` of the spent mark is the atomic step (Redis SET NX): of concurrent requests with one challenge
    exactly one spends it. A challenge never issued (or long gone) reads as "unknown", a spent one as "used"."""
    entry = cache.get(_challenge_key(raw))
    if entry is None:
        fail("challenge_used" if cache.get(_spent_key(raw)) else "challenge_unknown")
    if not cache.add(_spent_key(raw), 1, timeout=CHALLENGE_KEEP_SECONDS):
        fail("challenge_used")
    cache.delete(_challenge_key(raw))
    if entry["device"] and device_id and entry["device"] != str(device_id):
        fail("challenge_other_device")
    if (now or timezone.now()).timestamp() > entry["expires_at"]:
        fail("challenge_expired")


def load_certificate(der: bytes) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc)  # parsed lazily: fail here, not later
    except (ValueError, UnsupportedAlgorithm):
        fail("certificate_malformed")
    return cert


def _verify_card_proof(
    query: QualificationQuery, *, device_id: str | None, now: dt.datetime | None
) -> tuple[CertificateRow, CertificateState]:
    """The card proof; the roster row comes with the holder's current qualification."""
    now = now or timezone.now()
    if query.identity_verification not in IDENTITY_VERIFICATIONS:
        fail("malformed_request", {"identity_verification": ["本人確認の方法が正しくありません。"]})
    consume_challenge(query.challenge, device_id, now)  # spent whatever follows
    cert = load_certificate(query.certificate)
    state = verify_card_certificate(cert, now)
    if state == CertificateState.UNTRUSTED:
        fail("certificate_untrusted")
    if query.identity_verification == "visual":
        if not query.visual_attested:
            fail("visual_not_attested")
    elif not query.signature or not verify_challenge_signature(cert, query.challenge, query.signature):
        fail("signature_invalid")

    found = find_certificate(fingerprint(cert))
    if found is None:
        fail("certificate_unknown")
    record = found.certificate
    if state == CertificateState.REVOKED or record.revoked_at is not None:
        fail("certificate_revoked")
    if record.holder_kind != HOLDER_FOR_METHOD[query.identity_verification]:
        fail("holder_mismatch")
    is_phone = record.holder_kind != CardCertificate.HolderKind.CARD
    # Phones have no grace period: an expired phone certificate must be renewed first (onshi-data-model.md §8).
    if state == CertificateState.EXPIRED or (state == CertificateState.GRACE_PERIOD and is_phone):
        fail("certificate_expired_smartphone" if is_phone else "certificate_expired")
    return found, state


def verify_card_proof(
    query: QualificationQuery, *, device_id: str | None = None, now: dt.datetime | None = None
) -> tuple[CardCertificate, CertificateState]:
    """Challenge, certificate chain, key proof (or 目視 attestation), roster lookup, revocation, holder kind, expiry.

    Returns the roster's certificate (its person loaded) and its state (valid / expiring / grace_period), or raises
    the coded error.
    """
    found, state = _verify_card_proof(query, device_id=device_id, now=now)
    return found.certificate, state


def answer_qualification_query(
    query: QualificationQuery,
    *,
    medical_institution_code: str,
    device_id: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The result document for a card's query, or an ``ApiError`` from ``error_codes``."""
    now = now or timezone.now()
    found, state = _verify_card_proof(query, device_id=device_id, now=now)
    person = found.certificate.person
    if person.registration in REGISTRATION_ERRORS:
        fail(REGISTRATION_ERRORS[person.registration])
    qualification = found.qualification  # what person.current_qualification() answers, read with the certificate
    if qualification is None:
        fail("qualification_not_found")

    notice = {
        CertificateState.EXPIRING: NOTICES["certificate_expiring"],
        CertificateState.GRACE_PERIOD: NOTICES["certificate_grace_period"],
    }.get(state)
    return build_result_document(
        qualification,
        medical_institution_code=medical_institution_code,
        identity_verification=query.identity_verification,
        certificate_state=state,
        consent_specific_diseases=query.consent_specific_diseases,
        notice=notice,
        now=now,
    )


def request_registration(
    query: QualificationQuery, *, terms_accepted: bool, device_id: str | None = None, now: dt.datetime | None = None
) -> RegistrationRequest:
    """保険証利用登録 with a physical card (T27): the same card proof as a query, then asynchronous work (N04)."""
    if not terms_accepted:
        fail("terms_not_accepted")
    record, _state = verify_card_proof(query, device_id=device_id, now=now)
    if record.holder_kind != CardCertificate.HolderKind.CARD:
        fail("registration_on_phone")
    person = record.person
    if person.registration == InsuredPerson.Registration.REGISTERED:
        fail("already_registered")
    if person.registration == InsuredPerson.Registration.PROCESSING:
        fail("registration_processing")
    return do_request_registration(person, device_id=device_id)
