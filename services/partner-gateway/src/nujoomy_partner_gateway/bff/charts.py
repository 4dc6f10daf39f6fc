"""Inline SVG bar charts: no chart library, readable without JS, scale with the page."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], *, height: int = 160
) -> str:
    """`series` is (name, values, colour); bars of one day sit side by side."""
    if not labels:
        return '<p class="muted">—</p>'
    peak = max([1, *(v for _, values, _ in series for v in values)])
    slot = 24
    width = len(labels) * slot
    bar = max(2, (slot - 6) // max(1, len(series)))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 18}" role="img" '
        f'aria-label="{escape(", ".join(name for name, _, _ in series))}">'
    ]
    for i, label in enumerate(labels):
        x0 = i * slot + 3
        for j, (name, values, colour) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = round(value / peak * height)
            parts.append(
                f'<rect x="{x0 + j * bar}" y="{height - h}" width="{bar - 1}" height="{h}" fill="{colour}">'
                f"<title>{escape(label)} {escape(name)}: {value}</title></rect>"
            )
        if i % max(1, len(labels) // 6) == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x0}" y="{height + 14}" font-size="9">{escape(label[5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)
