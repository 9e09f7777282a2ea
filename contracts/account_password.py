"""The app account's password rule (FEATURES T09, manual P.12), shared by the server and the terminal.

8–20 characters with at least one upper-case letter, one lower-case letter, one digit and one of the listed symbols;
nothing else. The server answers one message for any violation (``PASSWORD_RULE_MESSAGE``); the terminal's
アカウントパスワード設定 names each unmet part before sending (``rule_problems``).
"""

from __future__ import annotations

PASSWORD_SYMBOLS = "`~!@#$%^&*_{}[]|:;'<>,.?-()/"
MIN_LENGTH, MAX_LENGTH = 8, 20

PASSWORD_RULE_MESSAGE = (
    "パスワードは8〜20文字で、英大文字・英小文字・数字・記号（" + " ".join(PASSWORD_SYMBOLS) + "）を"
    "それぞれ1文字以上含めてください。それ以外の文字は使用できません。"
)
# The manual's own wording of the rule (P.12), shown above the fields.
RULE_TEXT = "英字の大文字、英字の小文字、数字、記号の全てを組み合わせ、8文字以上20文字以下で設定してください。"
ALLOWED_TEXT = (
    "<使用できる文字種>\n"
    " 英字の大文字:A〜Z\n"
    " 英字の小文字:a〜z\n"
    " 数字:0〜9\n"
    " 記号: " + " ".join(PASSWORD_SYMBOLS)
)

# One message per unmet part of the rule, in the order the rule names them.
PROBLEMS: dict[str, str] = {
    "length": "8文字以上20文字以下で入力してください。",
    "upper": "英字の大文字(A〜Z)を1文字以上含めてください。",
    "lower": "英字の小文字(a〜z)を1文字以上含めてください。",
    "digit": "数字(0〜9)を1文字以上含めてください。",
    "symbol": "記号を1文字以上含めてください。",
    "other": "使用できない文字が含まれています。",
}


def _upper(c: str) -> bool:
    return "A" <= c <= "Z"


def _lower(c: str) -> bool:
    return "a" <= c <= "z"


def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def rule_violations(password: str) -> list[str]:
    """The keys of ``PROBLEMS`` that ``password`` breaks; empty when it follows the rule."""
    found = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        found.append("length")
    for key, test in (("upper", _upper), ("lower", _lower), ("digit", _digit), ("symbol", PASSWORD_SYMBOLS.__contains__)):
        if not any(test(c) for c in password):
            found.append(key)
    if any(not (_upper(c) or _lower(c) or _digit(c) or c in PASSWORD_SYMBOLS) for c in password):
        found.append("other")
    return found


def rule_problems(password: str) -> list[str]:
    """Japanese messages, one per unmet part of the rule (the terminal's field errors)."""
    return [PROBLEMS[key] for key in rule_violations(password)]


def password_rule_errors(password: str) -> list[str]:
    """The server's answer: ``[PASSWORD_RULE_MESSAGE]`` when the rule is broken, else ``[]``."""
    return [PASSWORD_RULE_MESSAGE] if rule_violations(password) else []
