"""The sandbox's challenges are single use under concurrency (cache.add), unknown stays unknown; the CA's chain
check never trusts altered bytes."""

from __future__ import annotations

import base64
import datetime as dt
import threading

import pytest

from server.common.errors import ApiError
from server.sandbox.error_codes import ERRORS
from server.sandbox.query import consume_challenge, issue_challenge


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
