"""The packaged terminal (issue 16, point 1): the PyInstaller bundle that `make package` builds starts offscreen,
registers, and does a 暗証番号 check with a virtual card; started again on the same data it opens at the passcode
screen and checks again. The bundle is (re)built here when its sources changed (scripts/package.sh keeps it in
build/ keyed by their hash), so that a clean clone's `make test` tests what `make package` ships."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from server.results.models import CheckResult

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "build" / "dist" / "myna-terminal"
EXECUTABLE = BUNDLE / "myna-terminal"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def bundle() -> Path:
    built = subprocess.run(["bash", "scripts/package.sh"], cwd=ROOT, env={**os.environ, "SKIP_INSTALL": "1"},
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    return EXECUTABLE


def run_bundle(executable: Path, *args: str, password: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
    env.update({"QT_QPA_PLATFORM": "offscreen", "MYNA_TERMINAL_PASSWORD": password})
    result = subprocess.run([str(executable), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_package_data_file_is_in_the_bundle(bundle):
    internal = bundle.parent / "_internal"
    for package in ("terminal_agent", "contracts"):
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts:
                assert (internal / path.relative_to(ROOT)).is_file(), f"{path.relative_to(ROOT)} is not bundled"
    assert (internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqoffscreen.so").is_file()


def test_the_bundle_registers_checks_and_reopens_at_the_passcode_screen(bundle, clinic, tmp_path):
    card = clinic.cards["資格 太郎"]
    data_dir = tmp_path / "terminal-data"
    common = ["--server", clinic.url, "--data-dir", str(data_dir), "--virtual-card", str(card.key_path),
              str(card.cert_path), "--pin", card.pin]
    first = run_bundle(bundle, *common, "--scripted-screenshot", str(tmp_path / "first.png"),
                       "--institution-code", clinic.institution_code, "--account-id", clinic.account_id,
                       "--activation-code", clinic.activation_code(), password=clinic.password)
    assert first["name"] == "資格 太郎" and first["pending_results"] == 0

    again = run_bundle(bundle, *common, "--scripted-screenshot", str(tmp_path / "again.png"))
    assert again["name"] == "資格 太郎" and again["pending_results"] == 0
    assert again["start_screen"] == "login"  # registered and with a passcode: the passcode screen came first
    assert CheckResult.objects.count() == 2
    image = QImage(str(tmp_path / "again.png"))
    assert not image.isNull() and image.width() > 300
