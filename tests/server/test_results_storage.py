"""S06 storage: the full result is encrypted at rest (AES-GCM, key id per row, row id as associated data) and keys
rotate with `reencrypt_results`; only list/filter columns are in clear."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from server.results import crypto
from server.results.exports import do_build_export, export_content
from server.results.models import CheckResult, ResultExport
from tests.server import factories

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
NEW_KEY = base64.b64encode(b"\x42" * 32).decode()


def raw_row(result_id: str) -> tuple[bytes, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT document_encrypted, key_id FROM results_checkresult WHERE id = %s", [result_id])
        blob, key_id = cursor.fetchone()
    return bytes(blob), key_id


def test_the_document_is_not_stored_in_clear(terminal, settings):
    item = terminal.push([factories.batch_item(name="暗号 花子", name_kana="アンゴウ ハナコ")])[0]
    blob, key_id = raw_row(item["id"])
    assert key_id == settings.RESULT_ENCRYPTION_KEY_ID
    for secret in ("暗号 花子", "1980-04-01", item["result"]["reference_number"]):
        assert secret.encode("utf-8") not in blob
    assert b"birthdate" not in blob
    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'results_checkresult'")
        columns = {row[0] for row in cursor.fetchall()}
    assert "document" not in columns
    # Only what lists and filters need is in clear.
    row = CheckResult.objects.get(pk=item["id"])
    assert (row.name, row.name_kana, row.is_valid) == ("暗号 花子", "アンゴウ ハナコ", True)
    assert row.document == item["result"]


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(terminal):
    first, second = terminal.push([factories.batch_item(), factories.batch_item()])
    blob, key_id = raw_row(first["id"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE results_checkresult SET document_encrypted = %s WHERE id = %s", [blob, second["id"]])
    with pytest.raises(crypto.DocumentDecryptionError):
        _ = CheckResult.objects.get(pk=second["id"]).document
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE results_checkresult SET document_encrypted = %s WHERE id = %s", [tampered, first["id"]])
    with pytest.raises(crypto.DocumentDecryptionError):
        _ = CheckResult.objects.get(pk=first["id"]).document


def test_rows_created_through_the_model_are_encrypted_too(terminal):
    from server.devices.models import Device

    device = Device.objects.get(pk=terminal.device_id)
    item = factories.batch_item()
    row = CheckResult.objects.create(
        id=item["id"],
        institution=device.institution,
        device=device,
        checked_at=item["checked_at"],
        is_valid=True,
        qualification_validity="1",
        document=item["result"],
        content_hash="x" * 64,
    )
    blob, key_id = raw_row(item["id"])
    assert key_id and "資格 太郎".encode() not in blob
    assert CheckResult.objects.get(pk=row.pk).document == item["result"]


def test_reencrypt_results_rotates_every_row_and_resumes(terminal, settings):
    items = terminal.push([factories.batch_item() for _ in range(7)])
    old_key_id = settings.RESULT_ENCRYPTION_KEY_ID
    export_id = terminal.call("POST", "/api/v1/results/exports", {"scope": "device"}).json()["export_id"]
    assert do_build_export(export_id) == "done"
    csv_before = export_content(ResultExport.objects.get(pk=export_id))
    settings.RESULT_ENCRYPTION_KEYS = {**settings.RESULT_ENCRYPTION_KEYS, "k2027": NEW_KEY}
    # An interrupted run: one batch of 3 only, then the command finishes the rest.
    from server.results.actions import do_reencrypt_results

    changed, _ = do_reencrypt_results("k2027", batch_size=3)
    assert changed == 3
    assert CheckResult.objects.filter(key_id="k2027").count() == 3
    call_command("reencrypt_results", "--to", "k2027", "--batch-size", "2", stdout=io.StringIO())
    assert set(CheckResult.objects.values_list("key_id", flat=True)) == {"k2027"}
    # The old key can go: every document still reads, now under the new one.
    settings.RESULT_ENCRYPTION_KEYS = {"k2027": NEW_KEY}
    settings.RESULT_ENCRYPTION_KEY_ID = "k2027"
    for item in items:
        assert CheckResult.objects.get(pk=item["id"]).document == item["result"]
    assert old_key_id != "k2027"
    export = ResultExport.objects.get(pk=export_id)
    assert export.key_id == "k2027" and export_content(export) == csv_before
    # Rerunning is a no-op.
    call_command("reencrypt_results", "--to", "k2027", stdout=io.StringIO())
    assert CheckResult.objects.filter(key_id="k2027").count() == 7


def test_reencrypt_to_an_unknown_key_changes_nothing(terminal, settings):
    terminal.push([factories.batch_item()])
    with pytest.raises(CommandError, match="not in RESULT_ENCRYPTION_KEYS"):
        call_command("reencrypt_results", "--to", "nope")
    assert set(CheckResult.objects.values_list("key_id", flat=True)) == {settings.RESULT_ENCRYPTION_KEY_ID}


def test_keys_come_from_the_environment_and_production_requires_them():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.pop("RESULT_ENCRYPTION_KEYS", None)
    code = "import django; django.setup(); from django.conf import settings; print(settings.RESULT_ENCRYPTION_KEY_ID)"
    production = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "server.settings.production", "DJANGO_SECRET_KEY": "s" * 60},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert production.returncode != 0 and "RESULT_ENCRYPTION_KEYS must be set" in production.stderr
    configured = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "server.settings.production",
            "DJANGO_SECRET_KEY": "s" * 60,
            "RESULT_ENCRYPTION_KEYS": f"k2026:{NEW_KEY},k2027:{NEW_KEY}",
            "RESULT_ENCRYPTION_KEY_ID": "k2027",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.strip() == "k2027"


def test_a_bad_key_is_refused():
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    short_key = {"short": base64.b64encode(b"x" * 16).decode()}
    with override_settings(RESULT_ENCRYPTION_KEYS=short_key), pytest.raises(ImproperlyConfigured, match="32 bytes"):
        crypto.encrypt_document({}, "id", "short")
