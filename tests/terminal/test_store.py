import os
import stat

from contracts.signing import generate_device_key, private_key_to_bytes
from terminal_agent.core.store import LocalStore
from tests.terminal.sample_documents import BASIC


def test_patient_data_and_key_are_encrypted_at_rest(tmp_path):
    store = LocalStore(tmp_path)
    key_bytes = private_key_to_bytes(generate_device_key())
    store.put_secret("device.private_key", key_bytes)
    store.add_to_outbox("0b7c6f43-5d55-4a36-9f3c-0e2f3f6a1c11", "2025-03-24T03:00:00+00:00", BASIC)
    store.close()

    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("terminal.sqlite3"))
    for needle in ("資格 太郎", "シカク タロウ", "限定資格保険組合", "06139993"):
        assert needle.encode() not in raw
    assert key_bytes not in raw

    again = LocalStore(tmp_path)
    assert again.get_secret("device.private_key") == key_bytes
    [item] = again.due_outbox()
    assert item.document["result_of_qualification_confirmation"]["name"] == "資格 太郎"


def test_key_file_fallback_has_0600_permissions(tmp_path):
    store = LocalStore(tmp_path, use_keyring=False)
    store.put_secret("x", b"y")
    assert store.keys.location == "file"
    mode = stat.S_IMODE(os.stat(tmp_path / "data.key").st_mode)
    assert mode == 0o600


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MYNA_TERMINAL_DATA_DIR", str(tmp_path / "env-dir"))
    store = LocalStore()
    assert store.db_path.parent == tmp_path / "env-dir"


def test_sealed_rows_cannot_be_swapped(tmp_path):
    store = LocalStore(tmp_path)
    sealed = store.seal(b"x", "outbox:a")
    try:
        store.open(sealed, "outbox:b")
    except Exception as exc:  # InvalidTag
        assert type(exc).__name__ == "InvalidTag"
    else:
        raise AssertionError("a row sealed for one id opened under another")


def test_outbox_acknowledge_and_backoff_bookkeeping(tmp_path):
    store = LocalStore(tmp_path)
    store.add_to_outbox("a", "2025-03-24T03:00:00+00:00", BASIC)
    store.add_to_outbox("b", "2025-03-24T03:01:00+00:00", BASIC)
    store.postpone(["a"], next_attempt_at=10**12, error="network_unavailable")
    assert [i.id for i in store.due_outbox()] == ["b"]
    store.acknowledge(["b"])
    store.mark_rejected("a", "conflict")
    assert store.pending_count() == 0
    assert store.outbox_items("rejected")[0].last_error == "conflict"


def test_settings_are_read_without_loading_the_data_key(tmp_path):
    """The start screen is chosen from settings alone: no key (keyring, cryptography) before the first paint."""
    store = LocalStore(tmp_path, use_keyring=False)
    store.set_setting("registration.device_id", "d")
    assert store.get_setting("registration.device_id") == "d" and not store.has_secret("device.private_key")
    assert not (tmp_path / "data.key").exists() and store.keys.location == ""
    store.put_secret("device.private_key", b"k")
    assert store.has_secret("device.private_key") and (tmp_path / "data.key").exists()
