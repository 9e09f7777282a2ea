#!/usr/bin/env bash
# make test: everything the test suite needs, then ruff and pytest. Fails loudly when a service cannot be had.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

log "system packages"
apt_ensure python3-venv build-essential swig libpcsclite-dev pcscd vsmartcard-vpcd opensc pcsc-tools \
  chromium fonts-noto-cjk redis-server postgresql docker-compose nginx libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3

venv_ensure "server,terminal,dev,package"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/myna}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export QT_QPA_PLATFORM=offscreen
export PYTHONHASHSEED=0

bash scripts/services-up.sh
bash scripts/pcscd-up.sh

log "ruff"
"$VENV/bin/ruff" check .

log "pytest"
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
[ $status -eq 5 ] && die "pytest collected no tests"
exit $status
