#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on DATABASE_URL / REDIS_URL. Starts them where installed and stopped;
# never falls back to anything else.
source "$(dirname "$0")/lib.sh"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
  log "starting PostgreSQL"
  if ls /etc/postgresql/*/main >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  pg_up || die "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started"
fi
# A fresh Debian cluster asks for a password on TCP: give the postgres role the one in DATABASE_URL.
if ! "$PY" - <<'PY' >/dev/null 2>&1
import os, psycopg
url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
psycopg.connect(url).close()
PY
then
  pw=$("$PY" -c 'import os, urllib.parse as u; print(u.urlparse(os.environ["DATABASE_URL"]).password or "")')
  [ -n "$pw" ] || die "cannot connect to PostgreSQL with DATABASE_URL"
  log "setting the postgres role's password from DATABASE_URL"
  su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD '$pw'\"" >/dev/null || die "cannot set the postgres password"
fi

redis_up() { "$PY" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"]).ping()' >/dev/null 2>&1; }
if ! redis_up; then
  log "starting Redis"
  command -v redis-server >/dev/null || die "redis-server is not installed"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/test.log
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
  redis_up || die "Redis is not reachable on $REDIS_URL and could not be started"
fi
log "PostgreSQL and Redis are up"
