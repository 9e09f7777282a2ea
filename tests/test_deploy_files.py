"""The deployment files are valid as written (issue 2 layout: docker-compose.yml, deploy/)."""

import ast
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compose_config(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_docker_compose_describes_the_production_stack():
    result = compose_config(DJANGO_SECRET_KEY="compose-check-secret")
    assert result.returncode == 0, result.stderr
    for service in ("db:", "redis:", "web:", "worker:", "beat:"):
        assert f"  {service}" in result.stdout
    assert "server.settings.production" in result.stdout


def test_docker_compose_refuses_to_run_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    assert "set DJANGO_SECRET_KEY" in result.stderr


def test_gunicorn_config_is_python_without_query_strings_in_the_access_log():
    source = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    ast.parse(source)
    assert "%(q)s" not in source and "%(r)s" not in source  # search parameters may hold patient names
