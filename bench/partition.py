"""Retention purge on a monthly-partitioned results table against today's single table (docs/scaling.md).

    python bench/partition.py [--rows-per-month 50000] [--months 13] [--payload 400]

Two tables of the same shape as results_checkresult (uuid id, institution, device, checked_at, clear columns, an
encrypted-document-sized bytea, the two search indexes) are filled in a scratch database (<DATABASE_URL name>_part)
with the same rows: one plain, one PARTITION BY RANGE (checked_at) with one partition a month. Then the oldest month
is purged from each: DELETE ... WHERE checked_at < cutoff (what results.purge_expired does today) against
DETACH PARTITION + DROP TABLE. Prints both durations and the WAL each wrote; the database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

COLUMNS = """
    id uuid NOT NULL, institution_id bigint NOT NULL, device_id uuid NOT NULL, checked_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL, is_valid boolean NOT NULL, document_encrypted bytea NOT NULL,
    summary_encrypted bytea NOT NULL, name_index bigint[] NOT NULL, key_id varchar(32) NOT NULL,
    content_hash varchar(64) NOT NULL
"""


def fill(conn: psycopg.Connection, table: str, start: dt.datetime, months: int, per_month: int, payload: int) -> None:
    for month in range(months):
        begin = start + dt.timedelta(days=31 * month)
        conn.execute(
            sql.SQL("""
            INSERT INTO {} SELECT md5(i::text || '-' || %(m)s)::uuid, 1 + i %% 20, md5((i %% 40)::text)::uuid,
                   %(begin)s + (i * interval '1 second' * 2592000 / %(n)s), now(), true,
                   convert_to(repeat(md5(i::text), %(rep)s), 'UTF8'), decode(md5(i::text) || md5(i::text), 'hex'),
                   ARRAY(SELECT (hashtext(i::text || '-' || g))::bigint FROM generate_series(1, 31) AS g), 'k2026',
                   md5(i::text)
            FROM generate_series(1, %(n)s) AS i""").format(sql.Identifier(table)),
            {"m": str(month), "begin": begin, "n": per_month, "rep": max(1, payload // 32)},
        )


def wal_bytes(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows-per-month", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--payload", type=int, default=400, help="bytes of the encrypted document column")
    args = parser.parse_args()

    base = urlparse(os.environ["DATABASE_URL"])
    name = base.path.lstrip("/") + "_part"
    admin_url = urlunparse(base._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(urlunparse(base._replace(path=f"/{name}")), autocommit=True) as conn:
            start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
            conn.execute(f"CREATE TABLE plain ({COLUMNS}, PRIMARY KEY (id))")
            conn.execute(f"CREATE TABLE parted ({COLUMNS}, PRIMARY KEY (id, checked_at)) PARTITION BY RANGE (checked_at)")
            bounds = []
            for month in range(args.months + 1):
                low = (start + dt.timedelta(days=31 * month)).replace(day=1)
                high = (low + dt.timedelta(days=32)).replace(day=1)
                bounds.append((low, high))
                conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF parted FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier(f"parted_{low:%Y_%m}"), sql.Literal(low), sql.Literal(high)))
            for table in ("plain", "parted"):
                conn.execute(sql.SQL("CREATE INDEX ON {} (institution_id, checked_at DESC, id DESC)").format(
                    sql.Identifier(table)))
                conn.execute(sql.SQL("CREATE INDEX ON {} (institution_id, device_id, checked_at DESC, id DESC)").format(
                    sql.Identifier(table)))
            began = time.perf_counter()
            for table in ("plain", "parted"):
                fill(conn, table, start, args.months, args.rows_per_month, args.payload)
            conn.execute("VACUUM ANALYZE")
            total = conn.execute("SELECT count(*) FROM plain").fetchone()[0]
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('plain'))").fetchone()[0]
            print(f"{total:,} rows in each table ({size} each), filled in {time.perf_counter() - began:.0f} s")

            low, high = bounds[0]
            wal = wal_bytes(conn)
            began = time.perf_counter()
            deleted = conn.execute("DELETE FROM plain WHERE checked_at < %s", [high]).rowcount
            delete_s = time.perf_counter() - began
            delete_wal = wal_bytes(conn) - wal

            oldest = f"parted_{low:%Y_%m}"
            dropped = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(oldest))).fetchone()[0]
            wal = wal_bytes(conn)
            began = time.perf_counter()
            conn.execute(sql.SQL("ALTER TABLE parted DETACH PARTITION {}").format(sql.Identifier(oldest)))
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(oldest)))
            drop_s = time.perf_counter() - began
            drop_wal = wal_bytes(conn) - wal
            print(f"purge of the oldest month: DELETE {deleted:,} rows {delete_s * 1000:,.0f} ms, "
                  f"{delete_wal / 2**20:,.1f} MiB WAL (and dead tuples for VACUUM)")
            print(f"                           DETACH + DROP partition of {dropped:,} rows {drop_s * 1000:,.1f} ms, "
                  f"{drop_wal / 2**20:,.2f} MiB WAL; ratio {delete_s / drop_s:,.0f}×")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
