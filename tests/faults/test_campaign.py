"""The fault campaign, terminal to database (issue 15 point 6; S06, S10, T30): five headless terminals (TerminalCore
with in-process virtual cards, each its own process) check patients against the sandbox and push their results to
the clinic server, while the test kills and restarts, one at a time, the gunicorn master, the Celery worker, Redis,
PostgreSQL and a terminal that has results waiting in its outbox — all of them this test's own instances on spare
ports (tests/faults/stack.py). A few background CSV exports are asked for along the way, one just before the worker
is killed.

Afterwards every check either reached the server exactly once (its terminal-made id is on the server, once) or was
refused on the screen with a Japanese message; 0 lost, 0 duplicated, every export finished. The counts are printed
(README's figure table).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from contracts import signing
from tests.faults.stack import ROOT, Service, Stack, wait_until

pytestmark = pytest.mark.e2e

TERMINALS = 5
DOWN_SECONDS = 4.0
STEADY_SECONDS = 6.0
JAPANESE = ("\u3040", "\u30ff"), ("\u4e00", "\u9fff")


def japanese(text: str) -> bool:
    return any(low <= ch <= high for ch in text for low, high in JAPANESE)


class Terminal:
    """One driver process (tests/faults/driver.py) and the events it wrote."""

    def __init__(self, directory: Path, config: dict) -> None:
        self.directory = directory
        directory.mkdir()
        (directory / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
        self.service = Service(
            config["name"], [sys.executable, "-m", "tests.faults.driver", str(directory)], env={}, log=directory / "log"
        )

    def start(self, env: dict[str, str]) -> None:
        self.service.env = env
        self.service.start()

    def events(self) -> list[dict]:
        path = self.directory / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]

    def count(self, event: str) -> int:
        return sum(e["event"] == event for e in self.events())

    def control(self, name: str, on: bool = True) -> None:
        path = self.directory / name
        path.touch() if on else path.unlink(missing_ok=True)

    def alive(self) -> bool:
        return self.service.process is not None and self.service.process.poll() is None


class Observer:
    """A registered device of the test itself, asking for CSV exports (S10) and polling them."""

    def __init__(self, url: str, institution_code: str, code: str) -> None:
        self.key = signing.generate_device_key()
        body = {
            "institution_code": institution_code, "account_id": "clinic-admin", "password": "Demo#Pass1",
            "activation_code": code, "public_key": signing.public_key_b64(self.key), "device_name": "監視",
        }  # fmt: skip
        answer = httpx.post(url + "/api/v1/devices/register", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        self.client = httpx.Client(
            base_url=url, auth=signing.DeviceSignatureAuth(self.key, answer.json()["device_id"]), timeout=10
        )
        self.exports: list[str] = []
        self.refused = 0

    def ask_export(self) -> None:
        try:
            answer = self.client.post("/api/v1/results/exports", json={"scope": "institution"})
        except httpx.TransportError:
            self.refused += 1
            return
        if answer.status_code == 202:
            self.exports.append(answer.json()["export_id"])
        else:
            assert answer.status_code == 503, answer.text  # a service down: refused, the envelope says why
            self.refused += 1

    def export_states(self) -> dict[str, str]:
        return {e: self.client.get(f"/api/v1/results/exports/{e}").json()["status"] for e in self.exports}


@pytest.fixture
def stack():
    stack = Stack()
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if os.environ.get("MYNA_FAULTS_KEEP"):
            print(f"fault campaign files kept in {stack.directory}")
        else:
            stack.remove()


def test_nothing_is_lost_or_duplicated_under_faults(stack: Stack, capsys):
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request of the observer otherwise
    started = time.monotonic()
    card_dir = stack.directory / "cards"
    codes_file = stack.directory / "codes.txt"
    stack.manage(
        "seed_demo", "--card-dir", str(card_dir), "--codes", str(TERMINALS + 1), "--codes-file", str(codes_file)
    )
    codes = codes_file.read_text().split()
    card = next(
        c for c in json.loads((card_dir / "cards.json").read_text(encoding="utf-8")) if c["name"] == "資格 太郎"
    )
    driver_env = {k: v for k, v in stack.env.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    terminals = [
        Terminal(
            stack.directory / f"terminal{i}",
            {
                "server": stack.url,
                "institution_code": "1311000010",
                "account_id": "clinic-admin",
                "password": "Demo#Pass1",
                "code": codes[i],
                "name": f"受付{i + 1}",
                "card_key": card["key_path"],
                "card_cert": card["cert_path"],
            },
        )  # fmt: skip
        for i in range(TERMINALS)
    ]
    for terminal in terminals:
        terminal.start(driver_env)
    observer = Observer(stack.url, "1311000010", codes[TERMINALS])
    wait_until(lambda: all(t.count("stored") >= 2 for t in terminals), 90, "every terminal checking")
    timeline: list[str] = [f"{time.monotonic() - started:5.1f}s all {TERMINALS} terminals checking"]

    def outage(service_name: str, kill, restart) -> None:
        time.sleep(STEADY_SECONDS)
        observer.ask_export()
        kill()
        timeline.append(f"{time.monotonic() - started:5.1f}s killed {service_name}")
        time.sleep(DOWN_SECONDS)
        observer.ask_export()  # while it is down: accepted, or refused with the envelope
        restart()
        stack.wait_ready()
        timeline.append(f"{time.monotonic() - started:5.1f}s {service_name} back, server ready")

    outage("the gunicorn master", stack.web.kill, stack.web.start)
    outage("the Celery worker", stack.worker.kill, stack.worker.start)
    outage("Redis", stack.redis.kill, stack.redis.start)
    outage("PostgreSQL", stack.postgres.kill, stack.postgres.start)

    # A terminal with results in its outbox: it stops pushing, checks three more patients, and is killed.
    time.sleep(STEADY_SECONDS)
    victim = terminals[0]
    victim.control("hold")
    held = wait_until(lambda: [e for e in victim.events() if e["event"] == "held"], 60, "the terminal holding")
    pending = held[-1]["pending"]
    assert pending >= 3, held[-1]
    victim.service.kill()
    victim.control("hold", on=False)
    timeline.append(f"{time.monotonic() - started:5.1f}s killed terminal 受付1 with {pending} results in its outbox")
    time.sleep(DOWN_SECONDS)
    victim.start(driver_env)
    wait_until(lambda: victim.count("restarted"), 30, "the terminal restarting")
    timeline.append(f"{time.monotonic() - started:5.1f}s terminal 受付1 restarted")
    time.sleep(STEADY_SECONDS)
    observer.ask_export()

    # The end: no more checks; each terminal pushes what waits and exits.
    for terminal in terminals:
        terminal.control("stop")
    wait_until(lambda: all(not t.alive() for t in terminals), 150, "the terminals finishing")
    for terminal in terminals:
        assert terminal.service.process.returncode == 0, (terminal.directory / "log").read_text(errors="replace")
    wait_until(
        lambda: all(s in ("done", "failed") for s in observer.export_states().values()), 90, "the exports finishing"
    )
    timeline.append(f"{time.monotonic() - started:5.1f}s all terminals drained, exports finished")

    # --- the counts ------------------------------------------------------------------------------------------------
    events = [e for t in terminals for e in t.events()]
    stored = [e["id"] for e in events if e["event"] == "stored"]
    refused = [e for e in events if e["event"] == "refused"]
    with psycopg.connect(stack.postgres.url.replace("postgres://", "postgresql://")) as db:
        on_server = [r[0] for r in db.execute("SELECT id::text FROM results_checkresult").fetchall()]
    counts = collections.Counter(on_server)
    lost = set(stored) - set(on_server)
    unknown = set(on_server) - set(stored)
    duplicated = [i for i, n in counts.items() if n > 1] + [i for i, n in collections.Counter(stored).items() if n > 1]
    exports = observer.export_states()
    refusal_codes = collections.Counter(e["code"] for e in refused)
    leftover = [e["pending"] for e in events if e["event"] == "done"]
    report = [
        "fault campaign (issue 15 point 6):",
        *(f"  {line}" for line in timeline),
        f"  checks: {len(stored) + len(refused)} — reached the server exactly once: {len(set(stored) & set(on_server))}, "
        f"refused on screen with a message: {len(refused)} {dict(refusal_codes)}",
        f"  lost: {len(lost)}, duplicated: {len(duplicated)}, on the server but never stored by a terminal: "
        f"{len(unknown)}, left in an outbox: {sum(leftover)}",
        f"  exports: {len(exports)} asked and accepted, {sum(s == 'done' for s in exports.values())} done, "
        f"{sum(s == 'failed' for s in exports.values())} failed; {observer.refused} refused while a service was down",
        f"  campaign time: {time.monotonic() - started:.0f} s",
    ]
    with capsys.disabled():  # shown in make test's output, not only on failure
        print("\n" + "\n".join(report))
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "fault-campaign.txt").write_text("\n".join(report) + "\n", encoding="utf-8")

    assert len(events) and len(stored) >= 5 * TERMINALS
    assert not lost and not duplicated and not unknown, (lost, duplicated, unknown)
    assert len(on_server) == len(stored)
    assert all(japanese(e["message"]) for e in refused), [e for e in refused if not japanese(e["message"])]
    assert leftover == [0] * TERMINALS
    assert len(exports) >= 4 and set(exports.values()) == {"done"}, exports
    # Every fault happened while checks were going on: the outages were seen as refused checks.
    assert refused, "no check was refused: the faults did not reach the terminals"
