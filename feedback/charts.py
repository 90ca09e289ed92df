"""The layout of server-drawn SVG bar charts; templates/_macros/charts.html draws it.

Pure geometry, no Flask: rows of labelled horizontal bars, one bar per series,
each with its number written beside it, so the chart reads without colour and
without the data table that always goes with it. Horizontal bars keep labels
legible at 375 px, where the SVG scales down with its viewBox.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 400
FONT = 16
# Care mode's size: the 400-unit chart shows about 340 px wide on a phone,
# where 22 units still read as about 19 px.
LARGE_FONT = 22
BAR_GAP = 2
# Labels wider than this share of the chart are shortened (the table has them whole).
LABEL_SHARE = 0.5
EMPTY = "—"


def text_width(text: str, size: float = FONT) -> float:
    """Estimate the drawn width of ``text``: full width for CJK, about 0.55 em otherwise."""
    return sum(
        size if unicodedata.east_asian_width(c) in "WF" else 0.55 * size for c in text
    )


def shorten(text: str, room: float, size: float = FONT) -> str:
    """Return ``text`` cut to fit ``room``, ending in an ellipsis if it was cut."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def value_text(value: float | None, *, percent: bool) -> str:
    """Write a bar's number: a count, or a percentage with one decimal."""
    if value is None:
        return EMPTY
    if percent:
        return f"{value:.1f}%"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@dataclass(frozen=True)
class Bar:
    """One bar and the number written after it."""

    series: int
    x: float
    y: float
    width: float
    height: float
    text: str
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Row:
    """A category: its label and its bars."""

    label: str
    shown_label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class LegendItem:
    """A series' swatch and name, drawn as the series' bars are."""

    series: int
    name: str
    x: float
    y: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    """Everything needed to draw a chart."""

    width: int
    height: int
    font: int
    label_right: float
    rows: tuple[Row, ...]
    legend: tuple[LegendItem, ...]
    series: tuple[str, ...]


def bar_chart(
    rows: Sequence[tuple[str, Sequence[float | None]]],
    *,
    series: Sequence[str] = (),
    percent: bool = False,
    width: int = WIDTH,
    large: bool = False,
) -> Chart:
    """Lay out horizontal bars: ``rows`` are (label, one value per series).

    Counts are scaled to the largest value, percentages (0 to 100) to 100. A
    missing value (None) draws no bar and the text "—". ``large`` draws
    bigger text and bars, for care mode.
    """
    font = LARGE_FONT if large else FONT
    bar = round(font * 1.4)
    swatch = font
    names = tuple(str(s) for s in series)
    per_row = max(len(names), 1)
    labels = [str(label) for label, _values in rows]
    texts = [[value_text(v, percent=percent) for v in values] for _l, values in rows]
    label_room = min(
        max((text_width(t, font) for t in labels), default=0), width * LABEL_SHARE
    )
    label_right = label_room + 8
    text_room = max((text_width(t, font) for row in texts for t in row), default=0) + 8
    plot = max(width - label_right - text_room - 4, 1)
    values = [v for _label, row in rows for v in row if v is not None]
    top = float(max(values, default=0)) if not percent else 100.0
    top = top or 1.0

    legend: list[LegendItem] = []
    if len(names) > 1:
        x = label_right + 4
        for index, name in enumerate(names):
            legend.append(
                LegendItem(
                    index, name, x, 4, x + swatch + 4, 4 + swatch * 0.5 + font * 0.35
                )
            )
            x += swatch + 4 + text_width(name, font) + font
    y = float(swatch + 12 if legend else 4)

    block = per_row * bar + (per_row - 1) * BAR_GAP
    laid: list[Row] = []
    for label, raw, row_texts in zip(labels, (r for _l, r in rows), texts, strict=True):
        bars: list[Bar] = []
        for index, (value, text) in enumerate(zip(raw, row_texts, strict=True)):
            bar_y = y + index * (bar + BAR_GAP)
            length = plot * max(value or 0, 0) / top
            if value and length < 1:
                length = 1.0  # a small non-zero value stays visible
            bars.append(
                Bar(
                    series=index,
                    x=label_right + 4,
                    y=bar_y,
                    width=round(length, 2),
                    height=bar,
                    text=text,
                    text_x=round(label_right + 4 + length + 4, 2),
                    text_y=round(bar_y + bar / 2 + font * 0.35, 2),
                )
            )
        laid.append(
            Row(
                label=label,
                shown_label=shorten(label, label_room, font),
                label_y=round(y + block / 2 + font * 0.35, 2),
                bars=tuple(bars),
            )
        )
        y += block + font * 0.8
    return Chart(
        width=width,
        height=int(y - font * 0.8 + 8) if laid else int(y + 8),
        font=font,
        label_right=label_right,
        rows=tuple(laid),
        legend=tuple(legend),
        series=names,
    )
