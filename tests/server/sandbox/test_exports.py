"""N01 point 6: the result exports (contracts/exports.py) — onshi-style XML and FHIR R4 JP_Coverage.

Documents come from the sandbox's own builder for every demo-roster person (answered through the real query where the
card answers; built from the roster directly for the people whose card gives a coded error), and from hypothesis.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import exports
from contracts.result_schema import result_errors
from server.sandbox.ca import CertificateState
from server.sandbox.demo import demo_people
from server.sandbox.error_codes import NOTICES
from server.sandbox.models import InsuredPerson
from server.sandbox.query import answer_qualification_query
from server.sandbox.results import build_result_document

from .conftest import MEDICAL_INSTITUTION_CODE, card_query

DEMO_NAMES = [person.name for person in demo_people(dt.date.today())]
METHOD_FOR_PROFILE = {"physical": "pin", "android": "android", "iphone": "iphone"}


def roster_documents(name: str, demo_cards) -> list[dict]:
    """Documents of one demo person: the live answer (if the card answers) and builder variants of every kind."""
    documents = []
    card = demo_cards[name]
    if card.expected_error_code is None:
        for consent in (True, False):
            query = card_query(card, METHOD_FOR_PROFILE[card.profile], consent=consent)
            documents.append(answer_qualification_query(query, medical_institution_code=MEDICAL_INSTITUTION_CODE))
    qualification = InsuredPerson.objects.get(name=name).current_qualification()
    for state, notice, method in [
        (CertificateState.VALID, None, "visual"),
        (CertificateState.EXPIRING, NOTICES["certificate_expiring"], "pin"),
        (CertificateState.GRACE_PERIOD, NOTICES["certificate_grace_period"], "pin"),
    ]:
        documents.append(
            build_result_document(
                qualification,
                medical_institution_code=MEDICAL_INSTITUTION_CODE,
                identity_verification=method,
                certificate_state=state,
                consent_specific_diseases=True,
                notice=notice,
            )
        )
    return documents


@pytest.mark.django_db
@pytest.mark.parametrize("name", DEMO_NAMES)
def test_xml_round_trip_of_every_demo_person(demo_cards, name):
    for document in roster_documents(name, demo_cards):
        xml = exports.to_onshi_xml(document)
        back = exports.parse_onshi_xml(xml)
        assert back == document
        assert result_errors(back) == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", DEMO_NAMES)
def test_fhir_key_fields_of_every_demo_person(demo_cards, name):
    for document in roster_documents(name, demo_cards):
        coverage = exports.to_fhir_coverage(document)
        assert json.loads(json.dumps(coverage)) == coverage  # plain JSON
        assert exports.coverage_key_fields(coverage) == exports.document_key_fields(document)


@pytest.mark.django_db
def test_xml_of_shikaku_taro_uses_onshi_names_and_formats(demo_cards):
    document = answer_qualification_query(
        card_query(demo_cards["資格 太郎"], "pin"), medical_institution_code=MEDICAL_INSTITUTION_CODE
    )
    root = ET.fromstring(exports.to_onshi_xml(document, arbitrary_file_identifier="OQSsiquc01res_000000000001"))
    assert root.tag == "XmlMsg"
    header, body = root.find("MessageHeader"), root.find("MessageBody")
    assert header.findtext("MedicalInstitutionCode") == MEDICAL_INSTITUTION_CODE
    assert header.findtext("QualificationConfirmationDate") == timezone.localdate().strftime("%Y%m%d")
    assert len(header.findtext("ProcessExecutionTime")) == 14
    assert header.findtext("ReferenceClassification") == "1"
    assert header.findtext("SegmentOfResult") == "1"
    assert header.findtext("CharacterCodeIdentifier") == "0"
    assert header.findtext("ArbitraryFileIdentifier") == "OQSsiquc01res_000000000001"
    assert body.findtext("ProcessingResultStatus") == "1"
    assert body.findtext("QualificationValidity") == "1"
    assert body.find("ProcessingResultCode") is None  # null → no element
    result = body.find("ResultList/ResultOfQualificationConfirmation")
    assert result.findtext("InsurerNumber") == "06131239"
    assert result.findtext("InsuredCardSymbol") == "1234"
    assert result.findtext("InsuredIdentificationNumber") == "12345678"
    assert result.findtext("InsuredBranchNumber") == "02"
    assert result.findtext("Birthdate") == "19520101"
    assert result.findtext("InsuredCardValidDate") == "20230401"
    assert result.findtext("InsuredPartialContributionRatio") == "010"
    assert result.findtext("ReferenceNumber") == "1234567890000001"
    assert result.findtext("Name") == "資格 太郎"
    assert body.findtext("SandboxExtension/IdentityVerification") == "pin"


@pytest.mark.django_db
def test_xml_lists_of_diseases_limit_and_medical_ticket(demo_cards):
    def xml_of(name: str) -> ET.Element:
        document = answer_qualification_query(
            card_query(demo_cards[name], consent=True), medical_institution_code=MEDICAL_INSTITUTION_CODE
        )
        return ET.fromstring(exports.to_onshi_xml(document)).find(".//ResultOfQualificationConfirmation")

    gendo = xml_of("資格 限度")
    infos = gendo.findall("SpecificDiseasesCertificateList/SpecificDiseasesCertificateInfo")
    assert [i.findtext("SpecificDiseasesDiseaseCategory") for i in infos] == ["1", "2"]
    assert infos[0].findtext("SpecificDiseasesSelfPay") == "10000"
    limit = gendo.find("LimitApplicationCertificateRelatedInfo")
    assert limit.findtext("LimitApplicationCertificateClassificationFlag") == "A01"
    assert limit.findtext("LimitApplicationCertificateLongTermDate") == "20231101"
    hogo = xml_of("保護 太郎")
    assert hogo.findtext("InsuredCardClassification") == "A1"
    assert hogo.findtext("InsurerNumber") == "12133013" and hogo.findtext("InsurerName") == "港区福祉事務所"
    assert hogo.find("InsuredCardSymbol") is None
    assert hogo.findtext("PublicExpenseResultList/MedicalTicketInfo/TicketType") == "01"


def test_parser_is_lenient():
    text = """<?xml version="1.0" encoding="UTF-8"?>
    <x:XmlMsg xmlns:x="urn:example">
      <x:MessageHeader>
        <x:ProcessExecutionTime> 20261124093000 </x:ProcessExecutionTime>
        <x:QualificationConfirmationDate>2026-11-24</x:QualificationConfirmationDate>
        <x:MedicalInstitutionCode>1311000010</x:MedicalInstitutionCode>
        <x:ReferenceClassification>1</x:ReferenceClassification>
        <x:Unknown>ignored</x:Unknown>
      </x:MessageHeader>
      <x:MessageBody>
        <x:ProcessingResultStatus>1</x:ProcessingResultStatus>
        <x:QualificationValidity>1</x:QualificationValidity>
        <x:ResultOfQualificationConfirmation>
          <x:InsuredCardClassification>01</x:InsuredCardClassification>
          <x:InsurerNumber>06131239</x:InsurerNumber>
          <x:Name>資格 太郎</x:Name>
          <x:NameKana>ｼｶｸ ﾀﾛｳ</x:NameKana>
          <x:Sex1>1</x:Sex1>
          <x:Birthdate>19520101</x:Birthdate>
        </x:ResultOfQualificationConfirmation>
      </x:MessageBody>
    </x:XmlMsg>"""
    document = exports.parse_onshi_xml(text.encode())
    assert document["processing_execution_time"] == "2026-11-24T09:30:00+09:00"
    assert document["qualification_confirmation_date"] == "2026-11-24"
    assert document["reference_number"] is None
    assert "identity_verification" not in document
    assert document["result_of_qualification_confirmation"]["birthdate"] == "1952-01-01"
    assert result_errors(document) == []


@pytest.mark.parametrize(
    "text",
    [b"", b"<XmlMsg>", b"<XmlMsg><MessageBody/></XmlMsg>", b"<?xml version='1.0'?><a>&bogus;</a>"],
)
def test_parser_rejects_what_is_no_result(text):
    with pytest.raises(exports.ExportFormatError):
        exports.parse_onshi_xml(text)


def test_parser_rejects_bad_dates():
    bad = b"<XmlMsg><MessageBody><ResultOfQualificationConfirmation><Birthdate>19521301</Birthdate>"
    bad += b"</ResultOfQualificationConfirmation></MessageBody></XmlMsg>"
    with pytest.raises(exports.ExportFormatError):
        exports.parse_onshi_xml(bad)


# -- hypothesis: any valid document in the sandbox's normal form ---------------------------------------------------

XML_TEXT = st.characters(exclude_categories=("Cs", "Cc", "Cn"))  # what XML 1.0 can carry verbatim
texts = st.text(XML_TEXT, max_size=30)
names = st.text(XML_TEXT, min_size=1, max_size=30)
dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
ratios = st.sampled_from(["010", "020", "030"])


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


@st.composite
def valid_documents(draw: st.DrawFn) -> dict:
    public = draw(st.booleans())
    elderly = draw(
        optional(
            st.fixed_dictionaries(
                {
                    "elderly_recipient_certificate_date": optional(dates),
                    "elderly_recipient_valid_start_date": dates,
                    "elderly_recipient_valid_end_date": dates,
                    "elderly_recipient_contribution_ratio": ratios,
                }
            )
        )
    )
    limit = draw(
        optional(
            st.fixed_dictionaries(
                {
                    "limit_application_certificate_classification": st.sampled_from(["01", "02", "03"]),
                    "limit_application_certificate_classification_flag": st.from_regex(r"\A[AB][0-9]{2}\Z"),
                    "limit_application_certificate_date": optional(dates),
                    "limit_application_certificate_valid_start_date": optional(dates),
                    "limit_application_certificate_valid_end_date": optional(dates),
                    "limit_application_certificate_long_term_date": optional(dates),
                }
            )
        )
    )
    block = {
        "insured_card_classification": "A1" if public else draw(st.sampled_from(["01", "02", "03", "05", "07"])),
        "insurer_number": draw(st.from_regex(r"\A[0-9]{8}\Z")),
        "insurer_name": draw(optional(texts)),
        "insured_card_symbol": None if public else draw(optional(texts)),
        "insured_identification_number": draw(optional(texts)),
        "insured_branch_number": draw(optional(st.from_regex(r"\A[0-9]{2}\Z"))),
        "personal_family_classification": draw(st.sampled_from(["1", "2", None])),
        "insured_name": draw(optional(texts)),
        "name": draw(names),
        "name_kana": draw(names),
        "name_of_other": draw(optional(texts)),
        "name_of_other_kana": draw(optional(texts)),
        "sex1": draw(st.sampled_from(["1", "2", "3"])),
        "sex2": draw(st.sampled_from(["1", "2", "3", None])),
        "birthdate": draw(dates),
        "qualification_date": draw(optional(dates)),
        "disqualification_date": draw(optional(dates)),
        "insured_card_valid_date": draw(optional(dates)),
        "insured_card_expiration_date": draw(optional(dates)),
        "insured_partial_contribution_ratio": draw(optional(ratios)),
        "preschool_classification": draw(st.sampled_from(["1", None])),
        "reason_of_loss": draw(st.sampled_from(["01", "02", "03", "99", None])),
        "elderly_recipient_certificate_info": elderly,
        "limit_application_certificate_related_cons_flg": draw(st.sampled_from(["0", "1", None])),
        "limit_application_certificate_related_info": limit,
        "specific_diseases_certificate_related_cons_flg": draw(st.sampled_from(["0", "1", "2", "3", None])),
    }
    diseases = st.fixed_dictionaries(
        {
            "specific_diseases_disease_category": st.sampled_from(["1", "2", "3"]),
            "specific_diseases_certificate_date": optional(dates),
            "specific_diseases_valid_start_date": optional(dates),
            "specific_diseases_valid_end_date": optional(dates),
            "specific_diseases_self_pay": optional(st.integers(0, 10**7)),
        }
    )
    if draw(st.booleans()):
        block["specific_diseases_certificate_list"] = draw(st.lists(diseases, max_size=3))
    if public:
        tickets = st.fixed_dictionaries(
            {
                "ticket_type": st.sampled_from(["01", "02", None]),
                "medical_ticket_valid_date": optional(dates),
                "medical_ticket_expiration_date": optional(dates),
                "designated_medical_institution_name": optional(texts),
                "remarks1": optional(texts),
            }
        )
        block["public_expense_result_list"] = draw(st.lists(tickets, max_size=3))
    moment = draw(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))).replace(microsecond=0)
    document = {
        "schema_version": "1",
        "reference_number": draw(optional(st.from_regex(r"\A[0-9A-Za-z]{1,16}\Z"))),
        "qualification_confirmation_date": moment.date().isoformat(),
        "processing_execution_time": moment.replace(tzinfo=exports.JST).isoformat(),
        "medical_institution_code": draw(st.from_regex(r"\A[0-9]{10}\Z")),
        "reference_classification": draw(st.sampled_from(["1", "2"])),
        "processing_result_status": draw(st.sampled_from(["1", "2"])),
        "processing_result_code": draw(optional(st.text(XML_TEXT, max_size=40))),
        "processing_result_message": draw(optional(texts)),
        "qualification_validity": draw(st.sampled_from(["1", "2", "3", "4", "5", "6"])),
    }
    if draw(st.booleans()):
        document["identity_verification"] = draw(st.sampled_from(["visual", "pin", "iphone", "android"]))
        document["certificate_status"] = draw(st.sampled_from(["valid", "expiring", "grace_period"]))
    document["result_of_qualification_confirmation"] = block
    return document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=valid_documents())
def test_any_valid_document_survives_xml_and_fhir(document):
    assert result_errors(document) == []
    assert exports.parse_onshi_xml(exports.to_onshi_xml(document)) == document
    assert exports.coverage_key_fields(exports.to_fhir_coverage(document)) == exports.document_key_fields(document)


# -- FHIR details and the management command ---------------------------------------------------------------------


@pytest.mark.django_db
def test_fhir_coverage_of_shikaku_taro(demo_cards):
    document = answer_qualification_query(
        card_query(demo_cards["資格 太郎"], "pin"), medical_institution_code=MEDICAL_INSTITUTION_CODE
    )
    coverage = exports.to_fhir_coverage(document)
    assert coverage["meta"]["profile"] == [exports.JP_COVERAGE]
    identifiers = {i["system"]: i["value"] for i in coverage["identifier"]}
    assert identifiers[exports.INSURANCE_IDENTIFIER_SYSTEM] == "06131239:1234:12345678:02"
    assert identifiers[exports.INSURANCE_CSV_IDENTIFIER_SYSTEM] == '"06131239","1234","12345678","02"'
    extensions = {e["url"]: e["valueString"] for e in coverage["extension"]}
    assert extensions == {exports.EXT_SYMBOL: "1234", exports.EXT_NUMBER: "12345678", exports.EXT_SUB_NUMBER: "02"}
    assert coverage["subscriberId"] == "1234:12345678" and coverage["dependent"] == "02"
    assert coverage["relationship"]["coding"][0] == {
        "system": exports.RELATIONSHIP_SYSTEM,
        "code": "1",
        "display": "被保険者",
    }
    assert coverage["period"] == {"start": "2023-04-01", "end": "2027-03-31"}
    assert coverage["status"] == "active"
    assert coverage["beneficiary"] == {"reference": "#patient"} and coverage["payor"] == [{"reference": "#payor"}]
    patient, payor = coverage["contained"]
    assert patient["birthDate"] == "1952-01-01" and patient["gender"] == "male"
    assert patient["name"][0]["family"] == "資格" and patient["name"][0]["given"] == ["太郎"]
    assert payor["identifier"] == [{"system": exports.INSURER_NUMBER_SYSTEM, "value": "06131239"}]
    assert coverage["costToBeneficiary"][0]["valueQuantity"]["value"] == 10  # 負担割合 010 = 1割


@pytest.mark.django_db
def test_fhir_public_assistance_and_missing_branch(demo_cards):
    hogo = exports.to_fhir_coverage(
        answer_qualification_query(card_query(demo_cards["保護 太郎"]), medical_institution_code="1311000010")
    )
    assert "extension" not in hogo and "identifier" not in hogo
    assert hogo["subscriberId"] == "1234566"
    assert hogo["type"]["coding"][0]["code"] == "8"
    assert hogo["contained"][1]["identifier"] == [{"system": exports.PUBLIC_PAYER_SYSTEM, "value": "12133013"}]
    chouju = exports.to_fhir_coverage(
        answer_qualification_query(card_query(demo_cards["資格 長寿"]), medical_institution_code="1311000010")
    )
    member = next(i for i in chouju["identifier"] if i["system"] == exports.INSURANCE_IDENTIFIER_SYSTEM)
    assert member["value"] == "39131230::00012345:"  # empty parts, trailing colon kept
    assert chouju["type"]["coding"][0]["code"] == "7"
    invalid = exports.to_fhir_coverage(
        answer_qualification_query(card_query(demo_cards["資格 無効子"]), medical_institution_code="1311000010")
    )
    assert invalid["status"] == "cancelled"


@pytest.mark.django_db
def test_export_result_command(demo_cards, terminal_result):
    out = io.StringIO()
    call_command("export_result", str(terminal_result.pk), "--format", "xml", stdout=out)
    assert exports.parse_onshi_xml(out.getvalue().encode()) == terminal_result.document
    out = io.StringIO()
    call_command("export_result", str(terminal_result.pk), "--format", "fhir", stdout=out)
    coverage = json.loads(out.getvalue())
    assert exports.coverage_key_fields(coverage) == exports.document_key_fields(terminal_result.document)
    with pytest.raises(CommandError):
        call_command("export_result", "00000000-0000-0000-0000-000000000000", "--format", "xml")
    with pytest.raises(CommandError):
        call_command("export_result", "not-a-uuid", "--format", "fhir")


@pytest.fixture
def terminal_result(institution, terminal, demo_cards):
    """A stored CheckResult of 資格 太郎, made the way the results app stores a synced result."""
    import uuid

    from server.results.models import CheckResult

    document = answer_qualification_query(
        card_query(demo_cards["資格 太郎"]), medical_institution_code=institution.code
    )
    result = CheckResult(
        id=uuid.uuid4(),
        institution=institution,
        device_id=terminal.device_id,
        checked_at=timezone.now(),
        is_valid=True,
        qualification_validity="1",
    )
    result.document = document
    result.save()
    return CheckResult.objects.get(pk=result.pk)
