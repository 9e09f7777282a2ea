"""Pure rules shared by the terminal and the server: the T08 search period (contracts.periods) and the Luhn check
digits of 医療機関コード and 保険者番号 (contracts.checkdigits)."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts import checkdigits, periods


@pytest.mark.parametrize(
    ("today", "earliest"),
    [
        (dt.date(2026, 1, 15), dt.date(2025, 12, 1)),  # across the year
        (dt.date(2026, 3, 1), dt.date(2026, 2, 1)),
        (dt.date(2026, 3, 31), dt.date(2026, 2, 1)),
        (dt.date(2024, 3, 1), dt.date(2024, 2, 1)),  # leap year
    ],
)
def test_the_search_window_starts_on_the_first_of_the_previous_month(today, earliest):
    assert periods.search_window(today) == (earliest, today)


def test_the_default_period_is_the_last_30_days_clipped_to_the_window():
    assert periods.default_period(dt.date(2026, 1, 31)) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert periods.default_period(dt.date(2026, 3, 1)) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    # With an end day of its own (the server's search with date_to only): 30 days back from that day.
    assert periods.default_period(dt.date(2026, 3, 31), dt.date(2026, 3, 10)) == (dt.date(2026, 2, 8), dt.date(2026, 3, 10))


def test_days_are_japan_days():
    start, end = periods.jst_day_bounds(dt.date(2026, 11, 27), dt.date(2026, 11, 27))
    assert start == dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)
    assert periods.jst_day_bounds(None, None) == (None, None)
    # 23:30 UTC on the 27th is already the 28th in Japan.
    assert periods.today_jst(dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 11, 28)


@pytest.mark.parametrize(("body", "digit"), [("131100001", 0), ("0613999", 2), ("12345678", 2)])
def test_luhn_check_digit(body, digit):
    assert checkdigits.luhn_check_digit(body) == digit
    assert checkdigits.has_valid_check_digit(body + str(digit))
    assert not checkdigits.has_valid_check_digit(body + str((digit + 1) % 10))


def test_institution_codes_and_insurer_numbers():
    assert checkdigits.is_valid_institution_code("1311000010")
    assert not checkdigits.is_valid_institution_code("1311000011")
    assert not checkdigits.is_valid_institution_code("131100001")  # nine digits
    assert not checkdigits.is_valid_institution_code("１３１１０００１０")  # full-width digits are not accepted
    assert checkdigits.is_valid_insurer_number("06132013")
    assert checkdigits.is_valid_insurer_number("00138016")  # 国保: 6 digits zero-padded to 8
    assert not checkdigits.is_valid_insurer_number("06132014")
    with pytest.raises(ValueError):
        checkdigits.luhn_check_digit("12a")
