"""Charts drawn on the server as inline SVG: no script, no CDN, they print, and a screen
reader gets the numbers (each chart has a title and every bar its value as text).

Pure functions: numbers in, markup out. Colours meet 3:1 contrast against white.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from flask_babel import format_decimal
from markupsafe import Markup

from coopreg.core.money import format_share

PALETTE = ("#0b5d4b", "#c2410c", "#1d4ed8", "#7e22ce", "#a16207", "#be123c", "#0f766e")
MUTED = "#cbd2dc"


@dataclass(frozen=True)
class Segment:
    label: str
    value: float | int | Decimal
    colour: str | None = None


def _fmt(value) -> str:
    """A figure in the page's language ("1,234.5", "1.234,5", "1 234,5")."""
    if isinstance(value, float | Decimal) and value != int(value):
        return format_decimal(Decimal(str(value)), format="#,##0.0")
    return format_decimal(int(value), format="#,##0")


def _share(value, total) -> str:
    """value / total as a whole percentage in the page's language ("23%", "23 %")."""
    if not total:
        return format_share(Decimal(0), digits=0)
    return format_share(Decimal(str(value)) / Decimal(str(total)), digits=0)


def nice_axis(peak: float, ticks: int = 4) -> tuple[float, float]:
    """(top, step) of an axis for counts: whole steps of 1, 2 or 5 × 10^k, so no tick reads
    75.2 members; the top is `ticks` steps and holds the peak."""
    if peak <= 0:
        return float(ticks), 1.0
    raw = peak / ticks
    magnitude = 10 ** max(0, len(str(int(raw))) - 1) if raw >= 1 else 1
    for multiple in (1, 2, 5, 10):
        step = float(multiple * magnitude)
        if step >= raw:
            break
    return step * ticks, step


def _open(title: str, summary: str, width: int, height: int) -> str:
    """The <svg> of a chart: role img, named by its title, described by its figures (what a
    screen reader reads out), scaled to its box."""
    key = f"chart-{zlib.crc32((title + summary).encode()):08x}"
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" '
            f'aria-describedby="{key}-d" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
            f' xmlns="http://www.w3.org/2000/svg"><title id="{key}-t">{escape(title)}</title>'
            f'<desc id="{key}-d">{escape(summary)}</desc>')


def _legend_lines(names: Sequence[str], room: float) -> int:
    """How many lines a legend of these names needs in `room` pixels."""
    lines, used = 1, 0.0
    for name in names:
        step = 26 + 7 * len(name)
        if used + step > room and used:
            lines, used = lines + 1, 0.0
        used += step
    return lines


def horizontal_bars(title: str, items: Sequence[tuple[str, float | int | Decimal]], *,
                    width: int = 560, bar_height: int = 22, label_width: int = 170,
                    colour: str = PALETTE[0], suffix: str = "") -> Markup:
    """One bar per item, longest first as given; the value is written at the bar's end."""
    gap = 8
    height = max(1, len(items)) * (bar_height + gap) + gap
    top = max((float(v) for _label, v in items), default=0) or 1
    plot = width - label_width - 70
    summary = "; ".join(f"{label}: {_fmt(value)}{suffix}" for label, value in items)
    parts = [_open(title, summary, width, height)]
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar_height + gap)
        length = max(0.0, float(value) / top * plot)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.72:.1f}" text-anchor="end" '
            f'font-size="13" fill="#1d2433">{escape(str(label))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'rx="3" fill="{colour}"><title>{escape(str(label))}: {_fmt(value)}{suffix}'
            f'</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height * 0.72:.1f}" '
            f'font-size="13" fill="#1d2433">{_fmt(value)}{escape(suffix)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def stacked_bars(title: str, rows: Sequence[tuple[str, Sequence[Segment]]], *,
                 width: int = 560, bar_height: int = 22, label_width: int = 170,
                 percent: bool = True) -> Markup:
    """One bar per row split into segments (e.g. covered / not covered); with `percent` each
    bar is scaled to 100 % and segments are labelled with their share. Under each bar a line
    names every segment with its figure, so a segment too small to hold its number is still
    labelled."""
    gap, caption = 8, 16
    legend_height = 24 * _legend_lines([s.label for _l, segs in rows[:1] for s in segs],
                                       width - label_width)
    step_y = bar_height + caption + gap
    height = max(1, len(rows)) * step_y + gap + legend_height
    plot = width - label_width - 10
    top = max((sum(float(s.value) for s in segments) for _l, segments in rows), default=0) or 1

    def figure(segment: Segment, total: float) -> str:
        share = (float(segment.value) / total * 100) if total else 0
        return f"{_fmt(segment.value)} ({share:.0f}%)" if percent else _fmt(segment.value)

    summary = "; ".join(
        f"{label}: " + ", ".join(f"{s.label} {figure(s, sum(float(x.value) for x in segs))}"
                                 for s in segs) for label, segs in rows)
    parts = [_open(title, summary, width, height)]
    legend: dict[str, str] = {}
    for i, (label, segments) in enumerate(rows):
        y = gap + i * step_y
        total = sum(float(s.value) for s in segments)
        scale = (plot / total if total else 0) if percent else plot / top
        parts.append(f'<text x="{label_width - 8}" y="{y + bar_height * 0.72:.1f}" '
                     f'text-anchor="end" font-size="13" fill="#1d2433">'
                     f'{escape(str(label))}</text>')
        x = float(label_width)
        words = []
        for n, segment in enumerate(segments):
            colour = segment.colour or (PALETTE[n % len(PALETTE)] if n == 0 else MUTED
                                        if len(segments) == 2 else PALETTE[n % len(PALETTE)])
            legend.setdefault(segment.label, colour)
            length = float(segment.value) * scale
            share = _share(segment.value, total)
            text = share if percent else _fmt(segment.value)
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" '
                         f'height="{bar_height}" fill="{colour}"><title>{escape(str(label))},'
                         f' {escape(segment.label)}: {_fmt(segment.value)} ({share})'
                         f'</title></rect>')
            if length > 34:
                ink = "#ffffff" if colour != MUTED else "#1d2433"
                parts.append(f'<text x="{x + length / 2:.1f}" y="{y + bar_height * 0.72:.1f}"'
                             f' text-anchor="middle" font-size="12" fill="{ink}">{text}</text>')
            words.append(f"{segment.label} {figure(segment, total)}")
            x += length
        line = " · ".join(words)
        start = label_width if len(line) * 6.2 < width - label_width else 8
        parts.append(f'<text x="{start}" y="{y + bar_height + 12}" font-size="11" '
                     f'fill="#3b4354">{escape(line)}</text>')
    y = height - legend_height + 6
    x = float(label_width)
    for name, colour in legend.items():
        step = 26 + 7 * len(name)
        if x + step > width and x > label_width:
            x, y = float(label_width), y + 24
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16:.1f}" y="{y + 11}" font-size="12" fill="#1d2433">'
                     f'{escape(name)}</text>')
        x += step
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def column_chart(title: str, columns: Sequence[tuple[str, Sequence[float | int | Decimal]]],
                 series: Sequence[str], *, width: int = 560, height: int = 220,
                 percent_axis: bool = False) -> Markup:
    """Grouped columns over time (e.g. per month: due vs collected), each with its value on
    top. A count axis has whole steps (1, 2, 5 × 10^k); a percent axis goes to 100 %."""
    left, bottom, top_pad = 44, 38, 18
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max((float(v) for _l, values in columns for v in values), default=0)
    if percent_axis:
        peak, step = 100.0, 25.0
    else:
        peak, step = nice_axis(peak)
    group = plot_w / max(1, len(columns))
    bar = max(2.0, (group - 6) / max(1, len(series)))
    unit = "%" if percent_axis else ""
    summary = "; ".join(
        f"{label}: " + ", ".join(f"{series[n]} {_fmt(v)}{unit}" for n, v in enumerate(values))
        for label, values in columns)
    parts = [_open(title, summary, width, height)]
    ticks = round(peak / step)
    for tick in range(ticks + 1):
        value = step * tick
        y = top_pad + plot_h - plot_h * value / peak
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e4e7ec"/><text x="{left - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end" font-size="11" fill="#4b5568">'
                     f'{int(value):,}{unit}</text>')
    for i, (label, values) in enumerate(columns):
        x0 = left + i * group + 3
        for n, value in enumerate(values):
            h = plot_h * min(float(value), peak) / peak
            x = x0 + n * bar
            parts.append(f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" '
                         f'width="{bar - 1:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(str(label))}, '
                         f'{escape(series[n])}: {_fmt(value)}{unit}</title></rect>')
            parts.append(f'<text class="chart-value" x="{x + (bar - 1) / 2:.1f}" '
                         f'y="{top_pad + plot_h - h - 3:.1f}" text-anchor="middle" '
                         f'font-size="{10 if bar < 40 else 11}" fill="#1d2433">'
                         f'{_fmt(value)}{unit}</text>')
        parts.append(f'<text x="{x0 + (group - 6) / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle" font-size="11" fill="#1d2433">'
                     f'{escape(str(label))}</text>')
    x = float(left)
    for n, name in enumerate(series):
        parts.append(f'<rect x="{x:.1f}" y="{height - 14}" width="12" height="12" '
                     f'fill="{PALETTE[n % len(PALETTE)]}"/><text x="{x + 16:.1f}" '
                     f'y="{height - 4}" font-size="12" fill="#1d2433">{escape(name)}</text>')
        x += 26 + 7 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
