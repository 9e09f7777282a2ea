"""Exports of a qualification result document: onshi-style XML and FHIR R4 (JP Core JP_Coverage).

No Django, no Qt: the terminal, the clinic server and the sandbox may all use these.

XML (reference/onshi-data-model.md §1–§3). The envelope is ``XmlMsg/MessageHeader`` + ``XmlMsg/MessageBody`` with the
person under ``MessageBody/ResultList/ResultOfQualificationConfirmation``; element names are the national service's,
dates are ``yyyyMMdd`` and times ``yyyyMMddHHmmss`` in JST, codes are the OQSCD values unchanged. Two facts of the
result document have no onshi element (本人確認の方法 and the state of the card's certificate): they travel in a
``MessageBody/SandboxExtension`` element that a real onshi reader ignores. A null is an absent element, an empty string
an empty element, so ``parse_onshi_xml(to_onshi_xml(d)) == d`` for every document in the sandbox's normal form
(every field of ``result_of_qualification_confirmation`` present, null when unknown, JST times to the second).
The parser is lenient: namespaces, ``yyyy-MM-dd`` dates, a result outside ``ResultList``, unknown elements and
surrounding whitespace in codes and dates are accepted.

FHIR (§9). ``to_fhir_coverage`` makes one ``Coverage`` with the JP_Coverage profile, its identifiers and extensions,
the payer ``Organization`` and the ``Patient`` (JP_Patient-like) as contained resources. ``coverage_key_fields`` reads
the key fields back from such a Coverage; ``document_key_fields`` gives the same fields from a document.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
SCHEMA_VERSION = "1"
UTF8_CHARACTER_CODE = "0"  # OQSCD005
SEGMENT_OK = "1"  # OQSCD003 処理結果区分: 正常終了 (an answered document is never a failed message)

# -- the XML mapping: (document key, element name), in the order of onshi's writers (§2a–2g) ----------------------

HEADER_FIELDS = [
    ("processing_execution_time", "ProcessExecutionTime"),
    ("qualification_confirmation_date", "QualificationConfirmationDate"),
    ("medical_institution_code", "MedicalInstitutionCode"),
    ("reference_classification", "ReferenceClassification"),
]
BODY_FIELDS = [
    ("processing_result_status", "ProcessingResultStatus"),
    ("processing_result_code", "ProcessingResultCode"),
    ("processing_result_message", "ProcessingResultMessage"),
    ("qualification_validity", "QualificationValidity"),
]
EXTENSION_FIELDS = [
    ("schema_version", "SchemaVersion"),
    ("identity_verification", "IdentityVerification"),
    ("certificate_status", "CertificateStatus"),
]
QUALIFICATION_FIELDS = [
    ("insured_card_classification", "InsuredCardClassification"),
    ("insurer_number", "InsurerNumber"),
    ("insured_card_symbol", "InsuredCardSymbol"),
    ("insured_identification_number", "InsuredIdentificationNumber"),
    ("insured_branch_number", "InsuredBranchNumber"),
    ("personal_family_classification", "PersonalFamilyClassification"),
    ("insured_name", "InsuredName"),
    ("name", "Name"),
    ("name_of_other", "NameOfOther"),
    ("name_kana", "NameKana"),
    ("name_of_other_kana", "NameOfOtherKana"),
    ("sex1", "Sex1"),
    ("sex2", "Sex2"),
    ("birthdate", "Birthdate"),
    ("qualification_date", "QualificationDate"),
    ("disqualification_date", "DisqualificationDate"),
    ("insured_card_valid_date", "InsuredCardValidDate"),
    ("insured_card_expiration_date", "InsuredCardExpirationDate"),
    ("insured_partial_contribution_ratio", "InsuredPartialContributionRatio"),
    ("preschool_classification", "PreschoolClassification"),
    ("reason_of_loss", "ReasonOfLoss"),
    ("insurer_name", "InsurerName"),
    ("elderly_recipient_certificate_info", "ElderlyRecipientCertificateInfo"),
    ("limit_application_certificate_related_cons_flg", "LimitApplicationCertificateRelatedConsFlg"),
    ("limit_application_certificate_related_info", "LimitApplicationCertificateRelatedInfo"),
    ("specific_diseases_certificate_related_cons_flg", "SpecificDiseasesCertificateRelatedConsFlg"),
]
ELDERLY_FIELDS = [
    ("elderly_recipient_certificate_date", "ElderlyRecipientCertificateDate"),
    ("elderly_recipient_valid_start_date", "ElderlyRecipientValidStartDate"),
    ("elderly_recipient_valid_end_date", "ElderlyRecipientValidEndDate"),
    ("elderly_recipient_contribution_ratio", "ElderlyRecipientContributionRatio"),
]
LIMIT_FIELDS = [
    ("limit_application_certificate_classification", "LimitApplicationCertificateClassification"),
    ("limit_application_certificate_classification_flag", "LimitApplicationCertificateClassificationFlag"),
    ("limit_application_certificate_date", "LimitApplicationCertificateDate"),
    ("limit_application_certificate_valid_start_date", "LimitApplicationCertificateValidStartDate"),
    ("limit_application_certificate_valid_end_date", "LimitApplicationCertificateValidEndDate"),
    ("limit_application_certificate_long_term_date", "LimitApplicationCertificateLongTermDate"),
]
DISEASE_FIELDS = [
    ("specific_diseases_disease_category", "SpecificDiseasesDiseaseCategory"),
    ("specific_diseases_certificate_date", "SpecificDiseasesCertificateDate"),
    ("specific_diseases_valid_start_date", "SpecificDiseasesValidStartDate"),
    ("specific_diseases_valid_end_date", "SpecificDiseasesValidEndDate"),
    ("specific_diseases_self_pay", "SpecificDiseasesSelfPay"),
]
TICKET_FIELDS = [
    ("ticket_type", "TicketType"),
    ("medical_ticket_valid_date", "MedicalTicketValidDate"),
    ("medical_ticket_expiration_date", "MedicalTicketExpirationDate"),
    ("designated_medical_institution_name", "DesignatedMedicalInstitutionName"),
    ("remarks1", "Remarks1"),
]
NESTED_OBJECTS = {
    "elderly_recipient_certificate_info": ELDERLY_FIELDS,
    "limit_application_certificate_related_info": LIMIT_FIELDS,
}
# (document key, list element, item element, item fields); a list is present only when its key is.
LISTS = [
    ("specific_diseases_certificate_list", "SpecificDiseasesCertificateList", "SpecificDiseasesCertificateInfo",
     DISEASE_FIELDS),
    ("public_expense_result_list", "PublicExpenseResultList", "MedicalTicketInfo", TICKET_FIELDS),
]  # fmt: skip
DATE_KEYS = {
    "qualification_confirmation_date", "birthdate", "qualification_date", "disqualification_date",
    "insured_card_valid_date", "insured_card_expiration_date", "elderly_recipient_certificate_date",
    "elderly_recipient_valid_start_date", "elderly_recipient_valid_end_date", "limit_application_certificate_date",
    "limit_application_certificate_valid_start_date", "limit_application_certificate_valid_end_date",
    "limit_application_certificate_long_term_date", "specific_diseases_certificate_date",
    "specific_diseases_valid_start_date", "specific_diseases_valid_end_date", "medical_ticket_valid_date",
    "medical_ticket_expiration_date",
}  # fmt: skip
DATETIME_KEYS = {"processing_execution_time"}
INTEGER_KEYS = {"specific_diseases_self_pay"}
# Codes with a fixed pattern and dates: whitespace around them is noise from hand-made files. Free text keeps its own.
VERBATIM_KEYS = {
    "insured_name", "name", "name_of_other", "name_kana", "name_of_other_kana", "insurer_name",
    "processing_result_code", "processing_result_message", "designated_medical_institution_name", "remarks1",
    "insured_card_symbol", "insured_identification_number",
}  # fmt: skip


class ExportFormatError(ValueError):
    """The XML (or FHIR resource) given to a parser is not a qualification result."""


# -- XML: writing ---------------------------------------------------------------------------------------------------


def _xml_value(key: str, value: Any) -> str:
    if key in DATE_KEYS:
        return dt.date.fromisoformat(value).strftime("%Y%m%d")
    if key in DATETIME_KEYS:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(JST)  # onshi times are JST without an offset
        return moment.strftime("%Y%m%d%H%M%S")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _append_fields(parent: ET.Element, source: dict[str, Any], fields: list[tuple[str, str]]) -> None:
    for key, element in fields:
        value = source.get(key)
        if value is None:
            continue  # null = absent element
        child = ET.SubElement(parent, element)
        if key in NESTED_OBJECTS:
            _append_fields(child, value, NESTED_OBJECTS[key])
        else:
            child.text = _xml_value(key, value)


def _append_lists(parent: ET.Element, source: dict[str, Any]) -> None:
    for key, list_element, item_element, fields in LISTS:
        if source.get(key) is None:
            continue
        container = ET.SubElement(parent, list_element)
        for item in source[key]:
            _append_fields(ET.SubElement(container, item_element), item, fields)


def onshi_xml_element(document: dict[str, Any], *, arbitrary_file_identifier: str | None = None) -> ET.Element:
    """The ``XmlMsg`` element of ``document`` (a valid result, contracts/qualification_result.schema.json)."""
    root = ET.Element("XmlMsg")
    header = ET.SubElement(root, "MessageHeader")
    _append_fields(header, document, HEADER_FIELDS)
    if arbitrary_file_identifier:
        ET.SubElement(header, "ArbitraryFileIdentifier").text = arbitrary_file_identifier
    ET.SubElement(header, "SegmentOfResult").text = SEGMENT_OK
    ET.SubElement(header, "CharacterCodeIdentifier").text = UTF8_CHARACTER_CODE

    body = ET.SubElement(root, "MessageBody")
    _append_fields(body, document, BODY_FIELDS)
    block = document["result_of_qualification_confirmation"]
    result = ET.SubElement(ET.SubElement(body, "ResultList"), "ResultOfQualificationConfirmation")
    _append_fields(result, block, QUALIFICATION_FIELDS)
    _append_lists(result, block)
    _append_fields(result, document, [("reference_number", "ReferenceNumber")])
    extension = ET.SubElement(body, "SandboxExtension")
    _append_fields(extension, document, EXTENSION_FIELDS)
    return root


def to_onshi_xml(document: dict[str, Any], *, arbitrary_file_identifier: str | None = None) -> bytes:
    """The result as an onshi-style ``OQSsiquc01res`` message: UTF-8 bytes with an XML declaration, indented."""
    root = onshi_xml_element(document, arbitrary_file_identifier=arbitrary_file_identifier)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# -- XML: reading ---------------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: ET.Element) -> dict[str, ET.Element]:
    """Child elements by local name (the first of each name; lists are read with ``_all``)."""
    found: dict[str, ET.Element] = {}
    for child in element:
        found.setdefault(_local(child.tag), child)
    return found


def _all(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _parse_date(text: str, key: str) -> str:
    digits = text.strip().replace("-", "").replace("/", "")
    try:
        return dt.datetime.strptime(digits, "%Y%m%d").date().isoformat()
    except ValueError:
        raise ExportFormatError(f"{key}: 日付の形式が正しくありません ({text!r})") from None


def _parse_datetime(text: str, key: str) -> str:
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{14}", raw):
            return dt.datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=JST).isoformat()
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ExportFormatError(f"{key}: 日時の形式が正しくありません ({text!r})") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=JST)).isoformat()


def _parse_value(key: str, text: str | None) -> Any:
    text = text or ""
    if key in DATE_KEYS:
        return _parse_date(text, key)
    if key in DATETIME_KEYS:
        return _parse_datetime(text, key)
    if key in INTEGER_KEYS:
        try:
            return int(text.strip())
        except ValueError:
            raise ExportFormatError(f"{key}: 数値ではありません ({text!r})") from None
    return text if key in VERBATIM_KEYS else text.strip()


def _read_fields(element: ET.Element | None, fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Every key of ``fields``: the element's value, or None when the element is absent."""
    present = _children(element) if element is not None else {}
    values: dict[str, Any] = {}
    for key, name in fields:
        child = present.get(name)
        if child is None:
            values[key] = None
        elif key in NESTED_OBJECTS:
            values[key] = _read_fields(child, NESTED_OBJECTS[key])
        else:
            values[key] = _parse_value(key, child.text)
    return values


def parse_onshi_xml(data: bytes | str) -> dict[str, Any]:
    """The result document of an onshi-style message (the inverse of ``to_onshi_xml``).

    Raises ``ExportFormatError`` when the XML is malformed or holds no ResultOfQualificationConfirmation. The result
    is not validated against the schema here: callers that store it do that (``contracts.result_schema``).
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ExportFormatError(f"XML を解析できません: {exc}") from None
    header = _first_local(root, "MessageHeader")
    body = _first_local(root, "MessageBody")
    result = _first_local(body if body is not None else root, "ResultOfQualificationConfirmation")
    if result is None:
        raise ExportFormatError("ResultOfQualificationConfirmation がありません。")
    extension = _first_local(body, "SandboxExtension") if body is not None else None

    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    reference = _read_fields(result, [("reference_number", "ReferenceNumber")])
    document["reference_number"] = reference["reference_number"] or None
    document.update(_read_fields(header, HEADER_FIELDS))
    document.update(_read_fields(body, BODY_FIELDS))
    for key, value in _read_fields(extension, EXTENSION_FIELDS).items():
        if value is not None:  # these are optional in the schema: absent stays absent
            document[key] = value
    # Key order of the sandbox's builder, so that a round trip also compares equal as JSON text.
    ordered = {key: document.get(key) for key in DOCUMENT_KEY_ORDER if key in document or key in _ALWAYS_PRESENT}
    block = _read_fields(result, QUALIFICATION_FIELDS)
    for key, list_element, item_element, fields in LISTS:
        container = _first_local(result, list_element, direct=True)
        if container is not None:
            block[key] = [_read_fields(item, fields) for item in _all(container, item_element)]
    ordered["result_of_qualification_confirmation"] = block
    return ordered


def _first_local(element: ET.Element | None, name: str, *, direct: bool = False) -> ET.Element | None:
    """The first descendant (or child, with ``direct``) whose local name is ``name`` (namespaces ignored)."""
    if element is None:
        return None
    candidates = iter(element) if direct else element.iter()
    return next((child for child in candidates if _local(child.tag) == name), None)


DOCUMENT_KEY_ORDER = [
    "schema_version", "reference_number", "qualification_confirmation_date", "processing_execution_time",
    "medical_institution_code", "reference_classification", "processing_result_status", "processing_result_code",
    "processing_result_message", "qualification_validity", "identity_verification", "certificate_status",
]  # fmt: skip
_ALWAYS_PRESENT = set(DOCUMENT_KEY_ORDER) - {"identity_verification", "certificate_status"}


# -- FHIR R4 (JP Core) -----------------------------------------------------------------------------------------------

JP_COVERAGE = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Coverage"
JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"
JP_ORGANIZATION = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Organization"
EXTENSION_BASE = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/"
EXT_SYMBOL = EXTENSION_BASE + "JP_Coverage_InsuredPersonSymbol"
EXT_NUMBER = EXTENSION_BASE + "JP_Coverage_InsuredPersonNumber"
EXT_SUB_NUMBER = EXTENSION_BASE + "JP_Coverage_InsuredPersonSubNumber"
INSURANCE_IDENTIFIER_SYSTEM = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
INSURANCE_CSV_IDENTIFIER_SYSTEM = "http://jpfhir.jp/fhir/core/IdSystem/JP_Coverage_id"
RELATIONSHIP_SYSTEM = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/InsuredPersonCategory"
INSURER_NUMBER_SYSTEM = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber"
PUBLIC_PAYER_SYSTEM = "urn:oid:1.2.392.100495.20.3.71"
INSURANCE_TYPE_SYSTEM = "urn:oid:1.2.392.100495.20.2.61"
COPAY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
MEDICAL_ASSISTANCE = "A1"

RELATIONSHIP_LABELS = {"1": "被保険者", "2": "被扶養者"}  # OQSCD009 本人 → 被保険者, 家族 → 被扶養者
GENDERS = {"1": "male", "2": "female", "3": "unknown"}  # OQSCD007
INSURANCE_TYPES = {"1": "医保", "2": "国保", "7": "後期高齢者", "8": "公費"}
PAYOR_ID, PATIENT_ID = "payor", "patient"


def insurance_type(block: dict[str, Any]) -> str:
    """保険種別 (urn:oid:1.2.392.100495.20.2.61), derived: onshi does not send it.

    医療扶助 → 8 公費; 法別番号 39 → 7 後期高齢者; a 6-digit (zero-padded) number → 2 国保; otherwise 1 医保.
    """
    number = block.get("insurer_number") or ""
    if block.get("insured_card_classification") == MEDICAL_ASSISTANCE:
        return "8"
    if number.startswith("39"):
        return "7"
    if number.startswith("00"):
        return "2"
    return "1"


def copay_percent(block: dict[str, Any]) -> int:
    """The patient's share in percent, derived as onshi-data-model.md §3 "Burden ratio" describes."""
    if block.get("preschool_classification") == "1":
        return 20
    elderly = block.get("elderly_recipient_certificate_info")
    if elderly and elderly.get("elderly_recipient_contribution_ratio"):
        return int(elderly["elderly_recipient_contribution_ratio"])
    if block.get("insured_partial_contribution_ratio"):
        return int(block["insured_partial_contribution_ratio"])
    return 30


def _csv_quote(value: str | None) -> str:
    return '"' + (value or "").replace('"', '""') + '"'


def _split_name(name: str) -> dict[str, Any]:
    family, _, given = name.replace("\u3000", " ").partition(" ")
    parts: dict[str, Any] = {"text": name, "family": family}
    if given.strip():
        parts["given"] = [given.strip()]
    return parts


def _patient(document: dict[str, Any]) -> dict[str, Any]:
    block = document["result_of_qualification_confirmation"]
    names = [
        {"extension": [{"url": NAME_REPRESENTATION, "valueCode": "IDE"}], "use": "official", **_split_name(block["name"])},
        {"extension": [{"url": NAME_REPRESENTATION, "valueCode": "SYL"}], "use": "official",
         **_split_name(block["name_kana"])},
    ]  # fmt: skip
    if block.get("name_of_other"):  # 要配慮情報: the name the person asked to be called by
        names.append({"use": "usual", **_split_name(block["name_of_other"])})
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "meta": {"profile": [JP_PATIENT]},
        "name": names,
        "gender": GENDERS.get(block.get("sex2") or block["sex1"], "unknown"),
        "birthDate": block["birthdate"],
    }


def _payor(block: dict[str, Any]) -> dict[str, Any]:
    public = block["insured_card_classification"] == MEDICAL_ASSISTANCE
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "id": PAYOR_ID,
        "meta": {"profile": [JP_ORGANIZATION]},
        "identifier": [
            {"system": PUBLIC_PAYER_SYSTEM if public else INSURER_NUMBER_SYSTEM, "value": block["insurer_number"]}
        ],
    }
    if block.get("insurer_name"):
        organization["name"] = block["insurer_name"]
    return organization


def to_fhir_coverage(document: dict[str, Any]) -> dict[str, Any]:
    """A FHIR R4 ``Coverage`` (JP_Coverage) of the result, with the payer and the patient contained."""
    block = document["result_of_qualification_confirmation"]
    public = block["insured_card_classification"] == MEDICAL_ASSISTANCE
    symbol = block.get("insured_card_symbol")
    number = block.get("insured_identification_number")
    branch = block.get("insured_branch_number")
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "meta": {"profile": [JP_COVERAGE]},
        "contained": [_patient(document), _payor(block)],
    }
    if not public:  # 公費 has no 記号/番号/枝番 extensions (§9)
        extensions = [(EXT_SYMBOL, symbol), (EXT_NUMBER, number), (EXT_SUB_NUMBER, branch)]
        coverage["extension"] = [{"url": url, "valueString": value} for url, value in extensions if value]
        coverage["identifier"] = [
            {
                "system": INSURANCE_IDENTIFIER_SYSTEM,
                "value": ":".join([block["insurer_number"], symbol or "", number or "", branch or ""]),
            },
            {
                "system": INSURANCE_CSV_IDENTIFIER_SYSTEM,
                "value": ",".join(_csv_quote(v) for v in (block["insurer_number"], symbol, number, branch)),
            },
        ]
    coverage["status"] = "active" if document["qualification_validity"] == "1" else "cancelled"
    type_code = insurance_type(block)
    coverage["type"] = {
        "coding": [{"system": INSURANCE_TYPE_SYSTEM, "code": type_code, "display": INSURANCE_TYPES[type_code]}]
    }
    if public:
        if number:
            coverage["subscriberId"] = number  # 受給者番号
    elif symbol or number:
        coverage["subscriberId"] = f"{symbol or ''}:{number or ''}"
    coverage["beneficiary"] = {"reference": f"#{PATIENT_ID}"}
    if branch:
        coverage["dependent"] = branch
    relationship = block.get("personal_family_classification")
    if relationship in RELATIONSHIP_LABELS:
        coverage["relationship"] = {
            "coding": [
                {"system": RELATIONSHIP_SYSTEM, "code": relationship, "display": RELATIONSHIP_LABELS[relationship]}
            ]
        }
    period = {
        key: block[field]
        for key, field in (("start", "insured_card_valid_date"), ("end", "insured_card_expiration_date"))
        if block.get(field)
    }
    if period:
        coverage["period"] = period
    coverage["payor"] = [{"reference": f"#{PAYOR_ID}"}]
    coverage["costToBeneficiary"] = [
        {
            "type": {"coding": [{"system": COPAY_TYPE_SYSTEM, "code": "copaypct"}]},
            "valueQuantity": {
                "value": copay_percent(block),
                "unit": "%",
                "system": "http://unitsofmeasure.org",
                "code": "%",
            },
        }
    ]
    return coverage


def document_key_fields(document: dict[str, Any]) -> dict[str, Any]:
    """The fields a JP_Coverage carries, as they are in the result document."""
    block = document["result_of_qualification_confirmation"]
    public = block["insured_card_classification"] == MEDICAL_ASSISTANCE
    return {
        "insurer_number": block["insurer_number"],
        "insurer_name": block.get("insurer_name") or None,
        "public_payer": public,
        "insured_card_symbol": None if public else block.get("insured_card_symbol") or None,
        "insured_identification_number": block.get("insured_identification_number") or None,
        "insured_branch_number": None if public else block.get("insured_branch_number") or None,
        "personal_family_classification": block.get("personal_family_classification"),
        "insured_card_valid_date": block.get("insured_card_valid_date"),
        "insured_card_expiration_date": block.get("insured_card_expiration_date"),
        "is_valid": document["qualification_validity"] == "1",
        "name": block["name"],
        "name_kana": block["name_kana"],
        "birthdate": block["birthdate"],
    }


def _contained(coverage: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, Any]:
    wanted = (reference or {}).get("reference", "").removeprefix("#")
    for resource in coverage.get("contained", []):
        if resource.get("id") == wanted:
            return resource
    raise ExportFormatError(f"contained resource #{wanted} がありません。")


def _name_with(patient: dict[str, Any], representation: str) -> str:
    for name in patient.get("name", []):
        codes = {e.get("valueCode") for e in name.get("extension", []) if e.get("url") == NAME_REPRESENTATION}
        if representation in codes:
            return name.get("text", "")
    raise ExportFormatError(f"Patient.name ({representation}) がありません。")


def coverage_key_fields(coverage: dict[str, Any]) -> dict[str, Any]:
    """Read ``document_key_fields`` back from a Coverage made by ``to_fhir_coverage``."""
    if coverage.get("resourceType") != "Coverage":
        raise ExportFormatError("Coverage ではありません。")
    payor = _contained(coverage, (coverage.get("payor") or [None])[0])
    patient = _contained(coverage, coverage.get("beneficiary"))
    payer_identifier = payor["identifier"][0]
    public = payer_identifier["system"] == PUBLIC_PAYER_SYSTEM
    # The extensions hold 記号/番号/枝番 unambiguously (a ':' inside a 記号 would make the joined identifier ambiguous).
    extensions = {e.get("url"): e.get("valueString") for e in coverage.get("extension", [])}
    member = next(
        (i["value"] for i in coverage.get("identifier", []) if i.get("system") == INSURANCE_IDENTIFIER_SYSTEM), None
    )
    if member is not None and member.split(":", 1)[0] != payer_identifier["value"]:
        raise ExportFormatError("insuranceIdentifier と payor の保険者番号が一致しません。")
    if public:
        symbol, number, branch = None, coverage.get("subscriberId"), None
    else:
        symbol, number, branch = extensions.get(EXT_SYMBOL), extensions.get(EXT_NUMBER), extensions.get(EXT_SUB_NUMBER)
    relationship = (coverage.get("relationship") or {}).get("coding") or [{}]
    period = coverage.get("period", {})
    return {
        "insurer_number": payer_identifier["value"],
        "insurer_name": payor.get("name"),
        "public_payer": public,
        "insured_card_symbol": symbol or None,
        "insured_identification_number": number or None,
        "insured_branch_number": branch or None,
        "personal_family_classification": relationship[0].get("code"),
        "insured_card_valid_date": period.get("start"),
        "insured_card_expiration_date": period.get("end"),
        "is_valid": coverage.get("status") == "active",
        "name": _name_with(patient, "IDE"),
        "name_kana": _name_with(patient, "SYL"),
        "birthdate": patient.get("birthDate"),
    }
