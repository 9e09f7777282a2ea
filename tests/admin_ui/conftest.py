"""Fixtures of the console tests: two institutions with staff, devices and results, all made through the models."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from contracts.display import is_valid_qualification
from contracts.result_schema import validate_result
from server.common.actor import Actor

# Playwright's sync API runs an asyncio loop in this thread; Django's ORM would otherwise refuse to run (live_server
# fixtures and test setup share the thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Console#Pass1"

# Debian's Chromium, never ``playwright install``.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (Playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def closing_connections():
    yield
    # With Playwright's event loop running, Django keeps the ORM's connection in a context variable that outlives
    # the test otherwise; close it so the test database can be dropped.
    connections.close_all()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Sign-in failure counters live in the cache (this suite's own Redis db); each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_institution() -> Callable[..., Any]:
    from server.institutions.models import Institution

    def make(code: str, name: str) -> Institution:
        return Institution.objects.create(code=code, name=name)

    return make


@pytest.fixture
def clinic(make_institution):
    return make_institution("1311000010", "しかく整骨院")


@pytest.fixture
def other_clinic(make_institution):
    return make_institution("0110113719", "ほかの医院")


@pytest.fixture
def make_staff() -> Callable[..., Any]:
    from server.institutions.models import StaffMembership

    def make(username: str, institution: Any, role: str | tuple[str, ...] | None) -> Any:
        """``role``: one role code, several (a tuple), or None for a user without a membership."""
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        if role is not None:
            roles = (role,) if isinstance(role, str) else role
            StaffMembership.objects.create(user=user, institution=institution, **StaffMembership.role_fields(roles))
        return user

    return make


@pytest.fixture
def manager(make_staff, clinic):
    return make_staff("manager", clinic, "manager")


@pytest.fixture
def admin(make_staff, clinic):
    """The institution administrator (利用者管理) alone."""
    return make_staff("admin", clinic, ("admin",))


@pytest.fixture
def it_staff(make_staff, clinic):
    return make_staff("it", clinic, "it")


@pytest.fixture
def make_device() -> Callable[..., Any]:
    from server.devices.models import Device

    def make(institution: Any, name: str, **fields: Any) -> Device:
        defaults = {
            "public_key": base64.b64encode(os.urandom(32)).decode(),
            "app_version": "0.1.0",
            "os": "Windows 11",
            "reader_name": "ACS ACR1251 1S CL Reader PICC 0",
            "last_seen_at": timezone.now(),
        }
        return Device.objects.create(institution=institution, name=name, **{**defaults, **fields})

    return make


def result_document(
    institution_code: str, checked_at: dt.datetime, name: str, name_kana: str, validity: str
) -> dict[str, Any]:
    """A schema-valid synthetic qualification result (the shape the sandbox answers with)."""
    local = timezone.localtime(checked_at)
    document = {
        "schema_version": "1",
        "reference_number": "1234567890000001",
        "qualification_confirmation_date": local.date().isoformat(),
        "processing_execution_time": local.isoformat(timespec="seconds"),
        "medical_institution_code": institution_code,
        "reference_classification": "1",
        "processing_result_status": "1",
        "processing_result_code": None,
        "processing_result_message": None,
        "qualification_validity": validity,
        "identity_verification": "pin",
        "certificate_status": "valid",
        "result_of_qualification_confirmation": {
            "insured_card_classification": "01",
            "insurer_number": "12345678",
            "insurer_name": "限定資格保険組合",
            "insured_card_symbol": "1234",
            "insured_identification_number": "12345678",
            "insured_branch_number": "02",
            "personal_family_classification": "1",
            "insured_name": name,
            "name": name,
            "name_kana": name_kana,
            "sex1": "1",
            "birthdate": "1980-04-01",
            "qualification_date": "2023-04-01",
            "insured_card_valid_date": "2023-04-01",
            "insured_card_expiration_date": "2027-03-31",
            "insured_partial_contribution_ratio": "010",
        },
    }
    validate_result(document)
    return document


@pytest.fixture
def make_result() -> Callable[..., Any]:
    from server.results.models import CheckResult

    def make(
        device: Any,
        name: str,
        name_kana: str,
        *,
        validity: str = "1",
        checked_at: dt.datetime | None = None,
        document: dict[str, Any] | None = None,
    ) -> CheckResult:
        """``document``: a whole qualification result to store instead of the synthetic one (its validity wins)."""
        checked_at = checked_at or timezone.now()
        if document is None:
            document = result_document(device.institution.code, checked_at, name, name_kana, validity)
        validity = document["qualification_validity"]
        canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return CheckResult.objects.create(
            id=uuid.uuid4(),
            institution=device.institution,
            device=device,
            checked_at=checked_at,
            is_valid=is_valid_qualification(validity),
            qualification_validity=validity,
            identity_verification="pin",
            document=document,
            content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        )

    return make


ACCOUNT_PASSWORD = "Clinic#Pass1"


@pytest.fixture
def make_account() -> Callable[..., Any]:
    """An app account made the way the command line does (do_create_app_account)."""
    from server.institutions.actions import do_create_app_account

    def make(institution: Any, account_id: str, **fields: Any) -> Any:
        account = do_create_app_account(institution, account_id, ACCOUNT_PASSWORD, actor=Actor.cli("pytest"))
        if fields:
            for name, value in fields.items():
                setattr(account, name, value)
            account.save(update_fields=list(fields))
        return account

    return make


def csv_rows(response: Any) -> list[list[str]]:
    """The rows of a streamed CSV download (BOM checked and removed)."""
    import csv
    import io

    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode()), "the CSV starts with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8")[1:])))
