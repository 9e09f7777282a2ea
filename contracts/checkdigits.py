"""Luhn (mod 10, weights 2 and 1) check digits of 保険者番号, 公費負担者番号 and 医療機関コード.

See reference/onshi-data-model.md §4: weights start at 2 from the rightmost digit of the body.
"""


def luhn_check_digit(body: str) -> int:
    """Return the check digit for the digits in ``body`` (the number without its check digit)."""
    if not body.isdigit():
        raise ValueError("body must be digits")
    total = 0
    for position, char in enumerate(reversed(body)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def has_valid_check_digit(number: str) -> bool:
    """True when the last digit of ``number`` is the Luhn check digit of the rest."""
    return len(number) >= 2 and number.isascii() and number.isdigit() and luhn_check_digit(number[:-1]) == int(number[-1])


def is_valid_institution_code(code: str) -> bool:
    """医療機関コード: 10 half-width digits whose last digit checks the first nine."""
    return len(code) == 10 and has_valid_check_digit(code)


def is_valid_insurer_number(number: str) -> bool:
    """保険者番号: 8 digits (国保's 6 digits are zero-padded to 8 before this check)."""
    stripped = number.lstrip("0") if len(number) == 8 and number.startswith("00") else number
    return len(number) == 8 and number.isdigit() and (has_valid_check_digit(number) or has_valid_check_digit(stripped))
