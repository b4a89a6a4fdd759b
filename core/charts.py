"""Charts drawn on the server as inline SVG: no script, no download, nothing that needs the internet.

Why here and not a charting library: the office's dashboards must work offline, print cleanly on A4 and sit beside
a table of the same figures for screen readers, so a chart is only a picture of the table (`aria-hidden` is not
used; the SVG carries a title and the table carries the numbers). Pure: strings in, markup out.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#b42318", "#1f6feb", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#546e7a")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # the bar's length in the chart's unit (a rate in %, a count); only drawn, never summed
    text: str  # what is written at the end of the bar, e.g. "87.5%" or "1,234"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]  # one per category, in the chart's unit (e.g. yuan); negative values are drawn as 0


def _attr(text: str) -> str:
    return escape(text, quote=True)


def bar_chart(bars: Sequence[Bar], *, title: str, max_value: float | None = None, width: int = 640) -> Markup:
    """Horizontal bars, one per row, longest = `max_value` (default the largest value)."""
    row, label_w, text_w, top = 26, 150, 70, 8
    height = top * 2 + row * max(len(bars), 1)
    scale_max = max_value if max_value is not None else max((b.value for b in bars), default=0)
    plot_w = width - label_w - text_w
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = top + i * row
        length = 0.0 if scale_max <= 0 else max(0.0, min(bar.value, scale_max)) / scale_max * plot_w
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13">{escape(bar.label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="18" fill="#eef2f6"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="18" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + plot_w + 6}" y="{y + 17}" font-size="13">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def column_chart(
    categories: Sequence[str], series: Sequence[Series], *, title: str, unit: str = "", width: int = 640
) -> Markup:
    """Stacked columns, one per category (e.g. month), one colour per series, with a legend under the plot."""
    left, bottom, top, height = 64, 28, 12, 240
    legend_rows = (len(series) + 3) // 4
    total_h = height + legend_rows * 20 + 8
    plot_w, plot_h = width - left - 8, height - top - bottom
    totals = [sum(max(0, s.values[i]) for s in series) for i in range(len(categories))]
    peak = _nice_ceiling(max(totals, default=0))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {total_h}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for step in range(5):  # gridlines at 0, 25, 50, 75, 100 % of the axis
        value = peak * step // 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9e2ec"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{value:,}{escape(unit)}</text>'
        )
    slot = plot_w / max(len(categories), 1)
    for i, category in enumerate(categories):
        x, base = left + i * slot + slot * 0.15, top + plot_h
        for k, s in enumerate(series):
            value = max(0, s.values[i])
            if value and peak:
                h = plot_h * value / peak
                base -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[k % len(PALETTE)]}"><title>{_attr(category)} {_attr(s.label)} '
                    f"{value:,}{_attr(unit)}</title></rect>"
                )
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(category)}</text>'
        )
    for k, s in enumerate(series):
        x, y = left + (k % 4) * (plot_w / 4), height + (k // 4) * 20
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{x + 16:.1f}" y="{y + 11}" font-size="12">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _nice_ceiling(value: int) -> int:
    """The axis maximum: the value rounded up to 1, 2 or 5 times a power of ten, divisible by 4 steps."""
    if value <= 0:
        return 4
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 4, 5, 8, 10):
        ceiling = factor * magnitude
        if ceiling >= value and ceiling % 4 == 0:
            return ceiling
    return 20 * magnitude
