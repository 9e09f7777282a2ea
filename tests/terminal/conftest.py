"""Fixtures of the terminal tests. The live test seeds the real server through the other parts' own actions."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def sandbox_ca(tmp_path, settings):
    """A throwaway test JPKI CA for this test (the sandbox creates it on first use)."""
    settings.SANDBOX_CA_DIR = tmp_path / "sandbox-ca"
    return settings.SANDBOX_CA_DIR
