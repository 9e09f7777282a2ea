"""Make the server's secrets once, as files in a directory of their own (docker-compose's ``myna-keys`` volume):

    python -m server.ops.init_secrets /run/myna-keys

writes, where missing, ``django-secret-key``, ``activation-code-pepper`` and ``result-encryption-keys`` (one AES-256
key as ``kYYYY:base64``), each mode 0600. Existing files are never changed. To rotate the result key, put
``new_id:base64,`` before the existing entry (one line), set ``RESULT_ENCRYPTION_KEY_ID=new_id``, restart, and run
``manage.py reencrypt_results --to new_id``.
The settings read them through ``DJANGO_SECRET_KEY_FILE``, ``ACTIVATION_CODE_PEPPER_FILE`` and
``RESULT_ENCRYPTION_KEYS_FILE``. Keep this directory out of backups of the data (``manage.py backup`` never reads
it) and back it up apart.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

FILES: dict[str, Callable[[], str]] = {
    "django-secret-key": lambda: secrets.token_urlsafe(50),
    "activation-code-pepper": lambda: secrets.token_urlsafe(32),
    "result-encryption-keys": lambda: f"k{dt.date.today().year}:{base64.b64encode(secrets.token_bytes(32)).decode()}",
}


def init_secrets(directory: Path) -> list[str]:
    """Create the missing secret files; returns the names created."""
    directory.mkdir(parents=True, exist_ok=True)
    created = []
    for name, make in FILES.items():
        path = directory / name
        if path.exists():
            continue
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(make() + "\n")
        created.append(name)
    return created


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/run/myna-keys")
    made = init_secrets(target)
    print(f"{target}: created {', '.join(made) if made else 'nothing (all present)'}")
