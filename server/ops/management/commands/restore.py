from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from server.ops.backup import BackupError, do_restore


class Command(BaseCommand):
    help = "Restore the database and the sandbox CA from a backup DIR (replaces what is there; creates the database)."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a directory written by manage.py backup")

    def handle(self, *args, directory: Path, **options):
        try:
            manifest = do_restore(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored the backup of {manifest['created_at']} (server {manifest['server_version']})")
