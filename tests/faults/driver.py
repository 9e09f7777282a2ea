"""One headless terminal of the fault campaign (tests/faults/test_campaign.py): a TerminalCore with an in-process
virtual card that checks a patient (暗証番号) about once a second, lets its relay push the results and searches now and
then — what a front-desk tablet does, without Qt.

Run as ``python -m tests.faults.driver DIR`` with ``DIR/config.json`` (server URL, registration, card files). Every
check is written to ``DIR/events.jsonl`` (one JSON object a line, flushed before the next step): ``stored`` with the
result id once the result is in the encrypted outbox, or ``refused`` with the code and the Japanese message the screen
shows. Control files in DIR: ``hold`` — stop pushing (the relay stops; checks go on without the push after each one),
and after 3 more stored results idle and say ``held`` with the outbox count; ``stop`` — no more checks, push until the
outbox is empty, say ``done``, exit. A restarted driver reuses DIR: the same registration, key and outbox.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from terminal_agent.card.virtual import VirtualCard, load_card_files
from terminal_agent.core.api_client import ApiFailure
from terminal_agent.core.app import RegistrationFailed, TerminalCore
from terminal_agent.core.check_flow import CheckFailure, CheckFlow, CheckService, Method, Step
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import RegistrationForm

CHECK_INTERVAL = 0.8
HELD_AFTER = 3
DRAIN_TIMEOUT = 120.0


class Events:
    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8", buffering=1)  # a line is in the kernel before the next step

    def __call__(self, event: str, **fields: Any) -> None:
        self.file.write(json.dumps({"event": event, "at": time.time(), **fields}, ensure_ascii=False) + "\n")


def check(core: TerminalCore, push_after: bool) -> Any:
    """One 暗証番号 check as the screens do it; without ``push_after`` the result only goes to the outbox."""
    if push_after:
        flow = core.start_check(Method.PIN)
    else:
        service = CheckService(core.store, core.api, core.readers, after_store=None)
        flow = CheckFlow(Method.PIN, service)
    if flow.step is Step.CONFIRM:
        flow.confirm()
    if flow.step is Step.PIN_ENTRY:
        flow.enter_pin("1234")
    return flow.read()


def main(directory: Path) -> int:
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    events = Events(directory / "events.jsonl")
    key, cert_der = load_card_files(config["card_key"], config["card_cert"])
    readers = InProcessReaderProvider(VirtualCard(profile="physical", pin="1234", key=key, cert_der=cert_der))
    core = TerminalCore(config["server"], data_dir=directory / "data", readers=readers, use_keyring=False)
    if not core.is_registered():
        core.accept_terms()
        form = RegistrationForm(config["institution_code"], config["account_id"], config["password"], config["code"])
        while True:  # the server may be down for a moment at start-up too
            try:
                registration = core.register(form, device_name=config["name"])
                break
            except RegistrationFailed as failure:
                if failure.code != "network_unavailable":
                    raise
                time.sleep(0.5)
        events("registered", device_id=registration.device_id)
    else:
        events("restarted", device_id=core.registration.device_id, pending=core.pending_results())
    core.set_visual_check(False)  # 暗証番号 checks
    # A campaign of seconds, not hours: retry pushes quickly (the relay's backoff is otherwise 2 s doubling to 5 min).
    core.sync.base_delay, core.sync.max_delay = 0.5, 3.0
    core.start_background(sync_interval=1.0)

    holding, held_stored, number = False, 0, 0
    while not (directory / "stop").exists():
        if (directory / "hold").exists() and not holding:
            core.sync.stop()
            holding = True
        if holding and held_stored >= HELD_AFTER:
            events("held", pending=core.pending_results())
            time.sleep(0.2)
            continue
        number += 1
        try:
            outcome = check(core, push_after=not holding)
        except CheckFailure as failure:
            events("refused", n=number, code=failure.code, message=failure.message)
        except (ApiFailure, RegistrationFailed) as failure:
            events("refused", n=number, code=failure.code, message=failure.message)
        else:
            held_stored += holding
            events("stored", n=number, id=outcome.result_id, synced=outcome.synced)
        if number % 5 == 0:
            try:
                core.search_results()
            except Exception as exc:  # T08 during an outage: the screen says so; not a check
                events("search_failed", error=type(exc).__name__)
        time.sleep(CHECK_INTERVAL)

    # Stop: push until the outbox is empty (the services are all back by now).
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while core.pending_results() and time.monotonic() < deadline:
        report = core.sync_now()
        if report.error is not None or report.delivered == 0:
            time.sleep(0.5)
    events("done", pending=core.pending_results())
    core.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(Path(sys.argv[1])))
    except Exception:
        traceback.print_exc()
        sys.exit(1)
