"""Charts as server-rendered SVG: no JavaScript, no CDN, nothing to install.

Pure: no Django import. Each function returns one <svg> element as a string,
with every text escaped; views mark it safe. Bars carry <title> elements so a
pointer shows the exact value.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f5bd3", "#d9480f", "#067647", "#b58105", "#7a5af8", "#475467", "#c11574")
SEVERITY_COLOURS = {"P0": "#b42318", "P1": "#d9480f", "P2": "#b58105", "P3": "#475467"}
TARGET_COLOUR = "#b42318"


def _nice_max(value: float) -> float:
    """A round axis top at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def _fmt(value: float, unit: str) -> str:
    text = f"{value:.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.1f}"
    return f"{text}{unit}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    unit: str = "",
    stacked: bool = False,
    target: float | None = None,
    target_label: str = "target",
    colours: Sequence[str] | None = None,
    width: int = 520,
    height: int = 240,
) -> str:
    """Vertical bars: one group per label, one bar per series (or stacked)."""
    colours = list(colours or PALETTE)
    left, right, top, bottom = 46, 10, 26, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [[v or 0 for v in values] for _name, values in series]
    if stacked:
        peak = max((sum(column) for column in zip(*values, strict=True)), default=0)
    else:
        peak = max((v for row in values for v in row), default=0)
    peak = _nice_max(max(peak, target or 0))
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#e2e5ea" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(value, unit))}</text>"
        )
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    per_group = 1 if stacked else max(len(series), 1)
    bar_w = max(2.0, (group_w * 0.72) / per_group)
    for index, label in enumerate(labels):
        x0 = left + group_w * index + group_w * 0.14
        base = 0.0
        for number, (name, _raw) in enumerate(series):
            value = values[number][index]
            h = plot_h * value / peak
            x = x0 if stacked else x0 + bar_w * number
            y = top + plot_h - h - (plot_h * base / peak if stacked else 0)
            raw = series[number][1][index]
            shown = "no data" if raw is None else _fmt(value, unit)
            parts.append(
                f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0):.1f}" fill="{colours[number % len(colours)]}">'
                f"<title>{escape(f'{label} · {name}: {shown}')}</title></rect>"
            )
            if stacked:
                base += value
        parts.append(
            f'<text x="{left + group_w * (index + 0.5):.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(str(label))}</text>'
        )
    if target is not None:
        y = top + plot_h - plot_h * target / peak
        parts.append(
            f'<line class="target" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{TARGET_COLOUR}" stroke-width="1.5" stroke-dasharray="5 4"/>'
            f'<text x="{width - right}" y="{y - 4:.1f}" text-anchor="end" '
            f'style="fill:{TARGET_COLOUR}">{escape(target_label)}</text>'
        )
    if len(series) > 1:
        x = left
        for number, (name, _values) in enumerate(series):
            parts.append(
                f'<rect x="{x}" y="{height - 16}" width="10" height="10" '
                f'fill="{colours[number % len(colours)]}"/>'
                f'<text x="{x + 14}" y="{height - 7}">{escape(name)}</text>'
            )
            x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    colour: str = PALETTE[0],
    width: int = 520,
    bar: int = 18,
) -> str:
    """Horizontal bars, one per (label, value), in the order given."""
    left, right, top = 170, 50, 8
    height = top * 2 + max(len(items), 1) * (bar + 6)
    plot_w = width - left - right
    peak = _nice_max(max((value for _label, value in items), default=0))
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(items):
        y = top + index * (bar + 6)
        w = plot_w * (value or 0) / peak
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="chart-bar" x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar}" '
            f'fill="{colour}"><title>{escape(f"{label}: {_fmt(value or 0, unit)}")}</title></rect>'
            f'<text x="{left + w + 4:.1f}" y="{y + bar * 0.7:.1f}">'
            f"{escape(_fmt(value or 0, unit))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
