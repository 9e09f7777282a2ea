from django.core.management.base import BaseCommand

from server.common.actor import Actor
from server.notices.actions import seed_default_documents


class Command(BaseCommand):
    help = "Publish version 1.0 of 利用規約, 個人情報の取り扱い and ライセンス where none exists yet (idempotent)."

    def handle(self, *args, **options):
        created = seed_default_documents(actor=Actor.cli("manage.py seed_documents"))
        if not created:
            self.stdout.write("既定の文書はすべて公開済みです。")
        for document in created:
            self.stdout.write(f"{document.get_kind_display()} 版 {document.version} を公開しました。")
