"""N02: the test JPKI CA, certificate shapes and states."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

from server.sandbox import ca
from server.sandbox.ca import CertificateState

UTC = dt.UTC
NOW = dt.datetime(2026, 2, 10, 3, 0, tzinfo=UTC)


def test_ca_is_created_on_first_use_and_persisted(sandbox_ca_dir):
    first = ca.get_ca()
    for name in ("root.key.pem", "root.cert.pem", "auth.key.pem", "auth.cert.pem", "crl.der"):
        assert (sandbox_ca_dir / name).exists()
    assert (sandbox_ca_dir / "auth.key.pem").stat().st_mode & 0o077 == 0
    reopened = ca.TestJpkiCa.open(sandbox_ca_dir)
    assert reopened.issuer_cert == first.issuer_cert


def test_issuer_subject_mirrors_jpki_and_is_test_marked():
    issuer = ca.get_ca().issuer_cert
    ous = [a.value for a in issuer.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    assert issuer.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "JP"
    assert issuer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "JPKI"
    assert ous[:2] == ["JPKI for user authentication", "Japan Agency for Local Authority Information Systems"]
    assert any("SANDBOX" in ou for ou in ous)


def test_card_certificate_shape():
    key, cert = ca.issue_card_certificate(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1000))
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert len(cn) == 20 and cn.isalnum()
    assert cert.issuer == ca.get_ca().issuer_cert.subject
    assert (
        ca.get_ca().load_card_key(cert.serial_number).public_key().public_numbers() == key.public_key().public_numbers()
    )


@pytest.mark.parametrize(
    ("not_before", "not_after", "expected"),
    [
        (NOW - dt.timedelta(days=10), NOW + dt.timedelta(days=400), CertificateState.VALID),
        (NOW - dt.timedelta(days=10), dt.datetime(2026, 5, 11, tzinfo=UTC), CertificateState.VALID),
        (NOW - dt.timedelta(days=10), dt.datetime(2026, 5, 9, tzinfo=UTC), CertificateState.EXPIRING),
        (NOW - dt.timedelta(days=10), NOW + dt.timedelta(hours=1), CertificateState.EXPIRING),
        (NOW - dt.timedelta(days=900), NOW - dt.timedelta(hours=1), CertificateState.GRACE_PERIOD),
        # expiry in November 2025 → usable through the end of February 2026
        (NOW - dt.timedelta(days=900), dt.datetime(2025, 11, 1, tzinfo=UTC), CertificateState.GRACE_PERIOD),
        # expiry in October 2025 (JST) → grace ended with January 2026
        (NOW - dt.timedelta(days=900), dt.datetime(2025, 10, 31, 14, 0, tzinfo=UTC), CertificateState.EXPIRED),
        (NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=400), CertificateState.UNTRUSTED),
    ],
)
def test_certificate_states(not_before, not_after, expected):
    _key, cert = ca.issue_card_certificate(not_before, not_after)
    assert ca.verify_card_certificate(cert, NOW) == expected


def test_grace_period_ends_with_third_month_after_expiry_month():
    assert ca.grace_period_end(dt.datetime(2025, 2, 10, tzinfo=ca.JST)) == dt.datetime(2025, 6, 1, tzinfo=ca.JST)
    assert ca.grace_period_end(dt.datetime(2025, 11, 30, tzinfo=ca.JST)) == dt.datetime(2026, 3, 1, tzinfo=ca.JST)
    assert ca.add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)


def test_revocation_goes_to_the_signed_crl():
    authority = ca.get_ca()
    _key, cert = authority.issue_card_certificate(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=800))
    assert authority.verify_card_certificate(cert, NOW) == CertificateState.VALID
    authority.revoke(cert.serial_number, NOW)
    authority.revoke(cert.serial_number, NOW + dt.timedelta(days=1))  # idempotent
    crl = authority.crl()
    assert crl.is_signature_valid(authority.issuer_cert.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None and entry.revocation_date_utc == NOW
    assert authority.verify_card_certificate(cert, NOW) == CertificateState.REVOKED


def test_foreign_certificate_is_untrusted():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = ca.get_ca().issuer_cert.subject  # same issuer name, different key
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"), x509.NameAttribute(NameOID.COMMON_NAME, "X" * 20)]
            )
        )
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=100))
        .sign(key, hashes.SHA256())
    )
    assert ca.verify_card_certificate(cert, NOW) == CertificateState.UNTRUSTED


def test_challenge_signature_check():
    key, cert = ca.issue_card_certificate(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=800))
    challenge = b"\x01" * 32
    signature = key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
    assert ca.verify_challenge_signature(cert, challenge, signature)
    assert not ca.verify_challenge_signature(cert, b"\x02" * 32, signature)
    assert not ca.verify_challenge_signature(cert, challenge, signature[:-1] + bytes([signature[-1] ^ 1]))
