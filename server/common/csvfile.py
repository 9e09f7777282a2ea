"""CSV files of the server APIs (S09 audit, S10 result exports): UTF-8 with a BOM so that Excel opens them, or
Shift_JIS (cp932) for レセコン and older Excel that read nothing else.

Cells that Excel would read as a formula (CSV injection) get a leading apostrophe. A character that cp932 cannot
hold (e.g. 𠮷, or ① written by some systems outside cp932's extensions) is never dropped silently: it becomes 〓 (the
customary 下駄 mark) and is reported — row, column and the character — in ``EncodingReport``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse

BOM = "\ufeff"
ENCODINGS = {"utf-8": "UTF-8（BOM付き）", "cp932": "Shift_JIS"}
SUBSTITUTE = "〓"  # U+3013 GETA MARK, in cp932
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass
class Unencodable:
    row: int  # 1 = the first data row (the header is row 0)
    column: str
    characters: str

    def describe(self) -> str:
        codes = " ".join(f"U+{ord(c):04X}" for c in self.characters)
        return f"{self.row}行目「{self.column}」: {self.characters}（{codes}）"


@dataclass
class EncodingReport:
    """Characters the chosen encoding could not hold, where they were (written as 〓 in the file)."""

    encoding: str = "utf-8"
    problems: list[Unencodable] = field(default_factory=list)  # the first ``max_kept`` of them
    total: int = 0  # cells with an unencodable character
    max_kept: int = 100

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(self, problem: Unencodable) -> None:
        if len(self.problems) < self.max_kept:
            self.problems.append(problem)
        self.total += 1


def _cp932_cell(text: str, row: int, column: str, report: EncodingReport) -> str:
    try:
        text.encode("cp932")
        return text
    except UnicodeEncodeError:
        pass
    missing, kept = [], []
    for character in text:
        try:
            character.encode("cp932")
            kept.append(character)
        except UnicodeEncodeError:
            missing.append(character)
            kept.append(SUBSTITUTE)
    report.add(Unencodable(row, column, "".join(dict.fromkeys(missing))))
    return "".join(kept)


def csv_lines(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8",
    report: EncodingReport | None = None,
) -> Iterator[bytes]:
    """The CSV as encoded lines: ``utf-8`` (with a BOM) or ``cp932`` (no BOM; unencodable characters → 〓, reported)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown CSV encoding {encoding!r}")
    report = report if report is not None else EncodingReport(encoding)
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    if encoding == "utf-8":
        yield (BOM + writer.writerow(header)).encode("utf-8")
        for row in rows:
            yield writer.writerow([safe_cell(cell) for cell in row]).encode("utf-8")
        return
    yield writer.writerow(header).encode("cp932")
    for number, row in enumerate(rows, start=1):
        cells = [_cp932_cell(safe_cell(cell), number, header[i], report) for i, cell in enumerate(row)]
        yield writer.writerow(cells).encode("cp932")


def content_type(encoding: str) -> str:
    return "text/csv; charset=Shift_JIS" if encoding == "cp932" else "text/csv; charset=utf-8"


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.csv"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_streaming_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition(filename)
    return response


def csv_bytes_response(filename: str, content: bytes, encoding: str = "utf-8") -> HttpResponse:
    response = HttpResponse(content, content_type=content_type(encoding))
    response["Content-Disposition"] = _disposition(filename)
    response["Cache-Control"] = "no-store"
    return response
