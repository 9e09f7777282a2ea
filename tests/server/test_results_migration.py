"""S06: the migration that introduced encryption at rest encrypts the documents already stored, and reverses."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

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
        migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT document_encrypted FROM results_checkresult WHERE id = %s", [result_id])
            assert "移行 次郎".encode() not in bytes(cursor.fetchone()[0])
        assert CheckResult.objects.get(pk=result_id).document == document
        back_apps = migrate(BEFORE)
        assert back_apps.get_model("results", "CheckResult").objects.get(pk=result_id).document == document
    finally:
        migrate(leaf)
