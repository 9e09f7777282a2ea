"""The qualification result document (contracts/qualification_result.schema.json) built from the roster.

Every document is validated against the schema before it leaves the sandbox: a roster row that cannot be expressed
is a sandbox bug and surfaces as an exception in tests, never as a silently wrong answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from contracts.result_schema import validate_result
from server.sandbox.ca import JST, CertificateState
from server.sandbox.error_codes import SandboxMessage
from server.sandbox.models import Qualification, SpecificDiseaseCertificate

SCHEMA_VERSION = "1"
REFERENCE_BY_CARD = "1"  # 照会区分 OQSCD002: マイナンバーカード
PROCESSING_OK = "1"  # 処理結果状況 OQSCD004: 正常終了


def _validated(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` after the shared schema's check (``ValueError`` with every violation when it fails)."""
    validate_result(document)
    return document


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _text(value: str) -> str | None:
    return value or None


def qualification_block(
    qualification: Qualification, *, consent_specific_diseases: bool, certificates_included: bool = True
) -> dict[str, Any]:
    """``result_of_qualification_confirmation``. ``certificates_included=False`` leaves out 限度額 and 特定疾病
    (the grace period gives 資格情報 only)."""
    person = qualification.person
    medical_assistance = qualification.is_medical_assistance
    if medical_assistance:
        office = qualification.public_assistance_office
        payer_number, payer_name = office.payer_number, office.name
    else:
        payer_number, payer_name = qualification.insurer.number, qualification.insurer.name
    block: dict[str, Any] = {
        "insured_card_classification": qualification.card_classification,
        "insurer_number": payer_number,
        "insurer_name": payer_name,
        "insured_card_symbol": None if medical_assistance else _text(qualification.symbol),
        "insured_identification_number": _text(qualification.number),
        "insured_branch_number": _text(qualification.branch_number),
        "personal_family_classification": _text(qualification.personal_family),
        "insured_name": _text(qualification.insured_name),
        "name": person.name,
        "name_kana": person.name_kana,
        "name_of_other": _text(person.name_of_other),
        "name_of_other_kana": _text(person.name_of_other_kana),
        "sex1": person.sex,
        "sex2": _text(person.sex2),
        "birthdate": person.birthdate.isoformat(),
        "qualification_date": _date(qualification.qualification_date),
        "disqualification_date": _date(qualification.disqualification_date),
        "insured_card_valid_date": _date(qualification.valid_from),
        "insured_card_expiration_date": _date(qualification.valid_until),
        "insured_partial_contribution_ratio": _text(qualification.partial_contribution_ratio),
        "preschool_classification": "1" if qualification.preschool else None,
        "reason_of_loss": _text(qualification.reason_of_loss),
        "elderly_recipient_certificate_info": None,
        "limit_application_certificate_related_cons_flg": None,
        "limit_application_certificate_related_info": None,
        "specific_diseases_certificate_related_cons_flg": None,
    }
    if qualification.elderly_valid_from and qualification.elderly_valid_until and qualification.elderly_ratio:
        block["elderly_recipient_certificate_info"] = {
            "elderly_recipient_certificate_date": _date(qualification.elderly_certificate_date),
            "elderly_recipient_valid_start_date": qualification.elderly_valid_from.isoformat(),
            "elderly_recipient_valid_end_date": qualification.elderly_valid_until.isoformat(),
            "elderly_recipient_contribution_ratio": qualification.elderly_ratio,
        }
    if certificates_included and qualification.limit_certificate and qualification.limit_class:
        # The 限定型 app has no separate 限度額 consent step; the sandbox answers as if consent was given.
        block["limit_application_certificate_related_cons_flg"] = "1"
        block["limit_application_certificate_related_info"] = {
            "limit_application_certificate_classification": qualification.limit_certificate,
            "limit_application_certificate_classification_flag": qualification.limit_class,
            "limit_application_certificate_date": _date(qualification.limit_certificate_date),
            "limit_application_certificate_valid_start_date": _date(qualification.limit_valid_from),
            "limit_application_certificate_valid_end_date": _date(qualification.limit_valid_until),
            "limit_application_certificate_long_term_date": _date(qualification.limit_long_term_date),
        }
    if certificates_included:
        block["specific_diseases_certificate_related_cons_flg"] = "1" if consent_specific_diseases else "0"
        if consent_specific_diseases:
            # ``has_specific_diseases`` comes with current_qualification(): no query for the many who have none.
            diseases = (
                qualification.specific_diseases.all()[: SpecificDiseaseCertificate.MAX_PER_QUALIFICATION]
                if getattr(qualification, "has_specific_diseases", True)
                else []
            )
            block["specific_diseases_certificate_list"] = [
                {
                    "specific_diseases_disease_category": disease.category,
                    "specific_diseases_certificate_date": _date(disease.certificate_date),
                    "specific_diseases_valid_start_date": _date(disease.valid_from),
                    "specific_diseases_valid_end_date": _date(disease.valid_until),
                    "specific_diseases_self_pay": disease.self_pay,
                }
                for disease in diseases
            ]
    if medical_assistance:
        block["public_expense_result_list"] = [
            {
                "ticket_type": _text(qualification.ticket_type),
                "medical_ticket_valid_date": _date(qualification.ticket_valid_from),
                "medical_ticket_expiration_date": _date(qualification.ticket_valid_until),
                "designated_medical_institution_name": _text(qualification.designated_institution_name),
                "remarks1": _text(qualification.remarks),
            }
        ]
    return block


def build_result_document(
    qualification: Qualification,
    *,
    medical_institution_code: str,
    identity_verification: str,
    certificate_state: CertificateState,
    consent_specific_diseases: bool,
    notice: SandboxMessage | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The full answer for one person, validated against the shared schema (raises ``ValueError`` if not)."""
    now = (now or timezone.now()).astimezone(JST).replace(microsecond=0)
    document = {
        "schema_version": SCHEMA_VERSION,
        "reference_number": qualification.person.reference_number or None,
        "qualification_confirmation_date": now.date().isoformat(),
        "processing_execution_time": now.isoformat(),
        "medical_institution_code": medical_institution_code,
        "reference_classification": REFERENCE_BY_CARD,
        "processing_result_status": PROCESSING_OK,
        "processing_result_code": notice.code if notice else None,
        "processing_result_message": notice.message if notice else None,
        "qualification_validity": qualification.validity,
        "identity_verification": identity_verification,
        "certificate_status": str(certificate_state),
        "result_of_qualification_confirmation": qualification_block(
            qualification,
            consent_specific_diseases=consent_specific_diseases,
            certificates_included=certificate_state != CertificateState.GRACE_PERIOD,
        ),
    }
    return _validated(document)
