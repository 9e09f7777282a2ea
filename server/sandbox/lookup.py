"""The roster row a qualification query needs (N03): the card's certificate, its holder and the holder's current
qualification with the payer (insurer or 福祉事務所), through the ORM."""

from __future__ import annotations

from dataclasses import dataclass

from server.sandbox.models import CardCertificate, Qualification


@dataclass(frozen=True)
class CertificateRow:
    certificate: CardCertificate  # ``certificate.person`` is loaded
    qualification: Qualification | None  # the person's current one (payer and ``has_specific_diseases`` loaded)


def find_certificate(fingerprint: str) -> CertificateRow | None:
    """The roster's certificate with this SHA-256 fingerprint, its holder and current qualification; or None."""
    # The DER is not needed: the caller has it, and its fingerprint is the key.
    certificate = CardCertificate.objects.select_related("person").defer("der").filter(fingerprint=fingerprint).first()
    if certificate is None:
        return None
    return CertificateRow(certificate, certificate.person.current_qualification())
