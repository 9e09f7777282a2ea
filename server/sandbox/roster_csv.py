"""The roster as CSV (N01): one row per person and their current qualification, UTF-8 with a header row.

Dates are ISO (YYYY-MM-DD); booleans ``1``/``0``; for 医療扶助 (``card_classification`` A1) ``payer_number`` and
``payer_name`` are the 公費負担者番号 and the 福祉事務所名, otherwise the 保険者番号 and 保険者名. ``specific_diseases`` holds
up to three entries ``category:valid_from:valid_until:self_pay`` separated by ``|`` (empty parts allowed).
Import is all-or-nothing: any invalid row aborts it with the row numbers and messages.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from server.sandbox.models import (
    InsuredPerson,
    Insurer,
    PublicAssistanceOffice,
    Qualification,
    SpecificDiseaseCertificate,
)

PERSON_FIELDS = ["name", "name_kana", "birthdate", "sex", "name_of_other", "name_of_other_kana", "sex2",
                 "reference_number", "registration", "registration_fails"]  # fmt: skip
QUALIFICATION_FIELDS = [
    "card_classification", "symbol", "number", "branch_number", "personal_family", "insured_name", "valid_from",
    "valid_until", "qualification_date", "disqualification_date", "reason_of_loss", "partial_contribution_ratio",
    "preschool", "validity", "elderly_certificate_date", "elderly_valid_from", "elderly_valid_until", "elderly_ratio",
    "limit_certificate", "limit_class", "limit_certificate_date", "limit_valid_from", "limit_valid_until",
    "limit_long_term_date", "ticket_type", "ticket_valid_from", "ticket_valid_until", "designated_institution_name",
    "remarks",
]  # fmt: skip
COLUMNS = PERSON_FIELDS + ["payer_number", "payer_name"] + QUALIFICATION_FIELDS + ["specific_diseases"]
BOOLEAN_FIELDS = {"registration_fails", "preschool"}


class RosterImportError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _diseases_cell(qualification: Qualification) -> str:
    return "|".join(
        ":".join(_cell(v) for v in (d.category, d.valid_from, d.valid_until, d.self_pay))
        for d in qualification.specific_diseases.all()
    )


def export_roster(out: IO[str], people: Iterable[InsuredPerson] | None = None) -> int:
    """Write the roster (or ``people``) as CSV; returns the number of rows."""
    people = people if people is not None else InsuredPerson.objects.order_by("id")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    rows = 0
    for person in people:
        qualification = person.current_qualification()
        row = {name: _cell(getattr(person, name)) for name in PERSON_FIELDS}
        if qualification is not None:
            payer = (
                qualification.public_assistance_office if qualification.is_medical_assistance else qualification.insurer
            )
            row["payer_number"] = payer.payer_number if qualification.is_medical_assistance else payer.number
            row["payer_name"] = payer.name
            row.update({name: _cell(getattr(qualification, name)) for name in QUALIFICATION_FIELDS})
            row["specific_diseases"] = _diseases_cell(qualification)
        writer.writerow(row)
        rows += 1
    return rows


def _field_value(model: type, name: str, raw: str) -> Any:
    field = model._meta.get_field(name)
    raw = raw.strip()
    if name in BOOLEAN_FIELDS:
        if raw not in {"", "0", "1"}:
            raise ValidationError({name: "0 または 1 を指定してください。"})
        return raw == "1"
    if field.get_internal_type() == "DateField":
        if not raw:
            if not field.null:
                raise ValidationError({name: "日付が必要です。"})
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError({name: "日付は YYYY-MM-DD で指定してください。"}) from None
    return raw


def _parse_diseases(raw: str) -> list[dict[str, Any]]:
    entries = []
    for chunk in filter(None, (part.strip() for part in raw.split("|"))):
        parts = (chunk.split(":") + ["", "", ""])[:4]
        category, start, end, self_pay = parts
        try:
            entries.append(
                {
                    "category": category,
                    "valid_from": dt.date.fromisoformat(start) if start else None,
                    "valid_until": dt.date.fromisoformat(end) if end else None,
                    "self_pay": int(self_pay) if self_pay else None,
                }
            )
        except ValueError:
            raise ValidationError({"specific_diseases": f"形式が正しくありません: {chunk}"}) from None
    if len(entries) > SpecificDiseaseCertificate.MAX_PER_QUALIFICATION:
        raise ValidationError({"specific_diseases": "特定疾病は3件までです。"})
    return entries


def _import_row(row: dict[str, str]) -> InsuredPerson:
    person_values = {name: _field_value(InsuredPerson, name, row.get(name) or "") for name in PERSON_FIELDS}
    person_values["registration"] = person_values["registration"] or InsuredPerson.Registration.REGISTERED
    person = InsuredPerson.objects.filter(name=person_values["name"], birthdate=person_values["birthdate"]).first()
    person = person or InsuredPerson()
    for name, value in person_values.items():
        setattr(person, name, value)
    person.full_clean(validate_unique=False)  # matched by 氏名 + 生年月日 just above
    person.save()

    if not (row.get("card_classification") or "").strip():
        return person  # a person without any qualification (answers 6401)
    payer_number, payer_name = (row.get("payer_number") or "").strip(), (row.get("payer_name") or "").strip()
    values = {name: _field_value(Qualification, name, row.get(name) or "") for name in QUALIFICATION_FIELDS}
    qualification = Qualification(person=person, **values)
    if qualification.is_medical_assistance:
        office = PublicAssistanceOffice(payer_number=payer_number, name=payer_name)
        office.full_clean(validate_unique=False)
        qualification.public_assistance_office = PublicAssistanceOffice.objects.update_or_create(
            payer_number=payer_number, defaults={"name": payer_name}
        )[0]
    else:
        insurer = Insurer(number=payer_number, name=payer_name)
        insurer.full_clean(validate_unique=False)
        qualification.insurer = Insurer.objects.update_or_create(number=payer_number, defaults={"name": payer_name})[0]
    qualification.full_clean()
    person.qualifications.all().delete()
    qualification.save()
    for entry in _parse_diseases(row.get("specific_diseases") or ""):
        disease = SpecificDiseaseCertificate(qualification=qualification, **entry)
        disease.full_clean(exclude=["qualification"])
        disease.save()
    return person


def import_roster(source: IO[str]) -> int:
    """Create or update persons (matched by 氏名 + 生年月日) and replace their qualification; returns the row count."""
    reader = csv.DictReader(source)
    missing = {"name", "name_kana", "birthdate", "sex"} - set(reader.fieldnames or [])
    if missing:
        raise RosterImportError([f"ヘッダーに必要な列がありません: {', '.join(sorted(missing))}"])
    problems: list[str] = []
    count = 0
    with transaction.atomic():
        for line, row in enumerate(reader, start=2):
            try:
                with transaction.atomic():
                    _import_row(row)
                count += 1
            except ValidationError as exc:
                details = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                for field_name, messages in details.items():
                    problems.append(f"{line}行目 {field_name}: {' '.join(messages)}")
        if problems:
            raise RosterImportError(problems)  # leaving the block with an exception rolls every row back
    return count
