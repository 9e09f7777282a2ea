"""The terminal's local store: one SQLite file with settings, the device key and the result outbox.

Patient data and the device's private key are encrypted at rest with AES-GCM. The 256-bit data key lives in the OS
keyring (``keyring``). Fallback, documented in the README: where no keyring backend exists (``keyring.backends.fail``,
a headless Linux box, a CI runner) the key is kept in ``data.key`` next to the database with 0600 permissions, so the
database file alone never reveals anything.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

APP_NAME = "myna-terminal"
DATA_DIR_ENV = "MYNA_TERMINAL_DATA_DIR"
KEYRING_SERVICE = "myna-terminal"
DB_FILE = "terminal.sqlite3"
KEY_FILE = "data.key"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    checked_at TEXT NOT NULL,
    sealed BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT NOT NULL DEFAULT ''
);
"""


def default_data_dir() -> Path:
    """``$MYNA_TERMINAL_DATA_DIR`` when set, else the per-user data directory from platformdirs."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class OutboxItem:
    id: str
    checked_at: str
    document: dict[str, Any]
    attempts: int
    status: str
    last_error: str


def new_data_key() -> bytes:
    """A fresh 256-bit AES key (what ``AESGCM.generate_key(bit_length=256)`` returns, without importing cryptography)."""
    return os.urandom(32)


class DataKeyStore:
    """Where the AES key lives: the OS keyring, or a 0600 key file when there is none."""

    def __init__(self, data_dir: Path, use_keyring: bool = True):
        self.data_dir = data_dir
        self.use_keyring = use_keyring
        self.location = ""  # "keyring" or "file", for diagnostics

    def _keyring_account(self) -> str:
        return f"data-key:{self.data_dir.resolve()}"

    def _keyring_usable(self) -> bool:
        if not self.use_keyring:
            return False
        try:
            import keyring
            from keyring.backends import fail

            return not isinstance(keyring.get_keyring(), fail.Keyring)
        except Exception:  # any import or backend error means no keyring here
            return False

    def load_or_create(self) -> bytes:
        if self._keyring_usable():
            import keyring

            try:
                stored = keyring.get_password(KEYRING_SERVICE, self._keyring_account())
                if stored is None:
                    stored = base64.b64encode(new_data_key()).decode()
                    keyring.set_password(KEYRING_SERVICE, self._keyring_account(), stored)
                self.location = "keyring"
                return base64.b64decode(stored)
            except Exception as exc:  # a locked or broken keyring: fall back rather than refuse to start
                log.warning("keyring unavailable (%s); using the key file fallback", type(exc).__name__)
        return self._file_key()

    def _file_key(self) -> bytes:
        path = self.data_dir / KEY_FILE
        self.location = "file"
        if path.exists():
            return base64.b64decode(path.read_bytes())
        key = new_data_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key))
        os.chmod(path, 0o600)
        return key


class LocalStore:
    """Thread-safe access to the terminal's SQLite file (the UI gateway calls it from worker threads).

    Opening it reads nothing secret: the data key (keyring, cryptography) is loaded on the first seal or open, so the
    settings that pick the start screen are available before the first screen is painted (issue 12, start-up).
    """

    def __init__(self, data_dir: Path | str | None = None, *, use_keyring: bool = True):
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self.db_path = self.data_dir / DB_FILE
        self.keys = DataKeyStore(self.data_dir, use_keyring=use_keyring)
        self._cipher: AESGCM | None = None
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- encryption -------------------------------------------------------------------------------------------
    def _aead(self) -> AESGCM:
        with self._lock:
            if self._cipher is None:
                from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # first use, not at start-up

                self._cipher = AESGCM(self.keys.load_or_create())
            return self._cipher

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """AES-GCM with a fresh nonce; ``context`` (table:row) is bound as associated data so rows cannot be swapped."""
        nonce = os.urandom(12)
        return nonce + self._aead().encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        return self._aead().decrypt(sealed[:12], sealed[12:], context.encode())

    # --- settings (not secret) ----------------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, ensure_ascii=False)),
            )

    def delete_settings(self, *keys: str) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM settings WHERE key = ?", [(k,) for k in keys])

    # --- secrets (encrypted) ------------------------------------------------------------------------------------
    def put_secret(self, name: str, value: bytes) -> None:
        sealed = self.seal(value, f"secret:{name}")
        with self._tx() as db:
            db.execute(
                "INSERT INTO secrets(name, sealed) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET sealed = excluded.sealed",
                (name, sealed),
            )

    def get_secret(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT sealed FROM secrets WHERE name = ?", (name,)).fetchone()
        return self.open(row[0], f"secret:{name}") if row else None

    def has_secret(self, name: str) -> bool:
        """Whether ``name`` is stored, without decrypting it (the start screen is chosen before the key is loaded)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM secrets WHERE name = ?", (name,)).fetchone() is not None

    def delete_secret(self, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM secrets WHERE name = ?", (name,))

    # --- outbox (encrypted results: pending until acknowledged, then kept for the local search) ---------
    def add_to_outbox(self, result_id: str, checked_at: str, document: dict[str, Any]) -> None:
        sealed = self.seal(json.dumps(document, ensure_ascii=False).encode(), f"outbox:{result_id}")
        with self._tx() as db:
            db.execute("INSERT INTO outbox(id, checked_at, sealed) VALUES (?, ?, ?)", (result_id, checked_at, sealed))

    def _item(self, row: tuple) -> OutboxItem:
        result_id, checked_at, sealed, attempts, status, last_error = row
        document = json.loads(self.open(sealed, f"outbox:{result_id}"))
        return OutboxItem(result_id, checked_at, document, attempts, status, last_error)

    def due_outbox(self, now: float | None = None, limit: int = 500) -> list[OutboxItem]:
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT id, checked_at, sealed, attempts, status, last_error FROM outbox "
                "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY checked_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [self._item(r) for r in rows]

    def outbox_items(self, status: str | None = None) -> list[OutboxItem]:
        query = "SELECT id, checked_at, sealed, attempts, status, last_error FROM outbox"
        params: tuple = ()
        if status:
            query, params = query + " WHERE status = ?", (status,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY checked_at", params).fetchall()
        return [self._item(r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]

    def acknowledge(self, result_ids: list[str]) -> None:
        """The server holds these now: never sent again. They stay (encrypted) only for the local D-10-W search while
        offline, until ``purge_delivered`` drops them at the end of the search window (T08, T30)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET status = 'delivered', last_error = '' WHERE id = ? AND status = 'pending'",
                [(i,) for i in result_ids],
            )

    def purge_delivered(self, before: str) -> int:
        """Drop delivered results checked before ``before`` (ISO 8601 UTC): out of the search window, the server's."""
        with self._tx() as db:
            return db.execute("DELETE FROM outbox WHERE status = 'delivered' AND checked_at < ?", (before,)).rowcount

    def result_index(self) -> list[tuple[str, str]]:
        """(id, checked_at) of every result this tablet holds, delivered or not (rejected ones excluded)."""
        with self._lock:
            rows = self._db.execute("SELECT id, checked_at FROM outbox WHERE status != 'rejected'").fetchall()
        return [(r[0], r[1]) for r in rows]

    def result(self, result_id: str) -> OutboxItem | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, checked_at, sealed, attempts, status, last_error FROM outbox WHERE id = ?", (result_id,)
            ).fetchone()
        return self._item(row) if row else None

    def retry_now(self) -> None:
        """The server answers again: every pending result is due at once (the backoff was for the outage)."""
        with self._tx() as db:
            db.execute("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'")

    def mark_rejected(self, result_id: str, error: str) -> None:
        """The server refused the item for good (schema or conflict): keep it for inspection, never resend."""
        with self._tx() as db:
            db.execute("UPDATE outbox SET status = 'rejected', last_error = ? WHERE id = ?", (error, result_id))

    def postpone(self, result_ids: list[str], next_attempt_at: float, error: str) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                [(next_attempt_at, error, i) for i in result_ids],
            )

    def min_attempts_pending(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MIN(attempts) FROM outbox WHERE status = 'pending'").fetchone()
        return row[0] or 0

    def wipe_registration(self) -> None:
        """After deregistration: forget the device identity and the delivered results kept for the local search;
        unsynced results stay until they can be delivered."""
        with self._tx() as db:
            db.execute("DELETE FROM secrets")
            db.execute("DELETE FROM outbox WHERE status = 'delivered'")
            db.execute(
                "DELETE FROM settings WHERE key LIKE 'registration.%' OR key LIKE 'account.%' OR key LIKE 'session.%' "
                "OR key = 'passcode.hash'"
            )
