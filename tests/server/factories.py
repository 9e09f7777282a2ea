"""Synthetic data for the server tests: institutions, accounts and qualification result documents."""

from __future__ import annotations

import datetime
import itertools
import uuid
from typing import Any

from contracts.checkdigits import luhn_check_digit
from contracts.result_schema import result_errors

_serial = itertools.count(1)


def institution_code(body: str | None = None) -> str:
    """A 10-digit 機関コード with a valid check digit."""
    body = body or f"13{next(_serial):07d}"
    return body + str(luhn_check_digit(body))


def insurer_number(body: str = "0613001") -> str:
    return body + str(luhn_check_digit(body))


def result_document(
    *,
    name: str = "資格 太郎",
    name_kana: str = "シカク タロウ",
    validity: str = "1",
    identity_verification: str = "pin",
    institution: str = "1311000010",
    checked_at: datetime.datetime | None = None,
    **qualification: Any,
) -> dict[str, Any]:
    """A qualification result document valid against contracts/qualification_result.schema.json."""
    checked_at = checked_at or datetime.datetime.now(datetime.UTC)
    jst = checked_at.astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    document = {
        "schema_version": "1",
        "reference_number": f"{next(_serial):010d}",
        "qualification_confirmation_date": jst.date().isoformat(),
        "processing_execution_time": jst.replace(microsecond=0).isoformat(),
        "medical_institution_code": institution,
        "reference_classification": "1",
        "processing_result_status": "1",
        "qualification_validity": validity,
        "identity_verification": identity_verification,
        "result_of_qualification_confirmation": {
            "insured_card_classification": "01",
            "insurer_number": insurer_number(),
            "name": name,
            "name_kana": name_kana,
            "sex1": "1",
            "birthdate": "1980-04-01",
            **qualification,
        },
    }
    errors = result_errors(document)
    assert not errors, errors
    return document


def batch_item(checked_at: datetime.datetime | None = None, **kwargs: Any) -> dict[str, Any]:
    checked_at = checked_at or datetime.datetime.now(datetime.UTC)
    return {
        "id": str(uuid.uuid4()),
        "checked_at": checked_at.isoformat(),
        "result": result_document(checked_at=checked_at, **kwargs),
    }
