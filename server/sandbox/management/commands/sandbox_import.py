"""sandbox_import FILE: the roster CSV in, all-or-nothing (issue 4's name for ``sandbox_roster import``)."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Import the sandbox roster from CSV (every row validated; any error imports nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        call_command("sandbox_roster", "import", str(path), stdout=self.stdout, stderr=self.stderr)
