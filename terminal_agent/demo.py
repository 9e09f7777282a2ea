"""The terminal half of ``make demo``.

``python -m terminal_agent.demo --server URL --cards cards.json --codes-file codes.txt --data-dir DIR``

The demo's virtual card (資格 太郎 by default) sits in an in-process reader. With a display the terminal window opens
and a person goes through 初期登録 with one of the printed activation codes. Without one (or with ``--scripted``) the
real screens run offscreen through one scripted 暗証番号 check; the result and the screenshot's path are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from contracts.display import VALIDITY

DEMO_INSTITUTION_CODE = "1311000010"
DEMO_ACCOUNT_ID = "clinic-admin"
DEMO_PASSWORD = "Demo#Pass1"
DEMO_PERSON = "資格 太郎"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="terminal_agent.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--cards", type=Path, required=True, help="cards.json written by seed_demo")
    parser.add_argument("--codes-file", type=Path, required=True, help="activation codes written by seed_demo")
    parser.add_argument("--data-dir", type=Path, required=True, help="the terminal's local data directory")
    parser.add_argument("--person", default=DEMO_PERSON, help="whose virtual card is in the reader")
    parser.add_argument("--screenshot", type=Path, default=Path("var/demo/result-C-04-01-W.png"))
    parser.add_argument("--scripted", action="store_true", help="run the scripted check even when a display exists")
    return parser.parse_args(argv)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and \
        os.environ.get("QT_QPA_PLATFORM") != "offscreen"


def load_demo_card(cards_file: Path, person: str) -> dict[str, Any]:
    cards = json.loads(cards_file.read_text(encoding="utf-8"))
    for card in cards:
        if card["name"] == person:
            return card
    raise SystemExit(f"{person} is not in {cards_file}; known: {', '.join(c['name'] for c in cards)}")


def summary_lines(document: dict[str, Any]) -> list[str]:
    qualification = document["result_of_qualification_confirmation"]
    return [
        f"  氏名: {qualification['name']} ({qualification['name_kana']})",
        f"  保険者: {qualification.get('insurer_number')} {qualification.get('insurer_name') or ''}",
        f"  資格有効性: {VALIDITY.get(document['qualification_validity'], document['qualification_validity'])}",
        f"  照会番号: {document.get('reference_number') or '(未登録)'}",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scripted = args.scripted or not has_display()
    if scripted:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    from terminal_agent.card.virtual import VirtualCard, load_card_files
    from terminal_agent.core.app import TerminalCore
    from terminal_agent.core.readers import InProcessReaderProvider
    from terminal_agent.core.registration import RegistrationForm
    from terminal_agent.ui.app import ensure_application, open_main_window

    card = load_demo_card(args.cards, args.person)
    key, cert_der = load_card_files(card["key_path"], card["cert_path"])
    reader = InProcessReaderProvider(VirtualCard(profile=card["profile"], pin=card["pin"], key=key, cert_der=cert_der))
    codes = [line.strip() for line in args.codes_file.read_text(encoding="utf-8").splitlines() if line.strip()]

    app = ensure_application()
    core = TerminalCore(args.server, data_dir=args.data_dir, readers=reader)
    try:
        if scripted:
            from terminal_agent.ui.scripted import ScriptError, run_scripted_pin_check

            form = None if core.is_registered() else RegistrationForm(
                DEMO_INSTITUTION_CODE, DEMO_ACCOUNT_ID, DEMO_PASSWORD, codes[0])
            try:
                outcome = run_scripted_pin_check(core, pin=card["pin"], screenshot=args.screenshot, registration=form)
            except ScriptError as error:
                print(f"scripted check failed: {error}", file=sys.stderr)
                return 1
            print(f"scripted 暗証番号 check of {args.person} done:")
            print("\n".join(summary_lines(outcome["result"])))
            print(f"  results not yet synced: {outcome['pending_results']}")
            print(f"screenshot of the result screen (C-04-01-W): {Path(outcome['screenshot']).resolve()}")
            return 0
        print("terminal window opened. 初期登録: "
              f"機関コード {DEMO_INSTITUTION_CODE}, ID {DEMO_ACCOUNT_ID}, パスワード {DEMO_PASSWORD}, "
              f"アクティベーションコード {codes[0]}; the card's PIN is {card['pin']}.")
        window = open_main_window(core, sync_interval=10.0)  # noqa: F841 - kept alive until exec returns
        return app.exec()
    finally:
        core.close()


if __name__ == "__main__":
    sys.exit(main())
