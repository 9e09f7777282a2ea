"""gunicorn for the clinic server: sync workers, one per core plus one; JSON-lines logs on stderr.

Django writes one JSON line per request itself (server/ops/middleware.py); gunicorn's own access log is off unless
GUNICORN_ACCESSLOG names a file or "-". With several workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory
so that /metrics sums every worker's samples (it is emptied at start; a dead worker's live gauges are dropped).
"""

import multiprocessing
import os
import shutil
from pathlib import Path

from server.ops.logs import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
# If the access log is turned on, its line has no query string: search parameters may carry patient names.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
logconfig_dict = logging_config(os.environ.get("LOG_FORMAT", "json"), os.environ.get("LOG_LEVEL", "INFO"))


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's hook signature
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
