"""Structured logs (issue 16, point 3): every log line of Django, DRF, Celery, gunicorn and our code is one JSON
object on stderr, with the request's (or task's) context bound through structlog's contextvars.

Never log a PIN, password, activation code or patient field: log ids and counts. ``tests/server/test_ops_logs.py``
runs a full check and searches the lines for the person's name, the PIN and the password.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def structured_formatter(fmt: str = "json") -> logging.Formatter:
    """The formatter of every handler: stdlib records and structlog events alike, as JSON or console lines."""
    renderer = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
        foreign_pre_chain=SHARED_PROCESSORS,
    )


def logging_config(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """The ``LOGGING`` dict for Django settings (and gunicorn's ``logconfig_dict``); configures structlog too.

    ``fmt`` is ``json`` (JSON lines, the default) or ``console`` (key=value lines for a developer's terminal).
    """
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "server.ops.logs.structured_formatter", "fmt": fmt}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own request logger repeats, unstructured, what our request line says.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }
