"""Run by test_ops_upgrade.py in its own process, on a scratch database (DATABASE_URL): migrate to the previous
release's schema (deploy/schema-previous.json), write data with that schema's historical models, migrate to head,
then read the data back through the current code and the signed API. Prints one JSON line of what it saw."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path

import django

django.setup()

from django.db import connection  # noqa: E402 - after setup
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.test import Client  # noqa: E402

from contracts import signing  # noqa: E402
from server.results import crypto  # noqa: E402
from server.results.actions import content_hash  # noqa: E402
from tests.server import factories  # noqa: E402

PREVIOUS = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "schema-previous.json").read_text())


def seed(apps, key) -> dict:  # noqa: ANN001 - historical app registry and an Ed25519 key
    Institution = apps.get_model("institutions", "Institution")
    Device = apps.get_model("devices", "Device")
    CheckResult = apps.get_model("results", "CheckResult")
    institution = Institution.objects.create(code=factories.institution_code(), name="しかく整骨院")
    device = Device.objects.create(
        id=uuid.uuid4(), institution=institution, name="受付1", public_key=signing.public_key_b64(key),
        status="active", registered_at=dt.datetime.now(dt.UTC),
    )
    ids = []
    for name, kana in (("資格 太郎", "シカク タロウ"), ("保険 花子", "ホケン ハナコ")):
        item = factories.batch_item(name=name, name_kana=kana, institution=institution.code)
        checked_at = dt.datetime.fromisoformat(item["checked_at"])
        row_id = uuid.UUID(item["id"])
        key_id, blob = crypto.encrypt_document(item["result"], row_id)
        CheckResult.objects.create(
            id=row_id, institution=institution, device=device, checked_at=checked_at, name=name, name_kana=kana,
            is_valid=True, qualification_validity="1", insurer_number=item["result"][
                "result_of_qualification_confirmation"]["insurer_number"], identity_verification="pin",
            document_encrypted=blob, key_id=key_id, content_hash=content_hash(checked_at, item["result"]),
        )
        ids.append(str(row_id))
    return {"device_id": str(device.id), "results": ids}


def signed_get(client: Client, path: str, key, device_id: str, params: str = "") -> dict:  # noqa: ANN001
    url = f"http://testserver{path}{'?' + params if params else ''}"
    headers = signing.sign_request("GET", url, {}, b"", key, device_id)
    response = client.get(f"{path}{'?' + params if params else ''}", headers=headers)
    return {"status": response.status_code, "body": response.json()}


def main() -> None:
    executor = MigrationExecutor(connection)
    previous = [(app, name) for app, name in PREVIOUS["migrations"].items()]
    executor.migrate(previous)
    executor.loader.build_graph()
    old_apps = executor.loader.project_state(previous).apps
    key = signing.generate_device_key()
    seeded = seed(old_apps, key)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())

    client = Client()
    listed = signed_get(client, "/api/v1/results", key, seeded["device_id"], "scope=institution")
    detail = signed_get(client, f"/api/v1/results/{seeded['results'][1]}", key, seeded["device_id"])
    print(json.dumps({
        "pending": len(pending),
        "seeded": seeded["results"],
        "listed_status": listed["status"],
        "listed": [row["id"] for row in listed["body"].get("results", [])],
        "detail_status": detail["status"],
        "detail_name": detail["body"].get("result", {}).get("result_of_qualification_confirmation", {}).get("name"),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
    sys.exit(0)
