"""Real server processes for the operations tests (issue 16): gunicorn under the production settings, on spare
ports, stopped by the test that started them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_KEY = "k2026:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="  # 32 bytes, base64


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url(url: str) -> str:
    """``url`` pointed at a port on which nothing listens (an unreachable PostgreSQL or Redis, for this test)."""
    parts = urlparse(url)
    netloc = f"{parts.username}:{parts.password}@" if parts.password else ""
    return urlunparse(parts._replace(netloc=f"{netloc}127.0.0.1:{free_port()}"))


def database_url(name: str) -> str:
    return urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "PROMETHEUS_MULTIPROC_DIR"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "server.settings.production",
        "DJANGO_SECRET_KEY": "ops-test-" + "s" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "RESULT_ENCRYPTION_KEYS": PRODUCTION_KEY,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered {url} within {timeout} s")


@contextmanager
def gunicorn(env: dict[str, str], *, port: int | None = None, workers: int = 1, log_path: Path | None = None,
             ) -> Iterator[str]:
    """One gunicorn (deploy/gunicorn.conf.py) on 127.0.0.1:port; yields its base URL."""
    port = port or free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "server.wsgi:application"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/healthz", process)
        yield url
    finally:
        stop(process)
        if log_path:
            out.close()


@contextmanager
def celery_worker(env: dict[str, str], name: str, log_path: Path | None = None) -> Iterator[subprocess.Popen]:
    """A Celery worker (solo pool) under ``env``; ready once it answers a ping by ``name``."""
    from server.celery import app

    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool", "solo", "--without-gossip",
         "--without-mingle", "--loglevel", "INFO", "--hostname", f"{name}@%h"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"Celery worker {name} exited with {process.returncode}")
            replies = app.control.ping(timeout=0.5)
            if any(next(iter(reply)).startswith(f"{name}@") for reply in replies):
                break
        else:
            raise RuntimeError(f"Celery worker {name} did not answer within 30 s")
        yield process
    finally:
        stop(process)
        if log_path:
            out.close()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def nginx(upstreams: list[str], directory: Path) -> Iterator[str]:
    """Debian's nginx in front of ``upstreams`` (base URLs) with deploy/nginx's http and proxy parts, on a spare port;
    its config, pid, logs and temp files all in ``directory``. Yields its base URL."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server {urlparse(u).netloc};" for u in upstreams)
    config = directory / "nginx.conf"
    config.write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include {ROOT}/deploy/nginx/myna-http.conf;
    access_log {directory}/access.log myna_json;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream myna_web {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        include {ROOT}/deploy/nginx/myna-proxy.conf;
    }}
}}
""")
    test = subprocess.run(["nginx", "-t", "-q", "-e", str(directory / "error.log"), "-c", str(config)],
                          capture_output=True, text=True, timeout=30)
    if test.returncode != 0:
        raise RuntimeError(f"nginx -t refused the configuration: {test.stderr}")
    process = subprocess.Popen(["nginx", "-e", str(directory / "error.log"), "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/healthz", process)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: the master waits for its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
