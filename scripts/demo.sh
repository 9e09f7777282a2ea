#!/usr/bin/env bash
# make demo: the whole product on the embedded default (SQLite, no Redis, no PostgreSQL).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

log "system packages (pyscard builds against libpcsclite; Japanese fonts for the screens)"
apt_ensure python3-venv build-essential swig libpcsclite-dev fonts-noto-cjk \
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3
venv_ensure "server,terminal"

unset DATABASE_URL REDIS_URL
export DJANGO_SETTINGS_MODULE=server.settings.dev
# Whoever tries the product sees the console's Japanese 403/404/500 pages, never Django's English debug page
# (DJANGO_DEBUG=1 make demo brings that back for a developer).
export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
export MYNA_DATA_DIR="${MYNA_DATA_DIR:-$ROOT/var/demo}"
PORT="${DEMO_PORT:-8000}"
URL="http://127.0.0.1:$PORT"
mkdir -p "$MYNA_DATA_DIR"
# A new database means a new clinic: forget the terminal's registration from the previous one.
[ -f "$MYNA_DATA_DIR/myna.sqlite3" ] || rm -rf "$MYNA_DATA_DIR/terminal"

log "database (SQLite at $MYNA_DATA_DIR/myna.sqlite3)"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo --card-dir "$MYNA_DATA_DIR/cards" --codes-file "$MYNA_DATA_DIR/activation-codes.txt"

log "server on $URL (API, sandbox, console)"
# One worker process: without Redis the nonce and challenge caches live in that process's memory.
# Every log line (one JSON line per request, written by Django; gunicorn's own) goes to stderr: keep it in server.log.
GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS=1 GUNICORN_THREADS=8 \
  "$VENV/bin/gunicorn" -c deploy/gunicorn.conf.py server.wsgi:application 2>>"$MYNA_DATA_DIR/server.log" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 60); do
  "$PY" -c "import httpx,sys; sys.exit(httpx.get('$URL/console/login/', timeout=1).status_code != 200)" 2>/dev/null && break
  kill -0 $SERVER_PID 2>/dev/null || die "the server did not start; see $MYNA_DATA_DIR/server.log"
  sleep 0.5
done

log "terminal"
"$PY" -m terminal_agent.demo --server "$URL" --cards "$MYNA_DATA_DIR/cards/cards.json" \
  --codes-file "$MYNA_DATA_DIR/activation-codes.txt" --data-dir "$MYNA_DATA_DIR/terminal" \
  --screenshot "$MYNA_DATA_DIR/result-C-04-01-W.png" ${DEMO_SCRIPTED:+--scripted}

cat <<TXT

  管理コンソール: $URL/console/   sign in as manager / Demo#Pass1 (or it / Demo#Pass1)
  API docs:       $URL/api/docs/
  Activation codes for more terminals: $MYNA_DATA_DIR/activation-codes.txt
  (python -m terminal_agent --server $URL --virtual-card KEY CERT  starts another terminal)

TXT
if [ -n "${DEMO_EXIT:-}" ]; then exit 0; fi
log "the server keeps running; Ctrl-C stops it"
wait $SERVER_PID
