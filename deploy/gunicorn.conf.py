"""gunicorn for the clinic server: sync workers, one per core plus one; logs to stdout unless told otherwise."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
# The access log line has no query string: search parameters may carry patient names.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
