"""The sandbox query's fast paths (issue 4 point 8) answer exactly what the slower reference paths answer.

- the one-statement roster lookup against the ORM's two queries, for every certificate of the demo roster;
- the challenge script: single use under concurrency, unknown vs used.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.common.errors import ApiError
from server.sandbox.error_codes import ERRORS
from server.sandbox.lookup import _find_certificate_orm, find_certificate
from server.sandbox.models import CardCertificate, SpecificDiseaseCertificate
from server.sandbox.query import consume_challenge, issue_challenge


@pytest.mark.django_db
def test_the_lookup_reads_one_row_and_matches_the_orm(demo_cards) -> None:
    fingerprints = list(CardCertificate.objects.values_list("fingerprint", flat=True))
    assert fingerprints
    assert SpecificDiseaseCertificate.objects.exists()  # the roster has some: the JSON rows are compared below
    for fingerprint in fingerprints:
        with CaptureQueriesContext(connection) as queries:
            found = find_certificate(fingerprint)
            person, qualification = found.certificate.person, found.qualification
            if qualification is not None:  # everything the answer reads is loaded: no lazy query
                _ = (qualification.insurer, qualification.public_assistance_office, qualification.person.name)
        assert len([q for q in queries.captured_queries if "EXECUTE" in q["sql"]]) == 1
        assert all("EXECUTE" in q["sql"] or "PREPARE" in q["sql"] for q in queries.captured_queries)
        reference = _find_certificate_orm(fingerprint)
        assert found.certificate.pk == reference.certificate.pk
        assert found.certificate.revoked_at == reference.certificate.revoked_at
        assert found.certificate.holder_kind == reference.certificate.holder_kind
        assert [getattr(person, f.attname) for f in person._meta.concrete_fields] == [
            getattr(reference.certificate.person, f.attname) for f in person._meta.concrete_fields
        ]
        if reference.qualification is None:
            assert qualification is None
            continue
        assert qualification.pk == reference.qualification.pk
        assert qualification.has_specific_diseases == reference.qualification.has_specific_diseases
        expected_diseases = reference.qualification.specific_diseases.all()[:3]
        assert [
            [getattr(d, f.attname) for f in d._meta.concrete_fields] for d in qualification.loaded_specific_diseases
        ] == [[getattr(d, f.attname) for f in d._meta.concrete_fields] for d in expected_diseases]
        for f in qualification._meta.concrete_fields:
            assert getattr(qualification, f.attname) == getattr(reference.qualification, f.attname)
        assert qualification.insurer == reference.qualification.insurer
        assert qualification.public_assistance_office == reference.qualification.public_assistance_office
    assert find_certificate("0" * 64) is None


@pytest.mark.django_db
def test_a_challenge_is_spent_once_under_concurrency() -> None:
    raw = base64.b64decode(issue_challenge(device_id="d1").challenge)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def spend() -> None:
        start.wait()
        try:
            consume_challenge(raw, "d1")
            outcomes.append("ok")
        except ApiError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["ok"] + [ERRORS["challenge_used"].code] * 7)


@pytest.mark.django_db
def test_an_unknown_challenge_stays_unknown() -> None:
    for _ in range(2):
        with pytest.raises(ApiError) as raised:
            consume_challenge(b"\x01" * 32, "d1")
        assert raised.value.code == ERRORS["challenge_unknown"].code


def test_the_chain_cache_never_trusts_altered_bytes() -> None:
    """The issuer signature is verified once per exact DER: a certificate whose signature bytes differ from a
    verified one is checked afresh, and stays untrusted however often it is presented."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from server.sandbox import ca
    from server.sandbox.ca import CertificateState

    now = dt.datetime.now(dt.UTC)
    _key, cert = ca.issue_card_certificate(now - dt.timedelta(days=1), now + dt.timedelta(days=365))
    assert ca.verify_card_certificate(cert, now) == CertificateState.VALID
    assert ca.verify_card_certificate(cert, now) == CertificateState.VALID  # the cached path
    der = bytearray(cert.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the issuer's signature
    forged = x509.load_der_x509_certificate(bytes(der))
    for _ in range(2):
        assert ca.verify_card_certificate(forged, now) == CertificateState.UNTRUSTED
