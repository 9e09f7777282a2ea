"""Export benchmark (docs/scaling.md, "results per worker"): how many results one Celery worker process turns into
an export (decrypt, present, CSV, encrypt) per second.

    python bench/export.py [--rows 50000] [--runs 3]

A dedicated database (<DATABASE_URL name>_export) is recreated and filled with --rows results of one institution
(COPY) dated within this month; then the export task's own code (results.exports.do_build_export, what
results.build_export runs in the worker) builds an institution-scope export of them --runs times, in this process.
Prints rows/s per run and the median.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _results_common as common  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    url = common.bench_database_url("export")
    common.recreate_database(url)
    common.migrate(url)
    common.django_setup(url)
    from server.common.jst import JST
    from server.results.exports import do_build_export
    from server.results.models import ResultExport

    institution, terminals = common.create_institution_with_devices(4)
    now = datetime.datetime.now(JST)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = max(start + datetime.timedelta(hours=1), now - datetime.timedelta(minutes=5))
    common.fill_with_copy(url, institution, [d for d, _ in terminals], args.rows, start, end, seed=16)

    rates = []
    for run in range(args.runs):
        export = ResultExport.objects.create(
            institution=institution, requested_by_type="system", scope="institution",
            date_from=start.date(), date_to=now.date(),
        )
        began = time.perf_counter()
        status = do_build_export(str(export.pk))
        elapsed = time.perf_counter() - began
        export.refresh_from_db()
        rates.append(export.rows_done / elapsed)
        print(f"run {run + 1}: {status}, {export.rows_done:,} rows in {elapsed:.2f} s = {rates[-1]:,.0f} rows/s")
    print(f"export build, one worker process: median {statistics.median(rates):,.0f} results/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
