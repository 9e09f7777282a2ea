"""Writes of the devices app: activation codes, registration (S02), deregistration and retirement (S04)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import Throttled

from contracts import signing
from server.audit.actions import record_event
from server.common.actor import Actor
from server.common.errors import ApiError
from server.devices import ratelimit
from server.devices.models import ActivationCode, Device
from server.institutions.actions import check_account_credentials
from server.institutions.models import AppAccount, Institution

CODE_DIGITS = 12
LAST_SEEN_GRANULARITY = datetime.timedelta(minutes=1)  # last_seen_at is kept to the minute: one write per minute


def hash_activation_code(code: str) -> str:
    """HMAC-SHA256 keyed with ACTIVATION_CODE_PEPPER: a leaked table does not give the codes back."""
    return hmac.new(settings.ACTIVATION_CODE_PEPPER.encode(), code.encode(), hashlib.sha256).hexdigest()


NAME_TAKEN = "この端末名は既に使われています。ほかの端末と区別できる名前を入力してください。"


def device_name_taken(institution: Institution, name: str, *, exclude: Any = None) -> bool:
    """A02: names are unique within an institution (retired devices keep theirs), and a valid activation code's
    preset name is reserved for the tablet that will use it."""
    if Device.objects.filter(institution=institution, name=name).exclude(pk=exclude).exists():
        return True
    pending = ActivationCode.objects.filter(
        institution=institution, device_name=name, used_at__isnull=True, revoked_at__isnull=True
    )
    return pending.filter(expires_at__gt=timezone.now()).exists()


def _free_name(institution: Institution, wanted: str) -> str:
    """``wanted``, or ``wanted (2)``, ``wanted (3)``… where it is taken by another device (registration never fails
    over a name: two tablets both called 「vm」 by their host name arrive as 「vm」 and 「vm (2)」)."""
    base = (wanted.strip() or "端末")[:100]
    taken = set(Device.objects.filter(institution=institution, name__startswith=base[:90]).values_list("name", flat=True))
    if base not in taken:
        return base
    for number in itertools.count(2):
        suffix = f" ({number})"
        candidate = base[: 100 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")


def _ttl(ttl: datetime.timedelta | int | None) -> datetime.timedelta:
    if ttl is None:
        return datetime.timedelta(hours=settings.ACTIVATION_CODE_TTL_HOURS)
    if isinstance(ttl, datetime.timedelta):
        return ttl
    return datetime.timedelta(hours=int(ttl))


def do_issue_activation_code(
    institution: Institution,
    device_name: str | None = None,
    ttl: datetime.timedelta | int | None = None,
    *,
    actor: Actor,
) -> tuple[str, ActivationCode]:
    """Issue a 12-digit single-use code; the plain code is returned once and never stored. ``ttl``: hours or a delta.

    A preset ``device_name`` must be free in the institution (ValidationError on ``device_name`` otherwise): the
    tablet registered with this code gets exactly that name.
    """
    device_name = (device_name or "").strip()
    if device_name and device_name_taken(institution, device_name):
        raise ValidationError({"device_name": [NAME_TAKEN]})
    now = timezone.now()
    for _ in range(5):  # a collision among 10^12 codes is unlikely; retry rather than fail
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        try:
            with transaction.atomic():
                obj = ActivationCode.objects.create(
                    code_hash=hash_activation_code(code),
                    institution=institution,
                    device_name=device_name or "",
                    created_by=actor.id,
                    created_at=now,
                    expires_at=now + _ttl(ttl),
                )
        except IntegrityError:
            continue
        record_event(
            "activation_code_issued",
            actor,
            institution=institution,
            objects=[f"activation_code:{obj.pk}"],
            detail={"expires_at": obj.expires_at.isoformat(), "device_name": obj.device_name},
        )
        return code, obj
    raise RuntimeError("could not issue a unique activation code")


def do_revoke_activation_code(code: ActivationCode, *, actor: Actor) -> ActivationCode:
    if code.used_at is None and code.revoked_at is None:
        code.revoked_at = timezone.now()
        code.save(update_fields=["revoked_at"])
        record_event(
            "activation_code_revoked",
            actor,
            institution=code.institution,
            objects=[f"activation_code:{code.pk}"],
        )
    return code


@dataclass
class Registration:
    institution_code: str
    account_id: str
    password: str
    activation_code: str
    public_key: str
    device_name: str = ""
    os: str = ""
    app_version: str = ""
    reader_name: str = ""


def _code_error(code: ActivationCode | None, institution: Institution, now: datetime.datetime) -> ApiError | None:
    if code is None or code.institution_id != institution.pk:
        return ApiError("activation_code_invalid", "アクティベーションコードが正しくありません。", 400)
    if code.used_at is not None:
        return ApiError("activation_code_used", "このアクティベーションコードは既に使用されています。", 409)
    if code.revoked_at is not None:
        return ApiError("activation_code_revoked", "このアクティベーションコードは無効化されています。", 410)
    if code.expires_at <= now:
        return ApiError(
            "activation_code_expired",
            "アクティベーションコードの有効期限が切れています。管理者に新しいコードの発行を依頼してください。",
            410,
        )
    return None


def check_registration_rate(registration: Registration, *, actor: Actor) -> None:
    """Bound activation-code (and password) guessing: attempts per client IP, then per institution code, per hour.

    Raises Throttled (429 ``rate_limited`` with Retry-After). The first refusal of a window is audited, the rest
    are not, so that a flood cannot flood the audit trail too.
    """
    limits = (
        ("register-ip", actor.ip or "unknown", settings.REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR),
        (
            "register-institution",
            registration.institution_code,
            settings.REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR,
        ),
    )
    for scope, key, limit in limits:
        hit = ratelimit.hit(scope, key, limit)
        if not hit.exceeded:
            continue
        if hit.count == limit + 1:
            record_event(
                "device_registration_rate_limited",
                actor,
                institution=Institution.objects.filter(code=registration.institution_code).first(),
                detail={"scope": scope, "limit_per_hour": limit, "institution_code": registration.institution_code},
            )
        raise Throttled(wait=hit.retry_after)


def do_register_device(registration: Registration, *, actor: Actor) -> Device:
    """Register a terminal; raises ApiError with the contract's code, and then nothing has been created.
    ``actor``: the app account of the registration (``Actor.as_account``).

    One transaction; the account and the code rows are locked (account first, always) so that two registrations
    racing for one code cannot both win. A wrong password is counted even though the call fails.
    """
    check_registration_rate(registration, actor=actor)
    try:
        signing.load_public_key(registration.public_key)
    except ValueError:
        raise ApiError(
            "validation_error",
            "入力内容に誤りがあります。",
            400,
            {"public_key": ["公開鍵はEd25519の32バイトをbase64で指定してください。"]},
        ) from None
    now = timezone.now()
    error: ApiError | None = None
    with transaction.atomic():
        institution = Institution.objects.filter(code=registration.institution_code).first()
        account = (
            AppAccount.objects.select_for_update()
            .filter(institution=institution, account_id=registration.account_id)
            .first()
            if institution
            else None
        )
        error = check_account_credentials(account, registration.password, actor=actor, now=now)
        if error is None:
            code = (
                ActivationCode.objects.select_for_update()
                .filter(code_hash=hash_activation_code(registration.activation_code))
                .first()
            )
            error = _code_error(code, institution, now)
        if error is None:
            # The name IT set with the code wins over the one the terminal proposes (its host name, e.g. 「vm」).
            device = _create_device(
                institution,
                code.device_name or registration.device_name,
                public_key=registration.public_key,
                status=Device.STATUS_ACTIVE,
                registered_at=now,
                last_seen_at=now,
                app_version=registration.app_version,
                os=registration.os,
                reader_name=registration.reader_name,
                registered_by_account=account.account_id,
            )
            code.used_at = now
            code.used_by_device = device
            code.save(update_fields=["used_at", "used_by_device"])
            record_event(
                "device_registered",
                actor,
                institution=institution,
                device=device,
                objects=[str(device.pk), f"activation_code:{code.pk}"],
                detail={
                    "device_name": device.name,
                    "os": device.os,
                    "app_version": device.app_version,
                    "reader_name": device.reader_name,
                },
            )
            return device
    # Outside the block: the failed-attempt counter above is committed, nothing else was written.
    record_event(
        "device_registration_refused",
        actor,
        institution=institution if account is not None else None,
        detail={"code": error.code, "institution_code": registration.institution_code[:20]},
    )
    raise error


def _create_device(institution: Institution, wanted_name: str, **fields: Any) -> Device:
    """Insert a device under a free name; a name taken meanwhile by a concurrent registration moves on to the next."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return Device.objects.create(institution=institution, name=_free_name(institution, wanted_name), **fields)
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free device name")


def do_deregister_device(device: Device, *, actor: Actor) -> Device:
    """The terminal leaves by itself (T12). The record stays; its calls get device_deregistered from now on."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        if device.status == Device.STATUS_ACTIVE:
            device.status = Device.STATUS_DEREGISTERED
            device.deregistered_at = timezone.now()
            device.save(update_fields=["status", "deregistered_at"])
            record_event("device_deregistered", actor, device=device, objects=[str(device.pk)])
    return device


def do_retire_device(device: Device, reason: str, *, actor: Actor) -> Device:
    """Retirement from the console (A02) or the command line; ``actor.id`` is kept as who retired it."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        if device.status != Device.STATUS_RETIRED:
            device.status = Device.STATUS_RETIRED
            device.retired_at = timezone.now()
            device.retired_by = actor.id
            device.retired_reason = reason
            device.save(update_fields=["status", "retired_at", "retired_by", "retired_reason"])
            record_event(
                "device_retired",
                actor,
                institution=device.institution,
                device=device,
                objects=[str(device.pk)],
                detail={"reason": reason},
            )
    return device


def do_rename_device(device: Device, name: str, *, actor: Actor) -> Device:
    """Rename a device (A02); a name used by another device of the institution is a field error on ``name``."""
    old, name = device.name, name.strip()
    if device_name_taken(device.institution, name, exclude=device.pk):
        raise ValidationError({"name": [NAME_TAKEN]})
    device.name = name
    try:
        with transaction.atomic():
            device.save(update_fields=["name"])
    except IntegrityError:  # taken between the check and the update
        device.name = old
        raise ValidationError({"name": [NAME_TAKEN]}) from None
    record_event(
        "device_renamed",
        actor,
        institution=device.institution,
        device=device,
        objects=[str(device.pk)],
        detail={"from": old, "to": name},
    )
    return device


def do_record_heartbeat(
    device: Device, *, app_version: str | None = None, reader_name: str | None = None, actor: Actor
) -> Device:
    """S04 heartbeat: the device is alive; keep its app version and reader name current (one UPDATE)."""
    now = timezone.now()
    changes: dict[str, Any] = {}
    if app_version is not None and app_version != device.app_version:
        changes["app_version"] = app_version
    if reader_name is not None and reader_name != device.reader_name:
        changes["reader_name"] = reader_name
    was_offline = device.offline_since is not None
    # The signature check has just refreshed last_seen_at (to the minute): write only when there is news, so that
    # the periodic heartbeat of an unchanged terminal costs no database write.
    fresh = device.last_seen_at is not None and now - device.last_seen_at <= LAST_SEEN_GRANULARITY
    if changes or was_offline or not fresh:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now, offline_since=None, **changes)
    else:
        now = device.last_seen_at
    if changes:
        record_event(
            "device_updated",
            actor,
            device=device,
            objects=[str(device.pk)],
            detail={field: {"from": getattr(device, field), "to": value} for field, value in changes.items()},
        )
    for field, value in {"last_seen_at": now, "offline_since": None, **changes}.items():
        setattr(device, field, value)
    if was_offline:
        record_event("device_online", actor, device=device, objects=[str(device.pk)])
    return device


def note_device_seen(
    device: Device, *, actor: Actor, granularity: datetime.timedelta = LAST_SEEN_GRANULARITY
) -> None:
    """Any signed call: refresh last_seen_at at most once per ``granularity``; a device marked offline is back."""
    now = timezone.now()
    if device.offline_since is not None:
        # Only the call that actually clears offline_since records device_online (two workers may both see it set).
        back = Device.objects.filter(pk=device.pk, offline_since__isnull=False).update(
            last_seen_at=now, offline_since=None
        )
        device.last_seen_at, device.offline_since = now, None
        if back:
            record_event("device_online", actor, device=device, objects=[str(device.pk)])
    elif device.last_seen_at is None or now - device.last_seen_at > granularity:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now


def do_mark_silent_devices_offline(now: datetime.datetime | None = None, *, actor: Actor) -> list:
    """Mark active devices not heard from for DEVICE_OFFLINE_AFTER_MINUTES offline; returns their ids.

    ``offline_since`` is the last time the device was heard from. The UPDATE only touches rows still online and
    still silent, so a device that calls in while this runs is not marked, and two runs never mark one twice.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.DEVICE_OFFLINE_AFTER_MINUTES)
    silent = Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, registered_at__lt=cutoff)
    marked = []
    with transaction.atomic():
        candidates = (
            Device.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(silent, status=Device.STATUS_ACTIVE, offline_since__isnull=True)
            .select_related("institution")
        )
        devices = list(candidates)
        if devices:
            Device.objects.filter(pk__in=[d.pk for d in devices]).update(
                offline_since=Coalesce("last_seen_at", "registered_at")
            )
        for device in devices:
            record_event(
                "device_offline",
                actor,
                device=device,
                objects=[str(device.pk)],
                detail={"last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None},
            )
            marked.append(device.pk)
    return marked
