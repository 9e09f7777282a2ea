"""N03/N05 point 7: every demo-roster person answers with exactly the items the manual shows for its variant.

The table below is written from the manual's result screens (pp. 32–36, FEATURES T21–T23) and the roster's
scenarios, not derived from the builder: for each person the variant items that must be present, with their values;
every other variant item must be absent (null, or no list). Queries go over HTTP with a signed terminal, with the
patient's consent to 特定疾病 (so that the lists show where they exist).

Also here: the certificate states not covered elsewhere (not yet valid), a foreign institution's terminal, and
malformed CSV rows and certificates over HTTP (coded errors, never a 500).
"""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from cryptography.hazmat.primitives import serialization
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.result_schema import result_errors
from server.sandbox.actions import do_record_card_certificate
from server.sandbox.ca import get_ca
from server.sandbox.demo import demo_people
from server.sandbox.error_codes import ERRORS, NOTICES
from server.sandbox.models import InsuredPerson
from server.sandbox.roster_csv import COLUMNS, RosterImportError, import_roster

from .conftest import sign_challenge
from .test_api import QUALIFICATIONS, error_code, new_challenge, query_body

pytestmark = pytest.mark.django_db

KUMIAI, KYOKAI, KOKUHO, KOUKI, MINATO = "06131239", "01130012", "00138057", "39131230", "12133013"
METHOD_FOR_PROFILE = {"physical": "pin", "android": "android", "iphone": "iphone"}

# Items that differ between the variants. Every one not listed for a person must be null (or, for lists, absent).
VARIANT_ITEMS = [
    "insured_card_symbol", "insured_branch_number", "personal_family_classification", "insured_name",
    "name_of_other", "name_of_other_kana", "sex2", "disqualification_date", "reason_of_loss",
    "insured_partial_contribution_ratio", "preschool_classification", "elderly_recipient_certificate_info",
    "limit_application_certificate_related_cons_flg", "limit_application_certificate_related_info",
]  # fmt: skip
LIMIT_A01 = {
    "limit_application_certificate_classification": "02",
    "limit_application_certificate_classification_flag": "A01",
    "limit_application_certificate_date": "2023-03-20",
    "limit_application_certificate_valid_start_date": "2023-04-01",
    "limit_application_certificate_valid_end_date": "2027-03-31",
    "limit_application_certificate_long_term_date": "2023-11-01",
}
ELDERLY_020 = {
    "elderly_recipient_certificate_date": "2023-03-15",
    "elderly_recipient_valid_start_date": "2023-04-01",
    "elderly_recipient_valid_end_date": "2027-03-31",
    "elderly_recipient_contribution_ratio": "020",
}


def own(symbol: str = "1234", branch: str = "00", **extra) -> dict:
    """A 本人 with 記号 and 枝番 (the common case)."""
    return {"insured_card_symbol": symbol, "insured_branch_number": branch, "personal_family_classification": "1",
            **extra}  # fmt: skip


# name → (insurer number, 番号, validity, 照会番号, notice, variant items present, disease categories, ticket)
EXPECTED: dict[str, tuple] = {
    "資格 太郎": (KUMIAI, "12345678", "1", "1234567890000001", None,
                  own(branch="02", insured_name="資格 太郎", insured_partial_contribution_ratio="010"), None, None),
    "資格 無効子": (KUMIAI, "22345678", "2", "1234567890000002", None,
                    own(insured_name="資格 無効子", disqualification_date="2025-03-31", reason_of_loss="03"), None, None),
    "資格 未来": (KUMIAI, "12345678", "1", "1234567890000003", None,
                  {"insured_card_symbol": "1234", "insured_branch_number": "03", "personal_family_classification": "2",
                   "insured_name": "資格 太郎", "preschool_classification": "1"}, None, None),
    "資格 長寿": (KOUKI, "00012345", "1", "1234567890000004", None,
                  {"personal_family_classification": "1", "insured_partial_contribution_ratio": "010"}, None, None),
    "資格 高齢": (KOKUHO, "5555", "1", "1234567890000005", None,
                  {"insured_card_symbol": "しかく", "personal_family_classification": "1", "insured_name": "資格 高齢",
                   "elderly_recipient_certificate_info": ELDERLY_020}, None, None),
    "資格 限度": (KUMIAI, "32345678", "1", "1234567890000006", None,
                  own(branch="01", insured_name="資格 限度", limit_application_certificate_related_cons_flg="1",
                      limit_application_certificate_related_info=LIMIT_A01), ["1", "2"], None),
    "資格 三疾": (KYOKAI, "556", "1", "1234567890000007", None,
                  {"insured_card_symbol": "11223344", "personal_family_classification": "1", "insured_name": "資格 三疾"},
                  ["1", "2", "3"], None),
    "保護 太郎": (MINATO, "1234566", "1", "1234567890000008", None, {}, None, "01"),
    "配慮 花子": (KUMIAI, "42345678", "1", "1234567890000009", None,
                  own(insured_name="配慮 花子", name_of_other="配慮 太郎", name_of_other_kana="ハイリョ タロウ", sex2="1"),
                  None, None),
    "無番 花子": (KUMIAI, "52345678", "1", None, None, own(), None, None),
    "期限 近子": (KUMIAI, "62345678", "1", "1234567890000010", "certificate_expiring", own(), None, None),
    # 猶予期間: 資格情報 only — the person holds a 限度額 ウ, which is not returned.
    "猶予 期子": (KUMIAI, "72345678", "1", "1234567890000011", "certificate_grace_period", own(), None, None),
    "携帯 愛子": (KUMIAI, "13345678", "1", "1234567890000012", None, own(), None, None),
    "携帯 安男": (KUMIAI, "14345678", "1", "1234567890000013", None, own(), None, None),
}  # fmt: skip
SEARCH_LIST = ["佐藤 一子", "鈴木 次郎", "高橋 三子", "田中 四子", "伊藤 五郎", "渡辺 六子", "山本 七郎", "中村 八郎"]
for _index, _name in enumerate(SEARCH_LIST, start=1):
    EXPECTED[_name] = (KYOKAI, f"{_index:04d}", "2" if _index == 1 else "1", f"20250324000000{_index:02d}", None,
                       own(symbol="7001", insured_name=_name), None, None)  # fmt: skip

DEMO = {person.name: person for person in demo_people(dt.date.today())}


def test_the_table_covers_the_whole_roster():
    answering = {name for name, person in DEMO.items() if person.expected_error_code is None}
    assert set(EXPECTED) == answering


@pytest.mark.parametrize("name", list(DEMO))
def test_each_person_answers_exactly_the_manual_items(terminal, demo_cards, name):
    card = demo_cards[name]
    method = METHOD_FOR_PROFILE[card.profile]
    body = query_body(card, new_challenge(terminal), method, consent_specific_diseases=True)
    response = terminal.call("POST", QUALIFICATIONS, body)
    if DEMO[name].expected_error_code:
        assert error_code(response) == DEMO[name].expected_error_code
        key = next(k for k, entry in ERRORS.items() if entry.code == DEMO[name].expected_error_code)
        assert response.json()["error"]["message"] == ERRORS[key].message
        return

    assert response.status_code == 200, response.json()
    document = response.json()["result"]
    assert result_errors(document) == []
    insurer, number, validity, reference, notice, present, diseases, ticket = EXPECTED[name]
    block = document["result_of_qualification_confirmation"]
    assert (block["name"], block["name_kana"]) == (name, DEMO[name].name_kana)
    assert block["birthdate"] == DEMO[name].birthdate.isoformat() and block["sex1"] == DEMO[name].sex
    assert block["insurer_number"] == insurer
    assert block["insured_identification_number"] == number
    assert block["insured_card_classification"] == ("A1" if ticket else "01")
    assert document["qualification_validity"] == validity
    assert document["reference_number"] == reference
    assert document["identity_verification"] == method
    assert document["processing_result_code"] == (NOTICES[notice].code if notice else None)
    assert document["processing_result_message"] == (NOTICES[notice].message if notice else None)
    assert {item: block[item] for item in VARIANT_ITEMS} == {item: present.get(item) for item in VARIANT_ITEMS}

    grace = notice == "certificate_grace_period"
    assert block["specific_diseases_certificate_related_cons_flg"] == (None if grace else "1")
    listed = block.get("specific_diseases_certificate_list")
    assert ([d["specific_diseases_disease_category"] for d in listed] if listed else None) == diseases
    if grace:
        assert "specific_diseases_certificate_list" not in block
    if ticket:
        assert block["insured_card_symbol"] is None and block["insurer_name"] == "港区福祉事務所"
        [entry] = block["public_expense_result_list"]
        assert entry["ticket_type"] == ticket and entry["designated_medical_institution_name"] == "しかく整骨院"
    else:
        assert "public_expense_result_list" not in block
        assert block["insured_card_valid_date"] == "2023-04-01"


def test_certificate_not_yet_valid_is_untrusted(terminal, demo_cards):
    now = timezone.now()
    key, cert = get_ca().issue_card_certificate(now + dt.timedelta(days=2), now + dt.timedelta(days=900))
    do_record_card_certificate(InsuredPerson.objects.get(name="鈴木 次郎"), cert)
    challenge = new_challenge(terminal)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body = query_body(demo_cards["鈴木 次郎"], challenge)
    body["certificate"] = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    body["signature"] = base64.b64encode(key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert error_code(terminal.call("POST", QUALIFICATIONS, body)) == ERRORS["certificate_untrusted"].code


def test_foreign_institution(terminal, foreign_terminal, other_institution, demo_cards):
    card = demo_cards["資格 太郎"]
    # A device of another institution answers a challenge issued to this institution's terminal: refused.
    stolen = new_challenge(terminal)
    response = foreign_terminal.call("POST", QUALIFICATIONS, query_body(card, stolen))
    assert error_code(response) == ERRORS["challenge_other_device"].code
    # The challenge is spent by that attempt: the rightful terminal cannot use it afterwards either.
    assert error_code(terminal.call("POST", QUALIFICATIONS, query_body(card, stolen))) == ERRORS["challenge_used"].code
    # With its own challenge the other institution gets an answer under its own 医療機関コード.
    answer = foreign_terminal.call("POST", QUALIFICATIONS, query_body(card, new_challenge(foreign_terminal)))
    assert answer.status_code == 200
    assert answer.json()["result"]["medical_institution_code"] == other_institution.code


def test_signature_of_another_card_over_http(terminal, demo_cards):
    challenge = new_challenge(terminal)
    body = query_body(demo_cards["資格 太郎"], challenge)
    body["signature"] = base64.b64encode(sign_challenge(demo_cards["鈴木 次郎"], challenge)).decode()
    assert error_code(terminal.call("POST", QUALIFICATIONS, body)) == ERRORS["signature_invalid"].code


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(min_size=1, max_size=400))
def test_any_certificate_bytes_over_http_are_coded(terminal, demo_cards, blob):
    body = query_body(demo_cards["資格 太郎"], new_challenge(terminal))
    body["certificate"] = base64.b64encode(blob).decode()
    code = error_code(terminal.call("POST", QUALIFICATIONS, body))
    assert code in {ERRORS["certificate_malformed"].code, ERRORS["certificate_untrusted"].code}


def csv_of(**row: str) -> io.StringIO:
    base = {column: "" for column in COLUMNS}
    base.update(name="行 太郎", name_kana="ギョウ タロウ", birthdate="1980-01-01", sex="1", card_classification="01",
                payer_number=KUMIAI, payer_name="限定資格保険組合", validity="1")  # fmt: skip
    base.update(row)
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    out.write(",".join(base[column] for column in COLUMNS) + "\n")
    out.seek(0)
    return out


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ({"sex": "9"}, "sex"),
        ({"birthdate": ""}, "birthdate"),
        ({"birthdate": "2024-02-30"}, "birthdate"),
        ({"payer_number": "0613123"}, "number"),
        ({"card_classification": "99"}, "card_classification"),
        ({"branch_number": "1"}, "branch_number"),
        ({"partial_contribution_ratio": "1割"}, "partial_contribution_ratio"),
        ({"limit_class": "C01"}, "limit_class"),
        ({"preschool": "yes"}, "preschool"),
        ({"registration": "maybe"}, "registration"),
        ({"specific_diseases": "1:x"}, "specific_diseases"),
        ({"specific_diseases": "1|2|3|1"}, "specific_diseases"),
        ({"reference_number": "12-34"}, "reference_number"),
        ({"validity": "7"}, "validity"),
        ({"card_classification": "A1", "payer_number": "12133014"}, "payer_number"),
    ],
)
def test_malformed_csv_rows_name_row_and_column(demo_cards, row, column):
    before = InsuredPerson.objects.count()
    with pytest.raises(RosterImportError) as caught:
        import_roster(csv_of(**row))
    problems = "\n".join(caught.value.problems)
    assert problems.startswith("2行目"), problems
    assert column in problems, problems
    assert InsuredPerson.objects.count() == before
