from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from server.ops.backup import BackupError, do_backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump), the sandbox CA and the result-encryption key ids (never the keys) to DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="an empty or new directory for this backup")

    def handle(self, *args, directory: Path, **options):
        try:
            manifest = do_backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        ids = ", ".join(manifest["result_encryption"]["key_ids_in_use"]) or "none"
        self.stdout.write(f"backup written to {directory} (result key ids in use: {ids}; keep the keys elsewhere)")
