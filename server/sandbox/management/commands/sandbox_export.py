"""sandbox_export [FILE]: the roster as CSV (issue 4's name for ``sandbox_roster export``); stdout without FILE."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from server.sandbox.roster_csv import export_roster


class Command(BaseCommand):
    help = "Export the sandbox roster as CSV (UTF-8, header row)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path)

    def handle(self, *args, path: Path | None, **options):
        if path is None:
            rows = export_roster(self.stdout)
        else:
            with path.open("w", encoding="utf-8", newline="") as out:
                rows = export_roster(out)
        self.stderr.write(f"{rows} 件を出力しました。")
