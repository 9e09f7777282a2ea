"""S01: the management commands and actions the lead's seed_demo relies on; the T09 password rule."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from server.audit.models import AppendOnlyError, AuditEvent
from server.common.actor import Actor
from server.devices.actions import hash_activation_code
from server.devices.models import ActivationCode
from server.institutions.actions import do_create_staff_user, password_rule_errors
from server.institutions.models import AppAccount, Institution, StaffMembership
from tests.server import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_create_institution_checks_the_check_digit():
    code = factories.institution_code()
    assert code in run("create_institution", "--code", code, "--name", "しかく整骨院")
    assert Institution.objects.get(code=code).name == "しかく整骨院"
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(CommandError, match="機関コード"):
        run("create_institution", "--code", wrong, "--name", "x")
    with pytest.raises(CommandError, match="既に登録"):
        run("create_institution", "--code", code, "--name", "x")


@pytest.mark.parametrize(
    "password",
    [
        "Short#1",
        "Abcdefg#12345678901234",
        "alllower#123",
        "ALLUPPER#123",
        "NoDigits#abc",
        "NoSymbol123a",
        "Space #Pass1",
        "全角#Pass1",
    ],
)
def test_password_rule_refuses(password):
    assert password_rule_errors(password)


@pytest.mark.parametrize("password", ["Demo#Pass1", "aB3`~!@$%^&*_{}", "Xy9(|)/?-,.;:'<>[]"[:20]])
def test_password_rule_accepts(password):
    assert password_rule_errors(password) == []


def test_create_app_account_enforces_the_rule(institution):
    with pytest.raises(CommandError, match="8〜20文字"):
        run("create_app_account", "--institution", institution.code, "--account-id", "a", "--password", "weak")
    run(
        "create_app_account",
        "--institution",
        institution.code,
        "--account-id",
        "clinic-admin",
        "--password",
        "Demo#Pass1",
    )
    account = AppAccount.objects.get(institution=institution, account_id="clinic-admin")
    assert account.check_password("Demo#Pass1") and not account.check_password("Demo#Pass2")
    assert "Demo#Pass1" not in account.password
    with pytest.raises(CommandError, match="既に使われて"):
        run(
            "create_app_account",
            "--institution",
            institution.code,
            "--account-id",
            "clinic-admin",
            "--password",
            "Demo#Pass1",
        )


def test_issue_activation_code_prints_the_code_once(institution):
    code = run(
        "issue_activation_code", "--institution", institution.code, "--device-name", "受付2", "--ttl-hours", "2"
    ).strip()
    assert len(code) == 12 and code.isdigit()
    stored = ActivationCode.objects.get()
    assert stored.code_hash == hash_activation_code(code) and stored.device_name == "受付2"
    assert 7100 < (stored.expires_at - stored.created_at).total_seconds() <= 7200
    with pytest.raises(CommandError):
        run("issue_activation_code", "--institution", "0000000000")


def test_staff_user(institution):
    user = do_create_staff_user(institution, "manager", "Demo#Pass1", "manager", actor=Actor.cli("pytest"))
    assert user.check_password("Demo#Pass1")
    assert StaffMembership.objects.get(user=user).roles == ("manager",)


def test_audit_events_are_append_only(institution):
    event = AuditEvent.objects.filter(action="institution_created").get()
    event.detail = {"changed": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_openapi_schema_documents_the_device_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/devices/register",
        "/api/v1/devices/me",
        "/api/v1/results/batch",
        "/api/v1/results/{result_id}",
    ):
        assert path in text
    for code in ("activation_code_used", "account_locked", "replayed_request", "device_retired", "period_out_of_range"):
        assert code in text


def test_seed_demo_names_the_codes_it_issues(tmp_path, settings):
    """make demo's tablets arrive as 受付1, 受付2, … (A02: the name set with the code wins), never all as their host
    name; seeding again picks names no tablet and no pending code has."""
    settings.DATA_DIR = tmp_path
    codes_file = tmp_path / "codes.txt"
    args = ("seed_demo", "--card-dir", str(tmp_path / "cards"), "--codes-file", str(codes_file))
    first = run(*args)
    assert sorted(ActivationCode.objects.values_list("device_name", flat=True)) == ["受付1", "受付2", "受付3"]
    assert "(受付1)" in first and all(line.strip() for line in codes_file.read_text().splitlines())
    run(*args, "--codes", "1")
    assert ActivationCode.objects.order_by("-pk").first().device_name == "受付4"
