"""``python -m terminal_agent --server URL [--virtual-card KEY CERT --pin 1234] [--data-dir DIR]``.

With ``--virtual-card`` the card is an in-process virtual My Number card (tests, demo); otherwise PC/SC via pyscard.
"""

from __future__ import annotations

import argparse
import logging
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="terminal_agent", description="マイナ資格確認アプリ (terminal)")
    parser.add_argument("--server", help="clinic server URL, e.g. http://127.0.0.1:8000 (kept after registration)")
    parser.add_argument("--data-dir", help="local data directory (default: $MYNA_TERMINAL_DATA_DIR or the user dir)")
    parser.add_argument("--virtual-card", nargs=2, metavar=("KEY", "CERT"), help="PEM key and certificate of a virtual card")
    parser.add_argument("--pin", default="1234", help="PIN of the virtual card")
    parser.add_argument("--profile", default="physical", choices=["physical", "android", "iphone"])
    parser.add_argument("--sync-interval", type=float, default=30.0, help="seconds between outbox sync rounds")
    demo = parser.add_argument_group("scripted demo (offscreen): one 暗証番号 check, then a PNG of the result screen")
    demo.add_argument("--scripted-screenshot", metavar="PNG", help="run the scripted check and save the screenshot")
    demo.add_argument("--institution-code", help="初期登録 when the terminal is not registered yet")
    demo.add_argument("--account-id")
    demo.add_argument("--activation-code")
    demo.add_argument("--passcode", default="1111", help="ログインパスコード for the scripted run")
    return parser.parse_args(argv)


def build_core(args: argparse.Namespace):  # noqa: ANN201 - returns TerminalCore; import kept lazy for --help
    """The core over the PC/SC readers (made on first use), or over an in-process virtual card."""
    from terminal_agent.core.app import TerminalCore

    readers = None
    if args.virtual_card:
        from terminal_agent.card.virtual import VirtualCard, load_card_files
        from terminal_agent.core.readers import InProcessReaderProvider

        key, cert_der = load_card_files(*args.virtual_card)
        readers = InProcessReaderProvider(VirtualCard(profile=args.profile, pin=args.pin, key=key, cert_der=cert_der))
    return TerminalCore(args.server, data_dir=args.data_dir, readers=readers)


def main(argv: list[str] | None = None) -> int:
    """Start-up order (issue 12): Qt, the light core (settings only), the first screen painted; only then the sync
    relay and the preloading of the data key, httpx and the card stack, off the UI thread (``open_main_window``)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from terminal_agent.ui.app import ensure_application, open_main_window

    app = ensure_application()
    core = build_core(args)
    if args.scripted_screenshot:
        return scripted(core, args)
    window = open_main_window(core, sync_interval=args.sync_interval)  # noqa: F841 - kept alive until exec returns
    try:
        return app.exec()
    finally:
        core.close()


def scripted(core, args: argparse.Namespace) -> int:  # noqa: ANN001
    """The demo's one-shot run; the account password comes from $MYNA_TERMINAL_PASSWORD (not the command line)."""
    import json
    import os

    from terminal_agent.core.registration import RegistrationForm
    from terminal_agent.ui.scripted import ScriptError, run_scripted_pin_check

    form = None
    if args.activation_code:
        form = RegistrationForm(
            args.institution_code or "", args.account_id or "", os.environ.get("MYNA_TERMINAL_PASSWORD", ""),
            args.activation_code,
        )
    start_screen = core.start_screen()  # "login" when registered with a passcode: the run opens at the passcode
    try:
        outcome = run_scripted_pin_check(
            core, pin=args.pin, screenshot=args.scripted_screenshot, registration=form, passcode=args.passcode
        )
    except ScriptError as exc:
        print(f"scripted check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        core.close()
    name = outcome["result"]["result_of_qualification_confirmation"]["name"]
    print(json.dumps({"screenshot": outcome["screenshot"], "name": name, "start_screen": start_screen,
                      "pending_results": outcome["pending_results"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
