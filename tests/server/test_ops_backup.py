"""manage.py backup / restore (issue 16, point 4): seed, check, back up, restore onto nothing (a dropped or new
database) and onto a damaged one; the results decrypt and the all-terminal search returns them, served by a fresh
gunicorn on the restored database with the terminals' own keys. Scratch databases only, dropped afterwards."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys

import httpx
import psycopg
import pytest
from django.core.management import call_command
from psycopg import sql

from contracts.signing import DeviceSignatureAuth
from server.sandbox.ca import get_ca
from tests.processes import ROOT, database_url, gunicorn
from tests.server import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scratch_database():
    name = f"myna_ops_restore_{os.getpid()}"
    admin = psycopg.connect(database_url("postgres"), autocommit=True)

    def drop() -> None:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    drop()
    yield name
    drop()
    admin.close()


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update({"DJANGO_SETTINGS_MODULE": "server.settings.test", **env})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def database_exists(name: str) -> bool:
    with psycopg.connect(database_url("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_backup_then_restore_brings_back_readable_results(terminal, second_terminal, tmp_path, scratch_database,
                                                          settings):
    settings.SANDBOX_CA_DIR = tmp_path / "sandbox-ca"
    get_ca()  # the sandbox CA exists, as on a server that has issued cards
    mine = terminal.push([factories.batch_item(), factories.batch_item(name="保険 花子", name_kana="ホケン ハナコ")])
    theirs = second_terminal.push([factories.batch_item(name="診察 次郎", name_kana="シンサツ ジロウ")])

    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["result_encryption"]["key_ids_in_use"] == ["dev"]
    key = settings.RESULT_ENCRYPTION_KEYS["dev"].encode()
    assert all(key not in path.read_bytes() for path in backup.iterdir())  # ids only, never the key

    restored_ca = tmp_path / "restored-ca"
    env = {"DATABASE_URL": database_url(scratch_database), "SANDBOX_CA_DIR": str(restored_ca)}

    # Without the key the rows are sealed with, restore refuses before touching anything.
    refused = manage("restore", str(backup), **env, RESULT_ENCRYPTION_KEYS="k2099:" + "A" * 43 + "=")
    assert refused.returncode != 0 and "dev" in refused.stderr
    assert not database_exists(scratch_database)

    # Onto nothing (the database was dropped, or this is a new machine): created, then filled.
    done = manage("restore", str(backup), **env)
    assert done.returncode == 0, done.stderr
    assert filecmp.dircmp(settings.SANDBOX_CA_DIR, restored_ca).diff_files == []
    assert sorted(p.name for p in restored_ca.iterdir()) == sorted(p.name for p in settings.SANDBOX_CA_DIR.iterdir())

    # Onto a damaged copy: replaced by the backup's contents.
    with psycopg.connect(database_url(scratch_database)) as conn:
        conn.execute("DELETE FROM results_checkresult")
    again = manage("restore", str(backup), **env)
    assert again.returncode == 0, again.stderr

    with gunicorn({**os.environ, "DJANGO_SETTINGS_MODULE": "server.settings.test", **env}) as url:
        auth = DeviceSignatureAuth(terminal.key, terminal.device_id)
        listed = httpx.get(url + "/api/v1/results", params={"scope": "institution"}, auth=auth)
        assert listed.status_code == 200, listed.text
        ids = {row["id"] for row in listed.json()["results"]}
        assert ids == {item["id"] for item in mine + theirs}
        detail = httpx.get(f"{url}/api/v1/results/{theirs[0]['id']}", auth=auth)
    assert detail.status_code == 200, detail.text
    assert detail.json()["result"]["result_of_qualification_confirmation"]["name"] == "診察 次郎"
