"""Request bodies that refuse what they do not know (docs/contracts.md: request bodies are strict): keys the contract
does not name, and values of another JSON type than the field's.

A key the contract does not name is an error of the client (a typo, a field of a newer contract) rather than something
to drop in silence: 400 ``validation_error`` naming the key. The OpenAPI schema says so with ``additionalProperties:
false`` (``server.common.schema.complete_error_responses``), so that schemathesis sends such bodies as negative cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

UNKNOWN_KEY = "この項目は指定できません。"
# A required text field that is trimmed: not blank means at least one character that Python's str.strip() keeps (and
# that is not NUL, which DRF refuses anyway). Spelled out (not \S): regex engines disagree on what \s covers
# (U+0085, U+001C–U+001F, U+FEFF).
NOT_BLANK = "[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


# JSON types of the fields, which DRF would otherwise coerce (7 → "7" for text, "yes" → true for a flag).
JSON_TYPES: tuple[tuple[type[serializers.Field], type | tuple[type, ...], str], ...] = (
    (serializers.BooleanField, bool, "true または false で指定してください。"),
    (serializers.CharField, str, "文字列で指定してください。"),
    (serializers.IntegerField, int, "整数で指定してください。"),
    (serializers.ListField, list, "配列で指定してください。"),
    (serializers.DictField, dict, "オブジェクトで指定してください。"),
)


def _type_error(field: serializers.Field, value: Any) -> str | None:
    if value is None:
        return None  # DRF's own null rule answers
    for klass, kinds, message in JSON_TYPES:
        if isinstance(field, klass):
            wrong = not isinstance(value, kinds) or (kinds is int and isinstance(value, bool))
            return message if wrong else None
    return None


class StrictSerializer(serializers.Serializer):
    # A request body that refuses unknown keys and values of another JSON type than its fields' (a comment, not a
    # docstring: drf-spectacular would show it as the description of every subclass without its own).

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            errors.update({str(key): [UNKNOWN_KEY] for key in data if key not in self.fields})
            for name, field in self.fields.items():
                message = _type_error(field, data.get(name)) if name in data and not field.read_only else None
                if message:
                    errors[name] = [message]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def strict_component_names() -> set[str]:
    """drf-spectacular's component names of every strict serializer (the class name without "Serializer")."""
    names: set[str] = set()
    pending = list(StrictSerializer.__subclasses__())
    while pending:
        klass = pending.pop()
        pending.extend(klass.__subclasses__())
        names.add(klass.__name__.removesuffix("Serializer"))
    return names
