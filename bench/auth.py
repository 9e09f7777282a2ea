"""Authentication benchmark (S03, issue 13 point 8): the signed heartbeat, the same heartbeat behind DRF's
TokenAuthentication, and the signed path of the commit before issue 13, in one run.

    python bench/auth.py [--clients 4] [--seconds 3] [--rounds 5] [--rate 300] [--workers N] [--before COMMIT]

Three kinds of call, each the terminal's heartbeat (``POST .../heartbeat`` with its JSON body, the same view and work):
  signed   this checkout: RFC 9421 Ed25519 signature checked in full, the device read by primary key, the nonce
           claimed with ``cache.add`` in Redis; every request signed by its client just before it is sent
  token    this checkout's heartbeat view behind ``rest_framework.authentication.TokenAuthentication`` (one token per
           device; bench/_token_urls.py) — what a Django team would pick instead of signatures
  before   the signed path of ``--before`` (default: main when issue 13 started, with its private-API tuning: strict
           parser with libsodium, a kept Redis connection, per-process device cache), run from a ``git worktree`` of
           that commit against its own freshly migrated database; the clients sign exactly as for ``signed``
Each kind runs on gunicorn (sync workers, as deployed) on 127.0.0.1 with PostgreSQL and REDIS_URL. In each round every
kind is measured twice: saturated (N clients in a closed loop: requests/s, p50, p95) and at a fixed offered load
(``--rate`` calls/s in total from N paced clients; latency counted from when each call was due, so queueing shows).
The verdicts: signed ÷ token saturated throughput ≥ 0.75 (median of the per-round ratios), and p95 ≤ 10 ms at 300/s.
It also prints the measured floor of the ratio: the CPU each kind spends per call (the machine's busy time over the
calls, from /proc/stat) and, measured here in-process, what a signature adds by itself (signing, verifying, the nonce
claim's Redis round trip). See docs/security.md, "Cost of the signature", and bench/README.md for recorded runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from contracts import signing  # noqa: E402

MAX_CLIENTS = 32
MAX_SECONDS = 30
# main when issue 13 began: the tuned signed path that this issue replaced by the plain one.
BEFORE_COMMIT = "4726e38"
INSTITUTION_CODE = "1311000010"  # しかく整骨院 of the demo data; valid check digit
ACCOUNT_ID = "bench-admin"
PASSWORD = "Bench#Pass1"
HEARTBEAT = "/api/v1/devices/me/heartbeat"
TOKEN_HEARTBEAT = "/bench/token/heartbeat"
BODY = json.dumps({"app_version": "0.1.0", "reader_name": "bench reader"}).encode()
RATIO_TARGET = 0.75
P95_TARGET_MS = 10.0
KINDS = ("signed", "token", "before")
FLOORS = ("ping", "ping-before")  # an unsigned GET /api/v1/ping on each server: what the framework costs alone
LABELS = {
    "signed": "signed heartbeat (this checkout)",
    "token": "same heartbeat, DRF TokenAuthentication",
    "before": "signed heartbeat, commit before issue 13",
    "ping": "unsigned ping (this checkout)",
    "ping-before": "unsigned ping, commit before issue 13",
}


def database_url(suffix: str) -> tuple[str, str, str]:
    """(bench database URL, maintenance URL, bench database name) from DATABASE_URL."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/myna_bench")
    parts = urlparse(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/auth.py needs DATABASE_URL=postgres://... (make bench sets it)")
    name = (parts.path.lstrip("/") or "myna_bench") + suffix
    return urlunparse(parts._replace(path=f"/{name}")), urlunparse(parts._replace(path="/postgres")), name


def recreate_database(maintenance_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def server_env(database: str, settings_module: str, tree: Path) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
    if not redis_url.startswith(("redis://127.0.0.1", "redis://localhost")):
        raise SystemExit("bench/auth.py runs on loopback only: REDIS_URL must point at 127.0.0.1")
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return {
        **env,
        "PYTHONPATH": str(tree),  # the tree's own packages first, whichever checkout the venv was installed from
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "RESULT_ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # One address registers every client's terminal: lift the registration limits for this server only.
        "REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR": "100000",
        "REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR": "100000",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], tree: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed in {tree}:\n{result.stderr[-2000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], tree: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "server.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: {server.stderr.read()[-2000:] if server.stderr else ''}")
        try:
            if httpx.get(f"{base_url}/api/v1/ping", timeout=1).status_code == 200:
                return server, base_url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /api/v1/ping within 30 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def seed(env: dict[str, str], tree: Path, clients: int) -> list[str]:
    """Migrate, create the institution and its account; the activation codes of ``clients`` terminals."""
    manage(env, tree, "migrate", "--noinput")
    manage(env, tree, "create_institution", "--code", INSTITUTION_CODE, "--name", "しかく整骨院")
    manage(env, tree, "create_app_account", "--institution", INSTITUTION_CODE, "--account-id", ACCOUNT_ID,
           "--password", PASSWORD)  # fmt: skip
    return [manage(env, tree, "issue_activation_code", "--institution", INSTITUTION_CODE).strip() for _ in range(clients)]


def register_terminal(base_url: str, code: str) -> tuple[str, str]:
    """Register over HTTP like a terminal; returns (device id, private key as base64 of the raw 32 bytes)."""
    key = signing.generate_device_key()
    body = {
        "institution_code": INSTITUTION_CODE,
        "account_id": ACCOUNT_ID,
        "password": PASSWORD,
        "activation_code": code,
        "public_key": signing.public_key_b64(key),
        "device_name": f"bench-{code[-4:]}",
        "os": "bench",
        "app_version": "0.1.0",
        "reader_name": "bench reader",
    }
    response = httpx.post(f"{base_url}/api/v1/devices/register", json=body, timeout=30)
    if response.status_code != 201:
        raise SystemExit(f"registration failed: {response.status_code} {response.text[:300]}")
    return response.json()["device_id"], base64.b64encode(signing.private_key_to_bytes(key)).decode()


def issue_tokens(env: dict[str, str], device_ids: list[str]) -> list[str]:
    """One DRF token per device, for a user named after the device (bench/_token_urls.py reads it back)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        f"for device_id in {device_ids!r}:\n"
        "    user = get_user_model().objects.create_user(username=device_id)\n"
        "    print('TOKEN', Token.objects.create(user=user).key)\n"
    )
    output = manage(env, REPO, "shell", "-c", code)
    return [line.split()[1] for line in output.splitlines() if line.startswith("TOKEN ")]


def client_loop(job: tuple) -> tuple[list[float], int]:
    """One client process: call until ``stop_at`` (every ``interval`` s when paced, else back to back); returns the
    latencies (ms; paced: from when the call was due) and the number of errors."""
    kind, url, credential, device_id, start_at, stop_at, interval = job
    key = signing.private_key_from_bytes(base64.b64decode(credential)) if kind in ("signed", "before") else None
    latencies: list[float] = []
    errors = 0
    with httpx.Client(timeout=10) as client:
        while time.time() < start_at:
            time.sleep(0.001)
        due = time.perf_counter()
        deadline = due + (stop_at - time.time())
        while (now := time.perf_counter()) < deadline:
            if interval:
                if now < due:
                    time.sleep(due - now)
                started = due
                due += interval
            else:
                started = now
            if kind.startswith("ping"):
                response = client.get(url)
            else:
                if key is not None:  # signed just before it is sent, with a fresh nonce and `created`
                    headers = signing.sign_request("POST", url, {}, BODY, key, device_id)
                else:
                    headers = {"Authorization": f"Token {credential}"}
                headers["Content-Type"] = "application/json"
                response = client.post(url, content=BODY, headers=headers)
            if response.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)
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


def run_phase(pool, kind: str, targets: dict, seconds: float, rate: float) -> dict[str, float]:
    url, credentials = targets[kind]
    start_at = time.time() + 0.5  # every client starts together
    interval = len(credentials) / rate if rate else 0.0
    jobs = [(kind, url, credential, device_id, start_at, start_at + seconds, interval)
            for device_id, credential in credentials]  # fmt: skip
    busy_before, total_before = cpu_ticks()
    results = pool.map(client_loop, jobs)
    busy_after, total_after = cpu_ticks()
    latencies = sorted(latency for samples, _ in results for latency in samples)
    calls = len(latencies)
    busy_share = (busy_after - busy_before) / (total_after - total_before) if total_after > total_before else 0.0
    cores = os.cpu_count() or 1
    return {
        "rps": calls / seconds,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "errors": sum(e for _, e in results),
        "busy": busy_share,
        # The machine's CPU time per call (client, server, PostgreSQL, Redis), over the phase and its start-up.
        "cpu_ms": busy_share * cores * (seconds + 0.5) * 1000 / calls if calls else float("nan"),
    }


def signature_floor() -> dict[str, float]:
    """What a signature costs by itself, measured here: signing, verifying (µs), the nonce claim's round trip."""
    import redis

    key = signing.generate_device_key()
    public = key.public_key()
    url = "http://device" + HEARTBEAT
    headers = signing.sign_request("POST", url, {}, BODY, key, "dev")
    sign_us = min(timeit.repeat(lambda: signing.sign_request("POST", url, {}, BODY, key, "dev"), number=500, repeat=3))
    verify_us = min(timeit.repeat(lambda: signing.verify_request("POST", url, headers, BODY, lambda _k: public),
                                  number=500, repeat=3))  # fmt: skip
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"))
    nonce_us = min(timeit.repeat(lambda: client.set(f"bench:nonce:{secrets.token_hex(8)}", 1, nx=True, ex=5),
                                 number=500, repeat=3))  # fmt: skip
    return {"sign": sign_us / 500 * 1e6, "verify": verify_us / 500 * 1e6, "nonce": nonce_us / 500 * 1e6}


def medians(rows: list[dict[str, float]]) -> dict[str, float]:
    return {field: statistics.median(row[field] for row in rows) for field in rows[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=5, help="short paired rounds cancel drift better than long ones")
    parser.add_argument("--rate", type=float, default=300.0, help="the offered load of the latency phases, calls/s")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--before", default=BEFORE_COMMIT, help="the commit whose signed path is compared")
    args = parser.parse_args()
    clients = max(1, min(args.clients, MAX_CLIENTS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    rounds = max(1, min(args.rounds, 15))
    print(f"auth bench: {clients} clients, {rounds} rounds × {seconds:g} s per phase, {args.workers} gunicorn workers, "
          f"offered load {args.rate:g}/s, before = {args.before}")  # fmt: skip

    before_tree = Path(tempfile.mkdtemp(prefix="myna-auth-before-"))
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(before_tree), args.before],
                   check=True, capture_output=True)  # fmt: skip
    servers: list[subprocess.Popen] = []
    try:
        now_url, maintenance, now_name = database_url("_auth")
        recreate_database(maintenance, now_name)
        now_env = server_env(now_url, "bench._token_settings", REPO)
        now_codes = seed(now_env, REPO, clients)
        before_url, _, before_name = database_url("_auth_before")
        recreate_database(maintenance, before_name)
        before_env = server_env(before_url, "server.settings.production", before_tree)
        before_codes = seed(before_env, before_tree, clients)

        server, now_base = start_gunicorn(now_env, REPO, args.workers)
        servers.append(server)
        server, before_base = start_gunicorn(before_env, before_tree, args.workers)
        servers.append(server)
        now_terminals = [register_terminal(now_base, code) for code in now_codes]
        before_terminals = [register_terminal(before_base, code) for code in before_codes]
        tokens = issue_tokens(now_env, [device_id for device_id, _ in now_terminals])
        targets = {
            "signed": (now_base + HEARTBEAT, now_terminals),
            "token": (now_base + TOKEN_HEARTBEAT, [(device_id, token) for (device_id, _), token in zip(
                now_terminals, tokens, strict=True)]),
            "before": (before_base + HEARTBEAT, before_terminals),
            "ping": (now_base + "/api/v1/ping", now_terminals),
            "ping-before": (before_base + "/api/v1/ping", before_terminals),
        }  # fmt: skip
        context = multiprocessing.get_context("spawn")
        saturated: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS + FLOORS}
        paced: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
        with context.Pool(clients) as pool:
            for kind in KINDS:  # warm-up: workers, connections, the old tree's caches
                run_phase(pool, kind, targets, 1.0, 0.0)
            for index in range(rounds):
                order = KINDS if index % 2 == 0 else tuple(reversed(KINDS))  # cancel out drift
                for kind in order + FLOORS:
                    saturated[kind].append(run_phase(pool, kind, targets, seconds, 0.0))
                for kind in order:
                    paced[kind].append(run_phase(pool, kind, targets, seconds, args.rate))
    finally:
        for server in servers:
            stop(server)
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before_tree)], capture_output=True)
        shutil.rmtree(before_tree, ignore_errors=True)
    floor = signature_floor()

    print(f"\n{'':<42} {'saturated (' + str(clients) + ' clients, closed loop)':>44}   {'at ' + format(args.rate, 'g') + '/s offered':>28}")  # noqa: E501
    print(f"{'heartbeat':<42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/call':>12} {'errors':>6}   "
          f"{'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")  # fmt: skip
    summary = {kind: (medians(saturated[kind]), medians(paced[kind])) for kind in KINDS}
    for kind in KINDS:
        s, p = summary[kind]
        print(f"{LABELS[kind]:<42} {s['rps']:>8.1f} {s['p50']:>8.2f} {s['p95']:>8.2f} {s['cpu_ms']:>12.2f} "
              f"{s['errors'] + p['errors']:>6.0f}   {p['rps']:>8.1f} {p['p50']:>8.2f} {p['p95']:>8.2f}")  # fmt: skip
    for kind in FLOORS:
        f = medians(saturated[kind])
        print(f"{LABELS[kind]:<42} {f['rps']:>8.1f} {f['p50']:>8.2f} {f['p95']:>8.2f} {f['cpu_ms']:>12.2f} "
              f"{f['errors']:>6.0f}")  # fmt: skip
    print(f"(medians of {rounds} rounds; CPU ms/call: the machine's busy time over the calls, clients included)")

    paired = sorted(s["rps"] / t["rps"] for s, t in zip(saturated["signed"], saturated["token"], strict=True) if t["rps"])
    ratio = statistics.median(paired)
    before_ratio = statistics.median(
        s["rps"] / b["rps"] for s, b in zip(saturated["signed"], saturated["before"], strict=True) if b["rps"]
    )
    p95 = summary["signed"][1]["p95"]
    print(f"\nsigned ÷ token throughput: {ratio:.2f} (median of {len(paired)} per-round ratios "
          f"{' '.join(f'{r:.2f}' for r in paired)}) — {'meets' if ratio >= RATIO_TARGET else 'BELOW'} the "
          f"{RATIO_TARGET} target")  # fmt: skip
    print(f"signed p95 at {args.rate:g}/s offered: {p95:.2f} ms — {'meets' if p95 <= P95_TARGET_MS else 'ABOVE'} the "
          f"{P95_TARGET_MS:g} ms target")  # fmt: skip
    token_p95 = summary["token"][1]["p95"]
    print(f"p95 floor at {args.rate:g}/s: the same heartbeat behind TokenAuthentication {token_p95:.2f} ms in this run "
          f"(signed − token: {p95 - token_p95:+.2f} ms); the latency the signature adds, not the stack beneath it")
    print(f"signed ÷ before (the tuned path of {args.before}): {before_ratio:.2f}")
    s_cpu, t_cpu = summary["signed"][0]["cpu_ms"], summary["token"][0]["cpu_ms"]
    print(f"floor: with the cores saturated the ratio is one of CPU per call: token {t_cpu:.2f} ms ÷ signed "
          f"{s_cpu:.2f} ms = {t_cpu / s_cpu:.2f}. What a signature adds by itself, measured here: signing "
          f"{floor['sign']:.0f} µs (client), verifying {floor['verify']:.0f} µs (server), the nonce's SET NX round "
          f"trip {floor['nonce']:.0f} µs (server) — {(floor['sign'] + floor['verify'] + floor['nonce']) / 1000:.2f} ms; "
          f"the rest of the difference is three more headers on both sides against one.")  # fmt: skip
    ping_now, ping_before = medians(saturated["ping"])["cpu_ms"], medians(saturated["ping-before"])["cpu_ms"]
    print(f"framework floor: an unsigned ping costs {ping_now:.2f} ms of CPU here against {ping_before:.2f} ms on "
          f"{args.before} (middleware added since); a heartbeat is bounded by it whatever its authentication.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
