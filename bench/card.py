"""Card benchmark (C04): ours vs OpenSC on the same virtual card over the real pcscd + vpcd.

    python bench/card.py [--runs 30] [--port 35964]

Prints median and p95 (ms) of reading the user-auth certificate and of verify+sign, for our client
(PcscBackend.connect + JpkiCard, as the terminal does it per check) and for OpenSC's CLI tools
(`pkcs15-tool --read-certificate 01`, `pkcs11-tool --login --sign -m SHA256-RSA-PKCS`), and the ratio ours/OpenSC.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from terminal_agent.card.jpki import JpkiCard  # noqa: E402
from terminal_agent.card.readers import PcscBackend  # noqa: E402
from terminal_agent.card.virtual import VirtualCard  # noqa: E402
from terminal_agent.card.virtual.vpcd import VpcdClient  # noqa: E402

PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
PIN = "1234"


def timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm-up (first SCardConnect powers the card on)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def run_checked(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {result.stderr.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=35964, help="vpcd port (35963 = Virtual PCD 00 00)")
    args = parser.parse_args()
    reader = f"Virtual PCD 00 {args.port - 35963:02d}"

    subprocess.run([str(REPO / "scripts" / "pcscd-up.sh")], check=True)
    backend = PcscBackend()
    card = VirtualCard("physical", pin=PIN)
    client = VpcdClient(card, "127.0.0.1", args.port).start()
    try:
        deadline = time.monotonic() + 10
        while not backend.reader_states().get(reader, None) or not backend.reader_states()[reader].card_present:
            if time.monotonic() > deadline:
                raise SystemExit(f"pcscd does not show the virtual card in {reader!r}")
            time.sleep(0.05)
        apdus: dict[str, int] = {}

        def ours_read() -> None:
            with backend.connect(reader) as connection:
                jpki = JpkiCard(connection)
                jpki.select_ap()
                assert jpki.read_auth_certificate() == card.cert_der
                apdus["read"] = jpki.apdu_count

        def ours_sign() -> None:
            with backend.connect(reader) as connection:
                jpki = JpkiCard(connection)
                jpki.select_ap()
                jpki.verify_pin(PIN)
                jpki.sign_digest_info(hashlib.sha256(b"bench").digest())
                apdus["sign"] = jpki.apdu_count

        with tempfile.TemporaryDirectory() as tmp:
            data, sig, pem = Path(tmp, "data"), Path(tmp, "sig"), Path(tmp, "cert.pem")
            data.write_bytes(b"bench")
            opensc_read = ["pkcs15-tool", "--reader", reader, "--read-certificate", "01", "--output", str(pem)]
            opensc_sign = [
                "pkcs11-tool",
                "--module",
                PKCS11_MODULE,
                "--token-label",
                "JPKI (User Authentication PIN)",
                "--login",
                "--pin",
                PIN,
                "--sign",
                "--id",
                "01",
                "-m",
                "SHA256-RSA-PKCS",
                "-i",
                str(data),
                "-o",
                str(sig),
            ]
            rows = [
                (
                    "read auth certificate",
                    timed(ours_read, args.runs),
                    timed(lambda: run_checked(opensc_read), args.runs),
                ),
                ("verify PIN + sign", timed(ours_sign, args.runs), timed(lambda: run_checked(opensc_sign), args.runs)),
            ]
    finally:
        client.stop()
        backend.close()

    print(f"card benchmark over pcscd+vpcd ({reader}), {args.runs} runs each; times in ms")
    print(f"{'operation':<24}{'ours med':>10}{'ours p95':>10}{'OpenSC med':>12}{'OpenSC p95':>12}{'ratio':>8}")
    worst = 0.0
    for name, ours, opensc in rows:
        ours_med, ours_p95 = summary(ours)
        osc_med, osc_p95 = summary(opensc)
        ratio = ours_med / osc_med
        worst = max(worst, ratio)
        print(f"{name:<24}{ours_med:>10.2f}{ours_p95:>10.2f}{osc_med:>12.2f}{osc_p95:>12.2f}{ratio:>8.2f}")
    print(f"APDUs per operation (ours): read={apdus['read']}, verify+sign={apdus['sign']}")
    print(f"target ratio <= 1.0: {'met' if worst <= 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
