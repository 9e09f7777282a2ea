"""N01: the demo roster: idempotent seeding, card files a virtual card can load, the manual's people."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509

from server.sandbox import query as q
from server.sandbox.ca import get_ca
from server.sandbox.demo import SEARCH_LIST, seed_demo_roster
from server.sandbox.models import CardCertificate, InsuredPerson, Qualification
from terminal_agent.card.jpki import JpkiCard
from terminal_agent.card.virtual.card import VirtualCard, load_card_files

from .conftest import MEDICAL_INSTITUTION_CODE, sign_challenge

pytestmark = pytest.mark.django_db


def test_roster_has_the_manual_people(demo_cards):
    taro = InsuredPerson.objects.get(name="資格 太郎")
    qualification = taro.current_qualification()
    assert (taro.name_kana, taro.birthdate.isoformat(), taro.sex, taro.reference_number) == (
        "シカク タロウ",
        "1952-01-01",
        "1",
        "1234567890000001",
    )
    assert (qualification.insurer.name, qualification.symbol, qualification.number, qualification.branch_number) == (
        "限定資格保険組合",
        "1234",
        "12345678",
        "02",
    )
    assert InsuredPerson.objects.get(name="資格 無効子").current_qualification().validity == "2"
    for _slug, name, *_ in SEARCH_LIST:
        assert name in demo_cards
    assert {card.profile for card in demo_cards.values()} == {"physical", "android", "iphone"}
    assert all(
        card.pin == "1234" and card.key_path.exists() and card.cert_path.exists() for card in demo_cards.values()
    )


def test_seeding_again_changes_nothing(demo_cards, card_dir):
    counts = (InsuredPerson.objects.count(), Qualification.objects.count(), CardCertificate.objects.count())
    again = seed_demo_roster(card_dir)
    assert (InsuredPerson.objects.count(), Qualification.objects.count(), CardCertificate.objects.count()) == counts
    assert [c.cert_path.read_bytes() for c in again] == [demo_cards[c.name].cert_path.read_bytes() for c in again]


def test_card_files_chain_to_the_ca(demo_cards):
    card = demo_cards["資格 太郎"]
    cert = x509.load_der_x509_certificate(card.cert_path.read_bytes())
    assert x509.load_der_x509_certificate(card.ca_cert_path.read_bytes()) == get_ca().issuer_cert
    cert.verify_directly_issued_by(get_ca().issuer_cert)
    assert card.as_dict()["profile"] == "physical"


@pytest.mark.parametrize(("name", "method"), [("資格 太郎", "pin"), ("携帯 安男", "android"), ("携帯 愛子", "iphone")])
def test_virtual_card_loaded_from_the_files_proves_the_challenge(demo_cards, name, method):
    card = demo_cards[name]
    key, cert_der = load_card_files(card.key_path, card.cert_path)
    virtual = VirtualCard(card.profile, card.pin, key, cert_der, card.ca_cert_path.read_bytes())
    challenge = base64.b64decode(q.issue_challenge().challenge)
    if method == "iphone":
        virtual.approve_biometric()
    certificate, signature = JpkiCard(virtual).prove(challenge, None if method == "iphone" else card.pin)
    document = q.answer_qualification_query(
        q.QualificationQuery(challenge, method, certificate, signature),
        medical_institution_code=MEDICAL_INSTITUTION_CODE,
    )
    assert document["result_of_qualification_confirmation"]["name"] == name


def test_reseeding_an_empty_database_reuses_the_card_files(demo_cards, card_dir):
    before = {name: card.cert_path.read_bytes() for name, card in demo_cards.items()}
    InsuredPerson.objects.all().delete()  # as a flush by another suite would (rolled back after this test)
    cards = seed_demo_roster(card_dir)
    assert {card.name: card.cert_path.read_bytes() for card in cards} == before
    assert CardCertificate.objects.get(person__name="失効 証男").revoked_at is not None
    document = q.answer_qualification_query(
        q.QualificationQuery(**_pin_proof(demo_cards["資格 太郎"])), medical_institution_code=MEDICAL_INSTITUTION_CODE
    )
    assert document["reference_number"] == "1234567890000001"


def _pin_proof(card) -> dict:
    challenge = base64.b64decode(q.issue_challenge().challenge)
    return {
        "challenge": challenge,
        "identity_verification": "pin",
        "certificate": card.cert_path.read_bytes(),
        "signature": sign_challenge(card, challenge),
    }
