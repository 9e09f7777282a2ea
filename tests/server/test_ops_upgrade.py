"""The upgrade procedure's first step (README "Upgrade"): a database holding data written under the previous
release's schema (deploy/schema-previous.json; no release is tagged yet, so it records main's migration state when
issue 16 landed) migrates to head, and its results are still read, decrypted and listed. Scratch database only."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql

from tests.processes import ROOT, database_url


@pytest.fixture
def scratch_database():
    name = f"myna_ops_upgrade_{os.getpid()}"
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_data_of_the_previous_schema_survives_migrating_to_head(scratch_database):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "server.settings.test", "DATABASE_URL": database_url(scratch_database)})
    run = subprocess.run([sys.executable, "-m", "tests.server.upgrade_previous"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["pending"] == 0
    assert seen["listed_status"] == 200 and sorted(seen["listed"]) == sorted(seen["seeded"])
    assert seen["detail_status"] == 200 and seen["detail_name"] == "保険 花子"
