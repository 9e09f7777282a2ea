"""Shared plumbing of bench/search.py and bench/ingest.py (S06/S07): a dedicated database, synthetic rows written
with PostgreSQL COPY, a gunicorn server on loopback and a client that signs every request like a terminal.

Not a benchmark itself (the leading underscore keeps scripts/bench.sh from running it).
"""

from __future__ import annotations

import copy
import datetime
import functools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

from server.common.actor import Actor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")

FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
FAMILY_KANA = [
    "サトウ",
    "スズキ",
    "タカハシ",
    "タナカ",
    "イトウ",
    "ワタナベ",
    "ヤマモト",
    "ナカムラ",
    "コバヤシ",
    "カトウ",
    "ヨシダ",
    "ヤマダ",
]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜", "翔", "結衣", "大輔", "彩"]
GIVEN_KANA = ["タロウ", "ハナコ", "イチロウ", "ミサキ", "ケンタ", "ヒナ", "ショウ", "ユイ", "ダイスケ", "アヤ"]
COLUMNS = [
    "id",
    "institution_id",
    "device_id",
    "checked_at",
    "received_at",
    "is_valid",
    "qualification_validity",
    "identity_verification",
    "document_encrypted",
    "summary_encrypted",
    "name_index",
    "key_id",
    "content_hash",
]


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) in the samples' unit."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_database_url(suffix: str) -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/myna_bench"
    parts = urlparse(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("the benchmarks run on PostgreSQL: set DATABASE_URL=postgres://...")
    name = (parts.path.lstrip("/") or "myna_bench") + f"_{suffix}"
    return urlunparse(parts._replace(path=f"/{name}"))


def _admin_connection(url: str):
    import psycopg

    parts = urlparse(url)
    return psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True)


def database_exists(url: str) -> bool:
    name = urlparse(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def recreate_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def server_env(url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "server.settings.dev",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def migrate(url: str) -> None:
    result = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=server_env(url),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"migrate failed: {result.stderr[-2000:]}")


def django_setup(url: str) -> None:
    os.environ.update(server_env(url))
    import django

    django.setup()


def psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


# --- the bench institution and its terminals ---------------------------------------------------------------------


def create_institution_with_devices(devices: int) -> tuple[Any, list[tuple[Any, Any]]]:
    """An institution and ``devices`` active terminals: [(Device, private key)]."""
    from contracts import signing
    from contracts.checkdigits import luhn_check_digit
    from server.devices.models import Device
    from server.institutions.actions import do_create_institution

    body = f"13{random.randrange(10**7):07d}"
    institution = do_create_institution(code=body + str(luhn_check_digit(body)), name="ベンチ整骨院", actor=Actor.cli("bench"))
    terminals = []
    for index in range(devices):
        key = signing.generate_device_key()
        device = Device.objects.create(
            institution=institution, name=f"受付{index + 1}", public_key=signing.public_key_b64(key)
        )
        terminals.append((device, key))
    return institution, terminals


# --- synthetic documents -----------------------------------------------------------------------------------------


class DocumentMaker:
    """Schema-valid result documents, made fast from one validated template (validation per row would dominate)."""

    def __init__(self, institution_code: str) -> None:
        from tests.server import factories

        self.template = factories.result_document(institution=institution_code)
        self.serial = 0

    def make(self, checked_at: datetime.datetime, rng: random.Random) -> dict[str, Any]:
        family, given = rng.randrange(len(FAMILY)), rng.randrange(len(GIVEN))
        document = copy.copy(self.template)
        qualification = dict(self.template["result_of_qualification_confirmation"])
        qualification["name"] = f"{FAMILY[family]} {GIVEN[given]}"
        qualification["name_kana"] = f"{FAMILY_KANA[family]} {GIVEN_KANA[given]}"
        document["result_of_qualification_confirmation"] = qualification
        jst = checked_at.astimezone(datetime.timezone(datetime.timedelta(hours=9)))
        document["qualification_confirmation_date"] = jst.date().isoformat()
        document["processing_execution_time"] = jst.replace(microsecond=0).isoformat()
        self.serial += 1
        document["reference_number"] = f"{self.serial:010d}"
        document["qualification_validity"] = "1" if rng.random() < 0.93 else "2"
        return document


def random_times(
    count: int, start: datetime.datetime, end: datetime.datetime, rng: random.Random
) -> Iterator[datetime.datetime]:
    span = (end - start).total_seconds()
    for _ in range(count):
        yield start + datetime.timedelta(seconds=rng.random() * span)


def stored_row(
    result_id: uuid.UUID,
    institution_id: int,
    device_id: Any,
    checked_at: datetime.datetime,
    document: dict[str, Any],
    received_at: datetime.datetime,
) -> tuple:
    """One row exactly as the batch API stores it (clear columns, sealed document and summary, blind index, content
    hash)."""
    from contracts.display import is_valid_qualification
    from server.results import crypto, sealing
    from server.results.actions import content_hash

    key_id, blob = crypto.encrypt_document(document, result_id)
    summary = sealing.summary_of(document)
    return (
        result_id,
        institution_id,
        device_id,
        checked_at,
        received_at,
        is_valid_qualification(document["qualification_validity"]),
        document["qualification_validity"],
        document["identity_verification"],
        blob,
        sealing.seal_summary(summary, result_id, key_id),
        _name_tokens(summary["name"], summary["name_kana"], key_id),
        key_id,
        content_hash(checked_at, document),
    )


@functools.lru_cache(maxsize=4096)
def _name_tokens(name: str, name_kana: str, key_id: str) -> list[int]:
    """The blind index of a name (the synthetic names repeat: each is computed once)."""
    from server.results import sealing

    return sealing.name_tokens(name, name_kana, key_id)


def copy_rows(url: str, rows: Iterator[tuple]) -> int:
    """COPY rows into results_checkresult in one transaction; returns the count."""
    import psycopg

    count = 0
    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY results_checkresult ({', '.join(COLUMNS)}) FROM STDIN") as copy_:
            for row in rows:
                copy_.write_row(row)
                count += 1
        conn.commit()
    return count


def fill_with_copy(
    url: str,
    institution: Any,
    devices: list[Any],
    rows: int,
    start: datetime.datetime,
    end: datetime.datetime,
    seed: int,
) -> None:
    """``rows`` results of the institution between start and end, written with COPY (secondary indexes dropped
    during the load and rebuilt after, then VACUUM ANALYZE)."""
    import psycopg

    rng = random.Random(seed)
    maker = DocumentMaker(institution.code)
    device_ids = [device.pk for device in devices]
    indexes = secondary_indexes(url)
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()

    def produce():
        for index, checked_at in enumerate(random_times(rows, start, end, rng)):
            if index and index % 1_000_000 == 0:
                print(f"  … {index:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
            yield stored_row(
                uuid.UUID(int=rng.getrandbits(128), version=4),
                institution.pk,
                rng.choice(device_ids),
                checked_at,
                maker.make(checked_at, rng),
                checked_at + datetime.timedelta(seconds=2),
            )

    count = copy_rows(url, produce())
    copied = time.perf_counter() - started
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE results_checkresult")
    print(
        f"generated {count:,} rows with COPY in {copied:.1f} s; indexes + analyze {time.perf_counter() - started - copied:.1f} s"
    )


def secondary_indexes(url: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(psycopg_url(url)) as conn:
        return conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'results_checkresult' "
            "AND indexname NOT LIKE '%%_pkey'"
        ).fetchall()


# --- gunicorn and the signing client -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on loopback with the project's WSGI app, on the bench database."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "server.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=REPO,
            env=server_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"gunicorn exited: {self.process.stderr.read()[-2000:] if self.process.stderr else ''}"
                )
            try:
                httpx.get(f"{self.base_url}/api/v1/results", timeout=2)  # unsigned: 401, but answered
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class SignedClient:
    """Keep-alive HTTP client signing each request per RFC 9421 with the terminal's key (contracts/signing.py)."""

    def __init__(self, base_url: str, device_id: str, key: Any) -> None:
        import httpx

        self.base_url = base_url
        self.device_id = device_id
        self.key = key
        self.http = httpx.Client(base_url=base_url, timeout=120)

    def prepare(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: bytes = b"") -> tuple:
        """Sign now, send later: the timings measure the server, not the client's signing."""
        from contracts import signing

        query = ("?" + urlencode(params)) if params else ""
        headers = signing.sign_request(method, f"{self.base_url}{path}{query}", {}, body, self.key, self.device_id)
        headers["Content-Type"] = "application/json"
        return method, path + query, headers, body

    def send(self, prepared: tuple):
        method, target, headers, body = prepared
        return self.http.request(method, target, content=body, headers=headers)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: bytes = b""):
        return self.send(self.prepare(method, path, params=params, body=body))
