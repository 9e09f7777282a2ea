"""N03/N05: the qualification query as plain functions, against PostgreSQL (roster) and Redis (challenges)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.result_schema import result_errors
from server.common.errors import ApiError
from server.sandbox import query as q
from server.sandbox.ca import get_ca
from server.sandbox.error_codes import ERRORS, NOTICES
from server.sandbox.models import InsuredPerson

from .conftest import MEDICAL_INSTITUTION_CODE, card_query, sign_challenge

pytestmark = pytest.mark.django_db


def answer(query: q.QualificationQuery, **kwargs):
    document = q.answer_qualification_query(query, medical_institution_code=MEDICAL_INSTITUTION_CODE, **kwargs)
    assert result_errors(document) == []
    return document


def error_of(query: q.QualificationQuery, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        q.answer_qualification_query(query, medical_institution_code=MEDICAL_INSTITUTION_CODE, **kwargs)
    return caught.value


def code(key: str) -> str:
    return ERRORS[key].code


def test_shikaku_taro_by_pin_matches_the_manual(demo_cards):
    document = answer(card_query(demo_cards["資格 太郎"], "pin"))
    block = document["result_of_qualification_confirmation"]
    assert document["reference_number"] == "1234567890000001"
    assert document["qualification_validity"] == "1"
    assert document["medical_institution_code"] == MEDICAL_INSTITUTION_CODE
    assert document["identity_verification"] == "pin"
    assert document["certificate_status"] == "valid"
    assert document["processing_result_code"] is None
    assert document["qualification_confirmation_date"] == timezone.localdate().isoformat()
    assert block["insurer_name"] == "限定資格保険組合"
    assert block["insurer_number"] == "06131239"
    assert (block["insured_card_symbol"], block["insured_identification_number"], block["insured_branch_number"]) == (
        "1234",
        "12345678",
        "02",
    )
    assert (block["name"], block["name_kana"], block["birthdate"], block["sex1"]) == (
        "資格 太郎",
        "シカク タロウ",
        "1952-01-01",
        "1",
    )
    assert block["insured_card_valid_date"] == "2023-04-01"
    assert block["insured_card_expiration_date"] == "2027-03-31"
    assert block["qualification_date"] == "2023-04-01"
    assert block["personal_family_classification"] == "1"
    assert block["insured_name"] == "資格 太郎"
    assert block["preschool_classification"] is None


def test_invalid_person_answers_validity_2(demo_cards):
    document = answer(card_query(demo_cards["資格 無効子"], "visual"))
    assert document["qualification_validity"] == "2"
    assert document["identity_verification"] == "visual"


@pytest.mark.parametrize("method", ["visual", "pin"])
def test_every_registered_demo_card_answers_or_fails_as_announced(demo_cards, method):
    for card in demo_cards.values():
        card_method = {"physical": method, "android": "android", "iphone": "iphone"}[card.profile]
        query = card_query(card, card_method, consent=True)
        if card.expected_error_code:
            assert error_of(query).code == card.expected_error_code, card.scenario
        else:
            answer(query)


def test_expiring_certificate_adds_the_manual_notice(demo_cards):
    document = answer(card_query(demo_cards["期限 近子"]))
    assert document["certificate_status"] == "expiring"
    assert document["processing_result_code"] == NOTICES["certificate_expiring"].code
    assert document["processing_result_message"].startswith(
        "マイナンバーカードに記録されている電子証明書の有効期限が残り3カ月を切りました。"
    )


def test_grace_period_gives_qualification_only_with_notice(demo_cards):
    document = answer(card_query(demo_cards["猶予 期子"], consent=True))
    block = document["result_of_qualification_confirmation"]
    assert document["certificate_status"] == "grace_period"
    assert document["processing_result_message"].startswith(
        "マイナンバーカードの電子証明書の有効期限が切れています。当期間は猶予期間であり、"
    )
    assert block["limit_application_certificate_related_info"] is None
    assert "specific_diseases_certificate_list" not in block


def test_beyond_grace_and_revoked_are_coded_errors(demo_cards):
    assert error_of(card_query(demo_cards["期限 切男"])).code == code("certificate_expired")
    assert error_of(card_query(demo_cards["失効 証男"])).code == code("certificate_revoked")
    assert error_of(card_query(demo_cards["失効 証男"], "visual")).code == code("certificate_revoked")


def test_not_registered_is_6002_with_the_manual_text(demo_cards):
    error = error_of(card_query(demo_cards["未登録 花子"]))
    assert error.code == "E-C-04-02-A-6002"
    assert error.status_code == 400
    assert error.message == (
        "マイナンバーカードを保険証として利用するための登録が必要です。"
        "患者ご自身のスマートフォンでマイナポータルへアクセスし、手続きをお願いします。"
    )
    assert error_of(card_query(demo_cards["携帯 未登子"], "android")).code == "E-C-04-02-A-6002"


def test_registration_states(demo_cards):
    assert error_of(card_query(demo_cards["登録 待子"])).code == code("registration_processing")
    assert error_of(card_query(demo_cards["登録 敗男"])).code == code("registration_failed")
    InsuredPerson.objects.filter(name="登録 待子").update(registration="registered")
    answer(card_query(demo_cards["登録 待子"]))


@pytest.mark.parametrize(("consent", "expected"), [(True, ["1", "2"]), (False, None)])
def test_consent_decides_specific_diseases(demo_cards, consent, expected):
    block = answer(card_query(demo_cards["資格 限度"], consent=consent))["result_of_qualification_confirmation"]
    assert block["specific_diseases_certificate_related_cons_flg"] == ("1" if consent else "0")
    listed = block.get("specific_diseases_certificate_list")
    assert (listed and [d["specific_diseases_disease_category"] for d in listed]) == expected
    limit = block["limit_application_certificate_related_info"]
    assert limit["limit_application_certificate_classification"] == "02"
    assert limit["limit_application_certificate_classification_flag"] == "A01"
    assert limit["limit_application_certificate_long_term_date"] == "2023-11-01"


def test_three_specific_diseases(demo_cards):
    block = answer(card_query(demo_cards["資格 三疾"], consent=True))["result_of_qualification_confirmation"]
    assert [d["specific_diseases_disease_category"] for d in block["specific_diseases_certificate_list"]] == [
        "1",
        "2",
        "3",
    ]
    assert block["specific_diseases_certificate_list"][0]["specific_diseases_self_pay"] == 10000


def test_variants(demo_cards):
    child = answer(card_query(demo_cards["資格 未来"]))["result_of_qualification_confirmation"]
    assert child["preschool_classification"] == "1" and child["personal_family_classification"] == "2"
    late = answer(card_query(demo_cards["資格 長寿"]))["result_of_qualification_confirmation"]
    assert (
        late["insured_partial_contribution_ratio"] == "010" and late["insurer_name"] == "東京都後期高齢者医療広域連合"
    )
    elderly = answer(card_query(demo_cards["資格 高齢"]))["result_of_qualification_confirmation"]
    assert elderly["elderly_recipient_certificate_info"]["elderly_recipient_contribution_ratio"] == "020"
    assistance = answer(card_query(demo_cards["保護 太郎"]))["result_of_qualification_confirmation"]
    assert assistance["insured_card_classification"] == "A1"
    assert assistance["insurer_name"] == "港区福祉事務所"
    assert assistance["insurer_number"] == "12133013"
    assert assistance["insured_card_symbol"] is None
    assert assistance["public_expense_result_list"][0]["ticket_type"] == "01"
    other = answer(card_query(demo_cards["配慮 花子"]))["result_of_qualification_confirmation"]
    assert (other["name_of_other"], other["name_of_other_kana"], other["sex2"]) == ("配慮 太郎", "ハイリョ タロウ", "1")
    assert answer(card_query(demo_cards["無番 花子"]))["reference_number"] is None


def test_smartphones(demo_cards):
    assert answer(card_query(demo_cards["携帯 愛子"], "iphone"))["identity_verification"] == "iphone"
    assert answer(card_query(demo_cards["携帯 安男"], "android"))["identity_verification"] == "android"
    # a phone certificate presented as a physical card, and the other way round
    assert error_of(card_query(demo_cards["携帯 安男"], "pin")).code == code("holder_mismatch")
    assert error_of(card_query(demo_cards["資格 太郎"], "iphone")).code == code("holder_mismatch")


def test_bad_signature(demo_cards):
    query = card_query(demo_cards["資格 太郎"])
    assert error_of(dataclasses.replace(query, signature=query.signature[:-1] + b"\0")).code == code(
        "signature_invalid"
    )
    other = card_query(demo_cards["鈴木 次郎"])
    # a signature by another card's key over this challenge
    forged = dataclasses.replace(other, signature=sign_challenge(demo_cards["資格 太郎"], other.challenge))
    assert error_of(forged).code == code("signature_invalid")
    assert error_of(dataclasses.replace(card_query(demo_cards["資格 太郎"]), signature=None)).code == code(
        "signature_invalid"
    )


def test_visual_needs_attestation(demo_cards):
    query = dataclasses.replace(card_query(demo_cards["資格 太郎"], "visual"), visual_attested=False)
    assert error_of(query).code == code("visual_not_attested")


def test_challenge_is_single_use(demo_cards):
    query = card_query(demo_cards["資格 太郎"])
    answer(query)
    assert error_of(query).code == code("challenge_used")


def test_challenge_expires_after_60_seconds(demo_cards):
    card = demo_cards["資格 太郎"]
    raw = base64.b64decode(q.issue_challenge(now=timezone.now() - dt.timedelta(seconds=61)).challenge)
    query = q.QualificationQuery(raw, "pin", card.cert_path.read_bytes(), sign_challenge(card, raw))
    assert error_of(query).code == code("challenge_expired")
    assert error_of(query).code == code("challenge_used")


def test_a_challenge_error_comes_before_a_certificate_error_and_a_refused_query_spends_it(demo_cards):
    """The challenge is taken while the certificate is checked (one overlapped round trip): the verdicts stay those
    of checking the challenge first."""
    query = card_query(demo_cards["資格 太郎"])
    malformed = dataclasses.replace(query, certificate=b"not a certificate")
    assert error_of(malformed).code == code("certificate_malformed")
    assert error_of(malformed).code == code("challenge_used")
    assert error_of(query).code == code("challenge_used")


def test_unknown_challenge_and_other_device(demo_cards):
    card = demo_cards["資格 太郎"]
    raw = b"\x07" * 32
    assert error_of(q.QualificationQuery(raw, "pin", card.cert_path.read_bytes(), sign_challenge(card, raw))).code == (
        code("challenge_unknown")
    )
    query = card_query(card, device_id="11111111-1111-1111-1111-111111111111")
    assert error_of(query, device_id="22222222-2222-2222-2222-222222222222").code == code("challenge_other_device")


def test_malformed_certificate(demo_cards):
    query = card_query(demo_cards["資格 太郎"])
    assert error_of(dataclasses.replace(query, certificate=b"\x30\x82garbage")).code == code("certificate_malformed")
    assert error_of(dataclasses.replace(card_query(demo_cards["資格 太郎"]), certificate=b"")).code == code(
        "certificate_malformed"
    )


def _self_made_certificate(issuer: x509.Name, issuer_key: rsa.RSAPrivateKey, key: rsa.RSAPrivateKey) -> bytes:
    now = timezone.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"), x509.NameAttribute(NameOID.COMMON_NAME, "F" * 20)]
            )
        )
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=900))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_foreign_certificate_is_untrusted(demo_cards):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # claims the sandbox issuer's name, but is signed by its own key
    der = _self_made_certificate(get_ca().issuer_cert.subject, key, key)
    query = card_query(demo_cards["資格 太郎"])
    forged = dataclasses.replace(
        query, certificate=der, signature=key.sign(query.challenge, padding.PKCS1v15(), hashes.SHA256())
    )
    assert error_of(forged).code == code("certificate_untrusted")


def test_sandbox_certificate_of_nobody_is_unknown(demo_cards):
    now = timezone.now()
    key, cert = get_ca().issue_card_certificate(now - dt.timedelta(days=1), now + dt.timedelta(days=900))
    query = card_query(demo_cards["資格 太郎"])
    stranger = dataclasses.replace(
        query,
        certificate=cert.public_bytes(serialization.Encoding.DER),
        signature=key.sign(query.challenge, padding.PKCS1v15(), hashes.SHA256()),
    )
    assert error_of(stranger).code == code("certificate_unknown")


def test_certificate_with_another_key_type_is_untrusted(demo_cards):
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    der = _self_made_certificate(get_ca().issuer_cert.subject, key, key)
    query = dataclasses.replace(card_query(demo_cards["資格 太郎"]), certificate=der)
    assert error_of(query).code == code("certificate_untrusted")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=600))
def test_any_bytes_as_certificate_give_a_coded_error(demo_cards, blob):
    query = dataclasses.replace(card_query(demo_cards["資格 太郎"]), certificate=b"\x30\x82" + blob)
    assert error_of(query).code in {code("certificate_malformed"), code("certificate_untrusted")}


def test_concurrent_use_of_one_challenge_lets_exactly_one_through():
    from concurrent.futures import ThreadPoolExecutor

    raws = [base64.b64decode(q.issue_challenge().challenge) for _ in range(20)]

    def spend(raw: bytes) -> str:
        try:
            q.consume_challenge(raw)
        except ApiError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(spend, [raw for raw in raws for _ in range(4)]))
    for index in range(len(raws)):
        four = outcomes[index * 4 : index * 4 + 4]
        assert four.count("ok") == 1 and four.count(code("challenge_used")) == 3
