"""``make demo`` on the embedded default: SQLite, no Redis; its scripted check shows up in the console (issue 2)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.e2e
def test_make_demo_runs_on_sqlite_and_its_check_is_in_the_console(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(MYNA_DATA_DIR=str(tmp_path / "demo"), DEMO_PORT=str(port), DEMO_SCRIPTED="1")
    demo = subprocess.Popen(["make", "demo"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert demo.stdout is not None
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(output)
        assert "Ctrl-C" in text, text
        assert "scripted 暗証番号 check of 資格 太郎 done" in text
        assert "資格有効性: 有効" in text
        screenshot = Path(re.search(r"screenshot of the result screen \(C-04-01-W\): (\S+)", text).group(1))
        assert screenshot.stat().st_size > 10_000
        assert (tmp_path / "demo" / "myna.sqlite3").exists()

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as browser:
            login = browser.get("/console/login/")
            token = browser.cookies["csrftoken"]
            browser.post("/console/login/", data={"username": "manager", "password": "Demo#Pass1",
                                                  "csrfmiddlewaretoken": token}, headers={"Referer": str(login.url)})
            results = browser.get("/console/results/")
            by_name = browser.get("/console/results/", params={"q": "シカク"})
            detail_path = re.search(r'href="(/console/results/[0-9a-f-]{36}/)', by_name.text).group(1)
            # On SQLite too: 「この結果を見た人」 reads the trail without PostgreSQL's JSON containment.
            detail = browser.get(detail_path)
        assert results.status_code == 200
        assert "資格 太郎" in by_name.text
        assert detail.status_code == 200 and "昭和" in detail.text and "この結果を見た人" in detail.text
        # No password and no searched name reaches the server's logs (a request line names its route, never the
        # query string).
        logs = (tmp_path / "demo" / "server.log").read_text()
        assert "console/results/" in logs
        assert "シカク" not in logs and "%E3%82%B7" not in logs and "Demo#Pass1" not in logs
        assert "資格 太郎" in results.text
        assert "資格有効" in results.text
    finally:
        os.killpg(demo.pid, 15)
        demo.wait(timeout=30)
