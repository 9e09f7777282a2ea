"""Backup and restore of a clinic server (issue 16, point 4): ``manage.py backup DIR`` / ``manage.py restore DIR``.

A backup directory holds:

- ``database.dump`` — ``pg_dump --format=custom`` of the whole database (results stay AES-GCM sealed in it);
- ``sandbox-ca.tar.gz`` — the sandbox's test JPKI CA (``SANDBOX_CA_DIR``), which the database's card certificates
  chain to;
- ``manifest.json`` — when, which server version and schema, and the **ids** of the result-encryption keys the rows
  are sealed with. Never the keys: they live in ``RESULT_ENCRYPTION_KEYS`` (the environment / a secrets store) and
  are backed up apart from the dump, so that a stolen backup discloses no patient data.

``restore`` refuses to start unless every key id named in the manifest is configured, creates the target database
when it does not exist (after a lost disk), and replaces its contents with the dump (``pg_restore --clean``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from psycopg import sql

from server.ops.health import server_version

FORMAT = 1
DUMP = "database.dump"
CA_ARCHIVE = "sandbox-ca.tar.gz"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Database:
    name: str
    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_settings(cls, alias: str = "default") -> Database:
        db = settings.DATABASES[alias]
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise BackupError("backup and restore need PostgreSQL (the embedded SQLite default: copy its file)")
        return cls(db["NAME"], db.get("HOST") or "127.0.0.1", str(db.get("PORT") or 5432), db.get("USER") or "",
                   db.get("PASSWORD") or "")

    def client_args(self) -> list[str]:
        return ["--host", self.host, "--port", self.port, *(["--username", self.user] if self.user else [])]

    def client_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _run(args: list[str], database: Database) -> None:
    result = subprocess.run(args, env=database.client_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")


def key_ids_in_use() -> list[str]:
    """Every key id that sealed rows name: any model with a ``key_id`` column (results, exports, ...)."""
    used: set[str] = set()
    for model in apps.get_models():
        if any(field.name == "key_id" for field in model._meta.get_fields()):
            used.update(v for v in model.objects.values_list("key_id", flat=True).distinct() if v)
    return sorted(used)


def do_backup(directory: Path) -> dict[str, Any]:
    """Write a backup of this server into ``directory`` (created; must be empty). Returns the manifest."""
    database = Database.from_settings()
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give each backup a directory of its own")
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(directory / DUMP), *database.client_args(),
          database.name], database)
    ca_dir = Path(settings.SANDBOX_CA_DIR)
    if ca_dir.is_dir():
        with tarfile.open(directory / CA_ARCHIVE, "w:gz") as archive:
            archive.add(ca_dir, arcname="sandbox-ca")
    recorder = MigrationRecorder(connection)
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "server_version": server_version(),
        "database": database.name,
        "migrations": sorted(f"{app}.{name}" for app, name in recorder.applied_migrations()),
        "result_encryption": {
            "key_ids_in_use": key_ids_in_use(),
            "current_key_id": settings.RESULT_ENCRYPTION_KEY_ID,
            "note": "keys are not in this backup: restore needs RESULT_ENCRYPTION_KEYS with these ids",
        },
        "sandbox_ca": CA_ARCHIVE if ca_dir.is_dir() else None,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{directory} holds no {MANIFEST}: not a backup of this server") from None
    if manifest.get("format") != FORMAT or not (directory / DUMP).is_file():
        raise BackupError(f"{directory} is not a complete backup (format {FORMAT} with {DUMP})")
    return manifest


def missing_key_ids(manifest: dict[str, Any]) -> list[str]:
    needed = set(manifest["result_encryption"]["key_ids_in_use"])
    return sorted(needed - set(settings.RESULT_ENCRYPTION_KEYS))


def _ensure_database(database: Database) -> None:
    """CREATE DATABASE when it is missing (a new machine after the old disk died)."""
    maintenance = psycopg.connect(host=database.host, port=database.port, user=database.user or None,
                                  password=database.password or None, dbname="postgres", autocommit=True)
    with maintenance:
        exists = maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database.name]).fetchone()
        if not exists:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.name)))


def do_restore(directory: Path) -> dict[str, Any]:
    """Replace this server's database and sandbox CA with the backup in ``directory``. Returns its manifest."""
    manifest = read_manifest(directory)
    missing = missing_key_ids(manifest)
    if missing:
        raise BackupError(
            f"RESULT_ENCRYPTION_KEYS lacks the key id(s) {', '.join(missing)} that the backup's results are sealed "
            "with: configure them (from where the keys are kept) and run restore again"
        )
    database = Database.from_settings()
    connections.close_all()
    _ensure_database(database)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction",
          *database.client_args(), "--dbname", database.name, str(directory / DUMP)], database)
    if manifest.get("sandbox_ca"):
        ca_dir = Path(settings.SANDBOX_CA_DIR)
        if ca_dir.exists():
            shutil.rmtree(ca_dir)
        ca_dir.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(directory / manifest["sandbox_ca"], "r:gz") as archive:
            staging = ca_dir.parent / f".{ca_dir.name}.restoring"
            archive.extractall(staging, filter="data")
            (staging / "sandbox-ca").rename(ca_dir)
            staging.rmdir()
    return manifest
