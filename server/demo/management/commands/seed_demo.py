"""seed_demo: the demo institution, its accounts, activation codes, and the sandbox roster with card files.

Idempotent: running it again keeps what exists and issues fresh activation codes.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from server.common.actor import Actor
from server.devices.actions import device_name_taken, do_issue_activation_code
from server.institutions.actions import do_create_app_account, do_create_institution, do_create_staff_user
from server.institutions.models import AppAccount, Institution, StaffMembership
from server.notices.actions import do_publish_notice, seed_default_documents
from server.notices.models import Notice
from server.sandbox.demo import seed_demo_roster

DEMO_INSTITUTION_CODE = "1311000010"
DEMO_INSTITUTION_NAME = "しかく整骨院"
DEMO_ACCOUNT_ID = "clinic-admin"
DEMO_PASSWORD = "Demo#Pass1"
DEMO_STAFF = (("manager", ("manager", "admin")), ("it", ("it",)))
DEMO_NOTICE_TITLE = "マイナ資格確認アプリのデモ環境について"
DEMO_NOTICE_BODY = "この環境のデータはすべて架空のものです。資格確認の操作を自由にお試しください。"


def _free_reception_name(institution: Institution) -> str:
    """受付1, 受付2, …: the first name no tablet and no pending code has, so that the demo's tablets are told apart in
    the console (A02) rather than all arriving under their host name."""
    number = 1
    while device_name_taken(institution, f"受付{number}"):
        number += 1
    return f"受付{number}"


class Command(BaseCommand):
    help = "Load the demo institution, accounts, activation codes and the sandbox roster (synthetic data only)."

    def add_arguments(self, parser):
        parser.add_argument("--card-dir", type=Path, default=None,
                            help="where the virtual cards' key and certificate files go (default: DATA_DIR/demo/cards)")
        parser.add_argument("--codes", type=int, default=3, help="how many activation codes to issue")
        parser.add_argument("--codes-file", type=Path, default=None,
                            help="also write the issued activation codes to this file (demo automation)")

    def handle(self, *args, card_dir: Path | None, codes: int, codes_file: Path | None, **options):
        card_dir = card_dir or Path(settings.DATA_DIR) / "demo" / "cards"
        card_dir.mkdir(parents=True, exist_ok=True)
        actor = Actor.cli("manage.py seed_demo")
        with transaction.atomic():
            institution = (Institution.objects.filter(code=DEMO_INSTITUTION_CODE).first()
                           or do_create_institution(code=DEMO_INSTITUTION_CODE, name=DEMO_INSTITUTION_NAME, actor=actor))
            if not AppAccount.objects.filter(institution=institution, account_id=DEMO_ACCOUNT_ID).exists():
                do_create_app_account(institution, DEMO_ACCOUNT_ID, DEMO_PASSWORD, actor=actor)
            for username, roles in DEMO_STAFF:
                if not StaffMembership.objects.filter(user__username=username).exists():
                    do_create_staff_user(institution, username, DEMO_PASSWORD, roles, actor=actor)
            pairs = [
                do_issue_activation_code(institution, device_name=_free_reception_name(institution), actor=actor)
                for _ in range(codes)
            ]
            issued = [code for code, _ in pairs]
            seed_default_documents(actor=actor)
            if not Notice.objects.filter(title=DEMO_NOTICE_TITLE).exists():
                do_publish_notice(title=DEMO_NOTICE_TITLE, body=DEMO_NOTICE_BODY, actor=actor)
        cards = seed_demo_roster(card_dir)
        manifest = card_dir / "cards.json"
        manifest.write_text(json.dumps([card.as_dict() for card in cards], ensure_ascii=False, indent=2), encoding="utf-8")
        if codes_file:
            codes_file.parent.mkdir(parents=True, exist_ok=True)
            codes_file.write_text("\n".join(issued) + "\n", encoding="utf-8")
            codes_file.chmod(0o600)

        out = self.stdout
        out.write(f"機関コード: {institution.code}  ({institution.name})")
        out.write(f"アプリアカウント: ID {DEMO_ACCOUNT_ID} / パスワード {DEMO_PASSWORD}")
        out.write(f"管理コンソール: manager / {DEMO_PASSWORD} (管理者・利用者管理), it / {DEMO_PASSWORD} (IT担当)")
        out.write("アクティベーションコード (各1回限り): " + ", ".join(f"{code} ({obj.device_name})" for code, obj in pairs))
        out.write(f"仮想カード {len(cards)} 枚: {manifest}")
