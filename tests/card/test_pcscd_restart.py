"""pcscd stopped and started again while the monitor runs: the monitor reports it and recovers.

Uses a private pcscd (own /run/pcscd through a mount namespace, own vpcd ports) so that the machine's pcscd, which
other programs use, is never stopped.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from terminal_agent.card.virtual.vpcd import VpcdClient

from .conftest import REPO

pytestmark = pytest.mark.pcscd

PRIVATE_PORT = 40000
PRIVATE_READER = "Private PCD 00 00"


class PrivatePcscd:
    def __init__(self, root: Path) -> None:
        self.run_dir = root / "run"
        self.conf_dir = root / "conf"
        self.log = root / "pcscd.log"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "vpcd").write_text(
            'FRIENDLYNAME "Private PCD"\n'
            f"DEVICENAME   /dev/null:0x{PRIVATE_PORT:04X}\n"
            "LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\n"
            f"CHANNELID    0x{PRIVATE_PORT:04X}\n"
        )
        self.socket = self.run_dir / "pcscd.comm"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert shutil.which("unshare") and shutil.which("pcscd"), "unshare and pcscd are needed"
        with self.log.open("ab") as log:
            # unshare and sh both exec, so the Popen pid is pcscd itself.
            self.process = subprocess.Popen(
                ["unshare", "-m", "sh", "-c",
                 f"mount --bind {self.run_dir} /run/pcscd && exec pcscd -f -c {self.conf_dir}"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert self.process.poll() is None, f"private pcscd exited: {self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "private pcscd did not create its socket"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
        for leftover in ("pcscd.comm", "pcscd.pid"):
            (self.run_dir / leftover).unlink(missing_ok=True)


@pytest.fixture
def private_pcscd():
    daemon = PrivatePcscd(Path(f"/tmp/myna-card-pcscd-{os.getpid()}"))
    daemon.start()
    yield daemon
    daemon.stop()
    shutil.rmtree(daemon.run_dir.parent, ignore_errors=True)


def test_monitor_recovers_after_pcscd_restart(private_pcscd, make_card):
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(private_pcscd.socket), "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_monitor_child.py"))],
        env=env, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[dict] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(json.loads(x)) for x in child.stdout], daemon=True).start()

    def expect(kind: str, timeout: float = 10.0) -> list[dict]:
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if line["kind"] == kind and line.get("reader", PRIVATE_READER) in (PRIVATE_READER, ""):
                return seen
        raise AssertionError(f"no {kind!r} from the monitor; saw {seen}; stderr: {child.stderr.read()[-2000:]}")

    card = make_card()
    vicc = VpcdClient(card, "127.0.0.1", PRIVATE_PORT).start()
    try:
        expect("cert_read")
        private_pcscd.stop()
        expect("service_lost")
        time.sleep(0.5)  # down for a while: the monitor keeps retrying
        private_pcscd.start()  # the vicc reconnects on its own
        seen = expect("cert_read", timeout=15)
        kinds = [line["kind"] for line in seen]
        assert "service_restored" in kinds and "card_inserted" in kinds
    finally:
        vicc.stop()
        child.stdin.close()
    assert expect("alive")[-1]["value"] is True
    assert child.wait(10) == 0


def test_no_service_when_pcscd_is_not_running(tmp_path):
    """No pcscd behind the socket: a typed NoService with a Japanese message, from listing and from the monitor."""
    code = (
        "from terminal_agent.card import errors, PcscBackend, CardMonitor\n"
        "backend = PcscBackend()\n"
        "try:\n"
        "    backend.list_readers()\n"
        "except errors.NoService as exc:\n"
        "    print(exc.code, exc.message)\n"
        "monitor = CardMonitor(backend)\n"
        "monitor.poll_once()\n"
        "print(monitor.events.get_nowait().kind, monitor.service_up)\n"
    )
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "nothing.comm"), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.startswith("no_service ") and "PC/SC" in first
    assert second == "service_lost False"
