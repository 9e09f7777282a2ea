"""The one JSON Schema of the qualification result, and its validator.

Used by the sandbox when it answers, by the terminal before it stores a result, and by the server's sync endpoint.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_FILE = "qualification_result.schema.json"


@cache
def load_schema() -> dict[str, Any]:
    """The schema document, as kept in the repository."""
    return json.loads(resources.files("contracts").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(), format_checker=FormatChecker())


def storable_text(text: str) -> bool:
    """False for NUL (PostgreSQL refuses it in text) and lone surrogates (not UTF-8): a JSON body can carry both as
    ``\\u0000`` / ``\\ud800`` escapes, and JSON Schema lets them pass."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_text(value: Any, path: tuple = ()) -> list[str]:
    if isinstance(value, str):
        return (
            []
            if storable_text(value)
            else [f"{'/'.join(map(str, path)) or '(root)'}: characters that cannot be stored"]
        )
    if isinstance(value, dict):
        return [
            e for key, item in value.items() for e in _unstorable_text(key, path) + _unstorable_text(item, (*path, key))
        ]
    if isinstance(value, list):
        return [e for index, item in enumerate(value) for e in _unstorable_text(item, (*path, index))]
    return []


def result_errors(document: Any) -> list[str]:
    """Every schema violation of ``document`` as ``path: message`` lines; empty when it is valid."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors] + _unstorable_text(
        document
    )


def validate_result(document: Any) -> None:
    """Raise ``ValueError`` listing the violations when ``document`` is not a valid result."""
    errors = result_errors(document)
    if errors:
        raise ValueError("; ".join(errors[:10]))
