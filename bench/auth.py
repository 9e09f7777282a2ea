"""Authentication overhead benchmark (S03): a signed heartbeat beside an unsigned trivial endpoint, same server, same run.

    python bench/auth.py [--clients 4] [--seconds 3] [--rounds 7] [--workers N]

Creates and migrates a dedicated database (`<DATABASE_URL's name>_auth`), starts gunicorn on 127.0.0.1 with the
production settings against that database and REDIS_URL, registers one terminal per client over HTTP, then runs
rounds of N concurrent client processes (httpx), each phase for a fixed time:
  unsigned  GET  /api/v1/ping
  signed    POST /api/v1/devices/me/heartbeat  (RFC 9421 Ed25519 signature checked in full, nonce claimed in Redis,
            device status checked; every request signed by its client just before it is sent, with a fresh nonce)
  (and, to tell the authentication from the heartbeat's own work, a signed GET /api/v1/devices/me)
and prints requests/s, p50 and p95 (ms) of each, medians over the rounds, and the ratio signed/unsigned of the
throughput (target ≥ 0.70): the median of the per-round ratios (each round measures both endpoints back to back, so
load that drifts between rounds on a shared machine cancels out), beside the ratio of the medians. Both endpoints run on the same gunicorn (same workers) in the same run, with the same
httpx clients, which share the machine's cores with the server. Loopback only; client count and duration are bounded.
See docs/security.md, "Cost of the signature", for the figures and where the time goes.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from contracts import signing  # noqa: E402

MAX_CLIENTS = 32
MAX_SECONDS = 30
INSTITUTION_CODE = "1311000010"  # しかく整骨院 of the demo data; valid check digit
ACCOUNT_ID = "bench-admin"
PASSWORD = "Bench#Pass1"


def database_urls() -> tuple[str, str, str]:
    """(bench database URL, maintenance URL, bench database name) from DATABASE_URL."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/myna_bench")
    parts = urlparse(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/auth.py needs DATABASE_URL=postgres://... (make bench sets it)")
    name = (parts.path.lstrip("/") or "myna_bench") + "_auth"
    return (
        urlunparse(parts._replace(path=f"/{name}")),
        urlunparse(parts._replace(path="/postgres")),
        name,
    )


def recreate_database(maintenance_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def server_env(database_url: str) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
    if not redis_url.startswith("redis://127.0.0.1") and not redis_url.startswith("redis://localhost"):
        raise SystemExit("bench/auth.py runs on loopback only: REDIS_URL must point at 127.0.0.1")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "server.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "RESULT_ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # One address registers every client's terminal: lift the per-IP registration limit for this server only.
        "REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR": "100000",
        "REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR": "100000",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "server.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: {server.stderr.read()[-2000:] if server.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /api/v1/ping within 30 s")


def register_terminal(base_url: str, code: str) -> tuple[str, str]:
    """Register over HTTP like a terminal; returns (device id, private key as base64 of the raw 32 bytes)."""
    key = signing.generate_device_key()
    body = {
        "institution_code": INSTITUTION_CODE,
        "account_id": ACCOUNT_ID,
        "password": PASSWORD,
        "activation_code": code,
        "public_key": signing.public_key_b64(key),
        "device_name": "bench",
        "os": "bench",
        "app_version": "0.1.0",
        "reader_name": "bench reader",
    }
    response = httpx.post(f"{base_url}/api/v1/devices/register", json=body, timeout=30)
    if response.status_code != 201:
        raise SystemExit(f"registration failed: {response.status_code} {response.text[:300]}")
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return response.json()["device_id"], base64.b64encode(raw).decode()


def client_loop(args: tuple[str, str, str | None, str | None, float, float]) -> tuple[list[float], int]:
    """One client process: call the endpoint until ``stop_at``; returns latencies (ms) and the number of errors."""
    kind, base_url, device_id, key_b64, start_at, stop_at = args
    key = None
    if kind.startswith("signed"):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(key_b64))
    url = {
        "signed": f"{base_url}/api/v1/devices/me/heartbeat",
        "signed-me": f"{base_url}/api/v1/devices/me",
        "unsigned": f"{base_url}/api/v1/ping",
    }[kind]
    body = json.dumps({"app_version": "0.1.0", "reader_name": "bench reader"}).encode()
    latencies: list[float] = []
    errors = 0
    method, payload = ("POST", body) if kind == "signed" else ("GET", b"")
    # Every request is signed just before it is sent, with a fresh nonce and `created` (no signing ahead): the
    # terminal's real cost, ≈ 0.03 ms with the strict signer of contracts.signing, is part of what is measured.
    with httpx.Client(timeout=10) as client:
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            started = time.perf_counter()
            if key is not None:
                headers = signing.sign_request(method, url, {}, payload, key, device_id)
                headers["Content-Type"] = "application/json"
                response = client.request(method, url, content=payload or None, headers=headers)
            else:
                response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code == 200:
                latencies.append(elapsed)
            else:
                errors += 1
    return latencies, errors


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the machine since boot, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def run_phase(pool, kind: str, base_url: str, terminals: list[tuple[str, str]], seconds: float) -> dict[str, float]:
    signed = kind.startswith("signed")
    start_at = time.time() + 0.5  # every client starts together
    stop_at = start_at + seconds
    jobs = [
        (kind, base_url, device_id if signed else None, key if signed else None, start_at, stop_at)
        for device_id, key in terminals
    ]
    busy_before, total_before = cpu_ticks()
    results = pool.map(client_loop, jobs)
    busy_after, total_after = cpu_ticks()
    latencies = sorted(latency for samples, _ in results for latency in samples)
    errors = sum(e for _, e in results)
    return {
        "rps": len(latencies) / seconds,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "errors": errors,
        # Share of the machine's CPU time in use while the phase ran (start-up half second included): a phase that
        # leaves the cores idle (waiting on Redis, say) is limited by latency rather than by CPU.
        "busy": (busy_after - busy_before) / (total_after - total_before) if total_after > total_before else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=7, help="short paired rounds cancel drift better than long ones")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2), help="gunicorn workers")
    args = parser.parse_args()
    clients = max(1, min(args.clients, MAX_CLIENTS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    rounds = max(1, min(args.rounds, 15))

    database_url, maintenance_url, name = database_urls()
    print(f"auth bench: database {name}, {clients} clients, {rounds} rounds × {seconds:g} s, {args.workers} workers")
    recreate_database(maintenance_url, name)
    env = server_env(database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "create_institution", "--code", INSTITUTION_CODE, "--name", "しかく整骨院")
    manage(env, "create_app_account", "--institution", INSTITUTION_CODE, "--account-id", ACCOUNT_ID,
           "--password", PASSWORD)  # fmt: skip
    codes = [manage(env, "issue_activation_code", "--institution", INSTITUTION_CODE).strip() for _ in range(clients)]

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_gunicorn(env, port, args.workers)
    try:
        terminals = [register_terminal(base_url, code) for code in codes]
        context = multiprocessing.get_context("spawn")
        with context.Pool(clients) as pool:
            run_phase(pool, "unsigned", base_url, terminals, 1.0)  # warm-up: workers, connections, caches
            run_phase(pool, "signed", base_url, terminals, 1.0)
            kinds = ("unsigned", "signed", "signed-me")
            measured: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
            for index in range(rounds):
                order = kinds if index % 2 == 0 else tuple(reversed(kinds))  # cancel out drift
                for kind in order:
                    measured[kind].append(run_phase(pool, kind, base_url, terminals, seconds))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    medians = {
        kind: {field: statistics.median(r[field] for r in rows) for field in ("rps", "p50", "p95", "errors", "busy")}
        for kind, rows in measured.items()
    }
    print(f"{'endpoint':<44} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'CPU busy':>9}   (medians of "
          f"{rounds} rounds)")  # fmt: skip
    labels = {
        "unsigned": "unsigned GET /api/v1/ping",
        "signed": "signed POST /api/v1/devices/me/heartbeat",
        "signed-me": "signed GET /api/v1/devices/me",
    }
    for kind in ("unsigned", "signed", "signed-me"):
        m = medians[kind]
        print(
            f"{labels[kind]:<44} {m['rps']:>9.1f} {m['p50']:>8.2f} {m['p95']:>8.2f} {m['errors']:>7.0f} "
            f"{m['busy']:>8.0%}"
        )
    ratio_of_medians = medians["signed"]["rps"] / medians["unsigned"]["rps"] if medians["unsigned"]["rps"] else 0.0
    # Each round measures both endpoints back to back: its own ratio is less sensitive to load that drifts between
    # rounds (on a shared machine) than the ratio of the medians, so the verdict is on the median per-round ratio.
    paired = sorted(
        s["rps"] / u["rps"] for s, u in zip(measured["signed"], measured["unsigned"], strict=True) if u["rps"]
    )
    ratio = statistics.median(paired) if paired else 0.0
    quartiles = statistics.quantiles(paired, n=4) if len(paired) >= 2 else [ratio, ratio, ratio]
    verdict = "meets" if ratio >= 0.70 else "BELOW"
    print(f"ratio signed/unsigned throughput: {ratio:.2f} ({verdict} the 0.70 target; median of {len(paired)} "
          f"per-round ratios, interquartile {quartiles[0]:.2f}–{quartiles[2]:.2f})")  # fmt: skip
    print(f"per-round ratios: {' '.join(f'{r:.2f}' for r in paired)}; ratio of the medians {ratio_of_medians:.2f}")
    print(f"p50 signed/unsigned: {medians['signed']['p50'] / medians['unsigned']['p50']:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
