"""Ingest benchmark (S06): results per second through the batch API (signed POST /api/v1/results/batch, 500 a
call, several terminals at once) beside PostgreSQL COPY of the same rows (ratio COPY/API).

    python bench/ingest.py [--rows 50000] [--clients 4] [--workers 3] [--batch 500]

A dedicated database (<DATABASE_URL name>_ingest) is recreated each run. The COPY side loads the very rows the API
stored (clear columns, encrypted document, content hash prepared beforehand, so COPY measures the database load
alone) into the same table with the same indexes, after deleting them again. --preload fills the table first.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _results_common as common  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000, help="results to ingest")
    parser.add_argument("--clients", type=int, default=4, help="terminals sending at the same time")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--batch", type=int, default=500, help="results per call (the API allows 1–500)")
    parser.add_argument(
        "--spread-days", type=float, default=1.0, help="checked_at of the pushed results: within the last N days"
    )
    parser.add_argument("--preload", type=int, default=0, help="results already stored (13 months of history)")
    parser.add_argument(
        "--into-search-db",
        action="store_true",
        help="ingest into bench/search.py's database as it is (e.g. 10M rows), removing what was added afterwards",
    )
    parser.add_argument("--seed", type=int, default=6)
    args, _ = parser.parse_known_args()

    if args.into_search_db:
        url = common.bench_database_url("search")
        if not common.database_exists(url):
            raise SystemExit("run bench/search.py first: its database does not exist")
    else:
        url = common.bench_database_url("ingest")
        common.recreate_database(url)
    common.migrate(url)
    common.django_setup(url)
    import psycopg

    from server.results.models import CheckResult

    institution, terminals = common.create_institution_with_devices(args.clients)
    if args.preload:
        history_end = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        print(f"preloading {args.preload:,} results with COPY …", flush=True)
        devices = [device for device, _ in terminals]
        common.fill_with_copy(
            url,
            institution,
            devices,
            args.preload,
            history_end - datetime.timedelta(days=396),
            history_end,
            args.seed + 1,
        )
    rng = random.Random(args.seed)
    maker = common.DocumentMaker(institution.code)
    now = datetime.datetime.now(datetime.UTC)
    items = [
        {
            "id": str(uuid.uuid4()),  # random, so that they never collide with generated history
            "checked_at": at.isoformat(),
            "result": maker.make(at, rng),
        }
        for at in common.random_times(args.rows, now - datetime.timedelta(days=args.spread_days), now, rng)
    ]
    batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
    shares = [batches[index :: args.clients] for index in range(args.clients)]
    bodies = [[json.dumps({"results": b}, ensure_ascii=False).encode() for b in share] for share in shares]

    item_ids = [uuid.UUID(item["id"]) for item in items]
    if args.into_search_db:  # leave the search database as it was, whatever happens

        def remove_ingested() -> None:
            with psycopg.connect(common.psycopg_url(url), autocommit=True) as conn:
                conn.execute("DELETE FROM results_checkresult WHERE id = ANY(%s)", [item_ids])
                conn.execute("VACUUM results_checkresult")

        atexit.register(remove_ingested)
    with psycopg.connect(common.psycopg_url(url)) as conn:
        others = conn.execute("SELECT count(*) FROM results_checkresult").fetchone()[0]
    server = common.Server(url, args.workers)
    latencies: list[float] = []
    failures: list[str] = []
    try:
        server.wait_ready()
        clients = [common.SignedClient(server.base_url, str(device.pk), key) for device, key in terminals]
        warm_ids = []
        for client in clients:  # warm up every worker's connections and imports (1 result each, not counted)
            warm_ids.append(str(uuid.uuid4()))
            warm = {"id": warm_ids[-1], "checked_at": now.isoformat(), "result": maker.make(now, rng)}
            client.request("POST", "/api/v1/results/batch", body=json.dumps({"results": [warm]}).encode())
        CheckResult.objects.filter(id__in=warm_ids).delete()

        def send_share(client: common.SignedClient, share: list[bytes]) -> None:
            for body in share:
                prepared = client.prepare("POST", "/api/v1/results/batch", body=body)
                began = time.perf_counter()
                response = client.send(prepared)
                latencies.append((time.perf_counter() - began) * 1000)
                statuses = (
                    {o["status"] for o in response.json().get("items", [])} if response.status_code == 200 else set()
                )
                if statuses != {"stored"}:
                    failures.append(f"{response.status_code} {response.text[:200]}")

        threads = [threading.Thread(target=send_share, args=(c, s)) for c, s in zip(clients, bodies, strict=True)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        api_seconds = time.perf_counter() - started
    finally:
        server.stop()
    if failures:
        raise SystemExit(f"{len(failures)} batches failed, e.g. {failures[0]}")
    stored_rows = {}
    for start in range(0, len(item_ids), 5000):
        chunk = CheckResult.objects.filter(id__in=item_ids[start : start + 5000]).only("id", "device_id", "received_at")
        stored_rows.update({str(r.id): r for r in chunk})
    stored = len(stored_rows)
    if stored != args.rows:
        raise SystemExit(f"stored {stored} results, expected {args.rows}")

    # COPY of the same rows: prepared as the API stored them, then loaded in one COPY.
    by_id = stored_rows
    rows = [
        common.stored_row(
            uuid.UUID(item["id"]),
            institution.pk,
            by_id[item["id"]].device_id,
            datetime.datetime.fromisoformat(item["checked_at"]),
            item["result"],
            by_id[item["id"]].received_at,
        )
        for item in items
    ]
    with psycopg.connect(common.psycopg_url(url), autocommit=True) as conn:
        conn.execute("DELETE FROM results_checkresult WHERE id = ANY(%s)", [item_ids])
        conn.execute("VACUUM results_checkresult")
    started = time.perf_counter()
    copied = common.copy_rows(url, iter(rows))
    copy_seconds = time.perf_counter() - started

    api_rate, copy_rate = args.rows / api_seconds, copied / copy_seconds
    p50, p95 = common.summary(latencies)
    print(
        f"\ningest: {args.rows:,} results into a table of {others:,} others, batches of {args.batch}, "
        f"{args.clients} terminals at once, gunicorn {args.workers} workers"
    )
    print(
        f"  batch API : {api_rate:>9,.0f} results/s  ({api_seconds:.1f} s; per call p50 {p50:.0f} ms, p95 {p95:.0f} ms)"
    )
    print(f"  COPY      : {copy_rate:>9,.0f} results/s  ({copy_seconds:.1f} s, same rows, same indexes)")
    print(f"  ratio COPY/API: {copy_rate / api_rate:.1f}   (API/COPY: {api_rate / copy_rate:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
