"""Patient data at rest (issue 15 point 1, S06): what a result row keeps besides its AES-GCM document.

- ``summary_encrypted``: 氏名, カナ and 保険者番号 — what lists, searches and the CSV show — AES-GCM under the row's key,
  bound to the row id (associated data ``summary:<id>``), so that a list decrypts a few hundred bytes per row rather
  than the whole document. Birth date, card numbers (記号・番号・枝番) and everything else stay in the document only.
- ``name_index``: the keyed blind index that lets PostgreSQL find rows by a part of the name without seeing it, in
  the manner of CipherSweet: the name and the カナ are normalised (``normalize_name``), every substring of up to
  ``MAX_GRAM`` characters of either is a token, and each token is stored as the first 8 bytes of HMAC-SHA256 under an
  index key derived (HKDF) from the row's encryption key. A search term is normalised the same way and is one token
  — the rows holding it are exactly those whose name or カナ contains the term, as the plain ``icontains`` search
  found them (up to a 2⁻⁶⁴ collision). A term longer than ``MAX_GRAM`` characters becomes all its windows of that
  length, which every match holds (a row could hold them all without the term: no real name does). What this leaks
  is written down in docs/security.md ("Blind indexes").

Keys rotate with ``reencrypt_results``: a row's tokens are under its ``key_id``; a search computes the term's token under
every configured key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.results import crypto

SUMMARY_FIELDS = ("name", "name_kana", "insurer_number")
MAX_GRAM = 16
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}
_INDEX_INFO = b"myna results name index v1"


def normalize_name(term: str) -> str:
    """Reception staff type names any way: half-width kana, hiragana, with or without the space between names.

    NFKC makes half-width katakana full-width, hiragana becomes katakana (names_kana are katakana), case is folded
    (the plain search was case-insensitive), spaces go — 「ｼｶｸ」「しかく」「シカク」 and 「資格 太郎」/「資格太郎」 meet.
    """
    term = unicodedata.normalize("NFKC", term or "").casefold().translate(_HIRAGANA_TO_KATAKANA)
    return "".join(term.split())


def summary_of(document: dict[str, Any]) -> dict[str, str]:
    qualification = document.get("result_of_qualification_confirmation") or {}
    return {field: qualification.get(field) or "" for field in SUMMARY_FIELDS}


def seal_summary(summary: dict[str, str], row_id: Any, key_id: str) -> bytes:
    return crypto.encrypt_bytes(json.dumps(summary, ensure_ascii=False).encode("utf-8"), f"summary:{row_id}", key_id)[1]


def open_summary(blob: bytes | memoryview, row_id: Any, key_id: str) -> dict[str, str]:
    return json.loads(crypto.decrypt_bytes(blob, f"summary:{row_id}", key_id))


@lru_cache(maxsize=16)
def _index_key_for(key_id: str, encoded_key: str) -> bytes:
    secret = crypto.key_bytes(key_id, encoded_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INDEX_INFO).derive(secret)


def index_key(key_id: str) -> bytes:
    """The HMAC key of the blind index under one encryption key (never the AES key itself)."""
    return _index_key_for(key_id, crypto.encoded_key(key_id))


def _token(key: bytes, gram: str) -> int:
    digest = hmac.new(key, gram.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)  # PostgreSQL bigint


def _grams(text: str) -> set[str]:
    return {text[i : i + n] for n in range(1, MAX_GRAM + 1) for i in range(len(text) - n + 1)}


def name_tokens(name: str, name_kana: str, key_id: str) -> list[int]:
    """The row's blind index: the tokens of every substring (up to MAX_GRAM characters) of its name and カナ."""
    key = index_key(key_id)
    grams = _grams(normalize_name(name)) | _grams(normalize_name(name_kana))
    return sorted({_token(key, gram) for gram in grams})


def term_grams(term: str) -> list[str]:
    """The grams a search term needs: itself, or its windows of MAX_GRAM characters when longer."""
    term = normalize_name(term)
    if len(term) <= MAX_GRAM:
        return [term] if term else []
    return sorted({term[i : i + MAX_GRAM] for i in range(len(term) - MAX_GRAM + 1)})


def term_tokens(term: str) -> dict[str, list[int]]:
    """{key id: the tokens every matching row under that key holds}, for each configured key."""
    grams = term_grams(term)
    return {key_id: sorted({_token(index_key(key_id), g) for g in grams}) for key_id in crypto.known_key_ids()}
