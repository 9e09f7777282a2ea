"""The fault campaign's (and bench/soak.py's) own services, on spare ports in a scratch directory — never the machine's shared PostgreSQL
(5432), Redis (6379) or pcscd: a throwaway PostgreSQL 15 cluster (Debian's initdb, run as the postgres user), a
redis-server without persistence, gunicorn under the production settings, a Celery worker and Celery beat.

Each service is started in its own session, so that a kill can take the main process alone (``kill``: SIGKILL of the
pid, as the OOM killer would) and then what it leaves behind, as systemd does with a unit's control group before a
restart. Only processes started here are ever signalled, by their pid or process group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.processes import PRODUCTION_KEY, free_port, production_env

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    process: subprocess.Popen | None = None
    user: str | None = None

    def start(self) -> None:
        command = ["runuser", "-u", self.user, "--", *self.command] if self.user else self.command
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL of the main process, then of whatever it left in its process group."""
        assert self.process is not None and self.process.poll() is None, f"{self.name} is not running"
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._kill_group()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._kill_group()

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the session this service was started in (its pid)


@dataclass
class Postgres:
    """A throwaway cluster: initdb in a scratch directory, trust authentication on 127.0.0.1 only."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.directory / "pgdata"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/myna_faults"

    def _run(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        shutil.chown(self.data, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.data}'\n"
                "fsync = off\nmax_connections = 60\n"
            )
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "myna_faults")

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"), "-w", "start")

    def kill(self) -> None:
        """An immediate shutdown: every backend ends at once, no checkpoint; the restart runs crash recovery."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                capture_output=True, timeout=60,
            )  # fmt: skip


class Stack:
    """PostgreSQL, Redis, gunicorn (2 workers), a Celery worker and beat, all of this test's own."""

    def __init__(self, **env_overrides: str) -> None:
        # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as the postgres user.
        self.directory = Path(tempfile.mkdtemp(prefix="myna-faults-"))
        self.directory.chmod(0o755)
        self.logs = self.directory / "logs"
        self.logs.mkdir()
        self.postgres = Postgres(self.directory)
        self.redis_port, self.web_port = free_port(), free_port()
        metrics = self.directory / "metrics"
        metrics.mkdir()
        self.env = production_env(
            DATABASE_URL=self.postgres.url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            SANDBOX_CA_DIR=str(self.directory / "sandbox-ca"),
            MYNA_DATA_DIR=str(self.directory / "var"),
            PROMETHEUS_MULTIPROC_DIR=str(metrics),
            GUNICORN_BIND=f"127.0.0.1:{self.web_port}",
            GUNICORN_WORKERS="2",
            # Short deadlines so that the recovery of stuck work shows within the campaign (defaults: 120 s, 60 s).
            RESULT_EXPORT_STUCK_SECONDS="6",
            WORK_RECOVERY_INTERVAL_SECONDS="2",
            LOG_LEVEL="WARNING",
        )
        self.env.update(env_overrides)
        python = sys.executable
        self.redis = Service(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            self.env, self.logs / "redis.log",
        )  # fmt: skip
        self.web = Service(
            "gunicorn",
            [python, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "server.wsgi:application"],
            self.env, self.logs / "gunicorn.log",
        )  # fmt: skip
        self.worker = Service(
            "celery-worker",
            [python, "-m", "celery", "-A", "server", "worker", "--pool", "prefork", "--concurrency", "1",
             "--without-gossip", "--without-mingle", "--loglevel", "WARNING", "--hostname", "faults@%h"],
            self.env, self.logs / "worker.log",
        )  # fmt: skip
        self.beat = Service(
            "celery-beat",
            [python, "-m", "celery", "-A", "server", "beat", "--loglevel", "WARNING",
             "--schedule", str(self.directory / "beat-schedule")],
            self.env, self.logs / "beat.log",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self) -> None:
        self.postgres.init()
        self.redis.start()
        wait_until(self.redis_answers, 10, "redis answering")
        self.manage("migrate", "--no-input")
        self.web.start()
        self.worker.start()
        self.beat.start()
        self.wait_ready()

    def redis_answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.redis_port, socket_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False

    def ready(self) -> bool:
        """/readyz: PostgreSQL, Redis, a live Celery worker and the migrations (server.ops)."""
        try:
            return httpx.get(self.url + "/readyz", timeout=3).status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(self.ready, timeout, "the clinic server ready (/readyz)", interval=0.5)

    def stop(self) -> None:
        for service in (self.beat, self.worker, self.web, self.redis):
            service.stop()
        self.postgres.stop()

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


__all__ = ["PRODUCTION_KEY", "Stack", "wait_until"]
