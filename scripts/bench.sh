#!/usr/bin/env bash
# make bench: every benchmark in bench/, against real services, each printing its figures (medians, ratios).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
venv_ensure "server,terminal,dev,bench"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/myna_bench}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/8}"
bash scripts/services-up.sh
bash scripts/pcscd-up.sh
shopt -s nullglob
benches=(bench/*.py)
[ ${#benches[@]} -gt 0 ] || die "no benchmarks in bench/"
for bench in "${benches[@]}"; do
  # soak.py runs for 10 minutes on its own services: make soak.
  case "$(basename "$bench")" in _* | soak.py) continue ;; esac
  log "$bench"
  "$PY" "$bench" "$@"
done
