"""The deployment files are valid as written (issues 2 and 16: docker-compose.yml, deploy/)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose_config(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_docker_compose_describes_the_production_stack():
    result = compose_config()
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) >= {"db", "redis", "keys", "migrate", "web", "worker", "beat", "nginx"}
    # Every long-running service says when it is healthy; the one-shot steps run before the app starts.
    for name in ("db", "redis", "web", "worker", "nginx"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "server.settings.production"
        assert any(v.endswith("/run/myna-keys:ro") for v in _volumes(services[name])), name
    assert any(v.endswith("/run/myna-keys:rw") or v.endswith("/run/myna-keys") for v in _volumes(services["keys"]))
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    for mount in _volumes(services["nginx"]):
        source = mount.split(":")[0]
        if source.startswith("/"):
            assert Path(source).is_file(), source  # the nginx files compose mounts exist in deploy/nginx/


def _volumes(service: dict) -> list[str]:
    return [v if isinstance(v, str) else f"{v.get('source')}:{v['target']}:{'ro' if v.get('read_only') else 'rw'}"
            for v in service.get("volumes", [])]


def test_secrets_come_from_the_keys_volume_files(tmp_path):
    """The files init_secrets makes are what the production settings read (``NAME_FILE``); check --deploy passes."""
    made = subprocess.run([sys.executable, "-m", "server.ops.init_secrets", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"django-secret-key", "activation-code-pepper",
                                                    "result-encryption-keys"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in tmp_path.iterdir())
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    subprocess.run([sys.executable, "-m", "server.ops.init_secrets", str(tmp_path)], cwd=ROOT, check=True,
                   capture_output=True, timeout=60)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before  # never rewritten

    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SECRET_KEY", "RESULT_ENCRYPTION_KEYS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "server.settings.production",
        "DJANGO_SECRET_KEY_FILE": str(tmp_path / "django-secret-key"),
        "ACTIVATION_CODE_PEPPER_FILE": str(tmp_path / "activation-code-pepper"),
        "RESULT_ENCRYPTION_KEYS_FILE": str(tmp_path / "result-encryption-keys"),
    })
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.RESULT_ENCRYPTION_KEY_ID, len(settings.SECRET_KEY) >= 50)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    key_id = before["result-encryption-keys"].split(":")[0]
    assert result.stdout.split() == [key_id, "True"]
    check = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def test_gunicorn_config_is_python_without_query_strings_in_the_access_log():
    source = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    ast.parse(source)
    assert "%(q)s" not in source and "%(r)s" not in source  # search parameters may hold patient names


def test_make_demo_serves_the_japanese_error_pages_not_the_debug_page(tmp_path):
    """make demo's environment (scripts/demo.sh) runs the dev settings with DEBUG off: a mistyped console address
    gets the console's Japanese 404 page, never Django's English debug page listing the URLs (issue 14 point 3)."""
    exports = [line for line in (ROOT / "scripts" / "demo.sh").read_text().splitlines() if line.startswith("export DJANGO_")]
    probe = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/console/nope/', HTTP_HOST='127.0.0.1'); "
        "print(r.status_code, 'ページが見つかりません' in r.content.decode(), b'URLconf' in r.content)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    script = "\n".join([*exports, f'exec "{sys.executable}" -c "{probe}"'])
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**env, "MYNA_DATA_DIR": str(tmp_path)})
    assert done.stdout.split() == ["404", "True", "False"], done.stderr[-2000:]
