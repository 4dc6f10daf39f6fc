"""Inline SVG bar charts with axes, a legend, values on hover and keyboard focus, and the same figures
as a table: no chart library, nothing fetched, readable without JS, scales with the page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

Series = tuple[str, Sequence[int], str]  # (name, one value per label, colour)

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 26


def nice_ticks(peak: int, count: int = 4) -> list[int]:
    """0 and up to `count` round steps (1, 2, 2.5 or 5 times a power of ten) that reach at least `peak`."""
    peak = max(peak, 1)
    raw = peak / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = -(-peak // step) * step
    return list(range(0, top + 1, step))


def bar_chart(
    labels: Sequence[str], series: Sequence[Series], *, caption: str, table_label: str, day_word: str
) -> str:
    """Legend + SVG + a collapsible data table. `labels` are the x-axis labels as people read them."""
    if not labels:
        return '<p class="muted">—</p>'
    ticks = nice_ticks(max([0, *(v for _, values, _ in series for v in values)]))
    top = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(labels)
    bar = max(1.5, (slot * 0.8) / max(1, len(series)))

    def y(value: int) -> float:
        return TOP + plot_h - value / top * plot_h

    parts = [
        _legend(series),
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-label="{escape(caption)}">',
    ]
    parts.append('<g class="grid" aria-hidden="true">')
    for tick in ticks:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
    parts.append('</g><g class="axis" aria-hidden="true">')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>')
    for tick in ticks:
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 3:.1f}" text-anchor="end">{tick:,}</text>')
    every = max(1, round(len(labels) / 7))
    for i, label in enumerate(labels):
        if (len(labels) - 1 - i) % every == 0:  # counted from today, which is always labelled
            x = LEFT + slot * (i + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</g>")
    for i, label in enumerate(labels):
        parts.append(_point(i, label, series, slot=slot, bar=bar, at=y, plot_h=plot_h))
    parts.append("</svg>")
    parts.append(_table(labels, series, table_label, day_word))
    return "".join(parts)


def _point(
    i: int,
    label: str,
    series: Sequence[Series],
    *,
    slot: float,
    bar: float,
    at: Callable[[int], float],
    plot_h: float,
) -> str:
    x0 = LEFT + slot * i
    values = [(name, values[i] if i < len(values) else 0, colour) for name, values, colour in series]
    said = f"{label}: " + ", ".join(f"{name} {value:,}" for name, value, _ in values)
    out = [f'<g class="pt" tabindex="0" role="img" aria-label="{escape(said)}" data-day="{i}">']
    out.append(f'<rect class="hit" x="{x0:.1f}" y="{TOP}" width="{slot:.1f}" height="{plot_h}"/>')
    start = x0 + (slot - bar * len(values)) / 2
    for j, (_name, value, colour) in enumerate(values):
        top = at(value)
        out.append(
            f'<rect x="{start + j * bar:.1f}" y="{top:.1f}" width="{max(1.0, bar - 1):.1f}" '
            f'height="{TOP + plot_h - top:.1f}" fill="{colour}"/>'
        )
    lines = [label, *(f"{name}: {value:,}" for name, value, _ in values)]
    width = 12 + 6.4 * max(len(s) for s in lines)
    height = 6 + 15 * len(lines)
    tx = min(max(LEFT, x0 + slot / 2 - width / 2), WIDTH - RIGHT - width)
    out.append(
        f'<g class="tip" aria-hidden="true"><rect x="{tx:.1f}" y="{TOP}" width="{width:.0f}" '
        f'height="{height}" rx="4"/>'
    )
    for k, line in enumerate(lines):
        out.append(f'<text x="{tx + 6:.1f}" y="{TOP + 15 * (k + 1)}">{escape(line)}</text>')
    out.append("</g></g>")
    return "".join(out)


def _legend(series: Sequence[Series]) -> str:
    # a drawn swatch, not a style attribute: the page CSP allows no inline style
    items = "".join(
        f'<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
        f'rx="3" fill="{c}"/></svg>{escape(n)}</li>'
        for n, _, c in series
    )
    return f'<ul class="legend">{items}</ul>'


def _table(labels: Sequence[str], series: Sequence[Series], summary: str, day_word: str) -> str:
    head = "".join(f'<th scope="col" class="num">{escape(n)}</th>' for n, _, _ in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f'<td class="num">{(v[i] if i < len(v) else 0):,}</td>' for _, v, _ in series)
        + "</tr>"
        for i, label in enumerate(labels)
    )
    return (
        f'<details class="chart-table"><summary>{escape(summary)}</summary><table><thead><tr>'
        f'<th scope="col">{escape(day_word)}</th>{head}</tr></thead><tbody>{rows}</tbody></table></details>'
    )
