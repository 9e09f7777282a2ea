"""`python -m terminal_agent.card.virtual --vpcd 127.0.0.1:35963 --profile physical --pin 1234 [--cert F --key F]`

Serves a virtual My Number card to the real pcscd through the vpcd driver until interrupted.
Signals for the demo/tests: SIGUSR1 = simulated Face ID approval (iphone), SIGUSR2 = take the card out / put it back.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .card import Faults, VirtualCard, load_card_dir, load_card_files
from .vpcd import VpcdClient


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:35963")
    return host, int(port)


def _flip_last_byte(response: bytes) -> bytes:
    return response[:-1] + bytes([response[-1] ^ 0xFF]) if response else response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terminal_agent.card.virtual", description=__doc__)
    parser.add_argument("--vpcd", type=_host_port, default=("127.0.0.1", 35963), help="vpcd HOST:PORT")
    parser.add_argument("--profile", choices=["physical", "android", "iphone"], default="physical")
    parser.add_argument("--pin", default="1234", help="利用者証明用 PIN (4 digits)")
    parser.add_argument("--cert", help="user-auth certificate (DER or PEM)")
    parser.add_argument("--key", help="user-auth private key (PEM)")
    parser.add_argument("--ca-cert", help="CA certificate for EF 000B (DER)")
    parser.add_argument("--card-dir", help="directory with key.pem, cert.der, ca.der (sandbox write_card_files)")
    parser.add_argument("--remove-after", type=int, help="fault: card leaves after N APDUs")
    parser.add_argument("--delay", type=float, default=0.0, help="fault: seconds of delay per APDU")
    parser.add_argument("--garble-at", type=int, action="append", metavar="N",
                        help="fault: flip the last status byte of the Nth response (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    if not (len(args.pin) == 4 and args.pin.isdigit()):
        parser.error("--pin must be 4 digits")

    key = cert_der = ca_der = None
    if args.card_dir:
        key, cert_der, ca_der = load_card_dir(args.card_dir)
    if args.cert:
        key, cert_der = load_card_files(args.key, args.cert)
    if args.ca_cert:
        with open(args.ca_cert, "rb") as fh:
            ca_der = fh.read()
    card = VirtualCard(args.profile, pin=args.pin, key=key, cert_der=cert_der, ca_cert_der=ca_der,
                       faults=Faults(remove_after=args.remove_after, delay=args.delay,
                                     garble=_flip_last_byte if args.garble_at else None,
                                     garble_at=set(args.garble_at or ())))
    host, port = args.vpcd
    client = VpcdClient(card, host, port)
    done = threading.Event()

    def toggle(*_: object) -> None:
        if client._inserted.is_set():
            client.remove()
        else:
            client.insert()

    signal.signal(signal.SIGUSR1, lambda *_: card.approve_biometric())
    signal.signal(signal.SIGUSR2, toggle)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    client.start()
    print(f"virtual {args.profile} card serving vpcd at {host}:{port}", flush=True)
    done.wait()
    client.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
