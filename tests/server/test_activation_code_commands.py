"""S01 on the command line: list and revoke activation codes; the revoked code then fails registration."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contracts import signing
from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code
from tests.server.conftest import registration_body

pytestmark = pytest.mark.django_db


def run(*args: str, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_list_and_revoke(api_client, institution, other_institution, account):
    code, row = do_issue_activation_code(institution, device_name="受付2", actor=Actor.cli("pytest"))
    _, foreign = do_issue_activation_code(other_institution, actor=Actor.cli("pytest"))
    listed = run("list_activation_codes", institution=institution.code)
    assert f"{row.pk}\tvalid\t受付2" in listed and code not in listed
    assert [line.split("\t")[0] for line in listed.splitlines()] == [str(row.pk)]  # not the foreign code

    with pytest.raises(CommandError):  # a code of another institution is not found under this one
        run("revoke_activation_code", str(foreign.pk), institution=institution.code)
    assert "無効化しました" in run("revoke_activation_code", str(row.pk), institution=institution.code, by="it")
    assert run("list_activation_codes", institution=institution.code) == ""
    assert f"{row.pk}\trevoked" in run("list_activation_codes", "--all", institution=institution.code)
    event = AuditEvent.objects.get(action="activation_code_revoked")
    assert (event.actor_id, event.institution_id) == ("it", institution.pk)

    body = registration_body(institution, code, signing.generate_device_key())
    response = api_client.post("/api/v1/devices/register", body, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (410, "activation_code_revoked")
