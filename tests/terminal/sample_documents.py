"""Synthetic qualification documents (no real person) for the terminal's unit tests."""

from __future__ import annotations

import copy
from typing import Any

BASIC: dict[str, Any] = {
    "schema_version": "1",
    "reference_number": "1234567890000001",
    "qualification_confirmation_date": "2025-03-24",
    "processing_execution_time": "2025-03-24T12:00:00+09:00",
    "medical_institution_code": "1311000010",
    "reference_classification": "1",
    "processing_result_status": "1",
    "qualification_validity": "1",
    "identity_verification": "pin",
    "certificate_status": "valid",
    "result_of_qualification_confirmation": {
        "insured_card_classification": "01",
        "insurer_number": "06139993",
        "insurer_name": "限定資格保険組合",
        "insured_card_symbol": "1234",
        "insured_identification_number": "12345678",
        "insured_branch_number": "02",
        "personal_family_classification": "1",
        "insured_name": "資格 太郎",
        "name": "資格 太郎",
        "name_kana": "シカク タロウ",
        "sex1": "1",
        "birthdate": "1952-01-01",
        "qualification_date": "2023-04-01",
        "insured_card_valid_date": "2023-04-01",
        "insured_card_expiration_date": "2027-03-31",
        "insured_partial_contribution_ratio": "010",
    },
}


def variant(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASIC)
    qualification = changes.pop("qualification", {})
    document.update(changes)
    document["result_of_qualification_confirmation"].update(qualification)
    return document
