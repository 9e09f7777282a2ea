"""Sortable table columns (A02, A03): ``?sort=key`` / ``?sort=-key`` from a fixed list, never a raw field name.

Each header gets a link that sorts by its column (the second click reverses it) and ``aria-sort`` for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str
    href: str  # the query string that sorts by this column
    aria_sort: str  # ascending | descending | none
    arrow: str  # ▲ / ▼ / ""


@dataclass(frozen=True)
class Sort:
    key: str  # the column key chosen
    descending: bool
    columns: dict[str, SortColumn]

    @property
    def value(self) -> str:
        return ("-" if self.descending else "") + self.key


def parse_sort(params: QueryDict, columns: dict[str, str], default: str) -> Sort:
    """``columns``: {key: label}; an unknown or missing ``sort`` means ``default`` (e.g. ``-checked_at``)."""
    raw = params.get("sort") or default
    key = raw.lstrip("-")
    if key not in columns:
        raw, key = default, default.lstrip("-")
    descending = raw.startswith("-")
    links = {}
    for column, label in columns.items():
        query = params.copy()
        query.pop("page", None)
        current = column == key
        query["sort"] = ("" if current and descending else "-") + column if current else column
        links[column] = SortColumn(
            key=column,
            label=label,
            href="?" + query.urlencode(),
            aria_sort=("descending" if descending else "ascending") if current else "none",
            arrow=("▼" if descending else "▲") if current else "",
        )
    return Sort(key, descending, links)
