"""Shared fixtures of the sandbox tests: a throwaway test CA and the demo roster, seeded once per session.

The roster is written outside any test transaction (``django_db_blocker.unblock``) so that every test sees it and
rolls back only its own changes. Card signatures are made with the key files the demo writes for the virtual cards.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

from server.sandbox.demo import DemoCard, seed_demo_roster
from server.sandbox.models import InsuredPerson
from server.sandbox.query import QualificationQuery, issue_challenge

MEDICAL_INSTITUTION_CODE = "1311000010"


@pytest.fixture(scope="session", autouse=True)
def sandbox_ca_dir(tmp_path_factory: pytest.TempPathFactory):
    original = settings.SANDBOX_CA_DIR
    directory = tmp_path_factory.mktemp("sandbox-ca")
    settings.SANDBOX_CA_DIR = directory
    yield directory
    settings.SANDBOX_CA_DIR = original


@pytest.fixture(scope="session")
def card_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cards")


@pytest.fixture(scope="session")
def seeded_roster(django_db_setup, django_db_blocker, sandbox_ca_dir, card_dir) -> dict[str, DemoCard]:
    with django_db_blocker.unblock():
        cards = seed_demo_roster(card_dir)
    return {card.name: card for card in cards}


@pytest.fixture
def demo_cards(db, seeded_roster, card_dir) -> dict[str, DemoCard]:
    """The demo cards; re-seeded (inside this test's transaction, reusing the card files) if a transactional test of
    another suite flushed the database in between."""
    if not InsuredPerson.objects.filter(name="資格 太郎").exists():
        seed_demo_roster(card_dir)
    return seeded_roster


def sign_challenge(card: DemoCard, challenge: bytes) -> bytes:
    """What the card does for 80 2A 00 80: PKCS#1 v1.5 over SHA-256 DigestInfo of the challenge."""
    key = serialization.load_pem_private_key(
        card.key_path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
    )  # the sandbox's own test keys: the RSA consistency check would cost ~40 ms a signature
    return key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())


def card_query(
    card: DemoCard, method: str = "pin", *, consent: bool = False, device_id: str | None = None
) -> QualificationQuery:
    """A fresh challenge answered by ``card`` (signed unless 目視)."""
    raw = base64.b64decode(issue_challenge(device_id).challenge)
    return QualificationQuery(
        challenge=raw,
        identity_verification=method,
        certificate=card.cert_path.read_bytes(),
        signature=None if method == "visual" else sign_challenge(card, raw),
        visual_attested=method == "visual",
        consent_specific_diseases=consent,
    )
