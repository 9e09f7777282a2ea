"""Throwaway test keys and certificates shaped like JPKI ones (synthetic, for tests and the demo only).

Real JPKI auth certificates: RSA-2048, sha256WithRSAEncryption, subject `C=JP, CN=<opaque string>` (no name),
issued by `C=JP, O=JPKI, OU=JPKI for user authentication, ...`. The test CA says "TEST" so that nobody mistakes it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

AUTH_POLICY_OID = "1.2.392.200149.8.5.1.3.30"
SIGN_POLICY_OID = "1.2.392.200149.8.5.1.1.20"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _ca_name(purpose: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI TEST"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"JPKI TEST for {purpose}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Throwaway test CA (synthetic)"),
        ]
    )


@lru_cache(maxsize=4)
def throwaway_ca(purpose: str = "user authentication") -> tuple[rsa.RSAPrivateKey, bytes]:
    """A self-signed CA, made once per process per purpose."""
    key = new_rsa_key()
    name = _ca_name(purpose)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER)


def issue_end_entity(
    public_key: rsa.RSAPublicKey, *, purpose: str = "user authentication", years: int = 5
) -> bytes:
    """An end-entity cert from the throwaway CA; CN is an opaque string as on real auth certificates."""
    ca_key, ca_der = throwaway_ca(purpose)
    ca_cert = x509.load_der_x509_certificate(ca_der)
    alphabet = string.ascii_uppercase + string.digits
    cn = "".join(secrets.choice(alphabet) for _ in range(20))
    now = dt.datetime.now(dt.UTC)
    policy = AUTH_POLICY_OID if purpose == "user authentication" else SIGN_POLICY_OID
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(secrets.randbits(31) | 1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=purpose != "user authentication", key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy), None)]), critical=True
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@lru_cache(maxsize=1)
def throwaway_sign_side() -> tuple[rsa.RSAPrivateKey, bytes, bytes]:
    """Key, cert and CA cert for the 署名用 side; shared per process since our product never uses it."""
    key = new_rsa_key()
    cert = issue_end_entity(key.public_key(), purpose="digital signature")
    return key, cert, throwaway_ca("digital signature")[1]
