"""Soak (issue 15 point 7): 50 simulated tablets for 10 minutes against the clinic server as deployed — gunicorn
(production settings, 2 sync workers), a Celery worker and beat, PostgreSQL and Redis, all this run's own instances
on spare ports (tests/faults/stack.py: a throwaway initdb cluster, a redis-server without persistence).

Each tablet registers with an activation code and then, signed like the terminal (RFC 9421): a heartbeat every 5 s,
a check every 20 s (sandbox challenge → the card's PKCS#1 signature with the demo card 資格 太郎's key → qualification
query → result batch push), a search of the institution's results every 30 s; and one CSV export a minute (create,
poll until done, download). Start times are spread so that the tablets do not call in step.

Printed: requests and errors (target 0: any transport error or an answer outside 2xx), p50/p95 per endpoint, and the
resident memory (RSS, summed over the processes of each service) of the web server (gunicorn master + workers) and the
Celery worker at boot, after the first minute (warm: imports, connection pools and caches filled) and at the end;
the verdict is the growth from warm to end (target ≤ 10 %).

    .venv/bin/python bench/soak.py [--tablets 50] [--minutes 10]      # make soak
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import json
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from contracts import signing  # noqa: E402
from tests.faults.stack import Stack  # noqa: E402

HEARTBEAT_EVERY, CHECK_EVERY, SEARCH_EVERY, EXPORT_EVERY = 5.0, 20.0, 30.0, 60.0
WARM_SECONDS = 60.0


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter[str] = collections.Counter()

    def call(self, name: str, send, *args, ok=lambda r: r.is_success, **kwargs) -> httpx.Response | None:
        """``send(*args, **kwargs)`` timed under ``name``; the response if ``ok``, else None (an error counted)."""
        started = time.perf_counter()
        try:
            response = send(*args, **kwargs)
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors[f"{name}: {type(exc).__name__}"] += 1
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[name].append(elapsed)
            if not ok(response):
                self.errors[f"{name}: {response.status_code} {response.text[:80]}"] += 1
        return response if ok(response) else None


def rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and of all its descendants, in kB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


class Card:
    """The demo card 資格 太郎: its certificate and what its user-authentication key signs (80 2A 00 80)."""

    def __init__(self, manifest: Path) -> None:
        card = next(c for c in json.loads(manifest.read_text(encoding="utf-8")) if c["name"] == "資格 太郎")
        self.certificate_b64 = base64.b64encode(Path(card["cert_path"]).read_bytes()).decode()
        self.key = serialization.load_pem_private_key(
            Path(card["key_path"]).read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )

    def sign(self, challenge_b64: str) -> str:
        signature = self.key.sign(base64.b64decode(challenge_b64), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


class Tablet(threading.Thread):
    def __init__(self, number: int, url: str, code: str, card: Card, stats: Stats, until: float) -> None:
        super().__init__(name=f"tablet-{number}", daemon=True)
        self.number, self.url, self.code, self.card, self.stats, self.until = number, url, code, card, stats, until
        self.rng = random.Random(number)

    def register(self) -> httpx.Client:
        key = signing.generate_device_key()
        body = {
            "institution_code": "1311000010", "account_id": "clinic-admin", "password": "Demo#Pass1",
            "activation_code": self.code, "public_key": signing.public_key_b64(key),
            "device_name": f"受付{self.number + 1}", "app_version": "1.0.0", "reader_name": "Virtual PCD 00 00",
        }  # fmt: skip
        answer = httpx.post(self.url + "/api/v1/devices/register", json=body, timeout=30)
        answer.raise_for_status()
        device_id = answer.json()["device_id"]
        return httpx.Client(base_url=self.url, auth=signing.DeviceSignatureAuth(key, device_id), timeout=30)

    def check(self, client: httpx.Client) -> None:
        challenge = self.stats.call("sandbox challenge", client.post, "/sandbox/onshi/v1/challenges", json={})
        if challenge is None:
            return
        challenge_b64 = challenge.json()["challenge"]
        body = {
            "challenge": challenge_b64, "identity_verification": "pin", "certificate": self.card.certificate_b64,
            "signature": self.card.sign(challenge_b64), "consent_specific_diseases": False,
        }  # fmt: skip
        answer = self.stats.call("sandbox query", client.post, "/sandbox/onshi/v1/qualifications", json=body)
        if answer is None:
            return
        item = {
            "id": str(uuid.uuid4()),
            "checked_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "result": answer.json()["result"],
        }
        pushed = self.stats.call("results batch", client.post, "/api/v1/results/batch", json={"results": [item]})
        if pushed is not None and pushed.json()["items"][0]["status"] != "stored":
            with self.stats.lock:
                self.stats.errors["results batch: not stored"] += 1

    def run(self) -> None:
        client = self.register()
        now = time.monotonic()
        due = {
            "heartbeat": now + self.rng.uniform(0, HEARTBEAT_EVERY),
            "check": now + self.rng.uniform(0, CHECK_EVERY),
            "search": now + self.rng.uniform(0, SEARCH_EVERY),
        }
        every = {"heartbeat": HEARTBEAT_EVERY, "check": CHECK_EVERY, "search": SEARCH_EVERY}
        while True:
            task = min(due, key=due.get)
            if due[task] >= self.until:
                break
            time.sleep(max(0.0, due[task] - time.monotonic()))
            if task == "heartbeat":
                body = {"app_version": "1.0.0", "reader_name": "Virtual PCD 00 00"}
                self.stats.call("heartbeat", client.post, "/api/v1/devices/me/heartbeat", json=body)
            elif task == "check":
                self.check(client)
            else:
                params = {"scope": "institution", "page_size": 8}
                self.stats.call("search", client.get, "/api/v1/results", params=params)
            due[task] += every[task]
        client.close()


def exporter(client: httpx.Client, stats: Stats, until: float) -> None:
    """One CSV export a minute: create, poll until done, download."""
    while time.monotonic() + EXPORT_EVERY < until:
        next_at = time.monotonic() + EXPORT_EVERY
        created = stats.call(
            "export create",
            client.post,
            "/api/v1/results/exports",
            json={"scope": "institution"},
            ok=lambda r: r.status_code == 202,
        )
        if created is not None:
            export_id = created.json()["export_id"]
            body = {"status": "pending"}
            deadline = time.monotonic() + 45
            while body["status"] in ("pending", "running") and time.monotonic() < deadline:
                time.sleep(1)
                polled = stats.call("export status", client.get, f"/api/v1/results/exports/{export_id}")
                body = polled.json() if polled is not None else body
            if body["status"] == "done":
                stats.call("export download", client.get, body["download_url"])
            else:
                with stats.lock:
                    stats.errors[f"export: {body['status']} after 45 s"] += 1
        time.sleep(max(0.0, next_at - time.monotonic()))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()

    stack = Stack(
        REGISTRATION_ATTEMPTS_PER_IP_PER_HOUR="1000",
        REGISTRATION_ATTEMPTS_PER_INSTITUTION_PER_HOUR="1000",
        RESULT_EXPORT_STUCK_SECONDS="120",
        WORK_RECOVERY_INTERVAL_SECONDS="60",
    )
    try:
        stack.start()
        card_dir, codes_file = stack.directory / "cards", stack.directory / "codes.txt"
        stack.manage("seed_demo", "--card-dir", str(card_dir), "--codes", str(args.tablets + 1), "--codes-file",
                     str(codes_file))  # fmt: skip
        codes = codes_file.read_text().split()
        card = Card(card_dir / "cards.json")
        boot = {"web": rss_kb(stack.web.process.pid), "worker": rss_kb(stack.worker.process.pid)}
        stats = Stats()
        started = time.monotonic()
        until = started + args.minutes * 60
        tablets = [Tablet(i, stack.url, codes[i], card, stats, until) for i in range(args.tablets)]
        for tablet in tablets:
            tablet.start()
        export_tablet = Tablet(args.tablets, stack.url, codes[args.tablets], card, stats, until)
        export_thread = threading.Thread(target=exporter, args=(export_tablet.register(), stats, until), daemon=True)
        export_thread.start()
        time.sleep(min(WARM_SECONDS, args.minutes * 60 / 2))
        warm = {"web": rss_kb(stack.web.process.pid), "worker": rss_kb(stack.worker.process.pid)}
        for tablet in tablets:
            tablet.join()
        export_thread.join(timeout=90)
        end = {"web": rss_kb(stack.web.process.pid), "worker": rss_kb(stack.worker.process.pid)}
        elapsed = time.monotonic() - started
    finally:
        stack.stop()
        stack.remove()

    total = sum(len(v) for v in stats.latencies.values())
    errors = sum(stats.errors.values())
    print(f"soak: {args.tablets} tablets, {elapsed / 60:.1f} min, {total} requests ({total / elapsed:.1f}/s), "
          f"errors {errors} (target 0)")  # fmt: skip
    for message, count in stats.errors.most_common(10):
        print(f"  error x{count}: {message}")
    print(f"  {'endpoint':<18} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, samples in sorted(stats.latencies.items()):
        print(f"  {name:<18} {len(samples):>8} {statistics.median(samples):>8.1f} {percentile(samples, 0.95):>8.1f}")
    verdicts = []
    for service in ("web", "worker"):
        growth = (end[service] - warm[service]) / warm[service] * 100
        verdicts.append(growth <= 10)
        print(f"  RSS {service:<6} boot {boot[service] / 1024:6.1f} MB, warm (1 min) {warm[service] / 1024:6.1f} MB, "
              f"end {end[service] / 1024:6.1f} MB: growth {growth:+.1f} % from warm (target ≤ 10 %)")  # fmt: skip
    print(f"  verdict: errors {'met' if errors == 0 else 'NOT met'}, memory {'met' if all(verdicts) else 'NOT met'}")


if __name__ == "__main__":
    main()
