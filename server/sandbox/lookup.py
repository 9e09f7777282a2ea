"""The roster row a qualification query needs, in one round trip (N03, issue 4 point 8).

A query needs the card's certificate, its holder and the holder's current qualification with the payer (insurer or
福祉事務所) and its 特定疾病 certificates. Through the ORM that was two or three queries whose SQL compilation
alone cost more than PostgreSQL's work (≈ 1.2 ms of a 4.2 ms query, bench/sandbox.py --profile); here it is one
statement written once at import, with a LATERAL join picking the qualification exactly as
``InsuredPerson.current_qualification()`` orders it (有効開始日 newest first, NULLs last, then newest row).

The columns come from the models' ``_meta``, so a new field is read without touching this file; the rows become
ordinary model instances (``Model.from_db``) with their relations cached, so no lazy query follows.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Field, Model

from server.sandbox.models import (
    CardCertificate,
    InsuredPerson,
    Insurer,
    PublicAssistanceOffice,
    Qualification,
    SpecificDiseaseCertificate,
)

# The certificate's DER is not needed (the caller has it, and its fingerprint is the key): never read it.
_CERTIFICATE_SKIPPED = {"der"}


def _fields(model: type[Model], skipped: set[str] = frozenset()) -> list[Field]:
    return [field for field in model._meta.concrete_fields if field.attname not in skipped]


def _select(alias: str, fields: list[Field]) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in fields)


_PARTS: list[tuple[type[Model], list[Field]]] = [
    (CardCertificate, _fields(CardCertificate, _CERTIFICATE_SKIPPED)),
    (InsuredPerson, _fields(InsuredPerson)),
    (Qualification, _fields(Qualification)),
    (Insurer, _fields(Insurer)),
    (PublicAssistanceOffice, _fields(PublicAssistanceOffice)),
]
_QUALIFICATION_PK = Qualification._meta.pk.column
# The 特定疾病 certificates (at most 3, in the model's order) ride along as one JSON array of rows.
_DISEASE_FIELDS = _fields(SpecificDiseaseCertificate)
_DISEASE_CATEGORY = SpecificDiseaseCertificate._meta.get_field("category").column
_DISEASE_PK = SpecificDiseaseCertificate._meta.pk.column
_SQL = f"""
SELECT {", ".join(_select(alias, fields) for alias, (_model, fields) in zip("cpqio", _PARTS, strict=True))},
       (SELECT json_agg(json_build_array({_select("d", _DISEASE_FIELDS)}) ORDER BY d."{_DISEASE_CATEGORY}", d."{_DISEASE_PK}")
        FROM (SELECT * FROM "{SpecificDiseaseCertificate._meta.db_table}" d1
              WHERE d1."{SpecificDiseaseCertificate._meta.get_field("qualification").column}" = q."{_QUALIFICATION_PK}"
              ORDER BY d1."{_DISEASE_CATEGORY}", d1."{_DISEASE_PK}" LIMIT {SpecificDiseaseCertificate.MAX_PER_QUALIFICATION}) d)
FROM "{CardCertificate._meta.db_table}" c
JOIN "{InsuredPerson._meta.db_table}" p ON p."{InsuredPerson._meta.pk.column}" = c."{CardCertificate._meta.get_field("person").column}"
LEFT JOIN LATERAL (
    SELECT * FROM "{Qualification._meta.db_table}" q1
    WHERE q1."{Qualification._meta.get_field("person").column}" = p."{InsuredPerson._meta.pk.column}"
    ORDER BY q1."{Qualification._meta.get_field("valid_from").column}" DESC NULLS LAST, q1."{_QUALIFICATION_PK}" DESC
    LIMIT 1
) q ON TRUE
LEFT JOIN "{Insurer._meta.db_table}" i ON i."{Insurer._meta.pk.column}" = q."{Qualification._meta.get_field("insurer").column}"
LEFT JOIN "{PublicAssistanceOffice._meta.db_table}" o
       ON o."{PublicAssistanceOffice._meta.pk.column}" = q."{Qualification._meta.get_field("public_assistance_office").column}"
WHERE c."{CardCertificate._meta.get_field("fingerprint").column}" = %s
"""  # noqa: E501 (SQL reads better unwrapped)


@dataclass(frozen=True)
class CertificateRow:
    certificate: CardCertificate  # ``certificate.person`` is loaded
    qualification: Qualification | None  # the person's current one (payer and ``has_specific_diseases`` loaded)


_STATEMENT = "sandbox_certificate_lookup"
_PREPARE = f"PREPARE {_STATEMENT} (text) AS {_SQL.replace('%s', '$1')}"
_EXECUTE = f"EXECUTE {_STATEMENT} (%s)"
# Raw driver connections on which the statement is prepared: planning the six-table statement costs PostgreSQL four
# times its execution (0.2 ms against 0.05 ms), so each connection plans it once. Weak: a closed connection drops out.
_prepared_on: weakref.WeakSet = weakref.WeakSet()


def _fetch_row_postgresql(db: str, fingerprint: str) -> tuple | None:
    connection = connections[db]
    with connection.cursor() as cursor:
        raw = connection.connection
        if raw not in _prepared_on:
            cursor.execute(_PREPARE)
            _prepared_on.add(raw)
        cursor.execute(_EXECUTE, [fingerprint])
        return cursor.fetchone()


def _disease(values: list, db: str) -> SpecificDiseaseCertificate:
    # JSON carries dates as ISO text: each field parses its own (to_python), as a form would.
    converted = [field.to_python(value) for field, value in zip(_DISEASE_FIELDS, values, strict=True)]
    return SpecificDiseaseCertificate.from_db(db, [field.attname for field in _DISEASE_FIELDS], converted)


def _find_certificate_orm(fingerprint: str) -> CertificateRow | None:
    """Other databases (the embedded SQLite has no LATERAL join): the same answer in two ORM queries."""
    certificate = CardCertificate.objects.select_related("person").filter(fingerprint=fingerprint).first()
    if certificate is None:
        return None
    return CertificateRow(certificate, certificate.person.current_qualification())


def find_certificate(fingerprint: str) -> CertificateRow | None:
    """The roster's certificate with this SHA-256 fingerprint, its holder and current qualification; or None."""
    db = router.db_for_read(CardCertificate)
    if connections[db].vendor != "postgresql":
        return _find_certificate_orm(fingerprint)
    row = _fetch_row_postgresql(db, fingerprint)
    if row is None:
        return None
    instances: list[Model | None] = []
    start = 0
    for model, fields in _PARTS:
        values = row[start : start + len(fields)]
        start += len(fields)
        # A LEFT JOIN that found nothing gives a NULL primary key (every part has its pk among its fields).
        pk_index = fields.index(model._meta.pk)
        instances.append(None if values[pk_index] is None else model.from_db(db, [f.attname for f in fields], values))
    certificate, person, qualification, insurer, office = instances
    CardCertificate.person.field.set_cached_value(certificate, person)
    if qualification is not None:
        diseases = [_disease(values, db) for values in row[start] or ()]
        qualification.has_specific_diseases = bool(diseases)
        qualification.loaded_specific_diseases = diseases  # read by results.qualification_block
        Qualification.person.field.set_cached_value(qualification, person)
        Qualification.insurer.field.set_cached_value(qualification, insurer)
        Qualification.public_assistance_office.field.set_cached_value(qualification, office)
    return CertificateRow(certificate, qualification)
