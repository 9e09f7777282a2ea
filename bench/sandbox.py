"""Sandbox benchmark (N03, issue 4 point 8): signed qualification queries against gunicorn on loopback.

    python bench/sandbox.py [--clients 32] [--processes 4] [--per-client 100] [--rounds 3] [--rate Q]
                            [--worker-class sync|gthread] [--workers N] [--threads T] [--profile N]

Needs DATABASE_URL (PostgreSQL) and REDIS_URL, as ``make bench`` sets them. The benchmark creates and migrates its
own database (the DATABASE_URL's name + ``_sandbox``, dropped first), registers one terminal, seeds the demo roster
with a throwaway test CA, starts gunicorn on 127.0.0.1 as deployed (deploy/gunicorn.conf.py: sync workers, cores + 1)
and runs, from ``--clients`` concurrent clients (``--processes`` processes × threads, one connection each, opened
again whenever the server closes it — a minimal socket client, requests built before the clock starts —, a bounded
number of requests each), ``--rounds`` times, the medians printed:

  ping   GET /api/v1/ping: the trivial endpoint of the same server (no signature, no database), the baseline;
  query  POST /sandbox/onshi/v1/qualifications alone: every client first fetches its challenges (signed requests),
         signs them with the card keys (RSA-2048, as the card does) and pre-signs the requests (RFC 9421, Ed25519),
         then sends the queries back to back. Only the queries are timed: the client is not the bottleneck;
  pair   challenge + query as the terminal does it, RSA signing included, timed as one unit (for reference).

With ``--rate Q`` a fourth run offers the same queries at Q/s in total (each client paced, latency counted from when a
request was due): the latency at that load rather than at saturation. Back to back, 32 clients see on average
32 / throughput of latency (Little's law): p95 ≤ 50 ms there needs well over 640 queries/s.

Every query is fully verified by the server: device signature and nonce (Redis), the challenge (Redis, single use),
the certificate chain (the issuer's signature once per certificate and worker) and CRL, the card's RSA signature
over the fresh challenge, the roster (PostgreSQL) and the JSON Schema of the answer. Cards are the demo roster's
answering cards (physical → 暗証番号, Android, iPhone). Prints queries/s, p50/p95 and the ratio to the baseline.
Nothing is asserted: benchmarks report.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from server.common.actor import Actor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_QPS = 500
TARGET_P95_MS = 50.0
PING = "/api/v1/ping"
CHALLENGES = "/sandbox/onshi/v1/challenges"
QUALIFICATIONS = "/sandbox/onshi/v1/qualifications"
METHOD_FOR_PROFILE = {"physical": "pin", "android": "android", "iphone": "iphone"}


@dataclass
class ClientSetup:
    """What a client process needs (picklable: the children are spawned and do not load Django)."""

    base_url: str
    device_id: str
    device_key: bytes  # Ed25519 raw private bytes
    cards: list[tuple[str, bytes, bytes]]  # (method, certificate DER, key PEM)
    interval: float = 0.0  # paced runs: seconds between one client's requests (0: back to back)


# -- client side (runs in spawned processes) -------------------------------------------------------------------------


def _signed(setup: ClientSetup, key, method: str, path: str, body: bytes) -> dict[str, str]:
    from contracts.signing import sign_request

    headers = sign_request(method, setup.base_url + path, None, body, key, setup.device_id)
    headers["Content-Type"] = "application/json"
    return headers


def _card_keys(setup: ClientSetup) -> list[tuple[str, bytes, object]]:
    from cryptography.hazmat.primitives import serialization

    # The sandbox's own card keys: skip OpenSSL's RSA consistency check (~40 ms a key, 22 keys in 32 clients).
    return [
        (m, der, serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True))
        for m, der, pem in setup.cards
    ]


def _query_body(challenge_b64: str, method: str, der: bytes, card_key) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    raw = base64.b64decode(challenge_b64)
    signature = card_key.sign(raw, padding.PKCS1v15(), hashes.SHA256())
    body = {
        "challenge": challenge_b64,
        "identity_verification": method,
        "certificate": base64.b64encode(der).decode(),
        "signature": base64.b64encode(signature).decode(),
        "consent_specific_diseases": True,
    }
    return json.dumps(body).encode()


class _KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client on one socket: requests are bytes built before the clock starts.

    httpx cost the clients ≈ 0.8–1.5 ms of CPU a request (measured from /proc during a run: 0.6–0.8 of the two cores
    went to the 32 clients), CPU the server then lacks; this costs ≈ 0.05 ms. It reads what gunicorn sends: a status
    line, headers, and a body by Content-Length or chunked.
    """

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.netloc
        self.address = (parts.hostname, parts.port or 80)
        self.sock = None
        self._connect()
        self.buffer = b""

    def _connect(self) -> None:
        import socket

        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def build(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def send(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:  # the server closed the last one (gunicorn's sync worker answers one request each)
            self._connect()
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.split(b"\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = self._take(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            pieces = []
            while size := int(self._line().split(b";")[0], 16):
                pieces.append(self._take(size))
                self._take(2)
            self._take(2)  # no trailers from gunicorn: the empty line after the last chunk
            body = b"".join(pieces)
        else:
            raise ConnectionError("response without a length")
        if headers.get(b"connection", b"").lower() == b"close":
            self.sock.close()
            self.sock, self.buffer = None, b""
        return int(status_line.split()[1]), body

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


def _client_thread(setup: ClientSetup, kind: str, count: int, index: int, start: threading.Barrier, out: list) -> None:
    from contracts.signing import private_key_from_bytes

    device_key = private_key_from_bytes(setup.device_key)
    cards = _card_keys(setup)
    latencies: list[float] = []
    errors = 0
    client = _KeepAliveClient(setup.base_url)

    def signed(path: str, body: bytes) -> bytes:
        return client.build("POST", path, body, _signed(setup, device_key, "POST", path, body))

    def fetch_challenge() -> str:
        status, answer = client.send(signed(CHALLENGES, b"{}"))
        if status != 201:
            raise RuntimeError(f"challenge: HTTP {status} {answer[:200]!r}")
        return json.loads(answer)["challenge"]

    ping = client.build("GET", PING)
    prepared: list[bytes] = []
    if kind == "query":  # fetch and sign everything first: only the queries are timed
        for n in range(count):
            method, der, card_key = cards[(index + n) % len(cards)]
            prepared.append(signed(QUALIFICATIONS, _query_body(fetch_challenge(), method, der, card_key)))
    client.send(ping)  # the connection is open before the clock starts
    start.wait()
    began = time.perf_counter()
    offset = random.Random(index).random() * setup.interval  # paced clients spread over the interval
    for n in range(count):
        if setup.interval:
            # Latency counts from when the request was due, not when it went out: a client that fell behind
            # reports the wait as well (no coordinated omission).
            t0 = began + offset + n * setup.interval
            if (delay := t0 - time.perf_counter()) > 0:
                time.sleep(delay)
        else:
            t0 = time.perf_counter()
        if kind == "ping":
            ok = client.send(ping)[0] == 200
        elif kind == "query":
            ok = client.send(prepared[n])[0] == 200
        else:  # pair: what one check costs, end to end (challenge, card signature, device signatures)
            method, der, card_key = cards[(index + n) % len(cards)]
            ok = client.send(signed(QUALIFICATIONS, _query_body(fetch_challenge(), method, der, card_key)))[0] == 200
        latencies.append((time.perf_counter() - t0) * 1000)
        errors += not ok
    ended = time.perf_counter()
    client.close()
    out.append((latencies, errors, began, ended))


def _client_process(setup: ClientSetup, kind: str, threads: int, count: int, first_index: int, barrier, queue) -> None:
    """``threads`` clients in this process; all processes start together at ``barrier``."""
    results: list = []
    local_start = threading.Barrier(threads + 1)
    workers = [
        threading.Thread(target=_client_thread, args=(setup, kind, count, first_index + i, local_start, results))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    local_start.wait()  # every thread of this process is prepared
    barrier.wait()  # every process is prepared
    for worker in workers:
        worker.join()
    queue.put(results)


# -- measuring -------------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    kind: str
    requests: int
    errors: int
    seconds: float
    p50: float
    p95: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def measure(setup: ClientSetup, kind: str, clients: int, processes: int, per_client: int) -> Figures:
    ctx = multiprocessing.get_context("spawn")
    processes = max(1, min(processes, clients))
    barrier = ctx.Barrier(processes)
    queue = ctx.Queue()
    threads_of = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    children = []
    first = 0
    for threads in threads_of:
        child = ctx.Process(target=_client_process, args=(setup, kind, threads, per_client, first, barrier, queue))
        child.start()
        children.append(child)
        first += threads
    gathered = []
    for _ in children:
        gathered.extend(queue.get(timeout=600))
    for child in children:
        child.join()
    latencies = sorted(value for result in gathered for value in result[0])
    errors = sum(result[1] for result in gathered)
    # Throughput over the window in which all clients were sending (perf_counter is system-wide on Linux).
    seconds = max(result[3] for result in gathered) - min(result[2] for result in gathered)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return Figures(kind, len(latencies), errors, seconds, statistics.median(latencies), p95)


def median_figures(rounds: list[Figures]) -> Figures:
    """Per figure, the median over the rounds (throughput as requests over seconds of the median round rate)."""
    rate = statistics.median(f.per_second for f in rounds)
    requests = sum(f.requests for f in rounds)
    return Figures(
        rounds[0].kind,
        requests,
        sum(f.errors for f in rounds),
        requests / rate if rate else 0.0,
        statistics.median(f.p50 for f in rounds),
        statistics.median(f.p95 for f in rounds),
    )


# -- server side -----------------------------------------------------------------------------------------------------


def bench_database_url(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "myna_bench"
    return urlunsplit(parts._replace(path="/" + name + "_sandbox"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def prepare(env: dict[str, str], work: Path) -> ClientSetup:
    """Migrate, register one terminal, seed the roster; returns what the clients need (base_url filled later)."""
    os.environ.update(env)
    import django

    django.setup()
    # Django's logging config would print every request of the bench's own httpx client at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from cryptography.hazmat.primitives import serialization
    from django.core.management import call_command
    from django.utils import timezone

    from contracts import signing
    from server.devices.models import Device
    from server.institutions.actions import do_create_institution
    from server.sandbox.demo import seed_demo_roster

    call_command("migrate", verbosity=0)
    institution = do_create_institution(code="1311000010", name="しかく整骨院", actor=Actor.cli("bench"))
    device_key = signing.generate_device_key()
    # Straight into the table: registration is rate-limited per institution in Redis, and is not what is measured.
    device = Device.objects.create(
        institution=institution,
        name="bench",
        public_key=signing.public_key_b64(device_key),
        status=Device.STATUS_ACTIVE,
        registered_at=timezone.now(),
    )
    cards = []
    for card in seed_demo_roster(work / "cards"):
        if card.expected_error_code is None:
            key = serialization.load_pem_private_key(
                card.key_path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
            )
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            cards.append((METHOD_FOR_PROFILE[card.profile], card.cert_path.read_bytes(), pem))
    from django.db import connections

    connections.close_all()
    return ClientSetup("", str(device.pk), signing.private_key_to_bytes(device_key), cards)


def start_gunicorn(
    env: dict[str, str], port: int, workers: int, threads: int, log: Path, worker_class: str = "sync"
) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "server.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", worker_class,
        "--threads", str(threads), "--keep-alive", "30", "--backlog", "512", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)  # fmt: skip
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{PING}", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def _test_client_headers(setup: ClientSetup, device_key, path: str, body: bytes) -> dict[str, str]:
    signed = _signed(setup, device_key, "POST", path, body)
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.items() if k != "Content-Type"}


def _prepared_queries(client, setup: ClientSetup, device_key, cards, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """``count`` signed query bodies, each over a fresh challenge (fetched through the Django test client)."""
    prepared = []
    for n in range(count):
        headers = _test_client_headers(setup, device_key, CHALLENGES, b"{}")
        response = client.post(CHALLENGES, b"{}", content_type="application/json", **headers)
        method, der, card_key = cards[n % len(cards)]
        body = _query_body(response.json()["challenge"], method, der, card_key)
        prepared.append((body, _test_client_headers(setup, device_key, QUALIFICATIONS, body)))
    return prepared


def profile_queries(setup: ClientSetup, count: int) -> None:
    """``count`` queries through Django in this process under cProfile (challenge fetching not profiled)."""
    import cProfile
    import pstats

    from django.test import Client

    from contracts.signing import private_key_from_bytes

    device_key = private_key_from_bytes(setup.device_key)
    cards = _card_keys(setup)
    client = Client()
    setup_base, setup.base_url = setup.base_url, "http://testserver"

    prepared = _prepared_queries(client, setup, device_key, cards, count + 20)
    for body, headers in prepared[:20]:  # warm caches outside the profile
        assert client.post(QUALIFICATIONS, body, content_type="application/json", **headers).status_code == 200
    plain = _prepared_queries(client, setup, device_key, cards, count)
    started = time.perf_counter()
    for body, headers in plain:
        client.post(QUALIFICATIONS, body, content_type="application/json", **headers)
    query_ms = (time.perf_counter() - started) / count * 1000
    started = time.perf_counter()
    for _ in range(count):
        client.get(PING)
    ping_ms = (time.perf_counter() - started) / count * 1000
    signed = [_test_client_headers(setup, device_key, CHALLENGES, b"{}") for _ in range(count)]
    started = time.perf_counter()
    for headers in signed:
        client.post(CHALLENGES, b"{}", content_type="application/json", **headers)
    challenge_ms = (time.perf_counter() - started) / count * 1000
    print(
        f"in-process, one thread, no profiler: query {query_ms:.2f} ms, challenge {challenge_ms:.2f} ms "
        f"(signed request + one Redis write), ping {ping_ms:.2f} ms"
    )
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for body, headers in prepared[20:]:
        client.post(QUALIFICATIONS, body, content_type="application/json", **headers)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"profile: {count} queries in-process, {elapsed / count * 1000:.2f} ms each (one thread, with profiler)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    if os.environ.get("BENCH_PROFILE_CALLEES"):
        pstats.Stats(profiler).sort_stats("cumulative").print_callees(os.environ["BENCH_PROFILE_CALLEES"])
    setup.base_url = setup_base


def main() -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes (the clients are their threads)")
    parser.add_argument("--per-client", type=int, default=100, help="requests per client and kind")
    # The deployed configuration (deploy/gunicorn.conf.py): sync workers, cores + 1. A sync worker answers one request
    # per connection, so every request waits in the one accept queue and the next free worker takes it: first come,
    # first served, p95 ≈ 1.2 × p50. gthread with kept connections pins each connection to a worker, and 32
    # connections over the workers queue unevenly: p95 ≈ 3 × p50 (measured: gthread 12 × 1, 828 q/s, p50 23 ms,
    # p95 76 ms; sync 4, 849 q/s, 36 / 42 ms).
    parser.add_argument("--workers", type=int, default=cores + 1, help="gunicorn workers (default cores + 1)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--rounds", type=int, default=3, help="measure each kind this many times; medians")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--kinds", default="ping,query,pair")
    parser.add_argument(
        "--rate", type=float, default=0.0, metavar="Q", help="also offer queries at Q/s in total (paced clients)"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N queries in-process and stop")
    args = parser.parse_args()

    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set (make bench sets it)")
    database_url = bench_database_url(os.environ["DATABASE_URL"])
    recreate_database(database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    env = {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "server.settings.base",
        "DJANGO_DEBUG": "0",
        "SANDBOX_CA_DIR": str(work / "ca"),
    }
    setup = prepare(env, work)
    if args.profile:
        profile_queries(setup, args.profile)
        return 0
    setup.base_url = f"http://127.0.0.1:{args.port}"
    load_before = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    server = start_gunicorn(env, args.port, args.workers, args.threads, work / "gunicorn.log", args.worker_class)
    try:
        kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
        measure(setup, "ping", args.clients, args.processes, 20)  # warm-up: imports, connections, caches
        if "query" in kinds:
            measure(setup, "query", args.clients, args.processes, 5)
        rounds: dict[str, list[Figures]] = {kind: [] for kind in kinds}
        paced_kind = f"query@{args.rate:g}"
        if args.rate:
            rounds[paced_kind] = []
        for _ in range(max(1, args.rounds)):  # rounds interleave the kinds: load that drifts hits them alike
            for kind in kinds:
                rounds[kind].append(measure(setup, kind, args.clients, args.processes, args.per_client))
            if args.rate:  # the same queries, offered at a fixed total rate: latency at that load, not at saturation
                paced = ClientSetup(
                    setup.base_url, setup.device_id, setup.device_key, setup.cards, args.clients / args.rate
                )
                rounds[paced_kind].append(measure(paced, "query", args.clients, args.processes, args.per_client))
                rounds[paced_kind][-1].kind = paced_kind
        results = {kind: median_figures(figures) for kind, figures in rounds.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)  # the throwaway CA, card keys and server log (kept when a run fails)

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"sandbox: load average before the run {load_before}, after {load} (other work on the machine skews figures)")
    print(
        f"sandbox: gunicorn {args.worker_class} {args.workers} workers × {args.threads} threads on {cores} cores; "
        f"{args.clients} clients ({args.processes} processes), {args.per_client} requests each; "
        f"{len(setup.cards)} demo cards"
    )
    print(f"{'endpoint':<9} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}   (medians of "
          f"{max(1, args.rounds)} rounds)")  # fmt: skip
    for figures in results.values():
        print(
            f"{figures.kind:<9} {figures.requests:>8} {figures.errors:>6} {figures.per_second:>8.0f} "
            f"{figures.p50:>8.1f} {figures.p95:>8.1f}"
        )
    if "query" in rounds and len(rounds["query"]) > 1:
        print("query rounds (q/s, p95 ms): " + ", ".join(f"{f.per_second:.0f} / {f.p95:.1f}" for f in rounds["query"]))
    if "query" in results and "ping" in results:
        query, ping = results["query"], results["ping"]
        print(
            f"query/ping: throughput {query.per_second / ping.per_second:.2f}×, p95 {query.p95 / ping.p95:.1f}×; "
            f"target ≥ {TARGET_QPS} queries/s and p95 ≤ {TARGET_P95_MS:.0f} ms: "
            f"{'met' if query.per_second >= TARGET_QPS and query.p95 <= TARGET_P95_MS else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
