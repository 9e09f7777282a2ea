"""Writes of the sandbox app: small ``do_*`` functions (the views, the demo and the commands call only these)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from server.common.tasks import queue_after_commit
from server.sandbox.ca import fingerprint, get_ca
from server.sandbox.models import CardCertificate, InsuredPerson, RegistrationRequest


def do_record_card_certificate(
    person: InsuredPerson, cert: x509.Certificate, *, holder_kind: str = CardCertificate.HolderKind.CARD
) -> CardCertificate:
    """Record in the roster that ``cert`` (issued by the test CA) belongs to ``person``'s card or phone."""
    return CardCertificate.objects.create(
        person=person,
        holder_kind=holder_kind,
        serial=str(cert.serial_number),
        subject_cn=str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value),
        fingerprint=fingerprint(cert),
        der=cert.public_bytes(serialization.Encoding.DER),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def do_issue_card_certificate(
    person: InsuredPerson,
    *,
    holder_kind: str = CardCertificate.HolderKind.CARD,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> CardCertificate:
    """Issue a user-authentication certificate from the test CA to ``person``'s card or phone and record it."""
    _key, cert = get_ca().issue_card_certificate(not_before, not_after)
    return do_record_card_certificate(person, cert, holder_kind=holder_kind)


@transaction.atomic
def do_revoke_card_certificate(certificate: CardCertificate, when: dt.datetime | None = None) -> CardCertificate:
    """Revoke on the CA's CRL and in the roster (idempotent)."""
    when = when or timezone.now()
    get_ca().revoke(int(certificate.serial), when)
    if certificate.revoked_at is None:
        certificate.revoked_at = when
        certificate.save(update_fields=["revoked_at"])
    return certificate


def do_set_registration(person: InsuredPerson, registration: str) -> InsuredPerson:
    """Set the 保険証利用登録 state (registered / not_registered / processing / failed)."""
    if registration not in InsuredPerson.Registration.values:
        raise ValueError(f"unknown registration state {registration!r}")
    if person.registration != registration:
        person.registration = registration
        person.save(update_fields=["registration", "updated_at"])
    return person


def registration_delay_seconds() -> int:
    """How long the sandbox's 保険証利用登録 stays 処理中 (a worker runs it after this countdown)."""
    return int(settings.SANDBOX_REGISTRATION_DELAY_SECONDS)


@transaction.atomic
def do_request_registration(person: InsuredPerson, *, device_id: str | None = None) -> RegistrationRequest:
    """Start a 保険証利用登録: the person becomes 処理中 and the Celery task finishes it after the countdown."""
    request = RegistrationRequest.objects.create(person=person, device_id=device_id)
    do_set_registration(person, InsuredPerson.Registration.PROCESSING)
    queue_after_commit("sandbox.complete_registration", str(request.pk), countdown=registration_delay_seconds())
    return request


# A registration still 処理中 this long after its countdown lost its task (a killed worker, a restarted Redis).
REGISTRATION_STUCK_SECONDS = 120


def do_recover_stuck_registrations(now: dt.datetime | None = None) -> int:
    """Queue the completion of registrations again whose task never ran (issue 15 point 2); the task is idempotent,
    so a late original delivery finds the registration finished. Returns how many were queued."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=registration_delay_seconds() + REGISTRATION_STUCK_SECONDS)
    stuck = [
        str(pk)
        for pk in RegistrationRequest.objects.filter(
            status=RegistrationRequest.Status.PROCESSING, requested_at__lt=cutoff
        ).values_list("pk", flat=True)
    ]
    for request_id in stuck:
        queue_after_commit("sandbox.complete_registration", request_id)
    return len(stuck)


@transaction.atomic
def do_complete_registration(request_id: str) -> RegistrationRequest | None:
    """Finish a registration: 完了 (the card may be used as 保険証) or 失敗 for persons flagged to fail."""
    request = RegistrationRequest.objects.select_for_update().select_related("person").filter(pk=request_id).first()
    if request is None or request.status != RegistrationRequest.Status.PROCESSING:
        return request  # unknown, or already finished (a redelivered task is harmless)
    person = request.person
    failed = person.registration_fails
    request.status = RegistrationRequest.Status.FAILED if failed else RegistrationRequest.Status.COMPLETED
    request.finished_at = timezone.now()
    request.save(update_fields=["status", "finished_at"])
    do_set_registration(person, InsuredPerson.Registration.FAILED if failed else InsuredPerson.Registration.REGISTERED)
    return request
