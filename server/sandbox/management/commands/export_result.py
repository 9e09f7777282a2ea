"""export_result RESULT_ID --format xml|fhir: one stored check result as onshi-style XML or a FHIR R4 JP_Coverage.

The results API (GET /api/v1/results/<id>?format=...) belongs to the results app; this command and
``contracts.exports`` are what it calls. The output holds patient data: it goes to stdout (or --output), never a log.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.exports import to_fhir_coverage, to_onshi_xml
from server.results.models import CheckResult


class Command(BaseCommand):
    help = "Export one check result as onshi-style XML or FHIR R4 (JP Core JP_Coverage)."

    def add_arguments(self, parser):
        parser.add_argument("result_id", help="CheckResult id (UUID)")
        parser.add_argument("--format", choices=["xml", "fhir"], default="xml", dest="export_format")
        parser.add_argument("--output", type=Path, help="write to this file instead of stdout")

    def handle(self, *args, result_id: str, export_format: str, output: Path | None, **options):
        try:
            key = uuid.UUID(result_id)
        except ValueError:
            raise CommandError(f"結果IDの形式が正しくありません: {result_id}") from None
        result = CheckResult.objects.filter(pk=key).first()
        if result is None:
            raise CommandError(f"資格確認結果が見つかりません: {result_id}")
        if export_format == "xml":
            text = to_onshi_xml(result.document).decode("utf-8")
        else:
            text = json.dumps(to_fhir_coverage(result.document), ensure_ascii=False, indent=2)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            self.stdout.write(text)
