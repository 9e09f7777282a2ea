#!/usr/bin/env bash
# make soak: bench/soak.py on its own PostgreSQL cluster, Redis, gunicorn, Celery worker and beat (spare ports).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
apt_ensure postgresql redis-server
venv_ensure "server,terminal,dev"
log "bench/soak.py"
"$PY" bench/soak.py "$@"
