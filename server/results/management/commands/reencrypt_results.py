"""Re-encrypt every result document under another key (S06 key rotation).

    python manage.py reencrypt_results --to k2027 [--batch-size 1000]

Add the new key to RESULT_ENCRYPTION_KEYS (keep the old ones), point RESULT_ENCRYPTION_KEY_ID at it, run this, and
drop the old key only once this reports 0 rows left. Batches commit one by one; a rerun resumes where it stopped.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.audit.actions import record_event
from server.common.actor import Actor
from server.results.actions import do_reencrypt_exports, do_reencrypt_results
from server.results.models import CheckResult


class Command(BaseCommand):
    help = "Re-encrypt the stored result documents under the given key id, in batches (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, dest="to_key_id", help="key id from RESULT_ENCRYPTION_KEYS")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, to_key_id: str, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        total = changed = 0
        after = None
        try:
            while True:
                changed, after = do_reencrypt_results(to_key_id, batch_size=batch_size, after=after)
                total += changed
                if changed:
                    self.stdout.write(f"re-encrypted {total} results")
                if after is None:
                    break
            exports = do_reencrypt_exports(to_key_id)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        left = CheckResult.objects.exclude(key_id=to_key_id).count()
        record_event(
            "results_reencrypted",
            Actor.cli("manage.py reencrypt_results"),
            detail={"to": to_key_id, "rows": total, "left": left, "exports": exports},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"done: {total} results and {exports} export files re-encrypted under {to_key_id}; {left} results left"
            )
        )
