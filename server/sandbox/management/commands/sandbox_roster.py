"""sandbox_roster: export / import the sandbox roster as CSV, seed the demo roster, issue card files."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from server.sandbox.actions import do_issue_card_certificate
from server.sandbox.ca import write_card_files
from server.sandbox.demo import seed_demo_roster
from server.sandbox.models import InsuredPerson
from server.sandbox.roster_csv import RosterImportError, export_roster, import_roster


class Command(BaseCommand):
    help = "The sandbox roster: export CSV, import CSV, seed the demo roster, issue a card for a person."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the roster as CSV (default: stdout)")
        export.add_argument("path", nargs="?", type=Path)
        imp = sub.add_parser("import", help="create or update persons from CSV (all-or-nothing)")
        imp.add_argument("path", type=Path)
        seed = sub.add_parser("seed-demo", help="the demo roster with its virtual card files")
        seed.add_argument("card_dir", type=Path)
        issue = sub.add_parser("issue-card", help="issue a valid card certificate to a person and write its files")
        issue.add_argument("person_id", type=int)
        issue.add_argument("card_dir", type=Path)
        issue.add_argument("--holder", choices=["card", "android", "iphone"], default="card")
        issue.add_argument("--days", type=int, default=365 * 5, help="validity in days from now")

    def handle(self, *args, action: str, **options):
        handler = getattr(self, "_" + action.replace("-", "_"))
        handler(**options)

    def _export(self, path: Path | None, **_):
        if path is None:
            rows = export_roster(sys.stdout)
        else:
            with path.open("w", encoding="utf-8", newline="") as out:
                rows = export_roster(out)
        self.stderr.write(f"{rows} 件を出力しました。")

    def _import(self, path: Path, **_):
        try:
            with path.open(encoding="utf-8-sig", newline="") as source:
                rows = import_roster(source)
        except RosterImportError as exc:
            raise CommandError("取り込みを中止しました:\n" + "\n".join(exc.problems)) from None
        self.stdout.write(f"{rows} 件を取り込みました。")

    def _seed_demo(self, card_dir: Path, **_):
        cards = seed_demo_roster(card_dir)
        self.stdout.write(f"仮想カード {len(cards)} 枚: {card_dir}")

    def _issue_card(self, person_id: int, card_dir: Path, holder: str, days: int, **_):
        person = InsuredPerson.objects.filter(pk=person_id).first()
        if person is None:
            raise CommandError(f"person {person_id} does not exist")
        now = timezone.now()
        do_issue_card_certificate(person, holder_kind=holder, not_before=now, not_after=now + dt.timedelta(days=days))
        key_path, cert_path = write_card_files(person, card_dir, holder_kind=holder)
        self.stdout.write(f"{key_path}\n{cert_path}")
