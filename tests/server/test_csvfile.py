"""server/common/csvfile: UTF-8 with a BOM, or Shift_JIS (cp932) with unencodable characters reported, not dropped."""

import csv
import io

import pytest

from server.common.csvfile import EncodingReport, csv_lines


def test_utf8_has_a_bom_and_escapes_formulas():
    data = b"".join(csv_lines(["氏名", "メモ"], [["𠮷野 家", "=1+1"]]))
    assert data.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(data.decode("utf-8")[1:]))) == [["氏名", "メモ"], ["𠮷野 家", "'=1+1"]]


def test_cp932_opens_as_shift_jis_and_reports_what_it_cannot_hold():
    report = EncodingReport("cp932")
    rows = [["髙橋 一郎", "タカハシ イチロウ"], ["𠮷野 家", "ヨシノ イエ"], ["①②", "ﾊﾝｶｸ"]]
    data = b"".join(csv_lines(["氏名", "フリガナ"], rows, encoding="cp932", report=report))
    assert not data.startswith(b"\xef\xbb\xbf")
    decoded = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert decoded[0] == ["氏名", "フリガナ"]
    assert decoded[1] == ["髙橋 一郎", "タカハシ イチロウ"]  # NEC/IBM extensions of cp932 are kept
    assert decoded[2] == ["〓野 家", "ヨシノ イエ"]  # substituted, never dropped...
    assert decoded[3] == ["①②", "ﾊﾝｶｸ"]
    assert report.total == 1 and not report.ok  # ...and reported
    assert report.problems[0].describe() == "2行目「氏名」: 𠮷（U+20BB7）"


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        list(csv_lines(["a"], [], encoding="latin-1"))
