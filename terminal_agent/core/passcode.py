"""ログインパスコード (T03, T10, T14): four digits, kept only as a salted scrypt hash on this device."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

PASSCODE_LENGTH = 4
MSG_FORMAT = "パスコードは数字4桁で入力してください。"
MSG_MISMATCH = "パスコードが一致しません。もう一度入力してください。"
MSG_WRONG = "パスコードが正しくありません。"

_N, _R, _P = 2**14, 8, 1


class PasscodeError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_well_formed(passcode: str) -> bool:
    return len(passcode) == PASSCODE_LENGTH and passcode.isascii() and passcode.isdigit()


def hash_passcode(passcode: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64 parts); never the passcode itself."""
    if not is_well_formed(passcode):
        raise PasscodeError(MSG_FORMAT)
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(passcode.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_passcode(passcode: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt" or not is_well_formed(passcode):
        return False
    digest = hashlib.scrypt(
        passcode.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def new_passcode_hash(first: str, confirmation: str) -> str:
    """T03: the passcode, entered twice; raises ``PasscodeError`` with the screen message."""
    if not is_well_formed(first):
        raise PasscodeError(MSG_FORMAT)
    if first != confirmation:
        raise PasscodeError(MSG_MISMATCH)
    return hash_passcode(first)
