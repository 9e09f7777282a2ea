"""S06: the migration that introduced encryption at rest encrypts the documents already stored, and reverses."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from server.results import crypto
from server.results.models import CheckResult
from tests.server import factories

BEFORE = [("results", "0001_initial")]
AFTER = [("results", "0002_encrypted_documents_exports")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_documents_are_encrypted_by_the_migration(terminal):
    from server.devices.models import Device

    device = Device.objects.get(pk=terminal.device_id)
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("results")
    old_apps = migrate(BEFORE)
    try:
        OldResult = old_apps.get_model("results", "CheckResult")
        document = factories.result_document(name="移行 次郎")
        result_id = uuid.uuid4()
        OldResult.objects.create(
            id=result_id,
            institution_id=device.institution_id,
            device_id=device.pk,
            checked_at=datetime.datetime.now(datetime.UTC),
            name="移行 次郎",
            is_valid=True,
            qualification_validity="1",
            document=document,
            content_hash="0" * 64,
        )
        after_apps = migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT document_encrypted FROM results_checkresult WHERE id = %s", [result_id])
            assert "移行 次郎".encode() not in bytes(cursor.fetchone()[0])
        row = after_apps.get_model("results", "CheckResult").objects.get(pk=result_id)
        assert crypto.decrypt_document(row.document_encrypted, row.id, row.key_id) == document
        back_apps = migrate(BEFORE)
        assert back_apps.get_model("results", "CheckResult").objects.get(pk=result_id).document == document
    finally:
        migrate(leaf)


SEALED_BEFORE = [("results", "0006_export_options")]


@pytest.mark.django_db(transaction=True)
def test_names_kana_and_insurer_numbers_leave_the_clear_columns(terminal):
    """Issue 15 point 1: migration 0007 seals the clear 氏名, カナ and 保険者番号 of existing rows into the encrypted
    summary and the blind index, drops the columns, and the name search finds the rows; the reverse restores them."""
    from server.devices.models import Device
    from server.results.queries import matching_name

    device = Device.objects.get(pk=terminal.device_id)
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("results")
    old_apps = migrate(SEALED_BEFORE)
    try:
        OldResult = old_apps.get_model("results", "CheckResult")
        item = factories.batch_item(name="移行 次郎", name_kana="イコウ ジロウ")
        key_id, blob = crypto.encrypt_document(item["result"], uuid.UUID(item["id"]))
        OldResult.objects.create(
            id=item["id"], institution_id=device.institution_id, device_id=device.pk,
            checked_at=item["checked_at"], name="移行 次郎", name_kana="イコウ ジロウ", insurer_number="06130012",
            is_valid=True, qualification_validity="1", document_encrypted=blob, key_id=key_id, content_hash="0" * 64,
        )  # fmt: skip
        migrate(leaf)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM results_checkresult WHERE id = %s", [item["id"]])
            columns = [c.name for c in cursor.description]
            raw = repr(cursor.fetchone())
        assert not {"name", "name_kana", "insurer_number"} & set(columns)
        assert "移行" not in raw and "イコウ" not in raw and "06130012" not in raw
        row = CheckResult.objects.get(pk=item["id"])
        assert (row.name, row.name_kana, row.insurer_number) == ("移行 次郎", "イコウ ジロウ", "06130012")
        results = CheckResult.objects.filter(institution_id=device.institution_id)
        assert list(matching_name(results, "いこう").values_list("id", flat=True)) == [row.id]
        back = migrate(SEALED_BEFORE).get_model("results", "CheckResult").objects.get(pk=item["id"])
        assert (back.name, back.name_kana, back.insurer_number) == ("移行 次郎", "イコウ ジロウ", "06130012")
    finally:
        migrate(leaf)
