"""Encryption at rest of result documents (S06): AES-GCM, one key id per row so that keys can rotate.

Keys come from settings: ``RESULT_ENCRYPTION_KEYS`` = {key_id: base64 of 32 bytes} and ``RESULT_ENCRYPTION_KEY_ID``
(the key new rows are written with). The stored value is nonce (12 bytes) + ciphertext + tag. The row id is the
associated data, so a ciphertext copied onto another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


class DocumentDecryptionError(Exception):
    """The stored document does not decrypt with its key (wrong key, tampered bytes or a row id mismatch)."""


def current_key_id() -> str:
    return settings.RESULT_ENCRYPTION_KEY_ID


def known_key_ids() -> list[str]:
    return list(settings.RESULT_ENCRYPTION_KEYS)


def encoded_key(key_id: str) -> str:
    """The configured base64 text of a key (the cache key of what is derived from it)."""
    keys = settings.RESULT_ENCRYPTION_KEYS
    if key_id not in keys:
        raise ImproperlyConfigured(f"result encryption key {key_id!r} is not in RESULT_ENCRYPTION_KEYS")
    return keys[key_id]


def key_bytes(key_id: str, encoded: str) -> bytes:
    """The 32 bytes of a configured key, or ImproperlyConfigured naming it."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"result encryption key {key_id!r} is not valid base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"result encryption key {key_id!r} must be 32 bytes (AES-256)")
    return key


def _cipher(key_id: str) -> AESGCM:
    return _cipher_for(key_id, encoded_key(key_id))


@lru_cache(maxsize=16)
def _cipher_for(key_id: str, encoded: str) -> AESGCM:
    return AESGCM(key_bytes(key_id, encoded))


def _associated_data(row_id: Any) -> bytes:
    return str(row_id).encode("ascii")


def canonical_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encrypt_document(document: Any, row_id: Any, key_id: str | None = None) -> tuple[str, bytes]:
    """(key id, nonce + ciphertext) of the document, bound to the row id."""
    key_id = key_id or current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    return key_id, nonce + _cipher(key_id).encrypt(nonce, canonical_bytes(document), _associated_data(row_id))


def decrypt_document(blob: bytes | memoryview, row_id: Any, key_id: str) -> Any:
    blob = bytes(blob)
    try:
        plain = _cipher(key_id).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated_data(row_id))
    except InvalidTag:
        raise DocumentDecryptionError(f"result {row_id} does not decrypt with key {key_id!r}") from None
    return json.loads(plain)


def encrypt_bytes(data: bytes, context: str, key_id: str | None = None) -> tuple[str, bytes]:
    """Same scheme for other patient data at rest (export files); ``context`` is the associated data."""
    key_id = key_id or current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    return key_id, nonce + _cipher(key_id).encrypt(nonce, data, context.encode("utf-8"))


def decrypt_bytes(blob: bytes | memoryview, context: str, key_id: str) -> bytes:
    blob = bytes(blob)
    try:
        return _cipher(key_id).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode("utf-8"))
    except InvalidTag:
        raise DocumentDecryptionError(f"{context} does not decrypt with key {key_id!r}") from None
