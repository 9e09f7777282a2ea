"""Dashboard charts (A07) as inline SVG made on the server: no JavaScript library, no CDN, readable without colour.

Every chart has a ``<title>``/``<desc>`` for screen readers and a ``<title>`` per mark for the mouse; the page
also shows the numbers as text. Colours come from CSS classes in console.css, so the charts follow the theme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class DayCount:
    label: str  # the axis label, e.g. "11/24"
    title: str  # the full date for the tooltip, e.g. "2026年11月24日"
    valid: int
    invalid: int
    href: str = ""  # the result list of that day (A07), empty for users who may not open it

    @property
    def total(self) -> int:
        return self.valid + self.invalid


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_label: str
    tone: str = "primary"  # primary | valid | invalid | warn | muted
    href: str = ""  # where a click on the bar goes (the filtered result list), empty for none


def _nice_ceiling(value: float) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at least the value (and at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)


def _open_group(href: str, tooltip: str) -> str:
    """A mark with its tooltip; with ``href`` the mark is a link (SVG <a>: no script, keyboard-focusable)."""
    if href:
        return f'<a class="chart__link" href="{escape(href)}" aria-label="{tooltip}"><g><title>{tooltip}</title>'
    return f"<g><title>{tooltip}</title>"


def _close_group(href: str) -> str:
    return "</g></a>" if href else "</g>"


def _svg(width: int, height: int, title: str, desc: str, body: str, css_class: str, key: str = "") -> SafeString:
    """``key`` names the title and description ids (the css class by default): a page may draw one chart twice."""
    key = key or css_class
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d" '
        'preserveAspectRatio="xMidYMid meet">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        css_class,
        width,
        height,
        key,
        key,
        key,
        title,
        key,
        desc,
        mark_safe(body),  # built below from escaped parts only
    )


def daily_checks_chart(days: list[DayCount], *, width: int = 760, key: str = "") -> SafeString:
    """Stacked columns, valid below and invalid on top, one per day; about six day labels (fewer in a narrow
    ``width``: the viewBox width, smaller for a phone so that the text keeps its size) and always the last day."""
    height = 240 if width >= 600 else 200
    left, right, top, bottom = 40, 10, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_ceiling(max((d.total for d in days), default=0))
    slot = plot_w / max(len(days), 1)
    labels = 6 if width >= 600 else 4
    label_every = max(1, round(len(days) / labels))
    bar_w = max(slot * 0.7, 1)
    parts: list[str] = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h - plot_h * fraction
        parts.append(f'<line class="chart__grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = peak * fraction
        label_text = f"{label:g}" if label == int(label) else ""
        parts.append(f'<text class="chart__axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label_text}</text>')
    for index, day in enumerate(days):
        x = left + slot * index + (slot - bar_w) / 2
        valid_h = plot_h * day.valid / peak
        invalid_h = plot_h * day.invalid / peak
        tooltip = escape(f"{day.title}: {day.total}件（資格有効 {day.valid}件・資格無効 {day.invalid}件）")
        parts.append(_open_group(day.href, tooltip))
        parts.append(
            f'<rect class="chart__bar chart__bar--valid" x="{x:.1f}" y="{top + plot_h - valid_h:.1f}" '
            f'width="{bar_w:.1f}" height="{valid_h:.1f}"/>'
        )
        parts.append(
            f'<rect class="chart__bar chart__bar--invalid" x="{x:.1f}" y="{top + plot_h - valid_h - invalid_h:.1f}" '
            f'width="{bar_w:.1f}" height="{invalid_h:.1f}"/>'
        )
        parts.append(_close_group(day.href))
        last = index == len(days) - 1
        if last or (index % label_every == 0 and len(days) - 1 - index >= label_every / 2):
            parts.append(
                f'<text class="chart__axis" x="{x + bar_w / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(day.label)}</text>'
            )
    total = sum(d.total for d in days)
    desc = f"{days[0].title}から{days[-1].title}までの{len(days)}日間で合計{total}件" if days else "データなし"
    return _svg(width, height, "日別の資格確認件数", desc, "".join(parts), "chart-daily", key)


def horizontal_bar_chart(
    bars: list[Bar], *, title: str, css_class: str, maximum: float | None = None, width: int = 760, key: str = ""
) -> SafeString:
    """One labelled row per item, the value written after its bar (so no legend is needed).

    ``width`` is the viewBox width: a chart in a half-width card uses a smaller one so that its text keeps its size.
    """
    row_h = 34
    label_w, value_w = (150, 120) if width >= 600 else (120, 64)
    max_chars = (label_w - 8) // 14  # 14px text; the full name stays in the tooltip and the description
    height = max(len(bars), 1) * row_h + 8
    plot_w = width - label_w - value_w
    peak = maximum if maximum is not None else _nice_ceiling(max((b.value for b in bars), default=0))
    parts: list[str] = []
    for index, bar in enumerate(bars):
        y = 4 + index * row_h
        bar_len = plot_w * min(bar.value, peak) / peak if peak else 0
        label = bar.label if len(bar.label) <= max_chars else bar.label[: max_chars - 1] + "…"
        parts.append(_open_group(bar.href, escape(f"{bar.label}: {bar.value_label}")))
        parts.append(
            f'<text class="chart__label" x="{label_w - 8}" y="{y + row_h / 2 + 5:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        parts.append(f'<rect class="chart__track" x="{label_w}" y="{y + 6}" width="{plot_w}" height="{row_h - 12}"/>')
        parts.append(
            f'<rect class="chart__bar chart__bar--{escape(bar.tone)}" x="{label_w}" y="{y + 6}" '
            f'width="{bar_len:.1f}" height="{row_h - 12}"/>'
        )
        parts.append(
            f'<text class="chart__value" x="{label_w + plot_w + 8}" y="{y + row_h / 2 + 5:.1f}">'
            f"{escape(bar.value_label)}</text>"
        )
        parts.append(_close_group(bar.href))
    desc = "、".join(f"{b.label} {b.value_label}" for b in bars) or "データなし"
    return _svg(width, height, title, desc, "".join(parts), css_class, key)


def share_chart(valid: int, invalid: int, *, valid_href: str = "", invalid_href: str = "") -> SafeString:
    """A ring split into valid and invalid, the valid share written in the middle."""
    size, radius, stroke = 200, 70, 28
    circumference = 2 * math.pi * radius
    total = valid + invalid
    centre = size / 2
    parts = [
        f'<circle class="chart__track" cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke-width="{stroke}"/>'
    ]
    if total:
        valid_len = circumference * valid / total
        # Drawn from 12 o'clock clockwise: valid first, invalid after it.
        for css, length, offset, text, href in (
            ("valid", valid_len, 0.0, f"資格有効 {valid}件", valid_href),
            ("invalid", circumference - valid_len, -valid_len, f"資格無効 {invalid}件", invalid_href),
        ):
            if length <= 0:
                continue
            if href:
                parts.append(f'<a class="chart__link" href="{escape(href)}" aria-label="{escape(text)}">')
            parts.append(
                f'<circle class="chart__ring chart__ring--{css}" cx="{centre}" cy="{centre}" r="{radius}" fill="none" '
                f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
                f'stroke-dashoffset="{offset:.2f}" transform="rotate(-90 {centre} {centre})">'
                f"<title>{escape(text)}</title></circle>"
            )
            if href:
                parts.append("</a>")
        share = f"{valid * 100 / total:.0f}%"
    else:
        share = "—"
    parts.append(
        f'<text class="chart__centre" x="{centre}" y="{centre + 2}" text-anchor="middle">{escape(share)}</text>'
        f'<text class="chart__axis" x="{centre}" y="{centre + 24}" text-anchor="middle">資格有効</text>'
    )
    desc = f"資格有効 {valid}件、資格無効 {invalid}件" if total else "データなし"
    return _svg(size, size, "資格有効・無効の割合", desc, "".join(parts), "chart-share")
