"""The dashboard's charts as geometry: rectangles, polylines and axis ticks in a fixed viewBox, which
templates/moderator/charts.html draws as SVG (no script; the table beside each chart has the figures)."""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP, RIGHT = 44, 24, 8, 8  # room for the axes' labels


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rects: list[Rect]
    lines: list[tuple[int, str]]  # (series, "x,y x,y …") for a polyline
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: float = LEFT
    plot_bottom: float = HEIGHT - BOTTOM
    plot_right: float = WIDTH - RIGHT


def _nice_top(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at least the largest value."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _y_ticks(top: float) -> list[Tick]:
    plot = HEIGHT - BOTTOM - TOP
    return [Tick(HEIGHT - BOTTOM - plot * share, _number(top * share)) for share in (0, 0.5, 1)]


def _x_ticks(labels: list[str], step: float) -> list[Tick]:
    every = max(1, math.ceil(len(labels) / 8))  # at most some 8 labels: they must not overlap
    return [Tick(LEFT + step * (index + 0.5), label) for index, label in enumerate(labels) if index % every == 0]


def stacked_bars(labels: list[str], series: list[list[float]]) -> Chart:
    """One bar per label, its series stacked from the bottom."""
    count = max(1, len(labels))
    totals = [sum(values[index] for values in series) for index in range(len(labels))]
    top = _nice_top(max(totals, default=0))
    step = (WIDTH - LEFT - RIGHT) / count
    plot = HEIGHT - BOTTOM - TOP
    rects = []
    for index in range(len(labels)):
        base = HEIGHT - BOTTOM
        for number, values in enumerate(series):
            height = plot * values[index] / top
            if height > 0:
                base -= height
                rects.append(Rect(round(LEFT + step * index + step * 0.1, 1), round(base, 1),
                                  round(step * 0.8, 1), round(height, 1), number))
    return Chart(WIDTH, HEIGHT, rects, [], _y_ticks(top), _x_ticks(labels, step))


def lines(labels: list[str], series: list[list[float | None]]) -> Chart:
    """One polyline per series; a missing value (None) breaks the line."""
    count = max(1, len(labels))
    top = _nice_top(max((value for values in series for value in values if value is not None), default=0))
    step = (WIDTH - LEFT - RIGHT) / count
    plot = HEIGHT - BOTTOM - TOP
    drawn = []
    for number, values in enumerate(series):
        points: list[str] = []
        for index, value in enumerate(values):
            if value is None:
                if len(points) > 1:
                    drawn.append((number, " ".join(points)))
                points = []
                continue
            points.append(f"{LEFT + step * (index + 0.5):.1f},{HEIGHT - BOTTOM - plot * value / top:.1f}")
        if len(points) == 1:  # a lone point: a short flat stroke, so that it shows
            x, y = points[0].split(",")
            points = [f"{float(x) - 3:.1f},{y}", f"{float(x) + 3:.1f},{y}"]
        if points:
            drawn.append((number, " ".join(points)))
    return Chart(WIDTH, HEIGHT, [], drawn, _y_ticks(top), _x_ticks(labels, step))


def horizontal_bars(values: list[float]) -> Chart:
    """One bar per row, longest first as given; the labels are in the table beside it."""
    height = max(1, len(values)) * 20 + 8
    top = _nice_top(max(values, default=0))
    rects = [Rect(LEFT, 4 + index * 20, round((WIDTH - LEFT - RIGHT) * value / top, 1), 14, 0)
             for index, value in enumerate(values) if value > 0]
    return Chart(WIDTH, height, rects, [], [], [], plot_bottom=height)
